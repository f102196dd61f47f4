/**
 * The "API management" pages' create form, over real HTTP for each exchange: a person fills it in as on
 * the real site, the new key's API key and secret are shown once on the page, and the key then
 * authenticates. The buttons use the words Keyward's manual steps use. Hostile notes are escaped, a form
 * posted from another site is refused, and the secret never reaches the request log.
 */
import { describe, expect, it } from "vitest";
import { bybitCall, bybitScenario, MASTER_UID, retCode, SUB_UID } from "./bybit-helpers.js";
import { CONFIG, getState, requestLog } from "./control-helpers.js";
import { scenario } from "./fixtures.js";
import { bfxCall, control, type HttpResult, httpCall, okxCall, okxCode, useSimulator } from "./helpers.js";

const world = () => ({ ...scenario(), ...bybitScenario() });
const sim = useSimulator({ scenario: world(), rateScale: 0.01 });

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  body: new URLSearchParams(fields).toString(),
});

/** The value the created-key table shows under `label`, unescaped. */
function shown(r: HttpResult, label: string): string {
  const match = new RegExp(`<th>${label}</th><td><code>([^<]*)</code></td>`).exec(r.text);
  if (!match?.[1]) throw new Error(`no ${label} on the page:\n${r.text}`);
  return match[1];
}

const HOSTILE = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
const ESCAPED = "&#60;script&#62;alert(1)&#60;/script&#62;";

const keyCount = async () => {
  const view = (await getState(sim().control)) as unknown as Record<string, unknown>;
  return (JSON.stringify(view).match(/"apiKey"/g) ?? []).length;
};

const pages = [
  {
    exchange: "okx",
    url: () => `${sim().okx}/account/my-api`,
    // Keyward's OKX steps: 'Choose Delete for that key', 'Choose "Create API key"'.
    words: { revoke: "Delete", create: "Create API key" },
    fields: (label: string) => ({
      uid: "1001",
      label,
      perm: "read_only,trade",
      ip: "127.0.0.1",
      passphrase: "typed-passphrase-9",
    }),
    works: async (r: HttpResult) => {
      const creds = {
        apiKey: shown(r, "API key"),
        secretKey: shown(r, "Secret key"),
        passphrase: "typed-passphrase-9",
      };
      // The passphrase the person typed is not shown back.
      expect(r.text).not.toContain("typed-passphrase-9");
      expect(okxCode(await okxCall(sim().okx, creds, { path: CONFIG }))).toBe("0");
      return creds.secretKey;
    },
  },
  {
    exchange: "bitfinex",
    url: () => `${sim().bitfinex}/api`,
    // Keyward's Bitfinex steps: 'Click "Revoke"', 'Click "Create New Key"'.
    words: { revoke: "Revoke", create: "Create New Key" },
    fields: (label: string) => ({ userId: "501", label, permissions: "account:r orders:rw", ip: "" }),
    works: async (r: HttpResult) => {
      const creds = { apiKey: shown(r, "API key"), apiSecret: shown(r, "API secret") };
      expect((await bfxCall(sim().bitfinex, creds, "auth/r/permissions")).status).toBe(200);
      return creds.apiSecret;
    },
  },
  {
    exchange: "bybit",
    url: () => `${sim().bybit}/app/user/api-management`,
    // Keyward's Bybit steps: 'Choose Delete for that key', 'Choose "Create New Key"'.
    words: { revoke: "Delete", create: "Create New Key" },
    fields: (label: string) => ({
      uid: MASTER_UID,
      note: label,
      readOnly: "1",
      permissions: "Spot:SpotTrade Wallet:AccountTransfer",
      ips: "127.0.0.1",
    }),
    works: async (r: HttpResult) => {
      const creds = { apiKey: shown(r, "API Key"), secret: shown(r, "API Secret") };
      const q = await bybitCall(sim().bybit, "/v5/user/query-api", creds, { now: Date.now(), method: "GET" });
      expect(retCode(q), q.text).toBe(0);
      expect((q.json as { result: { readOnly: number } }).result.readOnly).toBe(1);
      return creds.secret;
    },
  },
];

