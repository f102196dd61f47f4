/**
 * Fidelity checklist 18-20 (docs/exchanges/bitfinex.md#simulator-fidelity-checklist): Bitfinex v2 signing,
 * nonces and scopes, over raw HTTP.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  APIKEY_INVALID,
  createKey,
  DIGEST_INVALID,
  MAIN_MATRIX,
  matrix,
  NONCE_SMALL,
  PERMISSION_INVALID,
  PERMISSIONS,
  SCOPES,
  statusAndBody,
  USER_INFO,
  useBitfinexSimulator,
} from "./bitfinex-helpers.js";
import { BFX_IP, BFX_MAIN, BFX_MICRO, BFX_NOSCOPE } from "./fixtures.js";
import { type BfxCreds, bfxCall, control, httpCall, nextNonce } from "./helpers.js";

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

describe("Bitfinex v2", () => {
  const sim = useBitfinexSimulator();

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
});
