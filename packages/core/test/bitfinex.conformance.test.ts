/**
 * The shared adapter conformance suite, run for Bitfinex against the simulator over real HTTP.
 *
 * Rate windows are shrunk forty times (90 per 1.5 s, counts unchanged; the simulator's 60 s block becomes
 * 1.5 s). Not 0.05: there the block is 3 s, longer than the ~2.4-2.7 s of backoff the suite's
 * "rate-limit answers are retried" case allows (8 retries, 50-400 ms), and Bitfinex's block cannot be
 * waited out faster than it lasts.
 *
 * Bitfinex counts per IP and endpoint, and a listing probes every key once, so the desk tracks 20 "fleet"
 * keys besides the victims: four concurrent listings then send 4 × 27 permission probes, enough to overrun
 * 90 per window when the adapter is told five times looser limits.
 */
import { startSimulator } from "@keyward/simulator";
import { SimControl, testAdapter } from "../src/testing/index.js";
import {
  ACCOUNT_SCOPES,
  adapterFor,
  type BfxSeedKey,
  bfxKey,
  creds,
  scenarioOf,
  tracked,
} from "./bitfinex-fixtures.js";
import type { SimState } from "./sim-state.js";

const ACCOUNT = bfxKey("keyward-admin", ACCOUNT_SCOPES);
const VICTIMS = Array.from({ length: 5 }, (_, i) => bfxKey(`victim-${i + 1}`));
const FLEET = Array.from({ length: 20 }, (_, i) =>
  bfxKey(`fleet-${i + 1}`, [
    ["orders", 1, 1],
    ["wallets", 1, i % 2 === 0 ? 1 : 0],
  ]),
);
/** Alive, but whitelisted for another IP: Bitfinex answers "apikey: invalid" from here. */
const IP_BOUND = bfxKey("ip-bound", [["account", 1, 0]], { ip: ["10.1.2.3"] });
/** Tracked without a secret: listed, never probed. */
const NO_SECRET = bfxKey("no-secret");
/** Revoked by the "probe: revoked key" case. */
const RETIRED = bfxKey("retired");
/** Probed with the wrong secret. */
const WRONG = bfxKey("wrong-secret");
/** Used by a microsecond-nonce client before Keyward sees it. */
const MICRO = bfxKey("micro", [["account", 1, 0]], { lastNonce: String(Date.now() * 1000) });
/** The account key of another desk, without "account" read: auth/r/info/user answers 10001. */
const NO_ACCOUNT_READ = bfxKey("no-account-read", [["orders", 1, 1]]);
/** Never seeded. */
const GHOST = bfxKey("ghost");
const OTHER_SECRET = "BFXSECRETCANARYwrongsecretnotthekeys0000";

const TRACKED = [...VICTIMS, ...FLEET, IP_BOUND, NO_SECRET];
const ALL: BfxSeedKey[] = [ACCOUNT, ...TRACKED, RETIRED, WRONG, MICRO, NO_ACCOUNT_READ, GHOST];

const scenario = () =>
  scenarioOf([
    { id: 7001, email: "desk@bfx.example", keys: [ACCOUNT, ...TRACKED, RETIRED, WRONG, MICRO] },
    { id: 7002, email: "other@bfx.example", keys: [NO_ACCOUNT_READ] },
  ]);

testAdapter({
  exchange: "bitfinex",
  skips: {
    "a lost response after a committed revoke is handled":
      "Bitfinex has no revoke API: a person revokes on the website, so there is no response to lose",
    "probe: wrong passphrase": "Bitfinex keys have no passphrase",
    "probe: skewed clock":
      'Bitfinex signs with nonces, not timestamps; nonce trouble is covered by "probe: low nonce"',
  },
  async setup() {
    const sim = await startSimulator({ scenario: scenario(), rateScale: 0.025 });
    const control = new SimControl(sim.control);
    const trackedKeys = TRACKED.map((k) => tracked(k, k !== NO_SECRET));
    const trackedIds = new Set([ACCOUNT.apiKey, ...TRACKED.map((k) => k.apiKey)]);
    const simulatorLimits = { auth: sim.rateLimits.bitfinex.auth };
    return {
      control,
      makeAdapter: (options) => adapterFor(sim.bitfinex, ACCOUNT, options, trackedKeys),
      simulatorLimits,
      async expectedApiKeys() {
        const state = await control.state<SimState>();
        return state.bitfinex.users
          .flatMap((u) => u.keys)
          .filter((k) => trackedIds.has(k.apiKey) && k.status === "active")
          .map((k) => k.apiKey);
      },
      victims: VICTIMS.map((k) => ({ apiKey: k.apiKey, label: k.label, credentials: creds(k) })),
      rateLimitCode: "11010",
      probes: {
        "probe: unknown key": { credentials: creds(GHOST), expect: "inconclusive", reason: "ambiguous" },
        "probe: revoked key": {
          credentials: creds(RETIRED),
          expect: "dead",
          knownAliveFromHere: true,
          arrange: async (c) => {
            await c.uiRevoke("bitfinex", RETIRED.apiKey);
            return async () => {};
          },
        },
        "probe: wrong secret": {
          credentials: creds({ apiKey: WRONG.apiKey, apiSecret: OTHER_SECRET }),
          expect: "inconclusive",
          reason: "wrong-secret",
        },
        "probe: IP not whitelisted": {
          credentials: creds(IP_BOUND),
          expect: "inconclusive",
          reason: "ambiguous",
        },
        "probe: low nonce": { credentials: creds(MICRO), expect: "alive" },
      },
      forbiddenCall: (log) =>
        adapterFor(
          sim.bitfinex,
          NO_ACCOUNT_READ,
          { log, rateLimits: simulatorLimits },
          [],
          "bfx-other",
        ).listKeys(),
      canaries: [...ALL.map((k) => k.apiSecret), OTHER_SECRET],
      close: () => sim.close(),
    };
  },
});
