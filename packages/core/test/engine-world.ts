/**
 * The desk the engine tests (test/engine-*.test.ts) run against: one OKX master account with a
 * sub-account of bot keys, and one Bitfinex user whose keys no API lists, in the in-process simulator
 * over real HTTP. Every secret is a canary (`canaries`): no report, event, audit entry or journal row may
 * carry one. A home gets the accounts (probed, stored) and the tracked keys the way `account add` and
 * `key track` make them.
 */
import { readFileSync } from "node:fs";
import type { RunningSimulator } from "@keyward/simulator";
import { parse } from "dotenv";
import type { AdapterOptions } from "../src/adapters/interface.js";
import { type Credentials, toCredentials } from "../src/domain/credentials.js";
import type { KeyRecord } from "../src/domain/schemas.js";
import { addAccount, trackKey } from "../src/home/accounts.js";
import type { KeywardHome } from "../src/home/home.js";
import type { RotationDeps } from "../src/rotation/context.js";
import { buildRotationPlan } from "../src/rotation/plan.js";
import type { RotationPlan } from "../src/rotation/schemas.js";
import type { SimControl } from "../src/testing/index.js";
import {
  ACCOUNT_SCOPES,
  type BfxSeedKey,
  creds as bfxCreds,
  bfxKey,
  seed as bfxSeed,
} from "./bitfinex-fixtures.js";
import {
  canariesOf,
  creds as okxCreds,
  seed as okxSeed,
  seedKey,
  simOkxLimits,
  subName,
} from "./okx-fixtures.js";

export const OKX = "e-okx";
export const BFX = "e-bfx";
export const SUB = subName("esub", 1);
export const BFX_USER = 8801;

export const ADMIN = seedKey("eadmin", "read_only,trade", "127.0.0.1");
export const BOT = seedKey("ebot", "read_only,trade", "127.0.0.1");
export const READER = seedKey("ereader", "read_only", "");
export const ACCT = bfxKey("e-keyward", ACCOUNT_SCOPES);
export const MM: BfxSeedKey = bfxKey("e-mm", [
  ["orders", 1, 1],
  ["wallets", 1, 0],
  ["withdraw", 0, 1],
]);
export const OTHER: BfxSeedKey = bfxKey("e-other", [["orders", 1, 1]]);

export const canaries = [...canariesOf([ADMIN, BOT, READER]), ...[ACCT, MM, OTHER].map((k) => k.apiSecret)];

export const scenario = () => ({
  okx: {
    accounts: [
      {
        uid: "7501",
        name: "edesk",
        keys: [okxSeed(ADMIN)],
        subAccounts: [{ name: SUB, uid: "7601", keys: [okxSeed(BOT), okxSeed(READER)] }],
      },
    ],
  },
  bitfinex: { users: [{ id: BFX_USER, email: "ops@engine.example", keys: [ACCT, MM, OTHER].map(bfxSeed) }] },
});

/** The adapters pace themselves at the simulator's (scaled) windows and retry quickly. */
export const adapterOptions = (sim: RunningSimulator): AdapterOptions => ({
  rateLimits: simOkxLimits(sim),
  retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
});

/** Both accounts, and the Bitfinex keys Keyward is told about (with their secrets). */
export async function addDesk(home: KeywardHome, sim: RunningSimulator): Promise<void> {
  await addAccount(home, { name: OKX, exchange: "okx", endpoint: sim.okx }, okxCreds(ADMIN));
  await addAccount(home, { name: BFX, exchange: "bitfinex", endpoint: sim.bitfinex }, bfxCreds(ACCT));
  await trackKey(home, BFX, MM.label, bfxCreds(MM));
  await trackKey(home, BFX, OTHER.label, bfxCreds(OTHER));
}

/** The account's keys as listed live now, those whose API key is given, in that order. */
export async function listed(
  home: KeywardHome,
  sim: RunningSimulator,
  account: string,
  apiKeys: readonly string[],
): Promise<KeyRecord[]> {
  const keys = await (await home.adapterFor(account, adapterOptions(sim))).listKeys();
  return apiKeys.map((apiKey) => {
    const key = keys.find((k) => k.apiKey === apiKey);
    if (!key) throw new Error(`${apiKey} is not listed by ${account}`);
    return key;
  });
}

/** A rotation plan for these keys, as `rotate plan` makes it (Keyward's secrets decide what it refuses). */
export async function planFor(
  home: KeywardHome,
  keys: readonly KeyRecord[],
  deliver: string[],
  cwd: string,
): Promise<RotationPlan> {
  const accountKeys = await home.accountKeys();
  const held = new Set<string>();
  for (const k of keys) if (await home.credentialsForKey(k)) held.add(k.id);
  const plan = await buildRotationPlan({
    keys,
    deliver,
    cwd,
    home: home.paths.dir,
    isAccountKey: (k) => accountKeys.get(k.account) === k.apiKey,
    holdsSecret: (k) => held.has(k.id),
  });
  if (plan.refused.length > 0) throw new Error(`plan refused keys: ${JSON.stringify(plan.refused)}`);
  return plan;
}

/** What a dotenv target holds (no prefix), as a bot reading it would load it. */
export function dotenvKey(file: string): { apiKey: string; secret: string; credentials: Credentials } {
  const env = parse(readFileSync(file, "utf8"));
  const apiKey = env.API_KEY ?? "";
  const secret = env.API_SECRET ?? "";
  return {
    apiKey,
    secret,
    credentials: toCredentials({
      apiKey,
      secret,
      ...(env.API_PASSPHRASE ? { passphrase: env.API_PASSPHRASE } : {}),
    }),
  };
}

/**
 * The engine's crash seam, crashing: at `point` (its `nth` passage) the home's database is closed and
 * the seam throws, so nothing more is journaled, as when the process dies there. The run's promise
 * rejects; a reopened home resumes or aborts it.
 */
export function crashAt(home: KeywardHome, point: string, nth = 1): Pick<RotationDeps, "crashPoint"> {
  let passed = 0;
  return {
    crashPoint(p) {
      if (p !== point || ++passed !== nth) return;
      // Idle, close() closes the database before it returns its promise: the "process" is gone now.
      void home.close();
      throw new Error(`simulated crash after ${p}`);
    },
  };
}

/** The home's rotation audit entries, in order. */
export const rotationActions = async (home: KeywardHome): Promise<string[]> =>
  (await home.auditLog().list()).map((e) => e.action).filter((a) => a.startsWith("rotation."));

/** OKX sub-account keys on the simulator with this label (a rotation's new keys carry its run id). */
export async function labelledKeys(
  control: SimControl,
  label: string,
): Promise<{ apiKey: string; status: string }[]> {
  const state = await control.state();
  return state.okx.accounts
    .flatMap((a) => a.subAccounts.flatMap((s) => s.keys))
    .filter((k) => (k as { label?: string }).label === label);
}
