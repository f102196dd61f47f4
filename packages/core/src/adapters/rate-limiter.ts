/**
 * Client-side rate limiting that matches how the simulator (and the strictest reading of the
 * exchanges' docs) counts: at most `limit` requests in any `windowMs` span. A token bucket or a fixed
 * window (what ccxt and most limiter libraries do) lets bursts straddle a window edge and trips a
 * sliding-window server, so this schedules against a log of recent start times instead.
 *
 * A second kind, a pace (`PaceLimit`: one request every `intervalMs`, no burst), is for servers that
 * count with a bucket whose level Keyward cannot know (Deribit's credits, shared with the account's bots:
 * docs/exchanges/deribit.md#rate-limits): assumed empty, such a bucket allows exactly its refill rate.
 *
 * Schedulers are shared process-wide by bucket id: OKX counts per User ID, so every adapter instance
 * that uses one master must draw from the same scheduler.
 *
 * Requests made as background work (background-work.ts: polling while a person acts) give way: any other
 * request waiting on the scheduler starts first, and background ones spend at most half of the budget
 * (half a window's requests; every other interval of a pace), so a long wait never starves the rest.
 */
import { isBackground } from "./background-work.js";

export interface WindowLimit {
  limit: number;
  windowMs: number;
}

/** At most one request start every `intervalMs`, never a burst (see `PacedScheduler`). */
export interface PaceLimit {
  intervalMs: number;
}

/** Either kind, as exchanges' `limits.ts` tables and `AdapterOptions.rateLimits` give them. */
export type RateLimit = WindowLimit | PaceLimit;

export const isPace = (limit: RateLimit): limit is PaceLimit => "intervalMs" in limit;

/** What callers of a scheduler use, whichever kind it is. */
export interface RateScheduler {
  acquire(): Promise<void>;
  acquireSlot(): Promise<() => void>;
  schedule<T>(fn: () => Promise<T>): Promise<T>;
  saturated(): void;
  readonly queued: number;
}

interface Slot {
  at: number;
  /** Taken with `acquireSlot` and not yet done: counts as taken "now". */
  open: boolean;
  /** Taken by background work (it may hold at most half the window). */
  background: boolean;
}

/** A request waiting for its start, and whether it is background work (see the file's header). */
interface Waiter<T> {
  background: boolean;
  resolve: (value: T) => void;
}

/** The waiter to start next: the first foreground one, else the first background one. */
function nextWaiter<T>(waiting: Waiter<T>[]): number {
  const foreground = waiting.findIndex((w) => !w.background);
  return foreground >= 0 ? foreground : waiting.length > 0 ? 0 : -1;
}

export class SlidingWindowScheduler implements RateScheduler {
  readonly #slots: Slot[] = [];
  /** No request starts before this time: the server said the window is full (see `saturated`). */
  #pausedUntil = 0;
  readonly #waiting: (Waiter<Slot> & { open: boolean })[] = [];
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
      this.#waiting.push({ open, background: isBackground(), resolve });
      // A timer set for a waiting background request must not hold back this one: look again.
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#pump();
    });
  }

  /** How many slots a start may find taken: the limit, or half of it for background work. */
  #room(background: boolean): number {
    return background ? Math.max(1, Math.floor(this.limit / 2)) : this.limit;
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
      const index = nextWaiter(this.#waiting);
      const next = this.#waiting[index];
      if (!next) return;
      // Background work counts only against the background slots already taken, and only those may
      // block it: half the window is its, the rest stays free for everything else.
      const taken = next.background ? this.#slots.filter((slot) => slot.background) : this.#slots;
      const room = this.#room(next.background);
      if (taken.length >= room || this.#slots.length >= this.limit) {
        // Wait until enough closed slots leave the window; open ones pump again when they close.
        const over = this.#slots.length >= this.limit ? this.#slots : taken;
        const closed = over
          .filter((slot) => !slot.open)
          .map((slot) => slot.at)
          .sort((a, b) => a - b);
        const leaves = closed[over.length - (over === taken ? room : this.limit)];
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
      this.#waiting.splice(index, 1);
      const slot: Slot = { at: now, open: next.open, background: next.background };
      this.#slots.push(slot);
      next.resolve(slot);
    }
  }
}

