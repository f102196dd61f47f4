/**
 * The simulated exchanges' state: OKX accounts, sub-accounts and keys; Bitfinex users, keys, nonces
 * and tokens. Both exchange listeners and the control API act on one World.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { splitOkxIps } from "./ip-whitelist.js";
import type { OkxRegion, Scenario } from "./scenario.js";

export type KeyStatus = "active" | "revoked";

export interface OkxKey {
  apiKey: string;
  secretKey: string;
  /**
   * OKX stores passphrases as salted hashes; they cannot be recovered
   * (docs/exchanges/okx.md#key-limits-and-policy).
   */
  passphraseSalt: string;
  passphraseHash: string;
  label: string;
  /** As OKX reports it: `read_only`, `read_only,trade`, … */
  perm: string;
  ip: string[];
  ts: number;
  demo: boolean;
  frozen: boolean;
  lastUsedAt: number;
  status: KeyStatus;
  revokedBy?: "api" | "ui" | "expiry";
  /** Fault (hollow delete, "unlisted"): left out of listings while it still authenticates. */
  unlisted?: boolean;
  /** Fault (flawed create, "not-authenticating"): listed, yet every call with it gets 50111. */
  refusesAuth?: boolean;
  region: OkxRegion;
  /** The UID whose rate buckets the key's calls count against (the sub-account's for sub keys). */
  ownerUid: string;
  masterUid: string;
  /** Sub-account name, or null for a master key. */
  subAcct: string | null;
}

export interface OkxSubAccount {
  name: string;
  uid: string;
  label: string;
  enable: boolean;
  type: string;
  ts: number;
  keys: OkxKey[];
}

export interface OkxAccount {
  uid: string;
  name: string;
  region: OkxRegion;
  keys: OkxKey[];
  subAccounts: OkxSubAccount[];
}

export type BitfinexPermission = [scope: string, read: 0 | 1, write: 0 | 1];

export interface BitfinexKey {
  apiKey: string;
  apiSecret: string;
  label: string;
  permissions: BitfinexPermission[];
  ip: string[];
  createdAt: string;
  status: KeyStatus;
  userId: number;
  /** Highest nonce accepted for this key; nonces must grow strictly per key, forever. */
  lastNonce: bigint;
}

export interface BitfinexUser {
  id: number;
  email: string;
  username: string;
  keys: BitfinexKey[];
}

export interface BitfinexToken {
  token: string;
  apiKey: string;
  expiresAt: number;
  caps: string[];
  writePermission: boolean;
}

/**
 * OKX: trade/withdraw keys without an IP binding expire after 14 days without use
 * (docs/exchanges/okx.md#key-limits-and-policy).
 */
export const OKX_IDLE_EXPIRY_MS = 14 * 24 * 60 * 60 * 1000;

export function hashPassphrase(passphrase: string, salt = randomBytes(16).toString("hex")) {
  return { salt, hash: createHmac("sha256", salt).update(passphrase).digest("hex") };
}

export function passphraseMatches(key: OkxKey, passphrase: string): boolean {
  const { hash } = hashPassphrase(passphrase, key.passphraseSalt);
  return timingSafeEqual(Buffer.from(hash, "hex"), Buffer.from(key.passphraseHash, "hex"));
}

/** OKX API keys are UUIDs and secrets 32 upper-case hex characters. */
export const newOkxCredentials = () => ({
  apiKey: randomUUID(),
  secretKey: randomBytes(16).toString("hex").toUpperCase(),
});

/** Bitfinex keys and secrets are 43-character strings. */
export const newBitfinexCredentials = () => ({
  apiKey: randomBytes(32).toString("base64url").slice(0, 43),
  apiSecret: randomBytes(32).toString("base64url").slice(0, 43),
});

export const BITFINEX_SCOPES = [
  "account",
  "history",
  "orders",
  "positions",
  "funding",
  "settings",
  "wallets",
  "withdraw",
  "ui_withdraw",
  "bfxpay",
] as const;

/** The key's matrix in the exchange's order, every scope present (missing ones as [scope, 0, 0]). */
export function fullPermissions(key: BitfinexKey): BitfinexPermission[] {
  const byScope = new Map(key.permissions.map((p) => [p[0], p]));
  const known: BitfinexPermission[] = BITFINEX_SCOPES.map((scope) => byScope.get(scope) ?? [scope, 0, 0]);
  const extra = key.permissions.filter((p) => !(BITFINEX_SCOPES as readonly string[]).includes(p[0]));
  return [...known, ...extra];
}

export class World {
  okxAccounts: OkxAccount[] = [];
  readonly okxKeys = new Map<string, OkxKey>();
  bitfinexUsers: BitfinexUser[] = [];
  readonly bitfinexKeys = new Map<string, BitfinexKey>();
  readonly bitfinexTokens = new Map<string, BitfinexToken>();

