/**
 * Fidelity checklist 18-24 (shared/reference/exchanges.md §6): Bitfinex v2 signing, nonces, scopes, the
 * out-of-band key lifecycle, tokens, rate limits and error statuses, over raw HTTP.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, type RateLimits } from "../src/index.js";
import { BFX_IP, BFX_MAIN, BFX_MICRO, BFX_NOSCOPE, scenario } from "./fixtures.js";
import {
  type BfxCreds,
  bfxCall,
  control,
  type HttpResult,
  httpCall,
  nextNonce,
  useSimulator,
} from "./helpers.js";

const PERMISSIONS = "auth/r/permissions";
const USER_INFO = "auth/r/info/user";
const TOKEN = "auth/w/token";
const TOKEN_DEL = "auth/w/token/del";

const APIKEY_INVALID = ["error", 10100, "apikey: invalid"];
const DIGEST_INVALID = ["error", 10100, "apikey: digest invalid"];
const TOKEN_INVALID = ["error", 10100, "token: invalid"];
const NONCE_SMALL = ["error", 10114, "nonce: small"];
const PERMISSION_INVALID = ["error", 10001, "api_key: permission invalid"];

/** The exchange's scope order; every scope is present in `auth/r/permissions`. */
const SCOPES = [
  "account",
  "history",
  "orders",
  "positions",
  "funding",
  "settings",
  "wallets",
  "withdraw",
  "ui_withdraw",
  "bfxpay",
] as const;

/** The full matrix in exchange order, given only the scopes that are not [0, 0]. */
const matrix = (granted: Record<string, [0 | 1, 0 | 1]>) =>
  SCOPES.map((scope) => [scope, ...(granted[scope] ?? [0, 0])]);

/** BFX_MAIN's seeded scopes (fixtures.ts). */
const MAIN_MATRIX = matrix({ account: [1, 0], orders: [1, 1], wallets: [1, 0] });

const statusAndBody = (r: HttpResult) => [r.status, r.json];

