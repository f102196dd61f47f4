/**
 * The shared adapter conformance suite, run for OKX against the simulator over real HTTP, with rate
 * windows shrunk twenty times (counts unchanged) so the pacing cases stay fast.
 */
import { testAdapter } from "../src/testing/index.js";
import { adapterFor, canariesOf, creds, type OkxSeedKey, seed, seedKey, subName } from "./okx-fixtures.js";
import { conformanceSimulator, restProbes } from "./rest-conformance-kit.js";
import type { SimState } from "./sim-state.js";

const MASTER = seedKey("admin", "read_only,trade", "127.0.0.1,::1");
/** A read-only master of the same account: may list, may not delete (50120). */
const READER = seedKey("reader", "read_only", "127.0.0.1");
const BOT = seedKey("bot");
const ELSEWHERE = seedKey("elsewhere", "read_only", "10.1.2.3");
const SKEW = seedKey("skew");
const TO_REVOKE = seedKey("to-revoke");
const VICTIMS = Array.from({ length: 5 }, (_, i) => seedKey(`victim${i + 1}`));
const EXTRA = Array.from({ length: 3 }, (_, i) => seedKey(`extra${i + 1}`, "read_only", ""));
const OTHER_MASTER = seedKey("other-admin");
const OTHER_SUB = seedKey("other-sub");
const UNKNOWN = seedKey("never-seeded");
const WRONG = seedKey("wrong");

const ALL: OkxSeedKey[] = [
  MASTER,
  READER,
  BOT,
  ELSEWHERE,
  SKEW,
  TO_REVOKE,
  ...VICTIMS,
  ...EXTRA,
  OTHER_MASTER,
  OTHER_SUB,
  UNKNOWN,
  WRONG,
];

const MASTER_UID = "7001";

/**
 * Eight sub-accounts, so that four concurrent listings (4 × 8 key queries) overrun the 20-per-window
 * read limit when the adapter is told looser limits than the simulator's.
 */
const scenario = () => ({
  okx: {
    accounts: [
      {
        uid: MASTER_UID,
        name: "desk",
        keys: [seed(MASTER), seed(READER)],
        subAccounts: [
          { name: subName("deskmm", 1), uid: "7101", keys: [seed(BOT), ...VICTIMS.slice(0, 3).map(seed)] },
          { name: subName("deskmm", 2), uid: "7102", keys: [seed(ELSEWHERE), ...VICTIMS.slice(3).map(seed)] },
          { name: subName("deskmm", 3), uid: "7103", keys: [seed(SKEW), seed(TO_REVOKE)] },
          ...EXTRA.map((k, i) => ({
            name: subName("deskmm", 4 + i),
            uid: String(7104 + i),
            keys: [seed(k)],
          })),
          { name: subName("deskmm", 7), uid: "7107", keys: [] },
          { name: subName("deskmm", 8), uid: "7108", keys: [] },
        ],
      },
      {
        uid: "8001",
        name: "other-desk",
        keys: [seed(OTHER_MASTER)],
        subAccounts: [{ name: subName("othersub", 1), uid: "8101", keys: [seed(OTHER_SUB)] }],
      },
    ],
  },
});

testAdapter({
  exchange: "okx",
  skips: { "probe: low nonce": "OKX authenticates with timestamps, not nonces" },
  async setup() {
    const { sim, control } = await conformanceSimulator(scenario());
    const limits = sim.rateLimits.okx;
    return {
      control,
      makeAdapter: (options) => adapterFor(sim.okx, MASTER, options),
      simulatorLimits: { read: limits.read, write: limits.write, config: limits.config },
      async expectedApiKeys() {
        const state = await control.state<SimState>();
        const account = state.okx.accounts.find((a) => a.uid === MASTER_UID);
        if (!account) throw new Error("seeded master missing");
        const subKeys = account.subAccounts.flatMap((s) => s.keys).filter((k) => k.status === "active");
        return [MASTER.apiKey, ...subKeys.map((k) => k.apiKey)];
      },
      victims: VICTIMS.map((v) => ({ apiKey: v.apiKey, label: v.label, credentials: creds(v) })),
      rateLimitCode: "50011",
      probes: {
        ...restProbes("okx", {
          unknown: creds(UNKNOWN),
          toRevoke: creds(TO_REVOKE),
          wrongSecret: creds({ ...BOT, secretKey: WRONG.secretKey }),
          elsewhere: creds(ELSEWHERE),
          skewed: creds(SKEW),
        }),
        "probe: wrong passphrase": {
          credentials: creds({ ...BOT, passphrase: WRONG.passphrase }),
          expect: "inconclusive",
          reason: "wrong-passphrase",
        },
      },
      forbiddenCall: async (log) => {
        const reader = adapterFor(sim.okx, READER, { log, rateLimits: { ...limits } });
        const bot = (await reader.listKeys()).find((k) => k.apiKey === BOT.apiKey);
        if (!bot) throw new Error("bot key not listed");
        return reader.revokeKey(bot);
      },
      canaries: canariesOf(ALL),
      close: () => sim.close(),
    };
  },
});