/**
 * One request start every `intervalMs`, with no burst after an idle spell: the model of a leaky (credit)
 * bucket that others may have emptied. Such a bucket, holding one request's cost when a run's first
 * request arrives, refuses none of the run's requests if the k-th arrives no sooner than k intervals
 * after that first one (each needs its cost refilled); a request that reaches the server late spends
 * nothing sooner. So what must be known is when the FIRST one arrived: at the latest when its answer
 * came back. A request that starts with nothing pacing it (the scheduler idle for an interval) is such a
 * first one, and holds the next start until its answer is back plus an interval (`acquireSlot`'s `done`);
 * the run's later requests are spaced from their starts, so a round trip is paid once a run, not every
 * interval. Spacing them from the first one's send instead lets a first request delayed on its way (a
 * new connection, a busy event loop) land just before the second: a 10028.
 * The interval should carry the exchange's own safety factor for network jitter (its `limits.ts` says
 * why), so `marginMs` defaults to 0: timers never fire early and a start waits until the millisecond
 * clock reads at least the due time, so rounding only ever lengthens an interval.
 */
export class PacedScheduler implements RateScheduler {
  /** The earliest start of the next request. */
  #next = 0;
  /** A run's first request is on its way: nothing starts until its answer (its `done`). */
  #firstOpen = false;
  /** The earliest start of the next background request: every other interval at most. */
  #nextBackground = 0;
  readonly #waiting: (Waiter<boolean> & { queuedAt: number })[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly intervalMs: number,
    readonly marginMs = 0,
    private readonly now: () => number = Date.now,
  ) {}

  /** Resolves when a request may start now. Without a `done`, a run's first request is paced from its start. */
  async acquire(): Promise<void> {
    const first = await this.#take();
    if (first) this.#close();
  }

  /** Like `acquire`; call `done` once the answer is back (also on failure): it ends a run's first request. */
  async acquireSlot(): Promise<() => void> {
    const first = await this.#take();
    if (!first) return () => {};
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      this.#next = Math.max(this.#next, this.now() + this.intervalMs + this.marginMs);
      this.#close();
    };
  }

  async schedule<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    return fn();
  }

  /**
   * The server refused although the pace was kept: someone else spends the same bucket. The next request
   * waits a whole interval from now (the refused one spent nothing, and the bucket needs one request's
   * cost back); retries back off on top of that.
   */
  saturated(): void {
    this.#next = Math.max(this.#next, this.now() + this.intervalMs + this.marginMs);
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pump();
  }

  get queued(): number {
    return this.#waiting.length;
  }

  #take(): Promise<boolean> {
    return new Promise((resolve) => {
      this.#waiting.push({ queuedAt: this.now(), background: isBackground(), resolve });
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#pump();
    });
  }

  #close(): void {
    this.#firstOpen = false;
    this.#pump();
  }

  #pump(): void {
    if (this.#timer) return;
    while (this.#waiting.length > 0 && !this.#firstOpen) {
      const now = this.now();
      const index = nextWaiter(this.#waiting);
      const next = this.#waiting[index];
      if (!next) return;
      const due = next.background ? Math.max(this.#next, this.#nextBackground) : this.#next;
      if (now < due) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, due - now);
        return;
      }
      this.#waiting.splice(index, 1);
      // Queued when nothing paced it: the bucket may have been drained meanwhile, this one starts a run.
      const first = next.queuedAt >= this.#next;
      this.#firstOpen = first;
      this.#next = now + this.intervalMs + this.marginMs;
      if (next.background) this.#nextBackground = now + 2 * (this.intervalMs + this.marginMs);
      next.resolve(first);
    }
  }
}

const shared = new Map<string, RateScheduler>();

/**
 * The process-wide scheduler for a bucket (e.g. `okx|https://www.okx.com|uid:123|POST …/delete-apikey`).
 * Keyed by the limit too: two callers that disagree on a bucket's limit (only tests do) must not wipe
 * each other's history.
 */
export function sharedScheduler(bucket: string, limit: WindowLimit): SlidingWindowScheduler;
export function sharedScheduler(bucket: string, limit: RateLimit): RateScheduler;
export function sharedScheduler(bucket: string, limit: RateLimit): RateScheduler {
  const id = isPace(limit)
    ? `${bucket}|pace ${limit.intervalMs}`
    : `${bucket}|${limit.limit}/${limit.windowMs}`;
  let scheduler = shared.get(id);
  if (!scheduler) {
    scheduler = isPace(limit)
      ? new PacedScheduler(limit.intervalMs)
      : new SlidingWindowScheduler(limit.limit, limit.windowMs);
    shared.set(id, scheduler);
  }
  return scheduler;
}

/**
 * Makes every bucket whose id starts with `to` use the scheduler of the same bucket under `from`, where
 * `to` has none yet: for an owner learnt after its first requests (a key's user id, known from its first
 * answer), so the requests before and after share one history instead of two that together overrun the
 * owner's limit. A bucket `to` already has keeps its own scheduler (its history is the older one).
 */
export function shareSchedulers(from: string, to: string): void {
  for (const [id, scheduler] of [...shared]) {
    if (!id.startsWith(from)) continue;
    const alias = to + id.slice(from.length);
    if (!shared.has(alias)) shared.set(alias, scheduler);
  }
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
