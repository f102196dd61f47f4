/** OKX's documented rate limits (docs/exchanges/okx.md#rate-limits). */
import { scaleWindow, type WindowLimit } from "../rate-limiter.js";

export interface OkxRateLimits {
  /** GET users/subaccount/list and GET users/subaccount/apikey: 20 / 2 s per UID, each its own bucket. */
  read: WindowLimit;
  /** POST create / modify / delete sub-account key: 1 / s per UID, each its own bucket. */
  write: WindowLimit;
  /** GET account/config: 5 / 2 s per UID. */
  config: WindowLimit;
  /** GET public/time: 10 / 2 s per IP. */
  publicTime: WindowLimit;
}

export const OKX_RATE_LIMITS: OkxRateLimits = {
  read: { limit: 20, windowMs: 2000 },
  write: { limit: 1, windowMs: 1000 },
  config: { limit: 5, windowMs: 2000 },
  publicTime: { limit: 10, windowMs: 2000 },
};

export const scaleOkxRateLimits = (limits: OkxRateLimits, scale: number): OkxRateLimits => ({
  read: scaleWindow(limits.read, scale),
  write: scaleWindow(limits.write, scale),
  config: scaleWindow(limits.config, scale),
  publicTime: scaleWindow(limits.publicTime, scale),
});
