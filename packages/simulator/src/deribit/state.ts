/**
 * The simulated Deribit's state: accounts (each with its two-factor seed), their API keys, the access
 * tokens `public/auth` gave out and the open two-factor challenges. Seeded from the scenario's `deribit`
 * section, saved in and restored from the state file (challenges are not: they live a minute).
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { UiRevokeResult, UiRow } from "../exchange-module.js";
import type { UiPanel } from "../ui-pages.js";
import type { DeribitScenario } from "./scenario.js";
import { canonicalScope } from "./scopes.js";
import { TOTP_STEP_MS, totpCode, totpStep } from "./totp.js";

export interface DeribitKey {
  /** Deribit's numeric key id, unique within its account (what every `*_api_key` method takes). */
  id: number;
  clientId: string;
  clientSecret: string;
  name: string;
  /** Canonical (scopes.ts). */
  maxScope: string;
  enabled: boolean;
  /** Empty: no whitelist (any address). */
  ipWhitelist: string[];
  /** Created, epoch ms. */
  timestamp: number;
  enabledFeatures: string[];
  /** Removed (by `remove_api_key` or on the web page): listed nowhere, authenticates never. */
  removed: boolean;
  removedBy?: "api" | "ui";
  /** Bumped by `reset_api_key`: tokens issued under an older secret die with it. */
  secretVersion: number;
  /** Fault (hollow delete, "unlisted"): left out of listings while it still authenticates. */
  unlisted?: boolean;
  /** Fault (flawed create, "not-authenticating"): listed, yet refused as invalid credentials. */
  refusesAuth?: boolean;
}

export interface DeribitAccount {
  id: number;
  username: string;
  type: "main" | "subaccount";
  totpSeed: string;
  keys: DeribitKey[];
  /** The credit bucket's level at the account's first request (the scenario's `credits`); full when absent. */
  startCredits?: number;
}

export interface DeribitToken {
  accessToken: string;
  refreshToken: string;
  accountId: number;
  keyId: number;
  secretVersion: number;
  expiresAt: number;
  refreshExpiresAt: number;
}

export interface DeribitChallenge {
  accountId: number;
  /** `private/<name>`: a challenge answers for the method it was issued for only. */
  method: string;
  expiresAt: number;
}

/** Access tokens live 900 s (public/auth's `expires_in`); refresh tokens a week (UNCONFIRMED). */
export const DERIBIT_TOKEN_TTL_MS = 900_000;
export const DERIBIT_REFRESH_TTL_MS = 7 * 86_400_000;

/**
 * Client ids are 8 letters and digits, secrets 43 base64url characters, `-` and `_` included, as in
 * Deribit's docs' examples (docs/exchanges/deribit.md#key-formats-what-leaks-look-like).
 */
export const newDeribitCredentials = () => ({
  clientId: randomBytes(8).toString("base64url").replace(/[-_]/g, "x").slice(0, 8),
  clientSecret: randomBytes(32).toString("base64url"),
});

/** Tokens as Deribit spells them: `<ms>.<random>`. */
export const newToken = (now: number): string => `${now}.${randomBytes(24).toString("base64url")}`;

export const keyStatus = (k: DeribitKey): "active" | "disabled" | "revoked" =>
  k.removed ? "revoked" : k.enabled ? "active" : "disabled";

export class DeribitWorld {
  deribitAccounts: DeribitAccount[] = [];
  tokens = new Map<string, DeribitToken>();
  readonly challenges = new Map<string, DeribitChallenge>();

  static fromScenario(section: DeribitScenario | undefined): DeribitWorld {
    const world = new DeribitWorld();
    world.deribitAccounts = (section?.accounts ?? []).map((a) => ({
      id: a.id,
      username: a.username,
      type: a.type,
      totpSeed: a.totpSeed.toUpperCase(),
      ...(a.credits === undefined ? {} : { startCredits: a.credits }),
      keys: a.keys.map((k) => ({
        id: k.id,
        clientId: k.client_id,
        clientSecret: k.client_secret,
        name: k.name,
        maxScope: canonicalScope(k.max_scope),
        enabled: k.enabled,
        ipWhitelist: [...k.ip_whitelist],
        timestamp: k.timestamp,
        enabledFeatures: [],
        removed: false,
        secretVersion: 0,
      })),
    }));
    return world;
  }

  /** The key with this client id and the account it belongs to (removed keys included). */
  byClientId(clientId: string): { account: DeribitAccount; key: DeribitKey } | undefined {
    for (const account of this.deribitAccounts) {
      const key = account.keys.find((k) => k.clientId === clientId);
      if (key) return { account, key };
    }
    return undefined;
  }

  account(id: number): DeribitAccount | undefined {
    return this.deribitAccounts.find((a) => a.id === id);
  }

  /** A live (not removed) key of `account` by its id. */
  liveKey(account: DeribitAccount, id: number): DeribitKey | undefined {
    return account.keys.find((k) => k.id === id && !k.removed);
  }

