/**
 * The shared adapter conformance suite, run for Deribit against the simulator over real HTTP, with time
 * windows shrunk twenty times (counts unchanged) so the pacing cases stay fast. The account's TOTP seed is
 * in the credentials, so the adapter answers Deribit's two-factor challenge itself.
 *
 * The credits bucket is smaller than Deribit's (20 requests, refilled 4 a second, before the time scale):
 * shrunk twenty times, Deribit's own (100, 20 a second) refills 400 requests a second, more than this
 * machine sends, so the case that must meet a 10028 could not. The adapter is told the same pace.
 */

import { startSimulator } from "@keyward/simulator";
import { deribitAdapter } from "../src/adapters/deribit/adapter.js";
import type { AdapterOptions, ExchangeAdapter } from "../src/adapters/interface.js";
import type { Credentials } from "../src/domain/credentials.js";
import { Secret } from "../src/domain/secret.js";
import { SimControl, testAdapter } from "../src/testing/index.js";

interface DeribitSeedKey {
  id: number;
  client_id: string;
  client_secret: string;
  name: string;
  max_scope: string;
  ip_whitelist: string[];
}

const SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const OTHER_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const LOOPBACK = ["127.0.0.1", "::1"];

let serial = 0;
function seedKey(name: string, maxScope: string, ip: string[] = LOOPBACK): DeribitSeedKey {
  serial++;
  const n = String(serial).padStart(3, "0");
  return {
    id: serial,
    client_id: `DRCONF${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}${n}`,
    client_secret: `CANARYDERIBITSECRET${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}${n}`,
    name,
    max_scope: maxScope,
    ip_whitelist: ip,
  };
}

const MASTER = seedKey("keyward", "account:read_write trade:read");
const BOT = seedKey("bot", "account:read trade:read_write");
/** Six: four revoke cases, the kill switch and the reset (with MASTER and BOT, Deribit's 8 a account). */
const VICTIMS = Array.from({ length: 6 }, (_, i) =>
  seedKey(`victim${i + 1}`, "account:read trade:read_write"),
);
const ELSEWHERE = seedKey("elsewhere", "account:read", ["10.1.2.3"]);
const SKEW = seedKey("skew", "account:read trade:read");
const TO_REVOKE = seedKey("to_revoke", "trade:read_write");
/** No account scope: may not list the account's keys (13021). */
const TRADER = seedKey("trader", "trade:read_write");
const UNKNOWN = seedKey("never_seeded", "account:read");
const WRONG = seedKey("wrong", "account:read");

const MAIN_KEYS = [MASTER, BOT, ...VICTIMS];
const OTHER_KEYS = [ELSEWHERE, SKEW, TO_REVOKE, TRADER];
const ALL = [...MAIN_KEYS, ...OTHER_KEYS, UNKNOWN, WRONG];

const seed = (k: DeribitSeedKey) => ({ ...k, enabled: true, timestamp: "now-30d" });

const scenario = () => ({
  deribit: {
    accounts: [
      { id: 701, username: "desk_conf", type: "main" as const, totpSeed: SEED, keys: MAIN_KEYS.map(seed) },
      {
        id: 702,
        username: "desk_other",
        type: "main" as const,
        totpSeed: OTHER_SEED,
        keys: OTHER_KEYS.map(seed),
      },
    ],
  },
});

const creds = (k: Pick<DeribitSeedKey, "client_id" | "client_secret">, totpSeed?: string): Credentials => ({
  apiKey: k.client_id,
  secret: new Secret(k.client_secret),
  ...(totpSeed ? { totpSeed: new Secret(totpSeed) } : {}),
});

const adapterFor = (
  endpoint: string,
  key: DeribitSeedKey,
  totpSeed: string,
  options: AdapterOptions,
): ExchangeAdapter =>
  deribitAdapter(
    {
      account: { name: "desk", exchange: "deribit", endpoint, credentialsRef: "vault:desk" },
      credentials: creds(key, totpSeed),
    },
    options,
  );

interface DeribitStateView {
  deribit: { accounts: { id: number; keys: { apiKey: string; status: string }[] }[] };
}

testAdapter({
  exchange: "deribit",
  skips: {
    "probe: wrong passphrase": "Deribit keys have no passphrase",
    "probe: low nonce": "Deribit signs with a timestamp and a random nonce, not an increasing one",
  },
  async setup() {
    const sim = await startSimulator({
      scenario: scenario(),
      rateScale: 0.05,
      rateLimits: { deribit: { credits: { capacity: 10_000, cost: 500, refill: 2_000, perMs: 1_000 } } },
    });
    const control = new SimControl(sim.control);
    const { credits } = sim.rateLimits.deribit;
    const endpoint = sim.deribit;
    // The adapter's pace (limits.ts: one request per refill interval) in the simulator's scaled time.
    const simulatorLimits = { credits: { intervalMs: (credits.cost * credits.perMs) / credits.refill } };
    return {
      control,
      makeAdapter: (options) => adapterFor(endpoint, MASTER, SEED, options),
      simulatorLimits,
      async expectedApiKeys() {
        const state = await control.state<DeribitStateView>();
        const main = state.deribit.accounts.find((a) => a.id === 701);
        if (!main) throw new Error("seeded account missing");
        return main.keys.filter((k) => k.status === "active").map((k) => k.apiKey);
      },
      victims: VICTIMS.map((v) => ({ apiKey: v.client_id, label: v.name, credentials: creds(v) })),
      rateLimitCode: "10028",
      probes: {
        "probe: unknown key": { credentials: creds(UNKNOWN), expect: "dead" },
        "probe: revoked key": {
          credentials: creds(TO_REVOKE),
          expect: "dead",
          arrange: async (c) => {
            await c.uiRevoke("deribit", TO_REVOKE.client_id);
            return async () => {};
          },
        },
        "probe: wrong secret": {
          credentials: creds({ client_id: BOT.client_id, client_secret: WRONG.client_secret }),
          expect: "inconclusive",
          reason: "wrong-secret",
        },
        "probe: IP not whitelisted": {
          credentials: creds(ELSEWHERE),
          expect: "inconclusive",
          reason: "ip-not-whitelisted",
        },
        "probe: skewed clock": {
          credentials: creds(SKEW),
          expect: "alive",
          arrange: async (c) => {
            await c.advanceClock(60_000);
            return async () => {
              await c.advanceClock(-60_000);
            };
          },
        },
      },
      forbiddenCall: (log) =>
        adapterFor(endpoint, TRADER, OTHER_SEED, { log, rateLimits: simulatorLimits }).listKeys(),
      canaries: [...ALL.map((k) => k.client_secret), SEED, OTHER_SEED],
      close: () => sim.close(),
    };
  },
});
