/**
 * `@keyward/simulator/testing`: the test desk the suites that drive a whole Keyward shell (the CLI's,
 * the web app's) share, so the two cannot drift:
 *
 *   - `DESK_KEYS` / `deskScenario()`: a small trading desk whose every secret and passphrase is a canary
 *     string (`CANARY-…`, listed in `DESK_CANARIES`), so any of them in any output is caught.
 *   - `deskSeed(urls)`: the desk as a Keyward user sets it up: the accounts to add (name, exchange,
 *     endpoint, credentials) and the key to track. Each shell makes its home from it its own way (the
 *     CLI through its commands, the web app through core). `deskDeribitAccount(urls)`: the Deribit
 *     account (with `DESK_TOTP_SEED`), for the tests that add it.
 *   - `startTestDesk()`: the simulator on that scenario (small `rateScale`), its control-API client and
 *     the seed pointed at it.
 *   - `SimulatorClient`, `keyStatuses`, `revokedKeys`, `urlOf`: the control API and the `/state` view,
 *     read without naming an exchange.
 *
 * The simulator does not depend on Keyward, so nothing here does either.
 */
import type { DemoDesk } from "../demo-desk.js";
import type { ExchangeId } from "../exchanges.js";
import type { RequestLogEntry } from "../request-log.js";
import type { ScenarioInput } from "../scenario.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../simulator.js";
import type { WorldView } from "../world.js";

// ---------------------------------------------------------------------------------------------------
// The desk

const DAY = 86_400_000;
const msAgo = (days: number) => String(Date.now() - days * DAY);

const okxKey = (n: number, label: string, perm: string, ip: string, ageDays: number) => ({
  apiKey: `5e1f0c2a-7d3b-4c1e-9a0f-0000000000${String(n).padStart(2, "0")}`,
  secretKey: `CANARY-okx-secret-${label}-91f3e7`,
  passphrase: `CANARY-okx-pass-${label}-2c84a1`,
  label,
  perm,
  ip,
  ts: msAgo(ageDays),
});

const bfxKey = (n: number, label: string, permissions: [string, 0 | 1, 0 | 1][], ip: string[]) => ({
  apiKey: `bfxKey${String(n).padStart(2, "0")}d81c5a0e4b7f93d2a6c1e0b8f47a5d3c9e1b`,
  apiSecret: `CANARY-bfx-secret-${label}-5d0b7e`,
  label,
  permissions,
  ip,
  createdAt: "2026-06-01T09:00:00Z",
});

const bybitKey = (
  n: number,
  note: string,
  readOnly: 0 | 1,
  ips: string[],
  permissions: Record<string, string[]>,
  ageDays: number,
) => ({
  apiKey: `BYDESK${String(n).padStart(2, "0")}c7e2a94f1b`,
  secret: `CANARY-bybit-secret-${note}-8a2f4c`,
  note,
  readOnly,
  ips,
  permissions,
  createdAt: new Date(Date.now() - ageDays * DAY).toISOString(),
});

const deribitKey = (id: number, name: string, maxScope: string, ipWhitelist: string[], ageDays: number) => ({
  id,
  apiKey: `DRDESK${String(id).padStart(2, "0")}`,
  secret: `CANARY-deribit-secret-${name}-3e9b71`,
  name,
  max_scope: maxScope,
  ip_whitelist: ipWhitelist,
  timestamp: Date.now() - ageDays * DAY,
});

/**
 * The Deribit desk account's two-factor seed (base32, RFC 4648: only A-Z and 2-7, so it cannot carry the
 * `CANARY-` prefix; it is recognisable by its own `CANARY` start). It must never appear in any output:
 * suites add it to their canaries beside DESK_CANARIES.
 */
export const DESK_TOTP_SEED = "CANARYDERIBITSEEDTOTP234567QRSTU";

const BYBIT_TRADE = { ContractTrade: ["Order", "Position"], Spot: ["SpotTrade"] };

