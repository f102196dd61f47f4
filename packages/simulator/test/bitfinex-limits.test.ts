/**
 * Fidelity checklist 23-24 (docs/exchanges/bitfinex.md#simulator-fidelity-checklist): Bitfinex v2 rate limits
 * and error statuses, over raw HTTP.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS } from "../src/index.js";
import {
  APIKEY_INVALID,
  MAIN_MATRIX,
  NONCE_SMALL,
  PERMISSION_INVALID,
  PERMISSIONS,
  statusAndBody,
  TOKEN_INVALID,
  tokenCall,
  USER_INFO,
  useBitfinexSimulator,
} from "./bitfinex-helpers.js";
import { BFX_MAIN, BFX_NOSCOPE, scenario } from "./fixtures.js";
import { bfxCall, control, type HttpResult, useSimulator } from "./helpers.js";

describe("Bitfinex v2", () => {
  const sim = useBitfinexSimulator();

  describe("24. error status", () => {
    // The nonce error below needs BFX_MAIN to have signed before: only then is nonce "1" too small.
    beforeAll(async () => {
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS)).status).toBe(200);
    });

    it("answers error arrays with HTTP 500 by default, 401 or 400 when switched, and 500 again after a reset", async () => {
      const errors = async () => [
        statusAndBody(await bfxCall(sim().bitfinex, { apiKey: "no-such-key", apiSecret: "x" }, PERMISSIONS)),
        statusAndBody(await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { nonce: "1" })),
        statusAndBody(await bfxCall(sim().bitfinex, BFX_NOSCOPE, USER_INFO)),
        statusAndBody(await tokenCall(sim().bitfinex, "pub:api:not-a-token", PERMISSIONS)),
      ];
      const expected = (status: number) => [
        [status, APIKEY_INVALID],
        [status, NONCE_SMALL],
        [status, PERMISSION_INVALID],
        [status, TOKEN_INVALID],
      ];
      expect(await errors()).toEqual(expected(500));
      try {
        for (const status of [401, 400]) {
          const set = await control(sim().control, "POST", "/faults", {
            exchange: "bitfinex",
            bitfinexErrorStatus: status,
          });
          expect(set.status).toBe(200);
          expect(await errors()).toEqual(expected(status));
          // Successes are untouched.
          expect(statusAndBody(await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS))).toEqual([
            200,
            MAIN_MATRIX,
          ]);
        }
      } finally {
        await control(sim().control, "DELETE", "/faults");
      }
      expect(await errors()).toEqual(expected(500));
    });
  });
});

describe("23. Bitfinex rate limit (per IP per endpoint)", () => {
  const LIMIT = 5;
  const WINDOW_MS = 400;
  const BLOCK_MS = 800;
  const sim = useSimulator({
    scenario: scenario(),
    rateLimits: {
      ...DEFAULT_RATE_LIMITS,
      bitfinex: { auth: { limit: LIMIT, windowMs: WINDOW_MS }, blockMs: BLOCK_MS },
    },
  });
  const RATE_LIMITED = ["error", 11010, "ratelimit: error"];

  /** Moves the simulator clock (rate windows and blocks follow it), so no test has to sleep. */
  const advance = (ms: number) => control(sim().control, "POST", "/clock", { advanceMs: ms });
  const call = (localAddress: string, path = PERMISSIONS) =>
    bfxCall(sim().bitfinex, BFX_MAIN, path, {}, { localAddress });
  const burst = async (localAddress: string, n: number) => {
    const results: HttpResult[] = [];
    for (let i = 0; i < n; i++) results.push(await call(localAddress));
    return results;
  };

  it("answers a burst above the limit with 429 [error, 11010, ratelimit: error]", async () => {
    const results = await burst("127.0.1.1", LIMIT + 3);
    expect(results.slice(0, LIMIT).map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
    for (const r of results.slice(LIMIT)) expect(statusAndBody(r)).toEqual([429, RATE_LIMITED]);
  });

  it("never limits requests that stay within the limit", async () => {
    for (let round = 0; round < 4; round++) {
      const results = await burst("127.0.1.2", LIMIT);
      expect(results.map((r) => r.status)).toEqual(Array(LIMIT).fill(200));
      await advance(WINDOW_MS + 1);
    }
  });

  it("counts per IP and per endpoint", async () => {
    await burst("127.0.1.3", LIMIT + 1);
    expect((await call("127.0.1.3")).status).toBe(429);
    expect((await call("127.0.1.4")).status).toBe(200);
    expect((await call("127.0.1.3", USER_INFO)).status).toBe(200);
  });

  it("keeps the block for blockMs, even after the window has passed", async () => {
    const results = await burst("127.0.1.5", LIMIT + 1);
    expect(results.at(-1)?.status).toBe(429);
    await advance(WINDOW_MS + 100);
    expect(statusAndBody(await call("127.0.1.5"))).toEqual([429, RATE_LIMITED]);
    await advance(BLOCK_MS - WINDOW_MS);
    expect(statusAndBody(await call("127.0.1.5"))).toEqual([200, MAIN_MATRIX]);
  });

  it('switches to 429 {"error":"ERR_RATE_LIMIT"} with Retry-After (bitfinexRateLimitShape "err-object")', async () => {
    await control(sim().control, "POST", "/faults", {
      exchange: "bitfinex",
      bitfinexRateLimitShape: "err-object",
    });
    try {
      const results = await burst("127.0.1.6", LIMIT + 2);
      for (const r of results.slice(LIMIT)) {
        expect(statusAndBody(r)).toEqual([429, { error: "ERR_RATE_LIMIT" }]);
        expect(Number(r.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await control(sim().control, "DELETE", "/faults");
    }
  });

  it('switches to 429 [error, null, ERR_RATE_LIMIT] (bitfinexRateLimitShape "null-code")', async () => {
    await control(sim().control, "POST", "/faults", {
      exchange: "bitfinex",
      bitfinexRateLimitShape: "null-code",
    });
    try {
      const results = await burst("127.0.1.7", LIMIT + 1);
      expect(statusAndBody(results[LIMIT] as HttpResult)).toEqual([429, ["error", null, "ERR_RATE_LIMIT"]]);
    } finally {
      await control(sim().control, "DELETE", "/faults");
    }
    // Back to the default shape.
    expect(statusAndBody(await call("127.0.1.7"))).toEqual([429, RATE_LIMITED]);
  });
});

describe("23. Bitfinex rate limit defaults: 90 per minute, then a 60 s block", () => {
  const sim = useSimulator({ scenario: scenario() });

  it("allows 90 requests a minute per IP and endpoint and blocks the 91st for 60 s", async () => {
    const localAddress = "127.0.2.1";
    for (let i = 0; i < 90; i++) {
      const r = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress });
      expect(r.status, `request ${i + 1}`).toBe(200);
    }
    const over = await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress });
    expect(statusAndBody(over)).toEqual([429, ["error", 11010, "ratelimit: error"]]);
    await control(sim().control, "POST", "/clock", { advanceMs: 59_000 });
    expect((await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress })).status).toBe(429);
    await control(sim().control, "POST", "/clock", { advanceMs: 2_000 });
    expect((await bfxCall(sim().bitfinex, BFX_MAIN, PERMISSIONS, {}, { localAddress })).status).toBe(200);
  });
});
