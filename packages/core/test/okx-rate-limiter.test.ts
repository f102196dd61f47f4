/**
 * The scheduler's answer-time slots (`acquireSlot`, used by the OKX client) next to the unchanged
 * start-time `acquire`, on fake timers.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SlidingWindowScheduler } from "../src/adapters/rate-limiter.js";

describe("SlidingWindowScheduler slots", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const startTimes = (
    scheduler: SlidingWindowScheduler,
    n: number,
    take: (s: SlidingWindowScheduler) => Promise<unknown>,
  ) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) void take(scheduler).then(() => times.push(Date.now() - 1_000_000));
    return times;
  };

  it("acquire counts from the start, as before", async () => {
    const s = new SlidingWindowScheduler(2, 100, 10, () => Date.now());
    const times = startTimes(s, 5, (x) => x.acquire());
    await vi.advanceTimersByTimeAsync(400);
    expect(times).toEqual([0, 0, 110, 110, 220]);
  });

  it("acquireSlot counts from when done is called, and holds the slot until then", async () => {
    const s = new SlidingWindowScheduler(1, 100, 10, () => Date.now());
    const first = await s.acquireSlot();
    const times = startTimes(s, 1, (x) => x.acquireSlot().then((done) => done()));
    await vi.advanceTimersByTimeAsync(500);
    expect(times).toEqual([]); // the first answer is still out: its slot counts as "now"
    first();
    await vi.advanceTimersByTimeAsync(200);
    expect(times).toEqual([500 + 110]);
  });

  it("mixes open and closed slots within the limit", async () => {
    const s = new SlidingWindowScheduler(3, 100, 0, () => Date.now());
    const a = await s.acquireSlot();
    await s.acquire();
    const times = startTimes(s, 2, (x) => x.acquireSlot());
    await vi.advanceTimersByTimeAsync(50);
    expect(times).toEqual([0]);
    a();
    await vi.advanceTimersByTimeAsync(200);
    // The closed slot from t=0 leaves at 100; the one closed at 50 would leave at 150.
    expect(times).toEqual([0, 100]);
  });

  it("saturated: the server's window is full, so nothing starts for one window (plus margin)", async () => {
    const s = new SlidingWindowScheduler(10, 100, 10, () => Date.now());
    await s.acquire(); // this process has used 1 of 10
    s.saturated(); // yet the server said "rate limited": someone else spends the same budget
    const times = startTimes(s, 3, (x) => x.acquire());
    await vi.advanceTimersByTimeAsync(100);
    expect(times).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(times).toEqual([110, 110, 110]);
  });
});