/**
 * OKX: one master account ("desk-okx" in Keyward) whose IP-bound master key Keyward uses, four sub-account
 * keys (bot-1..3 match `bot-*`; bot-2 has no IP binding, bot-3 is old) and a read-only ops key; a second,
 * risky master key (withdraw, no IP) is only used to add an account that must draw warnings.
 * Bitfinex: one user ("desk-bfx"): Keyward's account key (read-only scopes), a tracked market-making key
 * that can withdraw (whitelisted to 127.0.0.1, so it is provable from here), and a key Keyward never sees.
 * Bybit: one master ("desk-bybit" in Keyward) whose IP-bound master key with Account Transfer (what Bybit
 * requires to manage keys) Keyward uses, and two sub-accounts: scalp-1 (IP-bound), scalp-2 (no IP
 * binding, made 80 days ago: Bybit expires it in 10) and a read-only reader.
 * Deribit: one main account ("desk-deribit" in Keyward; two-factor seed DESK_TOTP_SEED) whose IP-bound key
 * with `account:read_write` (what managing keys needs) Keyward uses, and three more keys the API lists:
 * bot_1 (trade:read_write, no IP whitelist), treasury (wallet:read_write: can withdraw) and bot_old (made
 * 400 days ago). No desk key starts disabled (every desk key seeds active): a test disables one by API
 * (`private/disable_api_key` needs no code).
 */
export const DESK_KEYS = {
  okxMaster: okxKey(1, "desk-master", "read_only,trade", "127.0.0.1", 20),
  /** Another master key of the same account: can withdraw, no IP binding (account add must warn). */
  okxLegacy: okxKey(2, "legacy-master", "read_only,trade,withdraw", "", 200),
  bot1: okxKey(11, "bot-1", "read_only,trade", "10.0.0.1", 10),
  bot2: okxKey(12, "bot-2", "read_only,trade", "", 10),
  bot3: okxKey(13, "bot-3", "read_only,trade", "10.0.0.3", 400),
  opsReader: okxKey(14, "ops-reader", "read_only", "10.0.0.9", 10),
  bfxAccount: bfxKey(
    1,
    "keyward-reader",
    [
      ["account", 1, 0],
      ["orders", 1, 0],
      ["wallets", 1, 0],
      ["withdraw", 0, 0],
    ],
    [],
  ),
  bfxMm: bfxKey(
    2,
    "bfx-mm",
    [
      ["orders", 1, 1],
      ["wallets", 1, 0],
      ["withdraw", 0, 1],
    ],
    ["127.0.0.1"],
  ),
  bfxUntracked: bfxKey(3, "bfx-other", [["orders", 1, 1]], []),
  bybitMaster: bybitKey(
    1,
    "bybit-master",
    0,
    ["127.0.0.1"],
    { ContractTrade: ["Order", "Position"], Wallet: ["AccountTransfer"] },
    20,
  ),
  bybitScalp1: bybitKey(11, "scalp-1", 0, ["10.0.5.1"], BYBIT_TRADE, 10),
  bybitScalp2: bybitKey(12, "scalp-2", 0, ["*"], BYBIT_TRADE, 80),
  bybitReader: bybitKey(13, "by-reader", 1, ["10.0.5.9"], { Spot: ["SpotTrade"] }, 10),
  deribitAccount: deribitKey(1, "keyward", "account:read_write trade:read wallet:none", ["127.0.0.1"], 20),
  deribitBot: deribitKey(2, "bot_1", "account:read trade:read_write wallet:none", [], 10),
  deribitTreasury: deribitKey(3, "treasury", "account:read wallet:read_write", ["10.0.7.1"], 30),
  deribitOld: deribitKey(4, "bot_old", "trade:read_write", ["10.0.7.2"], 400),
} as const;

export type DeskKey = (typeof DESK_KEYS)[keyof typeof DESK_KEYS];

/** Keyward's names for the desk's three accounts, and the label of the tracked key. */
export const DESK_ACCOUNTS = {
  okx: "desk-okx",
  bitfinex: "desk-bfx",
  bybit: "desk-bybit",
  deribit: "desk-deribit",
} as const;

/** The desk's Deribit account id (the user id `private/get_account_summary` gives). */
export const DESK_DERIBIT_ACCOUNT_ID = 410001;

/** A desk Deribit key as the scenario's `deribit` section spells it. */
const deribitSeed = (k: ReturnType<typeof deribitKey>) => ({
  id: k.id,
  client_id: k.apiKey,
  client_secret: k.secret,
  name: k.name,
  max_scope: k.max_scope,
  ip_whitelist: [...k.ip_whitelist],
  timestamp: k.timestamp,
});
export const DESK_TRACKED_LABEL = "bfx-mm";

