/**
 * The control API's world: GET /state, POST /scenario and POST /ui/revoke, over real HTTP against a
 * running simulator.
 */
import { describe, expect, it } from "vitest";
import type { ScenarioInput } from "../src/index.js";
import {
  bfxKeys,
  bfxStatus,
  CANARIES,
  CONFIG,
  deleteSubKey,
  errorOf,
  getState,
  okxKeys,
  okxStatus,
  useFixtureSimulator,
} from "./control-helpers.js";
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
import { bfxCall, control, httpCall, okxCall, okxCode, okxData } from "./helpers.js";

/** A part of the fixture scenario that a test changes. */
function defined<T>(value: T | undefined): T {
  if (value === undefined) throw new Error("the fixture scenario changed shape");
  return value;
}

describe("control API", () => {
  const sim = useFixtureSimulator({ clearRequests: true });

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
        // A scenario without a bybit section gives an empty one.
        bybit: { masters: [] },
        deribit: { accounts: [] },
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
});
