/**
 * The simulated Bitfinex's state: users, their keys (with the highest nonce each has used) and the auth
 * tokens made from them. Seeded from the scenario's `bitfinex` section, saved in and restored from the
 * state file.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { UiRevokeResult, UiRow } from "../exchange-module.js";
import type { BitfinexScenario } from "./scenario.js";

export type BitfinexPermission = [scope: string, read: 0 | 1, write: 0 | 1];

export interface BitfinexKey {
  apiKey: string;
  apiSecret: string;
  label: string;
  permissions: BitfinexPermission[];
  ip: string[];
  createdAt: string;
  status: "active" | "revoked";
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

export class BitfinexWorld {
  bitfinexUsers: BitfinexUser[] = [];
  readonly bitfinexKeys = new Map<string, BitfinexKey>();
  readonly bitfinexTokens = new Map<string, BitfinexToken>();

  static fromScenario(section: BitfinexScenario | undefined): BitfinexWorld {
    const world = new BitfinexWorld();
    for (const user of section?.users ?? []) {
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

  bitfinexUser(id: number): BitfinexUser | undefined {
    return this.bitfinexUsers.find((u) => u.id === id);
  }

  /** Revokes a key as a person would on bitfinex.com. */
  uiRevoke(apiKey: string): UiRevokeResult {
    const key = this.bitfinexKeys.get(apiKey);
    if (!key) return { found: false, alreadyRevoked: false };
    if (key.status === "revoked") return { found: true, alreadyRevoked: true };
    key.status = "revoked";
    this.#dropTokensOf(apiKey);
    return { found: true, alreadyRevoked: false };
  }

  #dropTokensOf(apiKey: string): void {
    // Sim choice: revoking a key kills the tokens made with it
    // (docs/exchanges/bitfinex.md#where-the-exchange-is-silent-what-keyward-and-the-simulator-assume).
    for (const [token, t] of this.bitfinexTokens) if (t.apiKey === apiKey) this.bitfinexTokens.delete(token);
  }

  /** The control API's `GET /state` section: every user and key, secrets left out. */
  view() {
    return {
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
    };
  }

  /** The "API Keys" page's rows. */
  uiRows(): UiRow[] {
    return this.bitfinexUsers.flatMap((u) =>
      u.keys.map((k) => ({
        owner: `${u.email} (ID ${u.id})`,
        label: k.label,
        apiKey: k.apiKey,
        detail: k.permissions
          .filter((p) => p[1] || p[2])
          .map((p) => `${p[0]}:${p[2] ? "rw" : "r"}`)
          .join(" "),
        status: k.status,
      })),
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// The state file's `bitfinexUsers` and `bitfinexTokens` fields

const bit = z.union([z.literal(0), z.literal(1)]);

export const BitfinexPersisted = z.object({
  bitfinexUsers: z.array(
    z.object({
      id: z.number(),
      email: z.string(),
      username: z.string(),
      keys: z.array(
        z.object({
          apiKey: z.string(),
          apiSecret: z.string(),
          label: z.string(),
          permissions: z.array(z.tuple([z.string(), bit, bit])),
          ip: z.array(z.string()),
          createdAt: z.string(),
          status: z.enum(["active", "revoked"]),
          userId: z.number(),
          lastNonce: z
            .string()
            .regex(/^\d+$/)
            .transform((s) => BigInt(s)),
        }),
      ),
    }),
  ),
  bitfinexTokens: z.array(
    z.object({
      token: z.string(),
      apiKey: z.string(),
      expiresAt: z.number(),
      caps: z.array(z.string()),
      writePermission: z.boolean(),
    }),
  ),
});

/** BigInt nonces are written as decimal strings by the state file's serialiser. */
export const saveBitfinex = (world: BitfinexWorld) => ({
  bitfinexUsers: world.bitfinexUsers,
  bitfinexTokens: [...world.bitfinexTokens.values()],
});

export function restoreBitfinex(data: Record<string, unknown>): BitfinexWorld {
  const { bitfinexUsers, bitfinexTokens } = data as z.output<typeof BitfinexPersisted>;
  const world = new BitfinexWorld();
  world.bitfinexUsers = bitfinexUsers;
  for (const user of world.bitfinexUsers)
    for (const key of user.keys) world.bitfinexKeys.set(key.apiKey, key);
  for (const token of bitfinexTokens) world.bitfinexTokens.set(token.token, token);
  return world;
}
