/**
 * Sliding-window rate limiter: at most `limit` accepted requests in any `windowMs` span.
 * A sliding window is the strictest reading of "N requests per T seconds", so a client that never
 * trips it here never trips a fixed-window implementation either. Rejected requests are not counted.
 */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

/**
 * A credit bucket (a leaky bucket counted in credits, as Deribit's is): it holds at most `capacity`,
 * each request costs `cost`, and `refill` credits come back every `perMs`. An empty bucket refuses.
 */
export interface CreditLimit {
  capacity: number;
  cost: number;
  refill: number;
  perMs: number;
}

export class SlidingWindowLimiter {
  readonly #hits = new Map<string, number[]>();
  readonly #blocked = new Map<string, number>();
  readonly #credits = new Map<string, { credits: number; at: number }>();

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

  /**
   * What `bucket` holds in the window ending at `now` (hits, and when the oldest leaves it; `now` when
   * empty), for exchanges that report their limits in response headers.
   */
  usage(bucket: string, { windowMs }: WindowLimit, now: number): { count: number; resetAt: number } {
    const hits = (this.#hits.get(bucket) ?? []).filter((t) => t > now - windowMs);
    return { count: hits.length, resetAt: hits.length ? (hits[0] as number) + windowMs : now };
  }

  /**
   * Takes one request's credits from `bucket` (full when first seen, unless `initial` says otherwise) and returns true, or returns false
   * (nothing taken) when it holds fewer than the request costs. Exchanges that count credits, not hits,
   * share this limiter so `reset()` (a new scenario) empties them too.
   */
  tryTakeCredits(
    bucket: string,
    { capacity, cost, refill, perMs }: CreditLimit,
    now: number,
    /** What the bucket holds when first seen (a scenario's drained account); full by default. */
    initial = capacity,
  ): boolean {
    const held = this.#credits.get(bucket) ?? { credits: Math.min(capacity, initial), at: now };
    const elapsed = Math.max(0, now - held.at);
    const credits = Math.min(capacity, held.credits + (elapsed * refill) / perMs);
    if (credits < cost) {
      this.#credits.set(bucket, { credits, at: now });
      return false;
    }
    this.#credits.set(bucket, { credits: credits - cost, at: now });
    return true;
  }

  /** The credits `bucket` holds at `now` (full when never used). */
  credits(bucket: string, { capacity, refill, perMs }: CreditLimit, now: number): number {
    const held = this.#credits.get(bucket);
    if (!held) return capacity;
    return Math.min(capacity, held.credits + (Math.max(0, now - held.at) * refill) / perMs);
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
    this.#credits.clear();
  }
}

/** A duration shrunk by `scale` (never below 1 ms), as `rateScale` shrinks every window and block. */
export const scaleDuration = (ms: number, scale: number): number => Math.max(1, Math.round(ms * scale));

/** Shrinks a window by `scale`, keeping its count: 0.1 makes "1 per second" into "1 per 100 ms". */
export const scaleWindow = (w: WindowLimit, scale: number): WindowLimit => ({
  limit: w.limit,
  windowMs: scaleDuration(w.windowMs, scale),
});

/** Refills a credit bucket faster by `scale` (0.1: ten times the credits per ms), keeping its size and costs. */
export const scaleCredits = (c: CreditLimit, scale: number): CreditLimit => ({
  ...c,
  perMs: scaleDuration(c.perMs, scale),
});
