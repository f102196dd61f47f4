import { describe, expect, it } from "vitest";
import { rotationBoundMs, windowBoundMs } from "../src/bound.js";

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
