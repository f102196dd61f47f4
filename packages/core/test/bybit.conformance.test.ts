/**
 * The shared adapter conformance suite, run for Bybit against the simulator over real HTTP, with rate
 * windows shrunk twenty times (counts unchanged) so the pacing cases stay fast.
 */
import { bybitAdapter } from "../src/adapters/bybit/adapter.js";
import type { AdapterOptions, ExchangeAdapter } from "../src/adapters/interface.js";
import type { Credentials } from "../src/domain/credentials.js";
import { Secret } from "../src/domain/secret.js";
import { testAdapter } from "../src/testing/index.js";
import { conformanceSimulator, restProbes } from "./rest-conformance-kit.js";

interface BybitSeedKey {
  apiKey: string;
  secret: string;
  note: string;
  readOnly: 0 | 1;
  ips: string[];
  /** The groups these fixtures use (the simulator's scenario names every group Bybit has). */
  permissions: { Wallet?: string[]; Spot?: string[] };
}

/** Account Transfer and Subaccount Transfer: what Bybit asks of a key that manages keys. */
const MANAGE = { Wallet: ["AccountTransfer", "SubMemberTransferList"], Spot: ["SpotTrade"] };

let serial = 0;
function seedKey(
  note: string,
  over: Partial<Pick<BybitSeedKey, "readOnly" | "ips" | "permissions">> = {},
): BybitSeedKey {
  serial++;
  const n = String(serial).padStart(3, "0");
  return {
    apiKey: `BYCONF${note.toUpperCase().replace(/[^A-Z0-9]/g, "")}${n}`,
    secret: `CANARYBYBITSECRET${note.toUpperCase().replace(/[^A-Z0-9]/g, "")}${n}`,
    note,
    readOnly: 0,
    ips: ["127.0.0.1", "::1"],
    permissions: { Spot: ["SpotTrade"] },
    ...over,
  };
}

const creds = (k: Pick<BybitSeedKey, "apiKey" | "secret">): Credentials => ({
  apiKey: k.apiKey,
  secret: new Secret(k.secret),
});

/** A month old, so nothing is near the 90-day expiry of the unbound keys. */
const seed = (k: BybitSeedKey) => ({ ...k, createdAt: new Date(Date.now() - 30 * 86_400_000).toISOString() });

const MASTER = seedKey("admin", { permissions: MANAGE });
/** A read-only master key of the same account: may describe itself, may not list sub-members (10005). */
const READER = seedKey("reader", { readOnly: 1, permissions: MANAGE });
const BOT = seedKey("bot");
const ELSEWHERE = seedKey("elsewhere", { ips: ["10.1.2.3"] });
const SKEW = seedKey("skew");
const TO_REVOKE = seedKey("to-revoke");
const VICTIMS = Array.from({ length: 5 }, (_, i) => seedKey(`victim${i + 1}`));
/** More than one page of sub-apikeys (20 a page). */
const PAGED = Array.from({ length: 23 }, (_, i) => seedKey(`paged${i + 1}`, { readOnly: 1, ips: ["*"] }));
const OTHER_SUB = seedKey("other-sub");
const UNKNOWN = seedKey("never-seeded");
const WRONG = seedKey("wrong");

const ALL = [
  MASTER,
  READER,
  BOT,
  ELSEWHERE,
  SKEW,
  TO_REVOKE,
  ...VICTIMS,
  ...PAGED,
  OTHER_SUB,
  UNKNOWN,
  WRONG,
];

const MASTER_UID = "390000001";

const scenario = () => ({
  bybit: {
    masters: [
      {
        uid: MASTER_UID,
        username: "desk-by",
        keys: [seed(MASTER), seed(READER)],
        subMembers: [
          { uid: "390000101", username: "bybot01", keys: [seed(BOT), ...VICTIMS.slice(0, 3).map(seed)] },
          { uid: "390000102", username: "bybot02", keys: [seed(ELSEWHERE), ...VICTIMS.slice(3).map(seed)] },
          { uid: "390000103", username: "bybot03", keys: [seed(SKEW), seed(TO_REVOKE)] },
          { uid: "390000104", username: "bypaged", memberType: 6 as const, keys: PAGED.map(seed) },
          { uid: "390000105", username: "byempty", keys: [] },
        ],
      },
      {
        uid: "390000002",
        username: "other-desk",
        subMembers: [{ uid: "390000201", username: "otherbot", keys: [seed(OTHER_SUB)] }],
      },
    ],
  },
});

const adapterFor = (endpoint: string, key: BybitSeedKey, options: AdapterOptions): ExchangeAdapter =>
  bybitAdapter(
    {
      account: { name: "desk", exchange: "bybit", endpoint, credentialsRef: "vault:desk" },
      credentials: creds(key),
    },
    options,
  );

interface BybitStateView {
  bybit: {
    masters: {
      uid: string;
      keys: { apiKey: string; status: string }[];
      subMembers: { keys: { apiKey: string; status: string }[] }[];
    }[];
  };
}

testAdapter({
  exchange: "bybit",
  skips: {
    "probe: wrong passphrase": "Bybit keys have no passphrase",
    "probe: low nonce": "Bybit authenticates with timestamps, not nonces",
  },
  async setup() {
    const { sim, control } = await conformanceSimulator(scenario());
    const limits = sim.rateLimits.bybit;
    const endpoint = sim.bybit;
    return {
      control,
      makeAdapter: (options) => adapterFor(endpoint, MASTER, options),
      simulatorLimits: { read: limits.read, write: limits.write },
      async expectedApiKeys() {
        const state = await control.state<BybitStateView>();
        const master = state.bybit.masters.find((m) => m.uid === MASTER_UID);
        if (!master) throw new Error("seeded master missing");
        const subKeys = master.subMembers.flatMap((s) => s.keys).filter((k) => k.status === "active");
        // The calling key is listed (query-api); the master's other keys are not (no API lists them).
        return [MASTER.apiKey, ...subKeys.map((k) => k.apiKey)];
      },
      victims: VICTIMS.map((v) => ({ apiKey: v.apiKey, label: v.note, credentials: creds(v) })),
      rateLimitCode: "10006",
      probes: {
        ...restProbes("bybit", {
          unknown: creds(UNKNOWN),
          toRevoke: creds(TO_REVOKE),
          wrongSecret: creds({ apiKey: BOT.apiKey, secret: WRONG.secret }),
          elsewhere: creds(ELSEWHERE),
          skewed: creds(SKEW),
        }),
      },
      forbiddenCall: (log) => adapterFor(endpoint, READER, { log, rateLimits: { ...limits } }).listKeys(),
      canaries: ALL.map((k) => k.secret),
      close: () => sim.close(),
    };
  },
});
