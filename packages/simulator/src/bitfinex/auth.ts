/**
 * Bitfinex v2 authentication, server side and independent of ccxt
 * (https://docs.bitfinex.com/docs/rest-auth): HMAC-SHA384 hex over `/api/v2/<path><nonce><body>`,
 * nonces strictly increasing per key, or a `bfx-token` header in place of key, nonce and signature.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { HandledReply } from "../exchange-listener.js";
import { header, type RawRequest } from "../http-kit.js";
import { ipAllowed } from "../ip-whitelist.js";
import { BFX, bfxError } from "./errors.js";
import type { BitfinexFaultSpec } from "./faults.js";
import type { BitfinexKey, BitfinexToken, BitfinexWorld } from "./state.js";

/** Bitfinex caps nonces at JavaScript's MAX_SAFE_INTEGER (docs/exchanges/bitfinex.md#nonce-rules). */
const MAX_NONCE = 9007199254740991n;

export type BitfinexAuth =
  | { ok: true; key: BitfinexKey; token: BitfinexToken | null }
  | { ok: false; reply: HandledReply };

export function bitfinexSignature(secret: string, payload: string): string {
  return createHmac("sha384", secret).update(payload).digest("hex");
}

export function authenticateBitfinex(
  raw: RawRequest,
  world: BitfinexWorld,
  spec: BitfinexFaultSpec,
  now: number,
): BitfinexAuth {
  const fail = (error: readonly [number, string], apiKey: string | null): BitfinexAuth => ({
    ok: false,
    reply: bfxError(error, spec, apiKey),
  });

  const tokenHeader = header(raw.headers, "bfx-token");
  if (tokenHeader) {
    const token = world.bitfinexTokens.get(tokenHeader);
    const key = token && world.bitfinexKeys.get(token.apiKey);
    if (!token || !key || token.expiresAt <= now || key.status !== "active")
      return fail(BFX.tokenInvalid, null);
    if (!ipAllowed(key.ip, raw.remoteAddress)) return fail(BFX.apikeyInvalid, key.apiKey);
    return { ok: true, key, token };
  }

  const apiKey = header(raw.headers, "bfx-apikey");
  if (!apiKey) return fail(BFX.apikeyInvalid, null);
  const key = world.bitfinexKeys.get(apiKey);
  if (key?.status !== "active") return fail(BFX.apikeyInvalid, apiKey);
  const nonce = header(raw.headers, "bfx-nonce");
  const signature = header(raw.headers, "bfx-signature");
  if (!nonce || !signature) return fail(BFX.digestInvalid, apiKey);

  // Signed over the request path under /api/v2/ (although the URL is /v2/...) and the exact body bytes.
  const path = raw.target.replace(/^\/v2\//, "");
  const expected = Buffer.from(bitfinexSignature(key.apiSecret, `/api/v2/${path}${nonce}${raw.body}`));
  const given = Buffer.from(signature.toLowerCase());
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    return fail(BFX.digestInvalid, apiKey);

  // Sim choice: a non-whitelisted IP gets the same answer as an unknown key
  // (docs/exchanges/bitfinex.md#ip-whitelisting).
  if (!ipAllowed(key.ip, raw.remoteAddress)) return fail(BFX.apikeyInvalid, apiKey);

  // Checked after the signature, per key and forever: a key once used with microsecond nonces rejects
  // every later millisecond nonce, exactly the trap real clients fall into
  // (docs/exchanges/bitfinex.md#nonce-rules).
  const value = /^\d{1,16}$/.test(nonce) ? BigInt(nonce) : -1n;
  if (value <= key.lastNonce || value > MAX_NONCE) return fail(BFX.nonceSmall, apiKey);
  key.lastNonce = value;
  return { ok: true, key, token: null };
}
