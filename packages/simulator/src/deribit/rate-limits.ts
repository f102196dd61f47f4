/**
 * Deribit's credit-based rate limit for the non-matching-engine methods the simulator serves
 * (https://docs.deribit.com/articles/rate-limits): one bucket per account, shared by all its keys; each
 * request costs 500 credits, the bucket holds 50,000 and gets 10,000 back per second (≈ 20 requests/s
 * sustained, bursts of 100). The figures are UNCONFIRMED (a secondary source); overridable like every limit.
 */
import { type CreditLimit, scaleCredits } from "../rate-limiter.js";

export interface DeribitRateLimits {
  /** Every request of an account (public/auth included, once the key is known). */
  credits: CreditLimit;
}

export const DERIBIT_RATE_LIMITS: DeribitRateLimits = {
  credits: { capacity: 50_000, cost: 500, refill: 10_000, perMs: 1000 },
};

export const scaleDeribitRateLimits = (limits: DeribitRateLimits, scale: number): DeribitRateLimits => ({
  credits: scaleCredits(limits.credits, scale),
});
