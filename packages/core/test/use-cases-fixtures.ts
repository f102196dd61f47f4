/**
 * A Keyward home over the in-process simulator for the use-case tests, set up through core's own
 * operations (init, addAccount, trackKey): an OKX master account with a sub-account, and a Bitfinex
 * account whose other keys are tracked. Every secret is a canary that must never show up in a result,
 * an event or an audit entry.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import type { AdapterOptions, ExchangeAdapter } from "../src/adapters/interface.js";
import { Secret } from "../src/domain/secret.js";
import { addAccount, trackKey } from "../src/home/accounts.js";
import { KeywardHome } from "../src/home/home.js";
import { SimControl } from "../src/testing/index.js";
import {
  ACCOUNT_SCOPES,
  type BfxSeedKey,
  creds as bfxCreds,
  bfxKey,
  seed as bfxSeed,
} from "./bitfinex-fixtures.js";
import { creds as okxCreds, seed as okxSeed, seedKey, simOkxLimits, subName } from "./okx-fixtures.js";

export const OKX = "uc-okx";
export const BFX = "uc-bfx";
export const SUB = subName("ucsub", 1);

export function deskKeys() {
  return {
    admin: seedKey("ucadmin", "read_only,trade", "127.0.0.1"),
    bot: seedKey("ucbot", "read_only,trade", "127.0.0.1"),
    reader: seedKey("ucreader", "read_only", ""),
    acct: bfxKey("uc-keyward", ACCOUNT_SCOPES),
    mm: bfxKey("uc-mm", [
      ["orders", 1, 1],
      ["withdraw", 0, 1],
    ]),
    /** Tracked without its secret: a person can revoke it, no probe can prove it. */
    blind: bfxKey("uc-blind", [["orders", 1, 1]]),
  };
}
export type DeskKeys = ReturnType<typeof deskKeys>;

export const canariesOf = (k: DeskKeys): string[] => [
  ...[k.admin, k.bot, k.reader].flatMap((o) => [o.secretKey, o.passphrase]),
  ...[k.acct, k.mm, k.blind].map((b: BfxSeedKey) => b.apiSecret),
];

const scenario = (k: DeskKeys) => ({
  okx: {
    accounts: [
      {
        uid: "7001",
        name: "ucdesk",
        keys: [okxSeed(k.admin)],
        subAccounts: [{ name: SUB, uid: "7101", keys: [okxSeed(k.bot), okxSeed(k.reader)] }],
      },
    ],
  },
  bitfinex: {
    users: [{ id: 8001, email: "ops@uc.example", keys: [k.acct, k.mm, k.blind].map(bfxSeed) }],
  },
});

export interface Desk {
  sim: RunningSimulator;
  control: SimControl;
  home: KeywardHome;
  keys: DeskKeys;
  options: AdapterOptions;
  /** Adapters paced at the simulator's windows, as the use cases' adapter sources. */
  adapterFor: (account: string) => Promise<ExchangeAdapter>;
  adapters: (names: readonly string[]) => Promise<Map<string, ExchangeAdapter>>;
  /** `chmod a-w` on state.db, undone by `close`. */
  freezeState(): void;
  close(): Promise<void>;
}

export async function openDesk(): Promise<Desk> {
  const keys = deskKeys();
  const sim = await startSimulator({ scenario: scenario(keys), rateScale: 0.05 });
  const dir = mkdtempSync(join(tmpdir(), "keyward-uc-"));
  const { home } = await KeywardHome.init(join(dir, "home"), {
    passphrase: async () => new Secret("use-cases-passphrase"),
    actor: "test:use-cases",
    vault: { workFactor: 10 },
  });
  await addAccount(home, { name: OKX, exchange: "okx", endpoint: sim.okx }, okxCreds(keys.admin));
  await addAccount(home, { name: BFX, exchange: "bitfinex", endpoint: sim.bitfinex }, bfxCreds(keys.acct));
  await trackKey(home, BFX, keys.mm.label, bfxCreds(keys.mm));
  await home.tracked().add({
    account: BFX,
    apiKey: keys.blind.apiKey,
    label: keys.blind.label,
    credentialsRef: null,
    meta: {},
  });
  const options: AdapterOptions = {
    rateLimits: simOkxLimits(sim),
    retry: { retries: 2, minTimeoutMs: 20, maxTimeoutMs: 200 },
  };
  const built = new Map<string, Promise<ExchangeAdapter>>();
  const adapterFor = (name: string) => {
    let adapter = built.get(name);
    if (!adapter) {
      adapter = home.adapterFor(name, options);
      built.set(name, adapter);
    }
    return adapter;
  };
  let frozen = false;
  return {
    sim,
    control: new SimControl(sim.control),
    home,
    keys,
    options,
    adapterFor,
    adapters: async (names) =>
      new Map(await Promise.all(names.map(async (n) => [n, await adapterFor(n)] as const))),
    freezeState() {
      chmodSync(home.paths.state, 0o400);
      frozen = true;
    },
    async close() {
      if (frozen) chmodSync(home.paths.state, 0o600);
      await home.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The audit log's entries, oldest first. */
export const auditEntries = async (home: KeywardHome) =>
  (await home.auditLog().list()).map((e) => ({ action: e.action, subject: e.subject, details: e.details }));
