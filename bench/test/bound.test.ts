import { describe, expect, it } from "vitest";
import { incidentBoundMs, rotationBoundMs, windowBoundMs } from "../src/bound.js";

describe("windowBoundMs", () => {
  it("lets the first `limit` requests start at once", () => {
    expect(windowBoundMs(20, { limit: 20, windowMs: 2000 })).toBe(0);
    expect(windowBoundMs(1, { limit: 1, windowMs: 1000 })).toBe(0);
  });

  it("adds one window per further batch of `limit`", () => {
    expect(windowBoundMs(21, { limit: 20, windowMs: 2000 })).toBe(2000);
    expect(windowBoundMs(40, { limit: 20, windowMs: 2000 })).toBe(2000);
    expect(windowBoundMs(30, { limit: 1, windowMs: 1000 })).toBe(29_000);
  });

  it("is zero for no work", () => {
    expect(windowBoundMs(0, { limit: 5, windowMs: 2000 })).toBe(0);
  });
});

describe("rotationBoundMs", () => {
  it("is the creates' window: one create per second per master, each delete right after its create", () => {
    expect(rotationBoundMs(10, { limit: 1, windowMs: 1000 })).toBe(9000);
    expect(rotationBoundMs(1, { limit: 1, windowMs: 1000 })).toBe(0);
    expect(rotationBoundMs(10, { limit: 1, windowMs: 100 })).toBe(900);
  });
});

describe("incidentBoundMs", () => {
  it("is the slowest part's own bound: the exchanges' parts run in parallel under separate limits", () => {
    // 20 OKX keys at 1/s, 80 Bybit keys at 5/s, tracked Bitfinex keys revoked by a person (no limit).
    const parts = {
      okx: windowBoundMs(20, { limit: 1, windowMs: 1000 }),
      bybit: windowBoundMs(80, { limit: 5, windowMs: 1000 }),
      bitfinex: 0,
    };
    expect(parts).toEqual({ okx: 19_000, bybit: 15_000, bitfinex: 0 });
    expect(incidentBoundMs(parts)).toEqual({ boundMs: 19_000, slowest: "okx" });
  });

  it("names the first of equal parts, and is zero when every part is", () => {
    expect(incidentBoundMs({ okx: 5000, bybit: 5000 })).toEqual({ boundMs: 5000, slowest: "okx" });
    expect(incidentBoundMs({ bitfinex: 0 })).toEqual({ boundMs: 0, slowest: "bitfinex" });
    expect(incidentBoundMs({})).toEqual({ boundMs: 0, slowest: "" });
  });
});
