/**
 * The simulated OKX's state: master accounts (one per UID, on one regional host), their sub-accounts,
 * and every key. Seeded from the scenario's `okx` section, saved in and restored from the state file.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { UiRevokeResult, UiRow } from "../exchange-module.js";
import { type OkxRegion, OkxRegionSchema, type OkxScenario } from "./scenario.js";

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

/** OKX writes a key's IPs as one comma-separated string. */
export const splitOkxIps = (ip: string): string[] =>
  ip
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

export class OkxWorld {
  okxAccounts: OkxAccount[] = [];
  readonly okxKeys = new Map<string, OkxKey>();

  /** `now` stands in for the last use of keys whose seed gives none (so they do not expire at once). */
  static fromScenario(section: OkxScenario | undefined, now: number): OkxWorld {
    const world = new OkxWorld();
    for (const account of section?.accounts ?? []) {
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

  /** Revokes a key as a person would on okx.com. */
  uiRevoke(apiKey: string): UiRevokeResult {
    const key = this.okxKeys.get(apiKey);
    if (!key) return { found: false, alreadyRevoked: false };
    if (key.status === "revoked") return { found: true, alreadyRevoked: true };
    key.status = "revoked";
    key.revokedBy = "ui";
    return { found: true, alreadyRevoked: false };
  }

  /** The control API's `GET /state` section: every account and key, secrets left out. */
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
      accounts: this.okxAccounts.map((a) => ({
        uid: a.uid,
        name: a.name,
        region: a.region,
        keys: a.keys.map(okxKey),
        subAccounts: a.subAccounts.map((s) => ({ name: s.name, uid: s.uid, keys: s.keys.map(okxKey) })),
      })),
    };
  }

  /** The "API management" page's rows: master keys, then each sub-account's. */
  uiRows(now: number): UiRow[] {
    return this.okxAccounts.flatMap((a) => [
      ...a.keys.map((k) => {
        this.okxKeyExpired(k, now);
        return {
          owner: `${a.name} (UID ${a.uid}) master`,
          label: k.label,
          apiKey: k.apiKey,
          detail: `${k.perm}; IP ${k.ip.join(",") || "none"}`,
          status: k.status,
        };
      }),
      ...a.subAccounts.flatMap((s) =>
        s.keys.map((k) => {
          this.okxKeyExpired(k, now);
          return {
            owner: `${a.name} / ${s.name}`,
            label: k.label,
            apiKey: k.apiKey,
            detail: `${k.perm}; IP ${k.ip.join(",") || "none"}`,
            status: k.status,
          };
        }),
      ),
    ]);
  }
}

// ---------------------------------------------------------------------------------------------------
// The state file's `okxAccounts` field

const OkxKeyState = z.object({
  apiKey: z.string(),
  secretKey: z.string(),
  passphraseSalt: z.string(),
  passphraseHash: z.string(),
  label: z.string(),
  perm: z.string(),
  ip: z.array(z.string()),
  ts: z.number(),
  demo: z.boolean(),
  frozen: z.boolean(),
  lastUsedAt: z.number(),
  status: z.enum(["active", "revoked"]),
  revokedBy: z.enum(["api", "ui", "expiry"]).optional(),
  unlisted: z.boolean().optional(),
  refusesAuth: z.boolean().optional(),
  region: OkxRegionSchema,
  ownerUid: z.string(),
  masterUid: z.string(),
  subAcct: z.string().nullable(),
});

export const OkxPersisted = z.object({
  okxAccounts: z.array(
    z.object({
      uid: z.string(),
      name: z.string(),
      region: OkxRegionSchema,
      keys: z.array(OkxKeyState),
      subAccounts: z.array(
        z.object({
          name: z.string(),
          uid: z.string(),
          label: z.string(),
          enable: z.boolean(),
          type: z.string(),
          ts: z.number(),
          keys: z.array(OkxKeyState),
        }),
      ),
    }),
  ),
});

export const saveOkx = (world: OkxWorld) => ({ okxAccounts: world.okxAccounts });

export function restoreOkx(data: Record<string, unknown>): OkxWorld {
  const { okxAccounts } = data as z.output<typeof OkxPersisted>;
  const world = new OkxWorld();
  world.okxAccounts = okxAccounts;
  for (const account of world.okxAccounts) {
    for (const key of [...account.keys, ...account.subAccounts.flatMap((s) => s.keys)])
      world.okxKeys.set(key.apiKey, key);
  }
  return world;
}
