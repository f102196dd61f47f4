/**
 * OKX v5 request authentication, implemented from the server's side and independently of ccxt
 * (https://www.okx.com/docs-v5/en/#overview-rest-authentication). Check order (OKX does not document
 * one; docs/exchanges/okx.md#simulator-fidelity-checklist): headers → timestamp → key / environment / frozen
 * → passphrase → signature → IP.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { HandledReply } from "../exchange-listener.js";
import { header, type RawRequest } from "../http-kit.js";
import { ipAllowed, normaliseAddress } from "../ip-whitelist.js";
import { okxError } from "./envelope.js";
import type { OkxRegion } from "./scenario.js";
import { type OkxKey, type OkxWorld, passphraseMatches } from "./state.js";

/** ISO-8601 UTC with milliseconds, e.g. 2020-12-08T09:08:57.715Z. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface OkxAuthOptions {
  world: OkxWorld;
  region: OkxRegion;
  now: number;
  /**
   * REST window is undocumented; WS login allows 30 s, which the simulator adopts
   * (docs/exchanges/okx.md#where-the-exchange-is-silent-what-keyward-and-the-simulator-assume).
   */
  timestampWindowMs: number;
}

export type OkxAuthResult = { ok: true; key: OkxKey } | { ok: false; reply: HandledReply };

export function okxSignature(secret: string, prehash: string): string {
  return createHmac("sha256", secret).update(prehash).digest("base64");
}

export function authenticateOkx(raw: RawRequest, options: OkxAuthOptions): OkxAuthResult {
  const apiKey = header(raw.headers, "ok-access-key");
  const passphrase = header(raw.headers, "ok-access-passphrase");
  const sign = header(raw.headers, "ok-access-sign");
  const timestamp = header(raw.headers, "ok-access-timestamp");
  const fail = (reply: HandledReply): OkxAuthResult => ({ ok: false, reply });
  const logKey = apiKey || null;

  if (!apiKey) return fail(okxError("50103", null));
  if (!passphrase) return fail(okxError("50104", logKey));
  if (!sign) return fail(okxError("50106", logKey));
  if (!timestamp) return fail(okxError("50107", logKey));

  const ts = TIMESTAMP.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(ts)) return fail(okxError("50112", logKey));
  if (Math.abs(options.now - ts) > options.timestampWindowMs) return fail(okxError("50102", logKey));

  const key = options.world.okxKeys.get(apiKey);
  if (!key) return fail(okxError("50111", logKey));
  // A valid key called on another regional host (www vs eea vs us) gets 50119, a known false "dead".
  if (key.region !== options.region) return fail(okxError("50119", logKey));
  if (key.status !== "active" || key.refusesAuth || options.world.okxKeyExpired(key, options.now)) {
    return fail(okxError("50111", logKey));
  }
  const demoHeader = header(raw.headers, "x-simulated-trading") === "1";
  if (demoHeader !== key.demo) return fail(okxError("50101", logKey));
  if (key.frozen) return fail(okxError("50100", logKey));

  if (!passphraseMatches(key, passphrase)) return fail(okxError("50105", logKey));

  // The pre-hash uses the bytes received: the request-target as sent (path and query) and the raw body.
  const expected = Buffer.from(
    okxSignature(key.secretKey, `${timestamp}${raw.method}${raw.target}${raw.body}`),
  );
  const given = Buffer.from(sign);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return fail(okxError("50113", logKey));
  }

  if (!ipAllowed(key.ip, raw.remoteAddress)) {
    return fail(okxError("50110", logKey, normaliseAddress(raw.remoteAddress)));
  }

  // Only authenticated calls count as use for the 14-day idle expiry
  // (docs/exchanges/okx.md#key-limits-and-policy).
  key.lastUsedAt = options.now;
  return { ok: true, key };
}
