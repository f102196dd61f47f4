/**
 * Background work (adapters/background-work.ts) on both schedulers, on fake timers: it gives way to any
 * other waiting request and spends at most half the budget, so a long wait for a person never holds back
 * the operator's other work on the same bucket.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { inBackground } from "../src/adapters/background-work.js";
import { PacedScheduler, SlidingWindowScheduler } from "../src/adapters/rate-limiter.js";

const T0 = 1_000_000;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Queues `n` acquires (in the background or not) and records when each started, by name. */
function queue(
  scheduler: { acquire(): Promise<void> },
  starts: string[],
  name: string,
  n: number,
  background: boolean,
): void {
  for (let i = 0; i < n; i++) {
    const take = () => scheduler.acquire();
    void (background ? inBackground(take) : take()).then(() => starts.push(`${name}${i}@${Date.now() - T0}`));
  }
}

describe("SlidingWindowScheduler: background work", () => {
  it("takes at most half the window; the other half stays free for other requests", async () => {
    const s = new SlidingWindowScheduler(4, 100, 0, () => Date.now());
    const starts: string[] = [];
    queue(s, starts, "b", 4, true);
    await vi.advanceTimersByTimeAsync(10);
    expect(starts).toEqual(["b0@0", "b1@0"]);
    queue(s, starts, "f", 2, false);
    await vi.advanceTimersByTimeAsync(10);
    expect(starts).toEqual(["b0@0", "b1@0", "f0@10", "f1@10"]);
    await vi.advanceTimersByTimeAsync(200);
    expect(starts.slice(4)).toEqual(["b2@100", "b3@100"]);
  });

  it("a request queued after waiting background ones starts first when the window frees", async () => {
    const s = new SlidingWindowScheduler(2, 100, 0, () => Date.now());
    const starts: string[] = [];
    queue(s, starts, "f", 2, false); // the window is full
    queue(s, starts, "b", 1, true);
    await vi.advanceTimersByTimeAsync(50);
    queue(s, starts, "g", 1, false);
    await vi.advanceTimersByTimeAsync(200);
    expect(starts).toEqual(["f0@0", "f1@0", "g0@100", "b0@100"]);
  });

  it("without background work nothing changes: the whole window, in order", async () => {
    const s = new SlidingWindowScheduler(3, 100, 0, () => Date.now());
    const starts: string[] = [];
    queue(s, starts, "f", 5, false);
    await vi.advanceTimersByTimeAsync(250);
    expect(starts).toEqual(["f0@0", "f1@0", "f2@0", "f3@100", "f4@100"]);
  });
});

describe("PacedScheduler: background work", () => {
  it("starts every other interval at most, and others go first", async () => {
    const s = new PacedScheduler(100, 0, () => Date.now());
    const starts: string[] = [];
    queue(s, starts, "b", 3, true);
    await vi.advanceTimersByTimeAsync(450);
    expect(starts).toEqual(["b0@0", "b1@200", "b2@400"]);
    queue(s, starts, "b", 1, true);
    queue(s, starts, "f", 2, false);
    await vi.advanceTimersByTimeAsync(400);
    expect(starts.slice(3)).toEqual(["f0@500", "f1@600", "b0@700"]);
  });
});
