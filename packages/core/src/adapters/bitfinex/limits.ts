/**
 * Bitfinex rate limits (docs/exchanges/bitfinex.md#rate-limits): the authenticated endpoints Keyward uses
 * allow 90 requests per minute each; an IP over the limit is blocked on that endpoint for 10-60 s. Per IP
 * or per key is UNCONFIRMED; counting per IP is the stricter reading (and what the simulator does), so one
 * process-wide scheduler per (host, endpoint) is shared by every key and every adapter instance.
 */
import type { AdapterOptions } from "../interface.js";
import { type RateScheduler, sharedScheduler, type WindowLimit } from "../rate-limiter.js";

/** The real API host for authenticated calls (docs/exchanges/bitfinex.md#signing-and-auth-headers). */
export const BITFINEX_API = "https://api.bitfinex.com";

/** docs.bitfinex.com reference pages for auth/r/permissions and auth/r/info/user: 90 req/min. */
export const DEFAULT_AUTH_LIMIT: WindowLimit = { limit: 90, windowMs: 60_000 };

/** The bucket name callers (and tests) override in `AdapterOptions.rateLimits`. */
export const AUTH_BUCKET = "auth";

export function endpointScheduler(base: string, path: string, options: AdapterOptions): RateScheduler {
  return sharedScheduler(`bitfinex|${base}|${path}`, options.rateLimits?.[AUTH_BUCKET] ?? DEFAULT_AUTH_LIMIT);
}
