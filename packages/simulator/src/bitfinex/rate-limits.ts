/** Bitfinex's rate limits (docs/exchanges/bitfinex.md#rate-limits). */
import { scaleDuration, scaleWindow, type WindowLimit } from "../rate-limiter.js";

export interface BitfinexRateLimits {
  /** Authenticated endpoints: 90 / min per IP per endpoint (Sim choice: per IP). */
  auth: WindowLimit;
  /** After a breach the IP is blocked on that endpoint for this long (v1 docs: 10-60 s). */
  blockMs: number;
}

export const BITFINEX_RATE_LIMITS: BitfinexRateLimits = {
  auth: { limit: 90, windowMs: 60_000 },
  blockMs: 60_000,
};

export const scaleBitfinexRateLimits = (limits: BitfinexRateLimits, scale: number): BitfinexRateLimits => ({
  auth: scaleWindow(limits.auth, scale),
  blockMs: scaleDuration(limits.blockMs, scale),
});
