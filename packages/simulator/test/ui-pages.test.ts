/** The "API management" web pages of both exchanges, over real HTTP against a running simulator. */
import { describe, expect, it } from "vitest";
import { EXCHANGE_IDS } from "../src/index.js";
import {
  bfxKeys,
  bfxStatus,
  CANARIES,
  CONFIG,
  getState,
  okxKeys,
  okxStatus,
  requestLog,
  useFixtureSimulator,
} from "./control-helpers.js";
import { BFX_NOSCOPE, MASTER_READ, scenario } from "./fixtures.js";
import { bfxCall, control, httpCall, okxCall, okxCode } from "./helpers.js";

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

describe("API management pages", () => {
  const sim = useFixtureSimulator({ clearRequests: false });

  const pages = [
    {
      exchange: "okx" as const,
      url: () => `${sim().okx}/account/my-api`,
      labels: ["admin", "reader", "bot-1", "viewer", "elsewhere", "idle"],
      target: MASTER_READ.apiKey,
      targetLabel: "reader",
      status: (apiKey: string) => okxStatus(sim().control, apiKey),
      keyWorks: async () => okxCode(await okxCall(sim().okx, MASTER_READ, { path: CONFIG })),
      works: "0",
      dead: "50111",
    },
    {
      exchange: "bitfinex" as const,
      url: () => `${sim().bitfinex}/api`,
      labels: ["main", "no-scopes", "ip-bound", "used-with-microseconds"],
      target: BFX_NOSCOPE.apiKey,
      targetLabel: "no-scopes",
      status: (apiKey: string) => bfxStatus(sim().control, apiKey),
      keyWorks: async () => {
        const r = await bfxCall(sim().bitfinex, BFX_NOSCOPE, "auth/r/permissions");
        return r.status === 200 ? "0" : String((r.json as unknown[])[1]);
      },
      works: "0",
      dead: "10100",
    },
  ];

  describe.each(pages)("$exchange", (p) => {
    it("lists the keys with their labels", async () => {
      const r = await httpCall(p.url());
      expect(r.status).toBe(200);
      expect(String(r.headers["content-type"])).toMatch(/^text\/html/);
      for (const label of p.labels) expect(r.text).toContain(`<td>${label}</td>`);
      expect(r.text).toContain(p.target);
      for (const canary of CANARIES) expect(r.text).not.toContain(canary);
    });

    it("shows a confirmation page before revoking", async () => {
      const r = await httpCall(`${p.url()}/revoke?apiKey=${encodeURIComponent(p.target)}`);
      expect(r.status).toBe(200);
      expect(r.text).toContain(p.targetLabel);
      expect(r.text).toMatch(/<form method="post"/);
      expect(r.text).toContain('name="confirm" value="yes"');
      expect(await p.status(p.target)).toBe("active");
      const unknown = await httpCall(`${p.url()}/revoke?apiKey=no-such-key`);
      expect(unknown.status).toBe(404);
    });

    it("does not revoke without confirm=yes", async () => {
      const attempts: Record<string, string>[] = [{ apiKey: p.target }, { apiKey: p.target, confirm: "no" }];
      for (const fields of attempts) {
        const r = await httpCall(`${p.url()}/revoke`, form(fields));
        expect(r.status).toBe(200);
        expect(r.text).toContain(p.targetLabel);
      }
      expect(await p.status(p.target)).toBe("active");
      expect(await p.keyWorks()).toBe(p.works);
    });

    it("revokes with confirm=yes and redirects (303) to the list", async () => {
      expect(await p.keyWorks()).toBe(p.works);
      const r = await httpCall(`${p.url()}/revoke`, form({ apiKey: p.target, confirm: "yes" }));
      expect(r.status).toBe(303);
      const location = String(r.headers.location);
      expect(location.startsWith(`${new URL(p.url()).pathname}?`)).toBe(true);
      expect(await p.status(p.target)).toBe("revoked");
      expect(await p.keyWorks()).toBe(p.dead);

      // The list shows it revoked, without a revoke link; the other keys are untouched.
      const list = await httpCall(`${new URL(p.url()).origin}${location}`);
      expect(list.status).toBe(200);
      expect(list.text).toContain("API key revoked.");
      expect(list.text).toContain(`<tr class="revoked" data-api-key="${p.target}">`);
      expect(list.text).not.toContain(`revoke?apiKey=${encodeURIComponent(p.target)}`);
      const view = await getState(sim().control);
      const all = p.exchange === "okx" ? okxKeys(view) : bfxKeys(view);
      expect(all.filter((k) => k.status === "revoked").map((k) => k.apiKey)).toEqual([p.target]);

      const again = await httpCall(`${p.url()}/revoke`, form({ apiKey: p.target, confirm: "yes" }));
      expect(again.status).toBe(303);
      expect(decodeURIComponent(String(again.headers.location))).toContain("already revoked");
    });

    it("answers 404 when confirming an unknown key", async () => {
      const r = await httpCall(`${p.url()}/revoke`, form({ apiKey: "no-such-key", confirm: "yes" }));
      expect(r.status).toBe(404);
    });
  });

  it("answers a browser's /favicon.ico with an empty 204 on every exchange and the control server (its /state page)", async () => {
    for (const origin of [...EXCHANGE_IDS.map((id) => sim()[id]), sim().control]) {
      const r = await fetch(`${origin}/favicon.ico`);
      expect(r.status, origin).toBe(204);
      expect(await r.text()).toBe("");
    }
  });

  it("HTML-escapes labels and keys", async () => {
    const evil = "<script>x</script>";
    // apiKeys are unique across both exchanges.
    const evilKeys = { okx: 'o"><img src=x>', bitfinex: 'b"><img src=x>' };
    const s = scenario();
    const okxSeed = s.okx?.accounts?.[0]?.keys?.[1];
    const bfxSeed = s.bitfinex?.users?.[0]?.keys?.[1];
    if (!okxSeed || !bfxSeed) throw new Error("fixture changed");
    okxSeed.label = evil;
    okxSeed.apiKey = evilKeys.okx;
    bfxSeed.label = evil;
    bfxSeed.apiKey = evilKeys.bitfinex;
    expect((await control(sim().control, "POST", "/scenario", s)).status).toBe(200);

    for (const [base, evilKey] of [
      [`${sim().okx}/account/my-api`, evilKeys.okx],
      [`${sim().bitfinex}/api`, evilKeys.bitfinex],
    ] as const) {
      const list = await httpCall(base);
      expect(list.status).toBe(200);
      expect(list.text).toContain("&#60;script&#62;x&#60;/script&#62;");
      expect(list.text).not.toContain(evil);
      expect(list.text).not.toContain("<img");
      const confirm = await httpCall(`${base}/revoke?apiKey=${encodeURIComponent(evilKey)}`);
      expect(confirm.status).toBe(200);
      expect(confirm.text).toContain("&#60;script&#62;x&#60;/script&#62;");
      expect(confirm.text).not.toContain(evil);
      expect(confirm.text).not.toContain("<img");
      // The escaped hidden field still carries the real key back.
      const done = await httpCall(`${base}/revoke`, form({ apiKey: evilKey, confirm: "yes" }));
      expect(done.status).toBe(303);
    }
    const view = await getState(sim().control);
    expect(okxKeys(view).find((k) => k.apiKey === evilKeys.okx)?.status).toBe("revoked");
    expect(bfxKeys(view).find((k) => k.apiKey === evilKeys.bitfinex)?.status).toBe("revoked");
  });

  it("is served even while faults are injected, and is not in the request log", async () => {
    await control(sim().control, "DELETE", "/requests");
    await control(sim().control, "POST", "/faults", { errorRate: 1 });
    expect((await httpCall(`${sim().okx}/account/my-api`)).status).toBe(200);
    expect((await httpCall(`${sim().bitfinex}/api`)).status).toBe(200);
    expect((await requestLog(sim().control)).entries).toEqual([]);
  });
});
