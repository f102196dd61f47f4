/**
 * Client-side rate limiting that matches how the simulator (and the strictest reading of the
 * exchanges' docs) counts: at most `limit` requests in any `windowMs` span. A token bucket or a fixed
 * window (what ccxt and most limiter libraries do) lets bursts straddle a window edge and trips a
 * sliding-window server, so this schedules against a log of recent start times instead.
 *
 * Schedulers are shared process-wide by bucket id: OKX counts per User ID, so every adapter instance
 * that uses one master must draw from the same scheduler.
 */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

interface Slot {
  at: number;
  /** Taken with `acquireSlot` and not yet done: counts as taken "now". */
  open: boolean;
}

export class SlidingWindowScheduler {
  readonly #slots: Slot[] = [];
  /** No request starts before this time: the server said the window is full (see `saturated`). */
  #pausedUntil = 0;
  readonly #waiting: { open: boolean; resolve: (slot: Slot) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    /** Slack for network jitter between our send and the server's receive. */
    readonly marginMs = Math.max(25, Math.round(windowMs * 0.02)),
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when a request may start now; the start is recorded. */
  async acquire(): Promise<void> {
    await this.#take(false);
  }

  /**
   * Like `acquire`, but the slot counts from when the returned `done` is called (when the answer
   * arrived), and as taken until then. A server counts a request when it arrives, somewhere between
   * our send and its answer; start times alone let a slow burst (new connections, a busy event loop)
   * land close to the next one and overrun the server's window. Call `done` once, also on failure.
   */
  async acquireSlot(): Promise<() => void> {
    const slot = await this.#take(true);
    return () => {
      if (!slot.open) return;
      slot.open = false;
      slot.at = this.now();
      this.#pump();
    };
  }

  /** Runs `fn` once a slot is free. */
  async schedule<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    return fn();
  }

  /**
   * The server answered "rate limited" although this process kept to the limit: someone else on the same
   * bucket (another Keyward process, a bot on the same IP) is spending it. Treat the server's window as
   * full from now on, so every request waiting here holds back for a whole window instead of each retry
   * drawing another rejection (Bitfinex blocks an IP that keeps going,
   * docs/exchanges/bitfinex.md#rate-limits).
   */
  saturated(): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.now() + this.windowMs + this.marginMs);
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pump();
  }

  /** How long a request queued now would wait (for progress estimates). */
  get queued(): number {
    return this.#waiting.length;
  }

  #take(open: boolean): Promise<Slot> {
    return new Promise((resolve) => {
      this.#waiting.push({ open, resolve });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#timer) return;
    while (this.#waiting.length > 0) {
      const now = this.now();
      if (now < this.#pausedUntil) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, this.#pausedUntil - now);
        return;
      }
      const horizon = now - this.windowMs - this.marginMs;
      for (let i = this.#slots.length - 1; i >= 0; i--) {
        const slot = this.#slots[i];
        if (slot && !slot.open && slot.at <= horizon) this.#slots.splice(i, 1);
      }
      if (this.#slots.length >= this.limit) {
        // Wait until enough closed slots leave the window; open ones pump again when they close.
        const closed = this.#slots
          .filter((slot) => !slot.open)
          .map((slot) => slot.at)
          .sort((a, b) => a - b);
        const leaves = closed[this.#slots.length - this.limit];
        if (leaves === undefined) return;
        this.#timer = setTimeout(
          () => {
            this.#timer = undefined;
            this.#pump();
          },
          leaves + this.windowMs + this.marginMs - now,
        );
        return;
      }
      const next = this.#waiting.shift();
      if (!next) return;
      const slot: Slot = { at: now, open: next.open };
      this.#slots.push(slot);
      next.resolve(slot);
    }
  }
}

const shared = new Map<string, SlidingWindowScheduler>();

/**
 * The process-wide scheduler for a bucket (e.g. `okx|https://www.okx.com|uid:123|POST …/delete-apikey`).
 * Keyed by the limit too: two callers that disagree on a bucket's limit (only tests do) must not wipe
 * each other's history.
 */
export function sharedScheduler(bucket: string, limit: WindowLimit): SlidingWindowScheduler {
  const id = `${bucket}|${limit.limit}/${limit.windowMs}`;
  let scheduler = shared.get(id);
  if (!scheduler) {
    scheduler = new SlidingWindowScheduler(limit.limit, limit.windowMs);
    shared.set(id, scheduler);
  }
  return scheduler;
}

/** Per-key serial queues: Bitfinex nonces must arrive in order, so one request per key at a time. */
export class KeyedSerialQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }
}