/** A token-authenticated call: header `bfx-token` only, no key, nonce or signature. */
const tokenCall = (base: string, token: string, path: string, body: unknown = {}) =>
  httpCall(`${base}/v2/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "bfx-token": token },
    body: JSON.stringify(body),
  });

/** Headers for a request signed over `signedBody` (which may differ from what is sent). */
function signedHeaders(
  creds: BfxCreds,
  path: string,
  nonce: string,
  signedBody: string,
): Record<string, string> {
  return {
    "content-type": "application/json",
    "bfx-apikey": creds.apiKey,
    "bfx-nonce": nonce,
    "bfx-signature": createHmac("sha384", creds.apiSecret)
      .update(`/api/v2/${path}${nonce}${signedBody}`)
      .digest("hex"),
  };
}

/** Creates a Bitfinex key the way a person would on the website (the control API's `/ui/create`). */
async function createKey(
  controlUrl: string,
  permissions: [string, 0 | 1, 0 | 1][],
  extra: { label?: string; ip?: string[] } = {},
): Promise<BfxCreds> {
  const r = await control(controlUrl, "POST", "/ui/create", {
    exchange: "bitfinex",
    userId: 501,
    label: extra.label ?? `test-${nextNonce()}`,
    permissions,
    ...(extra.ip ? { ip: extra.ip } : {}),
  });
  expect(r.status).toBe(201);
  return r.json as BfxCreds;
}

/**
 * The main simulator's per-IP limit is raised so that the many calls of this file never trip it;
 * item 23 checks the limits on simulators of its own, including one with the documented defaults.
 */
const GENEROUS: RateLimits = {
  ...DEFAULT_RATE_LIMITS,
  bitfinex: { auth: { limit: 10_000, windowMs: 60_000 }, blockMs: 60_000 },
};

describe("Bitfinex v2", () => {
  const sim = useSimulator({ scenario: scenario(), rateLimits: GENEROUS });

  describe("18. signature: hex(HMAC-SHA384(secret, '/api/v2/' + path + nonce + body))", () => {
    it("accepts a correctly signed request", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS);
      expect(statusAndBody(r)).toEqual([200, MAIN_MATRIX]);
    });

    it("rejects a signature over '/v2/...' (the URL path, missing the /api prefix)", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { signPrefix: "/v2/" });
      expect(statusAndBody(r)).toEqual([500, DIGEST_INVALID]);
    });

    it("rejects a signature made with another secret: 500 apikey: digest invalid", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { signSecret: "not-the-secret" });
      expect(statusAndBody(r)).toEqual([500, DIGEST_INVALID]);
    });

    it("rejects the right MAC in the wrong encoding (base64 instead of hex)", async () => {
      const nonce = nextNonce();
      const base64 = createHmac("sha384", BFX_MAIN.apiSecret)
        .update(`/api/v2/${PERMISSIONS}${nonce}{}`)
        .digest("base64");
      const r = await bfxCall(
        sim().bitfinex,
        BFX_MAIN,
        PERMISSIONS,
        {},
        { nonce, headers: { "bfx-signature": base64 } },
      );
      expect(statusAndBody(r)).toEqual([500, DIGEST_INVALID]);
    });

    it("verifies the exact body bytes sent (a signature over other bytes fails)", async () => {
      const nonce = nextNonce();
      const r = await httpCall(`${sim().bitfinex}/v2/${PERMISSIONS}`, {
        method: "POST",
        headers: signedHeaders(BFX_MAIN, PERMISSIONS, nonce, "{}"),
        body: "{ }",
      });
      expect(statusAndBody(r)).toEqual([500, DIGEST_INVALID]);
    });

    it("answers 500 apikey: invalid for an unknown key", async () => {
      const r = await bfxCall(sim().bitfinex, { apiKey: "no-such-key", apiSecret: "whatever" }, PERMISSIONS);
      expect(statusAndBody(r)).toEqual([500, APIKEY_INVALID]);
    });

    it("answers 500 apikey: invalid for a key revoked on the web UI (POST /ui/revoke)", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]]);
      expect((await bfxCall(sim().bitfinex, key, PERMISSIONS)).status).toBe(200);
      const revoke = await control(sim().control, "POST", "/ui/revoke", {
        exchange: "bitfinex",
        apiKey: key.apiKey,
      });
      expect(revoke.status).toBe(200);
      // Immediately, and even with a correct signature and a fresh nonce.
      const r = await bfxCall(sim().bitfinex, key, PERMISSIONS);
      expect(statusAndBody(r)).toEqual([500, APIKEY_INVALID]);
    });

    it("accepts an empty raw body when it is signed as empty (bitfinex-api-py style)", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, "");
      expect(statusAndBody(r)).toEqual([200, MAIN_MATRIX]);
      // …but not an empty body signed as "{}" (ccxt's empty body): the signature covers the bytes sent.
      const nonce = nextNonce();
      const mismatched = await httpCall(`${sim().bitfinex}/v2/${PERMISSIONS}`, {
        method: "POST",
        headers: signedHeaders(BFX_MAIN, PERMISSIONS, nonce, "{}"),
        body: "",
      });
      expect(statusAndBody(mismatched)).toEqual([500, DIGEST_INVALID]);
    });

    it("rejects a request without a signature or without a nonce", async () => {
      for (const drop of ["bfx-signature", "bfx-nonce"]) {
        const headers = signedHeaders(BFX_MAIN, PERMISSIONS, nextNonce(), "{}");
        delete headers[drop];
        const r = await httpCall(`${sim().bitfinex}/v2/${PERMISSIONS}`, {
          method: "POST",
          headers,
          body: "{}",
        });
        expect(r.status).toBe(500);
        expect((r.json as unknown[]).slice(0, 2)).toEqual(["error", 10100]);
      }
    });
  });

  describe("19. nonce: strictly increasing per key", () => {
    it("rejects a repeated or lower nonce with 500 nonce: small", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]]);
      const nonce = nextNonce();
      expect((await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { nonce })).status).toBe(200);
      const same = await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { nonce });
      expect(statusAndBody(same)).toEqual([500, NONCE_SMALL]);
      const lower = await bfxCall(
        sim().bitfinex,
        key,
        PERMISSIONS,
        {},
        { nonce: String(BigInt(nonce) - 1n) },
      );
      expect(statusAndBody(lower)).toEqual([500, NONCE_SMALL]);
      // Nonces are compared as numbers, not strings: "9…" > "10…" as text but not as a number.
      const textuallyGreater = await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { nonce: "99999" });
      expect(statusAndBody(textuallyGreater)).toEqual([500, NONCE_SMALL]);
      expect((await bfxCall(sim().bitfinex, key, PERMISSIONS)).status).toBe(200);
    });

    it("keeps a separate counter per key", async () => {
      const a = await createKey(sim().control, [["account", 1, 0]]);
      const b = await createKey(sim().control, [["account", 1, 0]]);
      const high = nextNonce();
      const low = String(BigInt(high) - 1000n);
      expect((await bfxCall(sim().bitfinex, a, PERMISSIONS, {}, { nonce: high })).status).toBe(200);
      // A lower nonce is still fine on another key.
      expect((await bfxCall(sim().bitfinex, b, PERMISSIONS, {}, { nonce: low })).status).toBe(200);
    });

    it("accepts nonces up to 9007199254740991 and rejects anything above", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]]);
      for (const nonce of [
        "9007199254740992",
        "9007199254740993",
        "10000000000000000",
        "99999999999999999999",
      ]) {
        const r = await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { nonce });
        expect(statusAndBody(r)).toEqual([500, NONCE_SMALL]);
      }
      const max = await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { nonce: "9007199254740991" });
      expect(max.status).toBe(200);
      // The key is now stuck: nothing is larger than the cap.
      const after = await bfxCall(sim().bitfinex, key, PERMISSIONS);
      expect(statusAndBody(after)).toEqual([500, NONCE_SMALL]);
    });

    it("rejects a nonce that is not a decimal integer", async () => {
      for (const nonce of ["abc", "-5", "1.5e15", `${nextNonce()}.5`]) {
        const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { nonce });
        expect(statusAndBody(r)).toEqual([500, NONCE_SMALL]);
      }
    });

    it("reproduces the ms-after-µs trap: a key once used with µs nonces rejects Date.now()", async () => {
      const ms = await bfxCall(sim().bitfinex, BFX_MICRO, PERMISSIONS, {}, { nonce: String(Date.now()) });
      expect(statusAndBody(ms)).toEqual([500, NONCE_SMALL]);
      const micro = await bfxCall(
        sim().bitfinex,
        BFX_MICRO,
        PERMISSIONS,
        {},
        { nonce: String((Date.now() + 5) * 1000) },
      );
      expect(statusAndBody(micro)).toEqual([200, matrix({ account: [1, 0] })]);
      // Still rejected afterwards, on a new connection: the counter belongs to the key, not the connection.
      const msAgain = await bfxCall(
        sim().bitfinex,
        BFX_MICRO,
        PERMISSIONS,
        {},
        { nonce: String(Date.now()) },
      );
      expect(statusAndBody(msAgain)).toEqual([500, NONCE_SMALL]);
    });

    it("checks the nonce after the signature: a badly signed request does not consume its nonce", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]]);
      const nonce = nextNonce();
      const forged = await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { nonce, signSecret: "forged" });
      expect(statusAndBody(forged)).toEqual([500, DIGEST_INVALID]);
      const genuine = await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { nonce });
      expect(genuine.status).toBe(200);
      // A forged request with a stale nonce learns about the signature, not the nonce.
      const forgedStale = await bfxCall(
        sim().bitfinex,
        key,
        PERMISSIONS,
        {},
        { nonce, signSecret: "forged" },
      );
      expect(statusAndBody(forgedStale)).toEqual([500, DIGEST_INVALID]);
    });
  });

  describe("20. scopes", () => {
    it("auth/r/permissions returns every scope in the exchange's order, missing ones as 0,0", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS);
      expect(r.status).toBe(200);
      expect(r.json).toEqual(MAIN_MATRIX);
      expect((r.json as [string][]).map((p) => p[0])).toEqual([...SCOPES]);
    });

    it("auth/r/permissions works for a key with no scopes at all", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_NOSCOPE, PERMISSIONS);
      expect(statusAndBody(r)).toEqual([200, matrix({})]);
    });

    it("reports a key's scopes as they were set at creation, withdraw included", async () => {
      const key = await createKey(sim().control, [
        ["withdraw", 1, 1],
        ["history", 1, 0],
        ["funding", 1, 1],
      ]);
      const r = await bfxCall(sim().bitfinex, key, PERMISSIONS);
      expect(statusAndBody(r)).toEqual([200, matrix({ history: [1, 0], funding: [1, 1], withdraw: [1, 1] })]);
    });

    it("auth/r/info/user needs account read: 500 [error, 10001, …] without it", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_NOSCOPE, USER_INFO);
      expect(statusAndBody(r)).toEqual([500, PERMISSION_INVALID]);
      // account write alone is not account read
      const writeOnly = await createKey(sim().control, [["account", 0, 1]]);
      const w = await bfxCall(sim().bitfinex, writeOnly, USER_INFO);
      expect(statusAndBody(w)).toEqual([500, PERMISSION_INVALID]);
    });

    it("auth/r/info/user answers a positional array: [0] user id, [1] email", async () => {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, USER_INFO);
      expect(r.status).toBe(200);
      const info = r.json as unknown[];
      expect(Array.isArray(info)).toBe(true);
      expect(info[0]).toBe(501);
      expect(info[1]).toBe("ops@example.com");
      expect(info[3]).toBe(Date.parse("2026-01-01T00:00:00Z"));
    });

    it("IP whitelist: a bound key from another IP gets 500 apikey: invalid, from its IP it works", async () => {
      const outside = await bfxCall(sim().bitfinex, BFX_IP, PERMISSIONS, {}, { localAddress: "127.0.0.1" });
      expect(statusAndBody(outside)).toEqual([500, APIKEY_INVALID]);
      const inside = await bfxCall(sim().bitfinex, BFX_IP, PERMISSIONS, {}, { localAddress: "127.0.0.2" });
      expect(statusAndBody(inside)).toEqual([200, matrix({ account: [1, 0] })]);
    });

    it("IP whitelist: CIDR ranges, and at most 20 entries per key", async () => {
      const key = await createKey(sim().control, [["account", 1, 0]], { ip: ["10.0.0.1", "127.0.0.0/30"] });
      expect(
        (await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { localAddress: "127.0.0.3" })).status,
      ).toBe(200);
      const outside = await bfxCall(sim().bitfinex, key, PERMISSIONS, {}, { localAddress: "127.0.0.4" });
      expect(statusAndBody(outside)).toEqual([500, APIKEY_INVALID]);

      const ips = (n: number) => Array.from({ length: n }, (_, i) => `10.1.0.${i + 1}`);
      const create = (ip: string[]) =>
        control(sim().control, "POST", "/ui/create", {
          exchange: "bitfinex",
          userId: 501,
          label: `ips-${ip.length}`,
          permissions: [],
          ip,
        });
      expect((await create(ips(20))).status).toBe(201);
      expect((await create(ips(21))).status).toBe(400);
    });
  });

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

  describe("24. error status", () => {
    it("answers error arrays with HTTP 500 by default, 401 or 400 when switched, and 500 again after a reset", async () => {
      const errors = async () => [
        statusAndBody(await bfxCall(sim().bitfinex, { apiKey: "no-such-key", apiSecret: "x" }, PERMISSIONS)),
        statusAndBody(await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { nonce: "1" })),
        statusAndBody(await bfxCall(sim().bitfinex, BFX_NOSCOPE, USER_INFO)),
        statusAndBody(await tokenCall(sim().bitfinex, "pub:api:not-a-token", PERMISSIONS)),
      ];
      const expected = (status: number) => [
        [status, APIKEY_INVALID],
        [status, NONCE_SMALL],
        [status, PERMISSION_INVALID],
        [status, TOKEN_INVALID],
      ];
      expect(await errors()).toEqual(expected(500));
      try {
        for (const status of [401, 400]) {
          const set = await control(sim().control, "POST", "/faults", {
            exchange: "bitfinex",
            bitfinexErrorStatus: status,
          });
          expect(set.status).toBe(200);
          expect(await errors()).toEqual(expected(status));
          // Successes are untouched.
          expect(statusAndBody(await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS))).toEqual([
            200,
            MAIN_MATRIX,
          ]);
        }
      } finally {
        await control(sim().control, "DELETE", "/faults");
      }
      expect(await errors()).toEqual(expected(500));
    });
  });
});

describe("23. Bitfinex rate limit (per IP per endpoint)", () => {
  const LIMIT = 5;
  const WINDOW_MS = 400;
  const BLOCK_MS = 800;
  const sim = useSimulator({
    scenario: scenario(),
    rateLimits: {
      ...DEFAULT_RATE_LIMITS,
      bitfinex: { auth: { limit: LIMIT, windowMs: WINDOW_MS }, blockMs: BLOCK_MS },
    },
  });
  const RATE_LIMITED = ["error", 11010, "ratelimit: error"];

  /** Moves the simulator clock (rate windows and blocks follow it), so no test has to sleep. */
  const advance = (ms: number) => control(sim().control, "POST", "/clock", { advanceMs: ms });
  const call = (localAddress: string, path = PERMISSIONS) =>
    bfxCall(sim().bitfinex, BFX_MAIN, path, {}, { localAddress });
  const burst = async (localAddress: string, n: number) => {
    const results: HttpResult[] = [];
    for (let i = 0; i < n; i++) results.push(await call(localAddress));
    return results;
  };

  it("answers a burst above the limit with 429 [error, 11010, ratelimit: error]", async () => {
    const results = await burst("127.0.1.1", LIMIT + 3);
    expect(results.slice(0, LIMIT).map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
    for (const r of results.slice(LIMIT)) expect(statusAndBody(r)).toEqual([429, RATE_LIMITED]);
  });

  it("never limits requests that stay within the limit", async () => {
    for (let round = 0; round < 4; round++) {
      const results = await burst("127.0.1.2", LIMIT);
      expect(results.map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
      await advance(WINDOW_MS + 1);
    }
  });

  it("counts per IP and per endpoint", async () => {
    await burst("127.0.1.3", LIMIT + 1);
    expect((await call("127.0.1.3")).status).toBe(429);
    expect((await call("127.0.1.4")).status).toBe(200);
    expect((await call("127.0.1.3", USER_INFO)).status).toBe(200);
  });

  it("keeps the block for blockMs, even after the window has passed", async () => {
    const results = await burst("127.0.1.5", LIMIT + 1);
    expect(results.at(-1)?.status).toBe(429);
    await advance(WINDOW_MS + 100);
    expect(statusAndBody(await call("127.0.1.5"))).toEqual([429, RATE_LIMITED]);
    await advance(BLOCK_MS - WINDOW_MS);
    expect(statusAndBody(await call("127.0.1.5"))).toEqual([200, MAIN_MATRIX]);
  });

  it('switches to 429 {"error":"ERR_RATE_LIMIT"} with Retry-After (bitfinexRateLimitShape "err-object")', async () => {
    await control(sim().control, "POST", "/faults", {
      exchange: "bitfinex",
      bitfinexRateLimitShape: "err-object",
    });
    try {
      const results = await burst("127.0.1.6", LIMIT + 2);
      for (const r of results.slice(LIMIT)) {
        expect(statusAndBody(r)).toEqual([429, { error: "ERR_RATE_LIMIT" }]);
        expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await control(sim().control, "DELETE", "/faults");
    }
  });

  it('switches to 429 [error, null, ERR_RATE_LIMIT] (bitfinexRateLimitShape "null-code")', async () => {
    await control(sim().control, "POST", "/faults", {
      exchange: "bitfinex",
      bitfinexRateLimitShape: "null-code",
    });
    try {
      const results = await burst("127.0.1.7", LIMIT + 1);
      expect(statusAndBody(results[LIMIT] as HttpResult)).toEqual([429, ["error", null, "ERR_RATE_LIMIT"]]);
    } finally {
      await control(sim().control, "DELETE", "/faults");
    }
    // Back to the default shape.
    expect(statusAndBody(await call("127.0.1.7"))).toEqual([429, RATE_LIMITED]);
  });
});

describe("23. Bitfinex rate limit defaults: 90 per minute, then a 60 s block", () => {
  const sim = useSimulator({ scenario: scenario() });

  it("allows 90 requests a minute per IP and endpoint and blocks the 91st for 60 s", async () => {
    const localAddress = "127.0.2.1";
    for (let i = 0; i < 90; i++) {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress });
      expect(r.status, `request ${i + 1}`).toBe(200);
    }
    const over = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress });
    expect(statusAndBody(over)).toEqual([429, ["error", 11010, "ratelimit: error"]]);
    await control(sim().control, "POST", "/clock", { advanceMs: 59_000 });
    expect((await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress })).status).toBe(429);
    await control(sim().control, "POST", "/clock", { advanceMs: 2_000 });
    expect((await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress })).status).toBe(200);
  });
});