  /** `now` stands in for the last use of keys whose seed gives none (so they do not expire at once). */
  static fromScenario(scenario: Scenario, now: number): World {
    const world = new World();
    for (const account of scenario.okx?.accounts ?? []) {
      const okxAccount: OkxAccount = {
        uid: account.uid,
        name: account.name,
        region: account.region,
        keys: [],
        subAccounts: [],
      };
      const seedKey = (
        seed: (typeof account.keys)[number],
        ownerUid: string,
        subAcct: string | null,
      ): OkxKey => {
        const { salt, hash } = hashPassphrase(seed.passphrase);
        const key: OkxKey = {
          apiKey: seed.apiKey,
          secretKey: seed.secretKey,
          passphraseSalt: salt,
          passphraseHash: hash,
          label: seed.label,
          perm: seed.perm,
          ip: splitOkxIps(seed.ip),
          ts: Number(seed.ts),
          demo: seed.demo,
          frozen: seed.frozen,
          lastUsedAt: seed.lastUsedAt === undefined ? now : Number(seed.lastUsedAt),
          status: "active",
          region: account.region,
          ownerUid,
          masterUid: account.uid,
          subAcct,
        };
        world.okxKeys.set(key.apiKey, key);
        return key;
      };
      okxAccount.keys = account.keys.map((k) => seedKey(k, account.uid, null));
      okxAccount.subAccounts = account.subAccounts.map((sub, i) => ({
        name: sub.name,
        uid: sub.uid,
        label: sub.label,
        enable: sub.enable,
        type: sub.type,
        // Without a creation time, space sub-accounts a minute apart so paging by `ts` is well defined.
        ts: Number(sub.ts ?? 1_700_000_000_000 + i * 60_000),
        keys: sub.keys.map((k) => seedKey(k, sub.uid, sub.name)),
      }));
      world.okxAccounts.push(okxAccount);
    }
    for (const user of scenario.bitfinex?.users ?? []) {
      const bfxUser: BitfinexUser = {
        id: user.id,
        email: user.email,
        username: user.username ?? user.email.split("@")[0] ?? `user${user.id}`,
        keys: [],
      };
      bfxUser.keys = user.keys.map((seed) => {
        const key: BitfinexKey = {
          apiKey: seed.apiKey,
          apiSecret: seed.apiSecret,
          label: seed.label,
          permissions: seed.permissions,
          ip: seed.ip,
          createdAt: seed.createdAt,
          status: "active",
          userId: user.id,
          lastNonce: BigInt(seed.lastNonce ?? 0),
        };
        world.bitfinexKeys.set(key.apiKey, key);
        return key;
      });
      world.bitfinexUsers.push(bfxUser);
    }
    return world;
  }

  /** Applies the idle expiry lazily: a key found expired is dead from then on. */
  okxKeyExpired(key: OkxKey, now: number): boolean {
    if (key.status !== "active") return false;
    const risky = key.perm.split(",").some((p) => p === "trade" || p === "withdraw");
    if (!risky || key.ip.length > 0 || key.demo) return false;
    if (now - key.lastUsedAt <= OKX_IDLE_EXPIRY_MS) return false;
    key.status = "revoked";
    key.revokedBy = "expiry";
    return true;
  }

  okxAccountOf(key: OkxKey): OkxAccount | undefined {
    return this.okxAccounts.find((a) => a.uid === key.masterUid);
  }

  okxSubAccount(master: OkxAccount, name: string): OkxSubAccount | undefined {
    return master.subAccounts.find((s) => s.name === name);
  }

  bitfinexUser(id: number): BitfinexUser | undefined {
    return this.bitfinexUsers.find((u) => u.id === id);
  }

  /** Revokes a key as a person would on the exchange's web page. Returns false for an unknown key. */
  uiRevoke(exchange: "okx" | "bitfinex", apiKey: string): { found: boolean; alreadyRevoked: boolean } {
    const key = exchange === "okx" ? this.okxKeys.get(apiKey) : this.bitfinexKeys.get(apiKey);
    if (!key) return { found: false, alreadyRevoked: false };
    if (key.status === "revoked") return { found: true, alreadyRevoked: true };
    key.status = "revoked";
    if (exchange === "okx") (key as OkxKey).revokedBy = "ui";
    else this.#dropTokensOf(apiKey);
    return { found: true, alreadyRevoked: false };
  }

  #dropTokensOf(apiKey: string): void {
    // Sim choice: revoking a key kills the tokens made with it
    // (docs/exchanges/bitfinex.md#where-the-exchange-is-silent-what-keyward-and-the-simulator-assume).
    for (const [token, t] of this.bitfinexTokens) if (t.apiKey === apiKey) this.bitfinexTokens.delete(token);
  }

  /** The control API's `GET /state`: every account and key, secrets left out. */
  view(now: number) {
    const okxKey = (k: OkxKey) => {
      this.okxKeyExpired(k, now);
      return {
        apiKey: k.apiKey,
        label: k.label,
        perm: k.perm,
        ip: k.ip.join(","),
        ts: String(k.ts),
        status: k.status,
        ...(k.unlisted ? { unlisted: true } : {}),
        ...(k.refusesAuth ? { refusesAuth: true } : {}),
      };
    };
    return {
      okx: {
        accounts: this.okxAccounts.map((a) => ({
          uid: a.uid,
          name: a.name,
          region: a.region,
          keys: a.keys.map(okxKey),
          subAccounts: a.subAccounts.map((s) => ({ name: s.name, uid: s.uid, keys: s.keys.map(okxKey) })),
        })),
      },
      bitfinex: {
        users: this.bitfinexUsers.map((u) => ({
          id: u.id,
          email: u.email,
          keys: u.keys.map((k) => ({
            apiKey: k.apiKey,
            label: k.label,
            status: k.status,
            permissions: fullPermissions(k),
            ip: k.ip,
            createdAt: k.createdAt,
          })),
        })),
      },
    };
  }
}

export type WorldView = ReturnType<World["view"]>;
