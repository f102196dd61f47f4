/**
 * Bybit's per-UID rate limits on /v5/user/*: a rolling window per UID and endpoint, shared by every key
 * of that UID, 10006 with the X-Bapi-Limit* headers when exceeded, overridable and scaled like the other
 * exchanges' (docs/exchanges/bybit.md#rate-limits).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, startSimulator } from "../src/index.js";
import {
  BY_ADMIN,
  BY_SUB,
  BY_TRADER,
  bybitCall,
  bybitScenario,
  retCode,
  SUB_UID,
  T0,
} from "./bybit-helpers.js";
import { useSimulator } from "./helpers.js";

let clock = T0;
const TIGHT = { read: { limit: 3, windowMs: 1000 }, write: { limit: 2, windowMs: 1000 } };
const sim = useSimulator({ scenario: bybitScenario(), now: () => clock, rateLimits: { bybit: TIGHT } });
const read = (creds = BY_ADMIN, path = "/v5/user/query-api") =>
  bybitCall(sim().bybit, path, creds, { now: clock });

describe("bybit: rate limits", () => {
  it("documented defaults (Sim choice for /v5/user/*: reads 10/s, writes 5/s per UID), scaled by rateScale", async () => {
    expect(DEFAULT_RATE_LIMITS.bybit).toEqual({
      read: { limit: 10, windowMs: 1000 },
      write: { limit: 5, windowMs: 1000 },
    });
    const scaled = await startSimulator({ rateScale: 0.1 });
    try {
      expect(scaled.rateLimits.bybit).toEqual({
        read: { limit: 10, windowMs: 100 },
        write: { limit: 5, windowMs: 100 },
      });
    } finally {
      await scaled.close();
    }
  });

  it("per UID and endpoint, shared by the UID's keys: the 4th read in a second gets 10006 with the limit headers", async () => {
    clock = T0 + 10_000;
    const first = await read(BY_ADMIN);
    expect(first.headers["x-bapi-limit"]).toBe("3");
    expect(first.headers["x-bapi-limit-status"]).toBe("2");
    expect(first.headers["x-bapi-limit-reset-timestamp"]).toBe(String(clock));
    clock += 100;
    expect(retCode(await read(BY_TRADER))).toBe(0);
    expect(retCode(await read(BY_ADMIN))).toBe(0);
    const refused = await read(BY_TRADER);
    expect(refused.status).toBe(200);
    expect(retCode(refused)).toBe(10006);
    expect(refused.headers["x-bapi-limit-status"]).toBe("0");
    // The window opened at the first read: it resets one second after it.
    expect(refused.headers["x-bapi-limit-reset-timestamp"]).toBe(String(T0 + 11_000));
    // Another endpoint of the same UID has its own bucket; another UID is not affected.
    expect(retCode(await read(BY_ADMIN, `/v5/user/query-sub-members`))).toBe(0);
    expect(retCode(await read(BY_SUB))).toBe(0);
    clock = T0 + 11_001;
    expect(retCode(await read(BY_ADMIN))).toBe(0);
  });

  it("writes: the 3rd delete in a second gets 10006 and is not applied", async () => {
    clock = T0 + 20_000;
    const made: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await bybitCall(sim().bybit, "/v5/user/create-sub-api", BY_ADMIN, {
        now: clock,
        body: { subuid: SUB_UID, readOnly: 1, ips: "127.0.0.1", permissions: {} },
      });
      clock += 600;
      if (retCode(r) === 0) made.push((r.json as { result: { apiKey: string } }).result.apiKey);
    }
    expect(made).toHaveLength(3);
    clock = T0 + 30_000;
    const codes: (number | undefined)[] = [];
    for (const apiKey of made) {
      const r = await bybitCall(sim().bybit, "/v5/user/delete-sub-api", BY_ADMIN, {
        now: clock,
        body: { apikey: apiKey },
      });
      codes.push(retCode(r));
    }
    expect(codes).toEqual([0, 0, 10006]);
    const last = made[2] ?? "";
    const listed = await bybitCall(sim().bybit, "/v5/user/sub-apikeys", BY_ADMIN, {
      now: clock,
      method: "GET",
      query: `subMemberId=${SUB_UID}`,
    });
    expect(listed.text).toContain(last);
  });
});
