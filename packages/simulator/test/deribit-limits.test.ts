/**
 * Deribit's credit-based rate limit (one bucket per account, all its keys together; public/auth counts
 * too), and the simulator's rate scale applied to it.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, startSimulator } from "../src/index.js";
import {
  DR_ADMIN,
  DR_READER,
  DR_SUB,
  deribitCall,
  deribitScenario,
  errorCode,
  rpc,
} from "./deribit-helpers.js";
import { httpCall } from "./helpers.js";

const SUMMARY = "private/get_account_summary";

describe("Deribit credits", () => {
  it("documents 500 credits a request, 50,000 held, 10,000 back per second", () => {
    expect(DEFAULT_RATE_LIMITS.deribit.credits).toEqual({
      capacity: 50_000,
      cost: 500,
      refill: 10_000,
      perMs: 1000,
    });
  });

  it("a burst past the bucket is 10028 too_many_requests (HTTP 429), shared by the account's keys, not by other accounts; credits come back", async () => {
    // 5 requests' worth, refilled at one request per 10 s: a burst cannot be rescued by the refill.
    const sim = await startSimulator({
      scenario: deribitScenario(),
      rateLimits: { deribit: { credits: { capacity: 2500, cost: 500, refill: 500, perMs: 10_000 } } },
    });
    try {
      const codes: (number | undefined)[] = [];
      for (let i = 0; i < 3; i++)
        codes.push(
          errorCode(await deribitCall(sim.deribit, SUMMARY, DR_ADMIN, { params: { currency: "BTC" } })),
        );
      // public/auth counts too.
      const auth = await deribitCall(sim.deribit, "public/auth", undefined, {
        params: {
          grant_type: "client_credentials",
          client_id: DR_READER.apiKey,
          client_secret: DR_READER.secret,
        },
      });
      codes.push(errorCode(auth));
      codes.push(
        errorCode(await deribitCall(sim.deribit, SUMMARY, DR_READER, { params: { currency: "BTC" } })),
      );
      expect(codes).toEqual([undefined, undefined, undefined, undefined, undefined]);
      const over = await deribitCall(sim.deribit, SUMMARY, DR_ADMIN, { params: { currency: "BTC" } });
      expect(over.status).toBe(429);
      expect(rpc(over).error).toMatchObject({ code: 10028, message: "too_many_requests" });
      expect(
        errorCode(await deribitCall(sim.deribit, SUMMARY, DR_READER, { params: { currency: "BTC" } })),
      ).toBe(10028);
      // The sub-account has its own bucket.
      expect(
        errorCode(await deribitCall(sim.deribit, SUMMARY, DR_SUB, { params: { currency: "BTC" } })),
      ).toBeUndefined();
    } finally {
      await sim.close();
    }
  });

  it("the documented bucket: a burst of 100, the 101st refused; 50 ms later (500 credits back) one more", async () => {
    // A clock that stands still unless told: no refill while the burst is sent.
    const T = Date.now();
    const sim = await startSimulator({ scenario: deribitScenario(), now: () => T });
    const summary = (ts: number) =>
      deribitCall(sim.deribit, SUMMARY, DR_ADMIN, { params: { currency: "BTC" }, ts });
    try {
      const burst = await Promise.all(Array.from({ length: 100 }, () => summary(T)));
      expect(burst.every((r) => r.status === 200)).toBe(true);
      expect(errorCode(await summary(T))).toBe(10028);
      await httpCall(`${sim.control}/clock`, { method: "POST", body: JSON.stringify({ advanceMs: 50 }) });
      expect((await summary(T + 50)).status).toBe(200);
      expect(errorCode(await summary(T + 50))).toBe(10028);
    } finally {
      await sim.close();
    }
  });

  it("a scenario account's `credits` is its bucket at its first request (bots spent the rest); others start full", async () => {
    const T = Date.now();
    const scenario = deribitScenario();
    const main = scenario.deribit?.accounts?.[0];
    if (main) main.credits = 1000;
    const sim = await startSimulator({ scenario, now: () => T });
    const summary = (creds: typeof DR_ADMIN) =>
      deribitCall(sim.deribit, SUMMARY, creds, { params: { currency: "BTC" }, ts: T });
    try {
      expect((await summary(DR_ADMIN)).status).toBe(200);
      expect((await summary(DR_READER)).status).toBe(200);
      expect(errorCode(await summary(DR_ADMIN))).toBe(10028);
      const sub = await Promise.all(Array.from({ length: 100 }, () => summary(DR_SUB)));
      expect(sub.every((r) => r.status === 200)).toBe(true);
      // A new scenario starts the buckets again.
      await httpCall(`${sim.control}/scenario`, { method: "POST", body: JSON.stringify(scenario) });
      expect((await summary(DR_ADMIN)).status).toBe(200);
    } finally {
      await sim.close();
    }
  });

  it("rateScale refills faster, keeping the bucket's size and costs", async () => {
    const scaled = await startSimulator({ scenario: deribitScenario(), rateScale: 0.01 });
    try {
      expect(scaled.rateLimits.deribit.credits).toEqual({
        capacity: 50_000,
        cost: 500,
        refill: 10_000,
        perMs: 10,
      });
    } finally {
      await scaled.close();
    }
  });
});