  /** Every token of a key dies (remove, reset, disable). */
  dropTokens(accountId: number, keyId: number): void {
    for (const [token, t] of this.tokens) {
      if (t.accountId === accountId && t.keyId === keyId) this.tokens.delete(token);
    }
  }

  /** Removes a key as a person would on deribit.com's API page. */
  uiRevoke(clientId: string): UiRevokeResult {
    const found = this.byClientId(clientId);
    if (!found) return { found: false, alreadyRevoked: false };
    if (found.key.removed) return { found: true, alreadyRevoked: true };
    found.key.removed = true;
    found.key.removedBy = "ui";
    this.dropTokens(found.account.id, found.key.id);
    return { found: true, alreadyRevoked: false };
  }

  /** The authenticator's current code for an account (the control API, the stand-in page). */
  totp(account: DeribitAccount, now: number) {
    const step = totpStep(now);
    return {
      username: account.username,
      accountId: account.id,
      code: totpCode(account.totpSeed, now),
      validForMs: (step + 1) * TOTP_STEP_MS - now,
    };
  }

  /** The control API's `GET /state` section: every account and key, no secret, no seed. */
  view(_now: number) {
    return {
      accounts: this.deribitAccounts.map((a) => ({
        id: a.id,
        username: a.username,
        type: a.type,
        keys: a.keys.map((k) => ({
          id: k.id,
          apiKey: k.clientId,
          name: k.name,
          max_scope: k.maxScope,
          ip_whitelist: [...k.ipWhitelist],
          enabled: k.enabled,
          timestamp: k.timestamp,
          status: keyStatus(k),
          ...(k.removedBy ? { removedBy: k.removedBy } : {}),
          ...(k.unlisted ? { unlisted: true } : {}),
          ...(k.refusesAuth ? { refusesAuth: true } : {}),
        })),
      })),
    };
  }

  /** The API page's rows. */
  uiRows(_now: number): UiRow[] {
    return this.deribitAccounts.flatMap((a) =>
      a.keys.map((k) => ({
        owner: `${a.username} (id ${a.id}, ${a.type})`,
        label: k.name,
        apiKey: k.clientId,
        detail: [
          k.maxScope,
          k.ipWhitelist.length ? `IPs ${k.ipWhitelist.join(",")}` : "no IP whitelist",
          ...(k.enabled || k.removed ? [] : ["(disabled)"]),
        ].join(" "),
        status: keyStatus(k),
      })),
    );
  }

  /**
   * The simulator-only authenticator beside the API page: each account's current code, so a person in a
   * demo can answer the challenge Keyward asks them for.
   */
  uiPanel(now: number): UiPanel {
    return {
      title: "Authenticator (simulator only — not part of Deribit)",
      note: "The two-factor code of each simulated account, as an authenticator app would show it. It changes every 30 s.",
      items: this.deribitAccounts.map((a) => {
        const t = this.totp(a, now);
        return {
          label: `${a.username} (id ${a.id})`,
          value: `${t.code} (${Math.ceil(t.validForMs / 1000)} s left)`,
        };
      }),
    };
  }
}

// ---------------------------------------------------------------------------------------------------
// The state file's `deribitAccounts` and `deribitTokens` fields

const PersistedKey = z.object({
  id: z.number(),
  clientId: z.string(),
  clientSecret: z.string(),
  name: z.string(),
  maxScope: z.string(),
  enabled: z.boolean(),
  ipWhitelist: z.array(z.string()),
  timestamp: z.number(),
  enabledFeatures: z.array(z.string()),
  removed: z.boolean(),
  removedBy: z.enum(["api", "ui"]).optional(),
  secretVersion: z.number(),
  unlisted: z.boolean().optional(),
  refusesAuth: z.boolean().optional(),
});

export const DeribitPersisted = z.object({
  deribitAccounts: z
    .array(
      z.object({
        id: z.number(),
        username: z.string(),
        type: z.enum(["main", "subaccount"]),
        totpSeed: z.string(),
        keys: z.array(PersistedKey),
        startCredits: z.number().optional(),
      }),
    )
    // State files written before Deribit existed have no such field.
    .default([]),
  deribitTokens: z
    .array(
      z.object({
        accessToken: z.string(),
        refreshToken: z.string(),
        accountId: z.number(),
        keyId: z.number(),
        secretVersion: z.number(),
        expiresAt: z.number(),
        refreshExpiresAt: z.number(),
      }),
    )
    .default([]),
});

export const saveDeribit = (world: DeribitWorld) => ({
  deribitAccounts: world.deribitAccounts,
  deribitTokens: [...world.tokens.values()],
});

export function restoreDeribit(data: Record<string, unknown>): DeribitWorld {
  const { deribitAccounts, deribitTokens } = data as z.output<typeof DeribitPersisted>;
  const world = new DeribitWorld();
  world.deribitAccounts = deribitAccounts as DeribitAccount[];
  world.tokens = new Map(deribitTokens.map((t) => [t.accessToken, t]));
  return world;
}
