/**
 * Fidelity checklist 21-22 (docs/exchanges/bitfinex.md#simulator-fidelity-checklist): the Bitfinex key
 * lifecycle, which only the out-of-band control surface drives, and auth tokens, over raw HTTP.
 */
import { describe, expect, it } from "vitest";
import {
  APIKEY_INVALID,
  createKey,
  MAIN_MATRIX,
  matrix,
  PERMISSION_INVALID,
  PERMISSIONS,
  statusAndBody,
  TOKEN,
  TOKEN_DEL,
  TOKEN_INVALID,
  tokenCall,
  USER_INFO,
  useBitfinexSimulator,
} from "./bitfinex-helpers.js";
import { BFX_IP, BFX_MAIN, BFX_MICRO, BFX_NOSCOPE } from "./fixtures.js";
import { type BfxCreds, bfxCall, control, httpCall } from "./helpers.js";

describe("Bitfinex v2", () => {
  const sim = useBitfinexSimulator();

  describe("21. key lifecycle only through the out-of-band control surface", () => {
    it("POST /ui/create returns the key and its secret once; the key works at once", async () => {
      const r = await control(sim().control, "POST", "/ui/create", {
        exchange: "bitfinex",
        userId: 501,
        label: "lifecycle",
        permissions: [
          ["account", 1, 0],
          ["wallets", 1, 1],
        ],
        ip: ["127.0.0.1"],
      });
      expect(r.status).toBe(201);
      const created = r.json as BfxCreds;
      expect(typeof created.apiKey).toBe("string");
      expect(created.apiSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(created.apiKey).not.toBe(created.apiSecret);

      const perms = await bfxCall(sim().bitfinex, created, PERMISSIONS, {}, { localAddress: "127.0.0.1" });
      expect(statusAndBody(perms)).toEqual([200, matrix({ account: [1, 0], wallets: [1, 1] })]);
      const elsewhere = await bfxCall(
        sim().bitfinex,
        created,
        PERMISSIONS,
        {},
        { localAddress: "127.0.0.2" },
      );
      expect(statusAndBody(elsewhere)).toEqual([500, APIKEY_INVALID]);

      // The key is listed (without its secret) in the control state and on the web-UI stand-in page.
      const state = await control(sim().control, "GET", "/state");
      const user = (
        state.json as { bitfinex: { users: { id: number; keys: Record<string, unknown>[] }[] } }
      ).bitfinex.users.find((u) => u.id === 501);
      const listed = user?.keys.find((k) => k.apiKey === created.apiKey);
      expect(listed).toMatchObject({ label: "lifecycle", status: "active", ip: ["127.0.0.1"] });
      expect(listed).not.toHaveProperty("apiSecret");
      const page = await httpCall(`${sim().bitfinex}/api`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(created.apiKey);
      expect(page.text).not.toContain(created.apiSecret);
    });

    it("GET /state never shows a secret", async () => {
      const created = await createKey(sim().control, [["account", 1, 0]]);
      const state = await control(sim().control, "GET", "/state");
      expect(state.status).toBe(200);
      for (const secret of [
        created.apiSecret,
        BFX_MAIN.apiSecret,
        BFX_NOSCOPE.apiSecret,
        BFX_IP.apiSecret,
        BFX_MICRO.apiSecret,
      ]) {
        expect(state.text).not.toContain(secret);
      }
      expect(state.text).not.toMatch(/secret/i);
    });

    it("POST /ui/revoke kills the key at once; a second revoke reports it already revoked", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]]);
      const first = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "bitfinex",
        apiKey: key.apiKey,
      });
      expect(first.json).toMatchObject({ status: "revoked", alreadyRevoked: false });
      const second = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "bitfinex",
        apiKey: key.apiKey,
      });
      expect(second.json).toMatchObject({ status: "revoked", alreadyRevoked: true });
      expect(statusAndBody(await bfxCall(sim().bitfinex, key, PERMISSIONS))).toEqual([500, APIKEY_INVALID]);
      const unknown = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "bitfinex",
        apiKey: "nope",
      });
      expect(unknown.status).toBe(404);
    });

    it("has no /v2 endpoint to create, list, edit or revoke keys", async () => {
      for (const path of [
        "auth/w/key/del",
        "auth/w/key/create",
        "auth/w/key/update",
        "auth/r/keys",
        "auth/r/key/list",
      ]) {
        const r = await bfxCall(sim().bitfinex, BFX_MAIN, path);
        expect(r.status, path).toBe(404);
        expect((r.json as unknown[])[0]).toBe("error");
      }
      // …so the key is still alive.
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS)).status).toBe(200);
    });
  });

  describe("22. tokens", () => {
    const newToken = async (creds: BfxCreds, body: Record<string, unknown>): Promise<string> => {
      const r = await bfxCall(sim().bitfinex, creds, TOKEN, body);
      expect(r.status).toBe(200);
      const reply = r.json as unknown[];
      expect(reply).toHaveLength(1);
      expect(typeof reply[0]).toBe("string");
      return reply[0] as string;
    };

    it('auth/w/token with scope "api" returns [TOKEN], usable in bfx-token without nonce or signature', async () => {
      const token = await newToken(BFX_MAIN, { scope: "api", caps: ["a", "o", "w"], writePermission: true });
      const r = await tokenCall(sim().bitfinex, token, PERMISSIONS);
      expect(statusAndBody(r)).toEqual([200, MAIN_MATRIX]);
      // A token is not a key: it cannot mint or delete tokens itself.
      expect(statusAndBody(await tokenCall(sim().bitfinex, token, TOKEN, { scope: "api" }))).toEqual([
        500,
        PERMISSION_INVALID,
      ]);
    });

    it("requires scope api", async () => {
      for (const body of [{}, { scope: "other" }]) {
        const r = await bfxCall(sim().bitfinex, BFX_MAIN, TOKEN, body);
        expect(r.status).toBe(500);
        expect((r.json as unknown[]).slice(0, 2)).toEqual(["error", 10020]);
      }
    });

    it("narrows the key's scopes to the token's caps, writes only with writePermission", async () => {
      const readOnly = await newToken(BFX_MAIN, { scope: "api", caps: ["o"] });
      const r = await tokenCall(sim().bitfinex, readOnly, PERMISSIONS);
      expect(statusAndBody(r)).toEqual([200, matrix({ orders: [1, 0] })]);

      const write = await newToken(BFX_MAIN, { scope: "api", caps: ["a", "o"], writePermission: true });
      const w = await tokenCall(sim().bitfinex, write, PERMISSIONS);
      expect(statusAndBody(w)).toEqual([200, matrix({ account: [1, 0], orders: [1, 1] })]);

      const none = await newToken(BFX_MAIN, { scope: "api" });
      expect(statusAndBody(await tokenCall(sim().bitfinex, none, PERMISSIONS))).toEqual([200, matrix({})]);
    });

    it("applies the caps to other endpoints too: info/user needs the a cap", async () => {
      const withoutA = await newToken(BFX_MAIN, { scope: "api", caps: ["o"] });
      expect(statusAndBody(await tokenCall(sim().bitfinex, withoutA, USER_INFO))).toEqual([
        500,
        PERMISSION_INVALID,
      ]);
      const withA = await newToken(BFX_MAIN, { scope: "api", caps: ["a"] });
      const r = await tokenCall(sim().bitfinex, withA, USER_INFO);
      expect(r.status).toBe(200);
      expect((r.json as unknown[])[0]).toBe(501);
    });

    it("refuses the wd cap without writePermission (10020) and a cap the key lacks (10001)", async () => {
      const wd = await bfxCall(sim().bitfinex, BFX_MAIN, TOKEN, { scope: "api", caps: ["wd"] });
      expect(wd.status).toBe(500);
      expect((wd.json as unknown[]).slice(0, 2)).toEqual(["error", 10020]);

      // BFX_MAIN has no funding scope.
      const lacking = await bfxCall(sim().bitfinex, BFX_MAIN, TOKEN, { scope: "api", caps: ["f"] });
      expect(statusAndBody(lacking)).toEqual([500, PERMISSION_INVALID]);

      // With writePermission, wd passes the parameter check; a key with withdraw gets its token.
      const withdrawKey = await createKey(sim().control, [["withdraw", 1, 1]]);
      const ok = await newToken(withdrawKey, { scope: "api", caps: ["wd"], writePermission: true });
      const perms = await tokenCall(sim().bitfinex, ok, PERMISSIONS);
      expect(statusAndBody(perms)).toEqual([200, matrix({ withdraw: [1, 1] })]);
    });

    it("token/del returns [1]; the token is then invalid, the key and its other tokens live on", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]]);
      const doomed = await newToken(key, { scope: "api", caps: ["a"] });
      const survivor = await newToken(key, { scope: "api", caps: ["a"] });
      expect((await tokenCall(sim().bitfinex, doomed, PERMISSIONS)).status).toBe(200);

      const del = await bfxCall(sim().bitfinex, key, TOKEN_DEL, { token: doomed });
      expect(statusAndBody(del)).toEqual([200, [1]]);
      expect(statusAndBody(await tokenCall(sim().bitfinex, doomed, PERMISSIONS))).toEqual([
        500,
        TOKEN_INVALID,
      ]);
      expect(statusAndBody(await bfxCall(sim().bitfinex, key, TOKEN_DEL, { token: doomed }))).toEqual([
        500,
        TOKEN_INVALID,
      ]);

      expect((await tokenCall(sim().bitfinex, survivor, PERMISSIONS)).status).toBe(200);
      expect((await bfxCall(sim().bitfinex, key, PERMISSIONS)).status).toBe(200);
    });

    it("a key cannot delete another key's token", async () => {
      const owner = await createKey(sim().control, [["account", 1, 0]]);
      const token = await newToken(owner, { scope: "api", caps: ["a"] });
      const other = await bfxCall(sim().bitfinex, BFX_MAIN, TOKEN_DEL, { token });
      expect(statusAndBody(other)).toEqual([500, TOKEN_INVALID]);
      expect((await tokenCall(sim().bitfinex, token, PERMISSIONS)).status).toBe(200);
    });

    it("answers token: invalid for an unknown token", async () => {
      const r = await tokenCall(sim().bitfinex, "pub:api:not-a-token", PERMISSIONS);
      expect(statusAndBody(r)).toEqual([500, TOKEN_INVALID]);
    });

    it("revoking the key kills its tokens", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]]);
      const token = await newToken(key, { scope: "api", caps: ["a"] });
      expect((await tokenCall(sim().bitfinex, token, PERMISSIONS)).status).toBe(200);
      await control(sim().control, "POST", "/ui/revoke", { exchange: "bitfinex", apiKey: key.apiKey });
      expect(statusAndBody(await tokenCall(sim().bitfinex, token, PERMISSIONS))).toEqual([
        500,
        TOKEN_INVALID,
      ]);
    });

    it("expires after its TTL (120 s by default) on the simulator clock", async () => {
      const short = await newToken(BFX_MAIN, { scope: "api", caps: ["a"], ttl: 60 });
      const standard = await newToken(BFX_MAIN, { scope: "api", caps: ["a"] });
      let advanced = 0;
      const advance = async (ms: number) => {
        await control(sim().control, "POST", "/clock", { advanceMs: ms });
        advanced += ms;
      };
      try {
        await advance(59_000);
        expect((await tokenCall(sim().bitfinex, short, PERMISSIONS)).status).toBe(200);
        await advance(2_000);
        expect(statusAndBody(await tokenCall(sim().bitfinex, short, PERMISSIONS))).toEqual([
          500,
          TOKEN_INVALID,
        ]);
        expect((await tokenCall(sim().bitfinex, standard, PERMISSIONS)).status).toBe(200);
        await advance(58_000);
        expect((await tokenCall(sim().bitfinex, standard, PERMISSIONS)).status).toBe(200);
        await advance(2_000);
        expect(statusAndBody(await tokenCall(sim().bitfinex, standard, PERMISSIONS))).toEqual([
          500,
          TOKEN_INVALID,
        ]);
        // The key itself does not expire with its tokens.
        expect((await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS)).status).toBe(200);
      } finally {
        await control(sim().control, "POST", "/clock", { advanceMs: -advanced });
      }
    });
  });
});