/** The desk's world, fresh each call (a test may add to it before starting a simulator on it). */
export function deskScenario() {
  return {
    okx: {
      accounts: [
        {
          uid: "300000001",
          name: "desk",
          keys: [DESK_KEYS.okxMaster, DESK_KEYS.okxLegacy],
          subAccounts: [
            { name: "deskBots01", uid: "300000101", ts: msAgo(300), keys: [DESK_KEYS.bot1, DESK_KEYS.bot2] },
            { name: "deskBots02", uid: "300000102", ts: msAgo(300), keys: [DESK_KEYS.bot3] },
            { name: "deskOps01", uid: "300000103", ts: msAgo(300), keys: [DESK_KEYS.opsReader] },
          ],
        },
      ],
    },
    bitfinex: {
      users: [
        {
          id: 7000001,
          email: "ops@desk.example",
          keys: [DESK_KEYS.bfxAccount, DESK_KEYS.bfxMm, DESK_KEYS.bfxUntracked],
        },
      ],
    },
    bybit: {
      masters: [
        {
          uid: "390000001",
          username: "desk",
          keys: [DESK_KEYS.bybitMaster],
          subMembers: [
            {
              uid: "390000101",
              username: "deskScalp01",
              keys: [DESK_KEYS.bybitScalp1, DESK_KEYS.bybitScalp2],
            },
            { uid: "390000102", username: "deskRead01", keys: [DESK_KEYS.bybitReader] },
          ],
        },
      ],
    },
    deribit: {
      accounts: [
        {
          id: DESK_DERIBIT_ACCOUNT_ID,
          username: "desk_deribit",
          type: "main" as const,
          totpSeed: DESK_TOTP_SEED,
          keys: [
            DESK_KEYS.deribitAccount,
            DESK_KEYS.deribitBot,
            DESK_KEYS.deribitTreasury,
            DESK_KEYS.deribitOld,
          ].map(deribitSeed),
        },
      ],
    },
  } satisfies ScenarioInput;
}

/** Every secret in the desk's scenario. */
export const DESK_CANARIES: string[] = Object.values(DESK_KEYS).flatMap((k) =>
  "secretKey" in k ? [k.secretKey, k.passphrase] : "apiSecret" in k ? [k.apiSecret] : [k.secret],
);

/** A desk key's credentials as Keyward takes them (`--credentials-stdin`, a home seed). */
export const deskCredentials = (key: DeskKey) =>
  "secretKey" in key
    ? { apiKey: key.apiKey, secret: key.secretKey, passphrase: key.passphrase }
    : { apiKey: key.apiKey, secret: "apiSecret" in key ? key.apiSecret : key.secret };

/**
 * The desk's Deribit account as a Keyward user adds it: its key, with the account's two-factor seed so
 * Keyward answers the challenge itself (leave `totpSeed` out to be asked for a code). Not (yet) part of
 * `deskSeed`: the suites' whole-desk expectations (every key, every risk, every audit entry) are written
 * for OKX, Bitfinex and Bybit; a test that needs Deribit adds this account to its seed.
 */
export const deskDeribitAccount = (
  urls: Record<ExchangeId, string>,
  options: { totpSeed?: boolean } = {},
): DemoDesk["accounts"][number] => ({
  name: DESK_ACCOUNTS.deribit,
  exchange: "deribit",
  endpoint: urls.deribit,
  credentials: {
    ...deskCredentials(DESK_KEYS.deribitAccount),
    ...(options.totpSeed === false ? {} : { totpSeed: DESK_TOTP_SEED }),
  },
});

