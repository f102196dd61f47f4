/**
 * What the OKX and Bybit conformance harnesses set up the same way: the simulator they run against
 * (rate windows shrunk twenty times, counts unchanged, so the pacing cases stay fast) and the probe
 * cases every timestamp-signing REST exchange answers alike, given the exchange's own keys. Each
 * harness keeps its scenario, its state walk, its codes and its own extra cases.
 */
import { startSimulator } from "@keyward/simulator";
import type { Credentials } from "../src/domain/credentials.js";
import { type ProbeCase, type ProbeExpectation, SimControl } from "../src/testing/index.js";

export async function conformanceSimulator(scenario: object) {
  const sim = await startSimulator({ scenario, rateScale: 0.05 });
  return { sim, control: new SimControl(sim.control) };
}

/** The seeded keys the shared probe cases use, as credentials the probe sends. */
export interface ProbeKeys {
  /** Never seeded: the exchange does not know it. */
  unknown: Credentials;
  /** Alive until the case revokes it on the stand-in page. */
  toRevoke: Credentials;
  /** A known key sent with another key's secret. */
  wrongSecret: Credentials;
  /** Bound to an IP that is not this machine's. */
  elsewhere: Credentials;
  /** Alive; probed with the simulator's clock a minute ahead, so the adapter must resync. */
  skewed: Credentials;
}

export function restProbes(exchange: string, keys: ProbeKeys): Partial<Record<ProbeCase, ProbeExpectation>> {
  return {
    "probe: unknown key": { credentials: keys.unknown, expect: "dead" },
    "probe: revoked key": {
      credentials: keys.toRevoke,
      expect: "dead",
      arrange: async (c) => {
        await c.uiRevoke(exchange, keys.toRevoke.apiKey);
        return async () => {};
      },
    },
    "probe: wrong secret": { credentials: keys.wrongSecret, expect: "inconclusive", reason: "wrong-secret" },
    "probe: IP not whitelisted": {
      credentials: keys.elsewhere,
      expect: "inconclusive",
      reason: "ip-not-whitelisted",
    },
    "probe: skewed clock": {
      credentials: keys.skewed,
      expect: "alive",
      arrange: async (c) => {
        await c.advanceClock(60_000);
        return async () => {
          await c.advanceClock(-60_000);
        };
      },
    },
  };
}
