/**
 * The simulator's notion of "now". Injectable so tests can move time (timestamp windows, the
 * 14-day idle expiry, token TTLs, rate windows) without sleeping.
 */
export interface Clock {
  now(): number;
}

/** Wall clock plus an offset that the control API can advance. */
export class OffsetClock implements Clock {
  #offsetMs = 0;
  constructor(private readonly base: () => number = Date.now) {}
  now(): number {
    return this.base() + this.#offsetMs;
  }
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
  get offsetMs(): number {
    return this.#offsetMs;
  }
}
