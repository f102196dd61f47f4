/**
 * The control API (GET /state, POST /scenario, POST /ui/revoke, GET /requests, /faults) and the
 * "API management" web pages, over real HTTP against a running simulator.
 */
import { beforeEach, describe, expect, it } from "vitest";
import type { RequestLogEntry, ScenarioInput, WorldView } from "../src/index.js";
import {
  BFX_IP,
  BFX_MAIN,
  BFX_MICRO,
  BFX_NOSCOPE,
  DEMO_KEY,
  EEA_MASTER,
  FROZEN_KEY,
  MASTER,
  MASTER_NO_IP,
  MASTER_READ,
  SUB_IDLE,
  SUB_OTHER_IP,
  SUB_READ,
  SUB_TRADE,
  scenario,
} from "./fixtures.js";
import {
  bfxCall,
  control,
  type HttpResult,
  httpCall,
  okxCall,
  okxCode,
  okxData,
  useSimulator,
} from "./helpers.js";

const CONFIG = "/api/v5/account/config";
const DELETE_KEY = "/api/v5/users/subaccount/delete-apikey";
const CREATE_KEY = "/api/v5/users/subaccount/apikey";
const PUBLIC_TIME = "/api/v5/public/time";

const OKX_CREDS = [
  MASTER,
  MASTER_READ,
  MASTER_NO_IP,
  SUB_TRADE,
  SUB_READ,
  SUB_OTHER_IP,
  SUB_IDLE,
  DEMO_KEY,
  FROZEN_KEY,
  EEA_MASTER,
];
const BFX_CREDS = [BFX_MAIN, BFX_NOSCOPE, BFX_IP, BFX_MICRO];
/** Every secret and passphrase the fixtures hold: none may ever leave the simulator outside a create answer. */
const CANARIES = [
  ...OKX_CREDS.flatMap((c) => [c.secretKey, c.passphrase]),
  ...BFX_CREDS.map((c) => c.apiSecret),
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** OKX writes are limited to 1 per window per UID; with rateScale 0.01 the window is 10 ms. */
const WRITE_GAP_MS = 25;

type OkxKeyView = WorldView["okx"]["accounts"][number]["keys"][number];
type BfxKeyView = WorldView["bitfinex"]["users"][number]["keys"][number];

async function getState(base: string): Promise<WorldView> {
  const r = await control(base, "GET", "/state");
  expect(r.status).toBe(200);
  return r.json as WorldView;
}

const okxKeys = (view: WorldView): OkxKeyView[] =>
  view.okx.accounts.flatMap((a) => [...a.keys, ...a.subAccounts.flatMap((s) => s.keys)]);
const bfxKeys = (view: WorldView): BfxKeyView[] => view.bitfinex.users.flatMap((u) => u.keys);

async function okxStatus(base: string, apiKey: string): Promise<string | undefined> {
  return okxKeys(await getState(base)).find((k) => k.apiKey === apiKey)?.status;
}

async function bfxStatus(base: string, apiKey: string): Promise<string | undefined> {
  return bfxKeys(await getState(base)).find((k) => k.apiKey === apiKey)?.status;
}

const deleteSubKey = (okx: string, apiKey: string, signal?: AbortSignal) =>
  okxCall(okx, MASTER, {
    path: DELETE_KEY,
    body: { subAcct: "botsub01", apiKey },
    ...(signal ? { signal } : {}),
  });

async function requestLog(
  base: string,
  since?: number,
): Promise<{ entries: RequestLogEntry[]; text: string }> {
  const r = await control(base, "GET", since === undefined ? "/requests" : `/requests?since=${since}`);
  expect(r.status).toBe(200);
  return { entries: r.json as RequestLogEntry[], text: r.text };
}

/** A part of the fixture scenario that a test changes. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("the fixture scenario changed shape");
  return value;
}

const errorOf = (r: HttpResult) => (r.json as { error?: string } | undefined)?.error ?? "";

/** Milliseconds a call takes. */
async function timed(call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

const form = (fields: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(fields).toString(),
});

describe("control API", () => {
  const sim = useSimulator({ scenario: scenario(), rateScale: 0.01 });

  beforeEach(async () => {
    expect((await control(sim().control, "POST", "/scenario", scenario())).status).toBe(200);
    expect((await control(sim().control, "DELETE", "/faults")).status).toBe(200);
    expect((await control(sim().control, "DELETE", "/requests")).status).toBe(200);
  });

  describe("GET /state", () => {
    it("lists every account and key in the documented shape", async () => {
      const view = await getState(sim().control);
      expect(view.okx.accounts.map((a) => [a.uid, a.name])).toEqual([
        ["1001", "desk"],
        ["2001", "eea-desk"],
      ]);
      const [desk, eea] = view.okx.accounts;
      expect(desk?.keys.map((k) => k.apiKey)).toEqual([
        MASTER.apiKey,
        MASTER_READ.apiKey,
        MASTER_NO_IP.apiKey,
        DEMO_KEY.apiKey,
        FROZEN_KEY.apiKey,
      ]);
      expect(desk?.keys[0]).toEqual({
        apiKey: MASTER.apiKey,
        label: "admin",
        perm: "read_only,trade",
        ip: "127.0.0.1,::1",
        ts: expect.stringMatching(/^\d{13}$/),
        status: "active",
      });
      expect(desk?.subAccounts.map((s) => [s.name, s.uid, s.keys.length])).toEqual([
        ["botsub01", "1101", 4],
        ["emptysub02", "1102", 0],
        ["thirdsub03", "1103", 0],
      ]);
      for (const sub of desk?.subAccounts ?? [])
        expect(Object.keys(sub).sort()).toEqual(["keys", "name", "uid"]);
      expect(desk?.subAccounts[0]?.keys[2]).toEqual({
        apiKey: SUB_OTHER_IP.apiKey,
        label: "elsewhere",
        perm: "read_only",
        ip: "10.9.9.9,127.0.0.2/32",
        ts: expect.stringMatching(/^\d{13}$/),
        status: "active",
      });
      expect(eea?.keys.map((k) => k.apiKey)).toEqual([EEA_MASTER.apiKey]);
      expect(eea?.subAccounts).toEqual([]);
      // Exactly the documented OKX key fields, nothing more (no secret, no passphrase hash).
      for (const key of okxKeys(view)) {
        expect(Object.keys(key).sort()).toEqual(["apiKey", "ip", "label", "perm", "status", "ts"]);
        expect(key.status).toBe("active");
      }

      expect(view.bitfinex.users.map((u) => [u.id, u.email])).toEqual([[501, "ops@example.com"]]);
      expect(bfxKeys(view).map((k) => ({ apiKey: k.apiKey, label: k.label, status: k.status }))).toEqual([
        { apiKey: BFX_MAIN.apiKey, label: "main", status: "active" },
        { apiKey: BFX_NOSCOPE.apiKey, label: "no-scopes", status: "active" },
        { apiKey: BFX_IP.apiKey, label: "ip-bound", status: "active" },
        { apiKey: BFX_MICRO.apiKey, label: "used-with-microseconds", status: "active" },
      ]);
      for (const key of bfxKeys(view)) expect(key).not.toHaveProperty("apiSecret");
    });

    it("never shows a secret or passphrase (canary check over the whole answer)", async () => {
      const r = await control(sim().control, "GET", "/state");
      expect(r.status).toBe(200);
      for (const canary of CANARIES) expect(r.text).not.toContain(canary);
      expect(r.text).not.toMatch(/secret|passphrase/i);
    });

    it("keeps a key deleted through the OKX API listed, as revoked", async () => {
      const r = await deleteSubKey(sim().okx, SUB_READ.apiKey);
      expect([r.status, okxCode(r)]).toEqual([200, "0"]);
      expect(okxData(r)).toEqual([{ subAcct: "botsub01" }]);

      const view = await getState(sim().control);
      const botsub = view.okx.accounts[0]?.subAccounts[0];
      expect(botsub?.keys.map((k) => [k.apiKey, k.status])).toEqual([
        [SUB_TRADE.apiKey, "active"],
        [SUB_READ.apiKey, "revoked"],
        [SUB_OTHER_IP.apiKey, "active"],
        [SUB_IDLE.apiKey, "active"],
      ]);
      // The deleted key no longer authenticates.
      const dead = await okxCall(sim().okx, SUB_READ, { path: CONFIG });
      expect([dead.status, okxCode(dead)]).toEqual([401, "50111"]);
    });
  });

  describe("POST /scenario", () => {
    const small = (): ScenarioInput => ({
      okx: {
        accounts: [
          {
            uid: "3001",
            name: "fresh",
            keys: [
              {
                ...MASTER,
                apiKey: "okx-fresh-1",
                label: "fresh-admin",
                perm: "read_only",
                ts: "1700000000000",
              },
            ],
          },
        ],
      },
      bitfinex: { users: [{ id: 777, email: "new@example.com", keys: [] }] },
    });

    it("replaces the whole world", async () => {
      await control(sim().control, "POST", "/ui/revoke", { exchange: "okx", apiKey: MASTER_READ.apiKey });
      const r = await control(sim().control, "POST", "/scenario", small());
      expect([r.status, r.json]).toEqual([200, { ok: true }]);

      expect(await getState(sim().control)).toEqual({
        okx: {
          accounts: [
            {
              uid: "3001",
              name: "fresh",
              region: "www",
              keys: [
                {
                  apiKey: "okx-fresh-1",
                  label: "fresh-admin",
                  perm: "read_only",
                  ip: "",
                  ts: "1700000000000",
                  status: "active",
                },
              ],
              subAccounts: [],
            },
          ],
        },
        bitfinex: { users: [{ id: 777, email: "new@example.com", keys: [] }] },
      });
      // The old keys are gone from the exchanges too; the new one works.
      const old = await okxCall(sim().okx, MASTER, { path: CONFIG });
      expect(okxCode(old)).toBe("50111");
      const oldBfx = await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      expect((oldBfx.json as unknown[])[1]).toBe(10100);
      const fresh = await okxCall(sim().okx, { ...MASTER, apiKey: "okx-fresh-1" }, { path: CONFIG });
      expect(okxCode(fresh)).toBe("0");

      // Loading the fixture again brings back every key, active (the revocation above is forgotten).
      await control(sim().control, "POST", "/scenario", scenario());
      expect(await okxStatus(sim().control, MASTER_READ.apiKey)).toBe("active");
    });

    it.each([
      [
        "a missing field",
        (s: ScenarioInput) => {
          delete (defined(s.okx?.accounts?.[0]?.keys?.[0]) as { secretKey?: string }).secretKey;
        },
        "okx.accounts[0].keys[0].secretKey",
      ],
      [
        "a wrong type",
        (s: ScenarioInput) => {
          (defined(s.bitfinex?.users?.[0]) as { id: unknown }).id = "501";
        },
        "bitfinex.users[0].id",
      ],
      [
        "a bad sub-account key permission",
        (s: ScenarioInput) => {
          defined(s.okx?.accounts?.[0]?.subAccounts?.[0]?.keys?.[0]).perm = "read_only,root";
        },
        "okx.accounts[0].subAccounts[0].keys[0].perm",
      ],
      [
        "a duplicate apiKey",
        (s: ScenarioInput) => {
          defined(s.okx?.accounts?.[0]?.keys?.[1]).apiKey = MASTER.apiKey;
        },
        "okx.accounts[0].keys[1].apiKey",
      ],
    ])("rejects %s with 400 naming the field, and keeps the world", async (_what, mutate, field) => {
      await control(sim().control, "POST", "/ui/revoke", { exchange: "bitfinex", apiKey: BFX_MAIN.apiKey });
      const bad = scenario();
      mutate(bad);
      const r = await control(sim().control, "POST", "/scenario", bad);
      expect(r.status).toBe(400);
      expect(errorOf(r)).toContain(field);
      const view = await getState(sim().control);
      expect(view.okx.accounts).toHaveLength(2);
      expect(bfxKeys(view).find((k) => k.apiKey === BFX_MAIN.apiKey)?.status).toBe("revoked");
    });

    it("rejects a body that is not JSON with 400", async () => {
      const r = await httpCall(`${sim().control}/scenario`, { method: "POST", body: "{okx:" });
      expect(r.status).toBe(400);
      expect(errorOf(r)).toMatch(/JSON/);
      expect((await getState(sim().control)).okx.accounts).toHaveLength(2);
    });
  });

  describe("POST /ui/revoke", () => {
    it("revokes an OKX master key: its calls then answer 50111", async () => {
      expect(okxCode(await okxCall(sim().okx, MASTER, { path: CONFIG }))).toBe("0");
      const r = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "okx",
        apiKey: MASTER.apiKey,
      });
      expect([r.status, r.json]).toEqual([
        200,
        { apiKey: MASTER.apiKey, status: "revoked", alreadyRevoked: false },
      ]);
      const after = await okxCall(sim().okx, MASTER, { path: CONFIG });
      expect([after.status, okxCode(after)]).toEqual([401, "50111"]);
      expect(await okxStatus(sim().control, MASTER.apiKey)).toBe("revoked");
      // Only that key: another master key of the same account still works.
      expect(okxCode(await okxCall(sim().okx, MASTER_READ, { path: CONFIG }))).toBe("0");
    });

    it("revokes a Bitfinex key: its calls then answer 10100", async () => {
      const before = await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      expect(before.status).toBe(200);
      const r = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "bitfinex",
        apiKey: BFX_MAIN.apiKey,
      });
      expect([r.status, r.json]).toEqual([
        200,
        { apiKey: BFX_MAIN.apiKey, status: "revoked", alreadyRevoked: false },
      ]);
      const after = await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      expect(after.status).toBe(500);
      expect((after.json as unknown[]).slice(0, 2)).toEqual(["error", 10100]);
      expect(await bfxStatus(sim().control, BFX_MAIN.apiKey)).toBe("revoked");
    });

    it("answers 404 for an unknown key, also one of the other exchange", async () => {
      const unknown = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "okx",
        apiKey: "no-such-key",
      });
      expect(unknown.status).toBe(404);
      const wrongExchange = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "okx",
        apiKey: BFX_MAIN.apiKey,
      });
      expect(wrongExchange.status).toBe(404);
      expect(await bfxStatus(sim().control, BFX_MAIN.apiKey)).toBe("active");
    });

    it("says alreadyRevoked the second time", async () => {
      for (const [exchange, apiKey] of [
        ["okx", MASTER_READ.apiKey],
        ["bitfinex", BFX_NOSCOPE.apiKey],
      ] as const) {
        const first = await control(sim().control, "POST", "/ui/revoke", { exchange, apiKey });
        expect((first.json as { alreadyRevoked: boolean }).alreadyRevoked).toBe(false);
        const second = await control(sim().control, "POST", "/ui/revoke", { exchange, apiKey });
        expect([second.status, second.json]).toEqual([
          200,
          { apiKey, status: "revoked", alreadyRevoked: true },
        ]);
      }
    });

    it("rejects a bad body with 400 naming the field", async () => {
      const r = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "kraken",
        apiKey: MASTER.apiKey,
      });
      expect(r.status).toBe(400);
      expect(errorOf(r)).toContain("exchange");
      const missing = await control(sim().control, "POST", "/ui/revoke", { exchange: "okx" });
      expect(missing.status).toBe(400);
      expect(errorOf(missing)).toContain("apiKey");
      expect(await okxStatus(sim().control, MASTER.apiKey)).toBe("active");
    });
  });

  describe("GET /requests", () => {
    it("records method, path, apiKey, code and status of each exchange request", async () => {
      await okxCall(sim().okx, MASTER, { path: CONFIG });
      await okxCall(sim().okx, MASTER_READ, { path: CONFIG, signSecret: "forged" });
      await okxCall(sim().okx, MASTER, { path: "/api/v5/users/subaccount/apikey?subAcct=botsub01" });
      await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      await bfxCall(sim().bitfinex, BFX_NOSCOPE, "auth/r/permissions", {}, { signSecret: "forged" });

      const { entries } = await requestLog(sim().control);
      expect(
        entries.map(({ exchange, method, path, apiKey, code, status }) => ({
          exchange,
          method,
          path,
          apiKey,
          code,
          status,
        })),
      ).toEqual([
        { exchange: "okx", method: "GET", path: CONFIG, apiKey: MASTER.apiKey, code: "0", status: 200 },
        {
          exchange: "okx",
          method: "GET",
          path: CONFIG,
          apiKey: MASTER_READ.apiKey,
          code: "50113",
          status: 401,
        },
        {
          exchange: "okx",
          method: "GET",
          path: "/api/v5/users/subaccount/apikey",
          apiKey: MASTER.apiKey,
          code: "0",
          status: 200,
        },
        {
          exchange: "bitfinex",
          method: "POST",
          path: "/v2/auth/r/permissions",
          apiKey: BFX_MAIN.apiKey,
          code: "0",
          status: 200,
        },
        {
          exchange: "bitfinex",
          method: "POST",
          path: "/v2/auth/r/permissions",
          apiKey: BFX_NOSCOPE.apiKey,
          code: "10100",
          status: 500,
        },
      ]);
      for (const e of entries) {
        expect(new Date(e.time).toISOString()).toBe(e.time);
        expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);
      }
      const seqs = entries.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    });

    it("never records a secret, passphrase or signature, not even of a freshly created key", async () => {
      const created = await okxCall(sim().okx, MASTER, {
        path: CREATE_KEY,
        body: {
          subAcct: "emptysub02",
          label: "log-canary",
          passphrase: "Log-Canary-Pass-1!",
          perm: "read_only",
        },
      });
      expect(okxCode(created)).toBe("0");
      const fresh = okxData<{ apiKey: string; secretKey: string }>(created)[0];
      await okxCall(sim().okx, SUB_READ, { path: CONFIG });
      await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");

      const { entries, text } = await requestLog(sim().control);
      expect(entries.map((e) => [e.method, e.path, e.code])).toEqual([
        ["POST", CREATE_KEY, "0"],
        ["GET", CONFIG, "0"],
        ["POST", "/v2/auth/r/permissions", "0"],
      ]);
      for (const canary of [...CANARIES, fresh?.secretKey ?? "missing", "Log-Canary-Pass-1!"]) {
        expect(text).not.toContain(canary);
      }
      for (const e of entries) {
        expect(Object.keys(e).sort()).toEqual([
          "apiKey",
          "code",
          "exchange",
          "method",
          "path",
          "seq",
          "status",
          "time",
        ]);
      }
    });

    it("?since=SEQ returns only the later entries", async () => {
      await okxCall(sim().okx, MASTER, { path: CONFIG });
      await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      const { entries: first } = await requestLog(sim().control);
      expect(first).toHaveLength(2);
      const last = first.at(-1)?.seq ?? 0;

      expect((await requestLog(sim().control, last)).entries).toEqual([]);
      await okxCall(sim().okx, MASTER_READ, { path: CONFIG });
      const { entries: later } = await requestLog(sim().control, last);
      expect(later.map((e) => [e.apiKey, e.code])).toEqual([[MASTER_READ.apiKey, "0"]]);
      expect(later[0]?.seq).toBeGreaterThan(last);
      expect((await requestLog(sim().control, first[0]?.seq)).entries.map((e) => e.seq)).toEqual([
        first[1]?.seq,
        later[0]?.seq,
      ]);
    });
  });

  describe("POST /faults", () => {
    it("latencyMs delays every exchange answer until reset", async () => {
      const base = await timed(() => okxCall(sim().okx, MASTER, { path: PUBLIC_TIME }));
      expect(base).toBeLessThan(250);
      const set = await control(sim().control, "POST", "/faults", { latencyMs: 400 });
      expect(set.status).toBe(200);
      const slowOkx = await timed(async () => {
        expect(okxCode(await okxCall(sim().okx, MASTER, { path: PUBLIC_TIME }))).toBe("0");
      });
      const slowBfx = await timed(async () => {
        expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);
      });
      expect(slowOkx).toBeGreaterThanOrEqual(390);
      expect(slowBfx).toBeGreaterThanOrEqual(390);

      await control(sim().control, "DELETE", "/faults");
      expect(await timed(() => okxCall(sim().okx, MASTER, { path: PUBLIC_TIME }))).toBeLessThan(250);
    });

    it("errorRate 1 answers the configured 5xx and does not apply the write", async () => {
      await control(sim().control, "POST", "/faults", { errorRate: 1, errorStatus: 503 });
      const r = await deleteSubKey(sim().okx, SUB_READ.apiKey);
      expect(r.status).toBe(503);
      expect(r.json).toBeUndefined(); // a proxy's HTML page, not the exchange's envelope
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("active");

      const bfx = await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      expect(bfx.status).toBe(503);

      const { entries } = await requestLog(sim().control);
      expect(entries.at(-2)).toMatchObject({ path: DELETE_KEY, status: 503, fault: "error" });

      await control(sim().control, "DELETE", "/faults");
      const ok = await deleteSubKey(sim().okx, SUB_READ.apiKey);
      expect(okxCode(ok)).toBe("0");
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("revoked");
    });

    it("defaults the injected status to 502", async () => {
      const set = await control(sim().control, "POST", "/faults", { errorRate: 1 });
      expect((set.json as { okx: { errorStatus: number } }).okx.errorStatus).toBe(502);
      expect((await okxCall(sim().okx, MASTER, { path: CONFIG })).status).toBe(502);
    });

    it("timeoutRate 1 never answers and does not apply the write", async () => {
      await control(sim().control, "POST", "/faults", { timeoutRate: 1 });
      await expect(deleteSubKey(sim().okx, SUB_READ.apiKey, AbortSignal.timeout(300))).rejects.toThrow();
      await expect(
        bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions", {}, { signal: AbortSignal.timeout(300) }),
      ).rejects.toThrow();
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("active");
      const { entries } = await requestLog(sim().control);
      expect(entries.at(-2)).toMatchObject({ path: DELETE_KEY, fault: "timeout" });

      await control(sim().control, "DELETE", "/faults");
      expect(okxCode(await deleteSubKey(sim().okx, SUB_READ.apiKey))).toBe("0");
    });

    it("dropResponses N applies the next N writes but cuts their connection, then answers resume", async () => {
      const set = await control(sim().control, "POST", "/faults", { exchange: "okx", dropResponses: 2 });
      expect((set.json as { okx: { dropsLeft: number } }).okx.dropsLeft).toBe(2);

      await expect(deleteSubKey(sim().okx, SUB_READ.apiKey)).rejects.toThrow(/socket hang up|ECONNRESET/);
      // Reads are not writes: answered normally, no drop used up.
      expect(okxCode(await okxCall(sim().okx, MASTER, { path: CONFIG }))).toBe("0");
      await sleep(WRITE_GAP_MS);
      await expect(deleteSubKey(sim().okx, SUB_IDLE.apiKey)).rejects.toThrow(/socket hang up|ECONNRESET/);
      await sleep(WRITE_GAP_MS);
      const third = await deleteSubKey(sim().okx, SUB_TRADE.apiKey);
      expect([third.status, okxCode(third)]).toEqual([200, "0"]);

      // Both dropped writes took effect.
      const view = await getState(sim().control);
      expect(view.okx.accounts[0]?.subAccounts[0]?.keys.map((k) => [k.label, k.status])).toEqual([
        ["bot-1", "revoked"],
        ["viewer", "revoked"],
        ["elsewhere", "active"],
        ["idle", "revoked"],
      ]);
      const faults = await control(sim().control, "GET", "/faults");
      expect((faults.json as { okx: { dropsLeft: number } }).okx.dropsLeft).toBe(0);
      const { entries } = await requestLog(sim().control);
      expect(entries.filter((e) => e.fault === "drop").map((e) => [e.path, e.code, e.status])).toEqual([
        [DELETE_KEY, "0", 200],
        [DELETE_KEY, "0", 200],
      ]);
    });

    it("dropResponses counts Bitfinex writes, not reads", async () => {
      await control(sim().control, "POST", "/faults", { exchange: "bitfinex", dropResponses: 1 });
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);
      await expect(
        bfxCall(sim().bitfinex, BFX_MAIN, "auth/w/token", { scope: "api", ttl: 60 }),
      ).rejects.toThrow(/socket hang up|ECONNRESET/);
      const next = await bfxCall(sim().bitfinex, BFX_MAIN, "auth/w/token", { scope: "api", ttl: 60 });
      expect(next.status).toBe(200);
      const { entries } = await requestLog(sim().control);
      expect(entries.filter((e) => e.fault === "drop").map((e) => [e.path, e.code])).toEqual([
        ["/v2/auth/w/token", "0"],
      ]);
    });

    it("a spec limited to one exchange leaves the other alone", async () => {
      await control(sim().control, "POST", "/faults", { exchange: "okx", errorRate: 1 });
      expect((await okxCall(sim().okx, MASTER, { path: CONFIG })).status).toBe(502);
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);

      await control(sim().control, "POST", "/faults", {
        exchange: "bitfinex",
        errorRate: 1,
        errorStatus: 504,
      });
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(504);
      // Setting Bitfinex's faults does not clear OKX's.
      expect((await okxCall(sim().okx, MASTER, { path: CONFIG })).status).toBe(502);

      const view = (await control(sim().control, "GET", "/faults")).json as Record<
        string,
        { errorRate: number; errorStatus: number }
      >;
      expect([view.okx?.errorStatus, view.bitfinex?.errorStatus]).toEqual([502, 504]);
    });

    it("DELETE /faults resets every fault", async () => {
      await control(sim().control, "POST", "/faults", {
        latencyMs: 50,
        errorRate: 1,
        timeoutRate: 1,
        dropResponses: 3,
      });
      const reset = await control(sim().control, "DELETE", "/faults");
      expect(reset.status).toBe(200);
      for (const exchange of ["okx", "bitfinex"] as const) {
        expect((reset.json as Record<string, unknown>)[exchange]).toMatchObject({
          latencyMs: 0,
          errorRate: 0,
          timeoutRate: 0,
          dropResponses: 0,
          dropsLeft: 0,
        });
      }
      expect(okxCode(await deleteSubKey(sim().okx, SUB_READ.apiKey))).toBe("0");
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);
    });

    it("rejects a bad spec with 400 naming the field and keeps the current faults", async () => {
      await control(sim().control, "POST", "/faults", { exchange: "okx", latencyMs: 5 });
      for (const [body, field] of [
        [{ errorRate: 2 }, "errorRate"],
        [{ errorStatus: 404 }, "errorStatus"],
        [{ exchange: "kraken" }, "exchange"],
        [{ dropResponses: -1 }, "dropResponses"],
        [{ latency: 100 }, "latency"],
      ] as const) {
        const r = await control(sim().control, "POST", "/faults", body);
        expect(r.status).toBe(400);
        expect(errorOf(r)).toContain(field);
      }
      const view = (await control(sim().control, "GET", "/faults")).json as { okx: { latencyMs: number } };
      expect(view.okx.latencyMs).toBe(5);
    });
  });
});

describe("API management pages", () => {
  const sim = useSimulator({ scenario: scenario(), rateScale: 0.01 });

  beforeEach(async () => {
    expect((await control(sim().control, "POST", "/scenario", scenario())).status).toBe(200);
    expect((await control(sim().control, "DELETE", "/faults")).status).toBe(200);
  });

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
