/**
 * Fidelity checklist 25 (docs/exchanges/bitfinex.md#simulator-fidelity-checklist): with a state file, key
 * changes, nonces and label sets survive a simulator restart, the saved world wins over any scenario, and the
 * file is private and free of OKX passphrases.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, type ScenarioInput, startSimulator } from "../src/index.js";
import { BFX_MAIN, BFX_MICRO, BFX_NOSCOPE, MASTER, SUB_READ, SUB_TRADE, scenario } from "./fixtures.js";
import {
  type BfxCreds,
  bfxCall,
  control,
  type HttpResult,
  httpCall,
  nextNonce,
  type OkxCreds,
  okxCall,
  okxCode,
  okxData,
} from "./helpers.js";

const PERMISSIONS = "auth/r/permissions";
const CONFIG = "/api/v5/account/config";
const SUB_KEYS = "/api/v5/users/subaccount/apikey";
const SUB_PASSPHRASE = "Aa1!aaaa";
const MASTER_UI_PASSPHRASE = "Ui-Created-Pass-7!";

const APIKEY_INVALID = ["error", 10100, "apikey: invalid"];
const NONCE_SMALL = ["error", 10114, "nonce: small"];
const statusAndBody = (r: HttpResult) => [r.status, r.json];

/** A scenario that disagrees with the saved world everywhere: it must be ignored on restart. */
const OTHER_SCENARIO: ScenarioInput = {
  okx: {
    accounts: [
      {
        uid: "9001",
        name: "impostor",
        keys: [
          {
            apiKey: "okx-ghost",
            secretKey: "GHOSTSECRET",
            passphrase: "Ghost-Pass-1!",
            label: "ghost",
            perm: "read_only",
            ts: "1700000000000",
          },
        ],
      },
    ],
  },
  bitfinex: {
    users: [
      {
        id: 501,
        email: "someone-else@example.com",
        keys: [
          // Same key id as a revoked one, fresh: if the scenario won, it would come back to life.
          {
            ...BFX_NOSCOPE,
            label: "resurrected",
            permissions: [["account", 1, 1]],
            createdAt: "2026-02-01T00:00:00Z",
          },
          {
            apiKey: "bfx-ghost",
            apiSecret: "bfx-ghost-secret",
            label: "ghost",
            permissions: [],
            createdAt: "2026-02-01T00:00:00Z",
          },
        ],
      },
    ],
  },
};