/** The desk as a Keyward user sets it up against the simulator at `urls`: accounts, then the tracked key. */
export function deskSeed(urls: Record<ExchangeId, string>): DemoDesk {
  return {
    accounts: [
      {
        name: DESK_ACCOUNTS.okx,
        exchange: "okx",
        endpoint: urls.okx,
        credentials: deskCredentials(DESK_KEYS.okxMaster),
      },
      {
        name: DESK_ACCOUNTS.bitfinex,
        exchange: "bitfinex",
        endpoint: urls.bitfinex,
        credentials: deskCredentials(DESK_KEYS.bfxAccount),
      },
      {
        name: DESK_ACCOUNTS.bybit,
        exchange: "bybit",
        endpoint: urls.bybit,
        credentials: deskCredentials(DESK_KEYS.bybitMaster),
      },
    ],
    tracked: [
      {
        account: DESK_ACCOUNTS.bitfinex,
        label: DESK_TRACKED_LABEL,
        credentials: deskCredentials(DESK_KEYS.bfxMm),
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// The simulator and its control API

/** The URL of an exchange's (main) listener, e.g. to point an account stored by exchange id at it. */
export const urlOf = (sim: RunningSimulator, exchange: string): string => {
  const url = (sim as unknown as Record<string, unknown>)[exchange];
  if (typeof url !== "string") throw new Error(`the simulator has no exchange "${exchange}"`);
  return url;
};

/** A client for the simulator's control API (GET /state, /ui/*, /faults, /requests, /clock, /scenario). */
export class SimulatorClient {
  constructor(readonly controlUrl: string) {}

  async control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.controlUrl}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  state(): Promise<WorldView> {
    return this.control<WorldView>("GET", "/state");
  }

  requests(since = 0): Promise<RequestLogEntry[]> {
    return this.control<RequestLogEntry[]>("GET", since ? `/requests?since=${since}` : "/requests");
  }

  faults(spec: Record<string, unknown>): Promise<unknown> {
    return this.control("POST", "/faults", spec);
  }

  /** What a person does on the exchange's web page. */
  uiRevoke(exchange: string, apiKey: string): Promise<unknown> {
    return this.control("POST", "/ui/revoke", { exchange, apiKey });
  }

  /**
   * The current two-factor code of a Deribit account (by its username on the exchange), as the person's
   * authenticator app would show it: what a test types when Keyward asks for a code.
   */
  async totp(username: string): Promise<string> {
    const answer = await this.control<{ code: string }>(
      "GET",
      `/deribit/totp?username=${encodeURIComponent(username)}`,
    );
    return answer.code;
  }

  /** What a person does on the exchange's web page to make a key; the secret is in the answer, once. */
  uiCreate<T = Record<string, string>>(body: { exchange: string } & Record<string, unknown>): Promise<T> {
    return this.control<T>("POST", "/ui/create", body);
  }
}

/** "disabled": switched off (Deribit's disable_api_key), failing authentication until enabled again. */
export type KeyStatus = "active" | "disabled" | "revoked";

/**
 * Every key's status in a /state view, by API key: every object in the view with an `apiKey` and a
 * `status` is a key, whichever exchange's section it is in (in the view's order).
 */
export function keyStatuses(state: WorldView): Map<string, KeyStatus> {
  const out = new Map<string, KeyStatus>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    const record = value as Record<string, unknown>;
    if (
      typeof record.apiKey === "string" &&
      (record.status === "active" || record.status === "disabled" || record.status === "revoked")
    ) {
      out.set(record.apiKey, record.status);
      return;
    }
    for (const child of Object.values(record)) walk(child);
  };
  walk(state);
  return out;
}

/** The API keys a /state view shows revoked, sorted. */
export const revokedKeys = (state: WorldView): string[] =>
  [...keyStatuses(state)]
    .filter(([, s]) => s === "revoked")
    .map(([k]) => k)
    .sort();

export interface TestDesk {
  running: RunningSimulator;
  client: SimulatorClient;
  /** The accounts and tracked keys to set a home up with, pointed at this simulator. */
  seed: DemoDesk;
  close(): Promise<void>;
}

export interface TestDeskOptions extends Omit<SimulatorOptions, "scenario"> {
  /** The world; `deskScenario()` (possibly added to) by default. */
  scenario?: ScenarioInput;
}

/**
 * The simulator on the desk's world. `rateScale` defaults to 0.05 (OKX writes 1 per 50 ms, reads 20 per
 * 100 ms; Keyward still paces itself at the real limits).
 */
export async function startTestDesk(options: TestDeskOptions = {}): Promise<TestDesk> {
  const running = await startSimulator({
    ...options,
    rateScale: options.rateScale ?? 0.05,
    scenario: options.scenario ?? deskScenario(),
  });
  return {
    running,
    client: new SimulatorClient(running.control),
    seed: deskSeed(running),
    close: () => running.close(),
  };
}
