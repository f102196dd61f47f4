/**
 * Sliding-window rate limiter: at most `limit` accepted requests in any `windowMs` span.
 * A sliding window is the strictest reading of "N requests per T seconds", so a client that never
 * trips it here never trips a fixed-window implementation either. Rejected requests are not counted.
 */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export class SlidingWindowLimiter {
  readonly #hits = new Map<string, number[]>();
  readonly #blocked = new Map<string, number>();

  /** Records a hit and returns true if `bucket` is under its limit at `now`; false (unrecorded) otherwise. */
  tryTake(bucket: string, { limit, windowMs }: WindowLimit, now: number): boolean {
    let hits = this.#hits.get(bucket);
    if (!hits) {
      hits = [];
      this.#hits.set(bucket, hits);
    }
    const cutoff = now - windowMs;
    let drop = 0;
    while (drop < hits.length && (hits[drop] as number) <= cutoff) drop++;
    if (drop > 0) hits.splice(0, drop);
    if (hits.length >= limit) return false;
    hits.push(now);
    return true;
  }

  /** Until when `bucket` is blocked after a breach (0 when it is not). */
  blockedUntil(bucket: string): number {
    return this.#blocked.get(bucket) ?? 0;
  }

  block(bucket: string, until: number): void {
    this.#blocked.set(bucket, until);
  }

  reset(): void {
    this.#hits.clear();
    this.#blocked.clear();
  }
}

/**
 * Rate limits per endpoint class. Defaults are the documented ones (docs/exchanges/okx.md#rate-limits,
 * docs/exchanges/bitfinex.md#rate-limits).
 */
export interface RateLimits {
  okx: {
    /** GET users/subaccount/list and GET users/subaccount/apikey: 20 / 2 s per UID, each its own bucket. */
    read: WindowLimit;
    /** POST create / modify / delete sub-account key: 1 / s per UID, each its own bucket. */
    write: WindowLimit;
    /** GET account/config: 5 / 2 s per UID. */
    config: WindowLimit;
    /** GET public/time: 10 / 2 s per IP. */
    publicTime: WindowLimit;
  };
  bitfinex: {
    /** Authenticated endpoints: 90 / min per IP per endpoint (Sim choice: per IP). */
    auth: WindowLimit;
    /** After a breach the IP is blocked on that endpoint for this long (v1 docs: 10-60 s). */
    blockMs: number;
  };
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  okx: {
    read: { limit: 20, windowMs: 2000 },
    write: { limit: 1, windowMs: 1000 },
    config: { limit: 5, windowMs: 2000 },
    publicTime: { limit: 10, windowMs: 2000 },
  },
  bitfinex: { auth: { limit: 90, windowMs: 60_000 }, blockMs: 60_000 },
};

/** Shrinks every window (and the block) by `scale`, e.g. 0.1 makes "1 per second" into "1 per 100 ms". */
export function scaleRateLimits(limits: RateLimits, scale: number): RateLimits {
  const s = (w: WindowLimit): WindowLimit => ({
    limit: w.limit,
    windowMs: Math.max(1, Math.round(w.windowMs * scale)),
  });
  return {
    okx: {
      read: s(limits.okx.read),
      write: s(limits.okx.write),
      config: s(limits.okx.config),
      publicTime: s(limits.okx.publicTime),
    },
    bitfinex: {
      auth: s(limits.bitfinex.auth),
      blockMs: Math.max(1, Math.round(limits.bitfinex.blockMs * scale)),
    },
  };
}