describe("25. persistence across restarts (stateFile)", () => {
  let dir: string;
  let stateFile: string;
  let sim: RunningSimulator | undefined;

  // What the first run did, checked after the restart.
  let bfxCreated: BfxCreds;
  let bfxCreatedNonce: string;
  let mainNonce: string;
  let token: string;
  let okxMasterCreated: OkxCreds;
  let okxSubCreated: OkxCreds;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "keyward-sim-state-"));
    stateFile = join(dir, "state.json");
    sim = await startSimulator({ scenario: scenario(), stateFile });
    const s = sim;

    // Revocations: a Bitfinex key and an OKX key on the web UI, an OKX sub key through the API.
    expect(
      (await control(s.control, "POST", "/ui/revoke", { exchange: "bitfinex", apiKey: BFX_NOSCOPE.apiKey }))
        .status,
    ).toBe(200);
    expect(
      (await control(s.control, "POST", "/ui/revoke", { exchange: "okx", apiKey: SUB_READ.apiKey })).status,
    ).toBe(200);
    const del = await okxCall(s.okx, MASTER, {
      path: "/api/v5/users/subaccount/delete-apikey",
      body: { subAcct: "botsub01", apiKey: SUB_TRADE.apiKey },
    });
    expect(okxCode(del)).toBe("0");

    // Creations: a Bitfinex key and an OKX master key on the web UI, an OKX sub key through the API.
    const bfx = await control(s.control, "POST", "/ui/create", {
      exchange: "bitfinex",
      userId: 501,
      label: "persisted",
      permissions: [
        ["account", 1, 0],
        ["wallets", 1, 1],
      ],
    });
    expect(bfx.status).toBe(201);
    bfxCreated = bfx.json as BfxCreds;
    const okxMaster = await control(s.control, "POST", "/ui/create", {
      exchange: "okx",
      uid: "1001",
      label: "ui-made",
      perm: "read_only",
      passphrase: MASTER_UI_PASSPHRASE,
    });
    expect(okxMaster.status).toBe(201);
    okxMasterCreated = okxMaster.json as OkxCreds;
    const sub = await okxCall(s.okx, MASTER, {
      path: SUB_KEYS,
      body: { subAcct: "botsub01", label: "persisted-sub", passphrase: SUB_PASSPHRASE, perm: "read_only" },
    });
    expect(okxCode(sub)).toBe("0");
    const subKey = okxData<{ apiKey: string; secretKey: string; passphrase: string }>(sub)[0];
    if (!subKey) throw new Error("no key in the create answer");
    okxSubCreated = { apiKey: subKey.apiKey, secretKey: subKey.secretKey, passphrase: subKey.passphrase };
    expect(okxSubCreated.passphrase).toBe(SUB_PASSPHRASE);

    // A token (its creation saves the world too).
    const t = await bfxCall(s.bitfinex, BFX_MAIN, "auth/w/token", { scope: "api", caps: ["a"] });
    expect(t.status).toBe(200);
    token = (t.json as string[])[0] as string;

    // Nonces, last: plain signed reads change nothing but the nonce, which must be saved all the same.
    bfxCreatedNonce = nextNonce();
    const created = await bfxCall(s.bitfinex, bfxCreated, PERMISSIONS, {}, { nonce: bfxCreatedNonce });
    expect(created.status).toBe(200);
    mainNonce = nextNonce();
    expect((await bfxCall(s.bitfinex, BFX_MAIN, PERMISSIONS, {}, { nonce: mainNonce })).status).toBe(200);

    await s.close();
    sim = await startSimulator({ scenario: OTHER_SCENARIO, stateFile });
  });

  afterAll(async () => {
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const running = () => {
    if (!sim) throw new Error("simulator not started");
    return sim;
  };

  it("ignores the new scenario: the saved world is the one served", async () => {
    const ghost = await bfxCall(
      running().bitfinex,
      { apiKey: "bfx-ghost", apiSecret: "bfx-ghost-secret" },
      PERMISSIONS,
    );
    expect(statusAndBody(ghost)).toEqual([500, APIKEY_INVALID]);
    const okxGhost = await okxCall(
      running().okx,
      { apiKey: "okx-ghost", secretKey: "GHOSTSECRET", passphrase: "Ghost-Pass-1!" },
      { path: CONFIG },
    );
    expect(okxCode(okxGhost)).toBe("50111");
    const state = await control(running().control, "GET", "/state");
    expect(state.text).not.toContain("ghost");
    expect(state.text).not.toContain("someone-else@example.com");
    expect(state.text).toContain("ops@example.com");
  });

  it("keeps revoked keys revoked", async () => {
    expect(statusAndBody(await bfxCall(running().bitfinex, BFX_NOSCOPE, PERMISSIONS))).toEqual([
      500,
      APIKEY_INVALID,
    ]);
    const uiRevoked = await okxCall(running().okx, SUB_READ, { path: CONFIG });
    expect([uiRevoked.status, okxCode(uiRevoked)]).toEqual([401, "50111"]);
    const apiDeleted = await okxCall(running().okx, SUB_TRADE, { path: CONFIG });
    expect([apiDeleted.status, okxCode(apiDeleted)]).toEqual([401, "50111"]);
  });

  it("keeps created keys, with their secrets and (hashed) passphrases", async () => {
    const bfx = await bfxCall(running().bitfinex, bfxCreated, PERMISSIONS);
    expect(bfx.status).toBe(200);
    expect((bfx.json as [string, number, number][]).find((p) => p[0] === "wallets")).toEqual([
      "wallets",
      1,
      1,
    ]);

    const master = await okxCall(running().okx, okxMasterCreated, { path: CONFIG });
    expect(okxCode(master)).toBe("0");
    expect(okxData(master)[0]).toMatchObject({
      label: "ui-made",
      perm: "read_only",
      uid: "1001",
      mainUid: "1001",
    });
    const wrongPass = await okxCall(
      running().okx,
      { ...okxMasterCreated, passphrase: "Wrong-Pass-1!" },
      { path: CONFIG },
    );
    expect(okxCode(wrongPass)).toBe("50105");

    const sub = await okxCall(running().okx, okxSubCreated, { path: CONFIG });
    expect(okxCode(sub)).toBe("0");
    expect(okxData(sub)[0]).toMatchObject({ label: "persisted-sub", perm: "read_only", uid: "1101" });
    const listed = await okxCall(running().okx, MASTER, { path: `${SUB_KEYS}?subAcct=botsub01` });
    expect(okxData<{ apiKey: string }>(listed).map((k) => k.apiKey)).toContain(okxSubCreated.apiKey);
  });

  it("keeps each sub-account's label set (a duplicate label is still refused)", async () => {
    const dup = await okxCall(running().okx, MASTER, {
      path: SUB_KEYS,
      body: { subAcct: "botsub01", label: "persisted-sub", passphrase: SUB_PASSPHRASE, perm: "read_only" },
    });
    expect(okxCode(dup)).toBe("59502");
  });

  it("keeps Bitfinex nonces: used nonces stay used, larger ones pass", async () => {
    const reused = await bfxCall(running().bitfinex, bfxCreated, PERMISSIONS, {}, { nonce: bfxCreatedNonce });
    expect(statusAndBody(reused)).toEqual([500, NONCE_SMALL]);
    const reusedMain = await bfxCall(running().bitfinex, BFX_MAIN, PERMISSIONS, {}, { nonce: mainNonce });
    expect(statusAndBody(reusedMain)).toEqual([500, NONCE_SMALL]);
    // The seeded µs nonce of BFX_MICRO survived too: a ms nonce is still too small.
    const ms = await bfxCall(running().bitfinex, BFX_MICRO, PERMISSIONS, {}, { nonce: String(Date.now()) });
    expect(statusAndBody(ms)).toEqual([500, NONCE_SMALL]);
    expect((await bfxCall(running().bitfinex, bfxCreated, PERMISSIONS)).status).toBe(200);
    expect((await bfxCall(running().bitfinex, BFX_MAIN, PERMISSIONS)).status).toBe(200);
  });

  it("keeps tokens", async () => {
    const r = await httpCall(`${running().bitfinex}/v2/${PERMISSIONS}`, {
      method: "POST",
      headers: { "content-type": "application/json", "bfx-token": token },
      body: "{}",
    });
    expect(r.status).toBe(200);
  });

  it("writes the state file with mode 0600 and no OKX passphrase in clear, only a hash", () => {
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(stateFile, "utf8");
    for (const passphrase of [SUB_PASSPHRASE, MASTER_UI_PASSPHRASE, MASTER.passphrase, SUB_READ.passphrase]) {
      expect(text).not.toContain(passphrase);
    }
    const saved = JSON.parse(text) as {
      okxAccounts: { keys: Record<string, unknown>[]; subAccounts: { keys: Record<string, unknown>[] }[] }[];
    };
    const okxKeys = saved.okxAccounts.flatMap((a) => [...a.keys, ...a.subAccounts.flatMap((s) => s.keys)]);
    const created = okxKeys.filter(
      (k) => k.apiKey === okxSubCreated.apiKey || k.apiKey === okxMasterCreated.apiKey,
    );
    expect(created).toHaveLength(2);
    for (const key of okxKeys) {
      expect(key).not.toHaveProperty("passphrase");
      expect(key.passphraseHash).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe("25. a corrupted state file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "keyward-sim-corrupt-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ["truncated JSON", '{"version":1,"okxAccounts":[{"uid":"10'],
    ["JSON of the wrong shape", JSON.stringify({ version: 2, okxAccounts: "nope" })],
    [
      "a nonce that is not a number",
      JSON.stringify({
        version: 1,
        okxAccounts: [],
        bitfinexUsers: [
          {
            id: 1,
            email: "a@b.c",
            username: "a",
            keys: [
              {
                apiKey: "k",
                apiSecret: "s",
                label: "l",
                permissions: [],
                ip: [],
                createdAt: "2026-01-01T00:00:00Z",
                status: "active",
                userId: 1,
                lastNonce: "12abc",
              },
            ],
          },
        ],
        bitfinexTokens: [],
      }),
    ],
  ])(
    "makes startSimulator reject, naming the file, and leaves the file alone (%s)",
    async (name, content) => {
      const file = join(dir, `state-${name.replace(/\W+/g, "-")}.json`);
      writeFileSync(file, content);
      await expect(startSimulator({ scenario: scenario(), stateFile: file })).rejects.toThrow(file);
      expect(readFileSync(file, "utf8")).toBe(content);
    },
  );
});
