/**
 * Bybit's rate limits for the `/v5/user/*` endpoints the simulator serves (docs/exchanges/bybit.md#rate-limits).
 * Bybit counts per UID and endpoint over a rolling second but publishes no number for these endpoints:
 * the simulator uses ccxt's costs (reads 10/s, writes 5/s), overridable like every limit.
 */
import { scaleWindow, type WindowLimit } from "../rate-limiter.js";

export interface BybitRateLimits {
  /** GET query-api, query-sub-members, submembers, sub-apikeys: 10 / s per UID, each its own bucket. */
  read: WindowLimit;
  /** POST create-sub-api, update-sub-api, delete-sub-api, update-api, delete-api: 5 / s per UID, each its own. */
  write: WindowLimit;
}

export const BYBIT_RATE_LIMITS: BybitRateLimits = {
  read: { limit: 10, windowMs: 1000 },
  write: { limit: 5, windowMs: 1000 },
};

export const scaleBybitRateLimits = (limits: BybitRateLimits, scale: number): BybitRateLimits => ({
  read: scaleWindow(limits.read, scale),
  write: scaleWindow(limits.write, scale),
});