describe.each(pages)("$exchange API management page: create", (p) => {
  it("the list offers the create form and revokes with the steps' words", async () => {
    expect((await control(sim().control, "POST", "/scenario", world())).status).toBe(200);
    const list = await httpCall(p.url());
    expect(list.status).toBe(200);
    const path = new URL(p.url()).pathname;
    expect(list.text).toContain(`<a href="${path}/create">${p.words.create}</a>`);
    expect(list.text).toMatch(new RegExp(`revoke\\?apiKey=[^"]+">${p.words.revoke}</a>`));
    const confirm = /revoke\?apiKey=([^"]+)"/.exec(list.text)?.[1] ?? "";
    const page = await httpCall(`${p.url()}/revoke?apiKey=${confirm}`);
    expect(page.text).toContain(`Yes, ${p.words.revoke.toLowerCase()} this key`);
    const empty = await httpCall(`${p.url()}/create`);
    expect(empty.status).toBe(200);
    for (const name of Object.keys(p.fields("x"))) expect(empty.text).toContain(`name="${name}"`);
    expect(empty.text).toContain(`id="confirm-create"`);
  });

  it("creates a key shown once with its secret, which then authenticates; the request log never sees it", async () => {
    expect((await control(sim().control, "POST", "/scenario", world())).status).toBe(200);
    await control(sim().control, "DELETE", "/requests");
    const r = await httpCall(`${p.url()}/create`, form({ ...p.fields("made-by-hand"), confirm: "yes" }));
    expect(r.status, r.text).toBe(200);
    expect(r.text).toContain("shown only this once");
    expect(r.headers["cache-control"]).toBe("no-store");
    const secret = await p.works(r);
    const list = await httpCall(p.url());
    expect(list.text).toContain("<td>made-by-hand</td>");
    expect(list.text).not.toContain(secret);
    const log = JSON.stringify(await requestLog(sim().control));
    expect(log).not.toContain(secret);
    expect(log).not.toContain("made-by-hand");
  });

  it("a hostile note is escaped on the list, on the created page and when the form comes back with an error", async () => {
    expect((await control(sim().control, "POST", "/scenario", world())).status).toBe(200);
    const made = await httpCall(`${p.url()}/create`, form({ ...p.fields(HOSTILE), confirm: "yes" }));
    expect(made.status, made.text).toBe(200);
    const list = await httpCall(p.url());
    expect(list.text).toContain(ESCAPED);
    expect(list.text).not.toContain("<script>");
    expect(list.text).not.toContain("<img");
    // A refused form (an unknown owner) shows the error and the typed values back, escaped.
    const owner = Object.keys(p.fields("x"))[0] as string;
    const bad = await httpCall(
      `${p.url()}/create`,
      form({ ...p.fields(HOSTILE), [owner]: "999999", confirm: "yes" }),
    );
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('role="alert"');
    expect(bad.text).toContain(ESCAPED);
    expect(bad.text).not.toContain("<script>");
    expect(bad.text).not.toContain("<img");
    expect(bad.text).not.toContain("typed-passphrase-9");
  });

  it("acts only on its own form: no confirm field, or a POST from another site, creates nothing", async () => {
    expect((await control(sim().control, "POST", "/scenario", world())).status).toBe(200);
    const before = await keyCount();
    const state = JSON.stringify(await getState(sim().control));
    const unconfirmed = await httpCall(`${p.url()}/create`, form(p.fields("csrf")));
    expect(unconfirmed.status).toBe(200);
    expect(unconfirmed.text).toContain('id="confirm-create"');
    const fromOrigin = await httpCall(
      `${p.url()}/create`,
      form({ ...p.fields("csrf"), confirm: "yes" }, { origin: "http://evil.example" }),
    );
    expect(fromOrigin.status).toBe(403);
    const fromFetch = await httpCall(
      `${p.url()}/create`,
      form({ ...p.fields("csrf"), confirm: "yes" }, { "sec-fetch-site": "cross-site" }),
    );
    expect(fromFetch.status).toBe(403);
    // Revoking is guarded the same way.
    const list = await httpCall(p.url());
    const target = decodeURIComponent(/revoke\?apiKey=([^"]+)"/.exec(list.text)?.[1] ?? "");
    const revoke = await httpCall(
      `${p.url()}/revoke`,
      form({ apiKey: target, confirm: "yes" }, { origin: "http://evil.example" }),
    );
    expect(revoke.status).toBe(403);
    expect(JSON.stringify(await getState(sim().control))).toBe(state);
    // The page's own origin is accepted.
    const own = await httpCall(
      `${p.url()}/create`,
      form(
        { ...p.fields("own-origin"), confirm: "yes" },
        { origin: new URL(p.url()).origin, "sec-fetch-site": "same-origin" },
      ),
    );
    expect(own.status, own.text).toBe(200);
    expect(await keyCount()).toBe(before + 1);
  });
});

it("a Bybit sub-account key can be made on the page too (the owner is any UID the Account column shows)", async () => {
  expect((await control(sim().control, "POST", "/scenario", world())).status).toBe(200);
  const r = await httpCall(
    `${sim().bybit}/app/user/api-management/create`,
    form({
      uid: SUB_UID,
      note: "sub-by-hand",
      permissions: "Spot:SpotTrade",
      ips: "127.0.0.1",
      confirm: "yes",
    }),
  );
  expect(r.status, r.text).toBe(200);
  const view = JSON.stringify(await getState(sim().control));
  expect(view).toContain("sub-by-hand");
});
