/**
 * The simulated Bybit's state: master accounts, their own keys, their sub-members and the sub-members'
 * keys. Seeded from the scenario's `bybit` section, saved in and restored from the state file.
 */
import { randomBytes, randomInt } from "node:crypto";
import { z } from "zod";
import type { UiRevokeResult, UiRow } from "../exchange-module.js";
import {
  BYBIT_PERMISSION_GROUPS,
  type BybitKeySeed,
  type BybitPermissions,
  type BybitScenario,
} from "./scenario.js";

const DAY_MS = 86_400_000;
/** Keys without an IP binding stop working 90 days after they are made (docs/exchanges/bybit.md#key-expiry). */
export const BYBIT_UNBOUND_KEY_LIFETIME_MS = 90 * DAY_MS;

export interface BybitKey {
  /** Bybit's internal id of the key (a number as a string). */
  id: string;
  apiKey: string;
  secret: string;
  note: string;
  readOnly: 0 | 1;
  /** Bound addresses; empty = no binding (Bybit shows `["*"]`). */
  ips: string[];
  permissions: BybitPermissions;
  createdAt: number;
  /** Epoch ms after which the key no longer authenticates; null = never. */
  expiredAt: number | null;
  status: "active" | "revoked";
  /** The UID the key belongs to (the master's or a sub-member's). */
  ownerUid: string;
  masterUid: string;
  isMaster: boolean;
}

export interface BybitSubMember {
  uid: string;
  username: string;
  memberType: 1 | 6;
  status: 1 | 2 | 4;
  keys: BybitKey[];
}

export interface BybitMaster {
  uid: string;
  username: string;
  keys: BybitKey[];
  subMembers: BybitSubMember[];
}

/** Bybit API keys are 18 characters and secrets 36 (as in the docs' examples). */
export const newBybitCredentials = () => ({
  apiKey: randomBytes(18).toString("base64url").replace(/[-_]/g, "x").slice(0, 18),
  secret: randomBytes(36).toString("base64url").replace(/[-_]/g, "y").slice(0, 36),
});

export const newBybitKeyId = (): string => String(randomInt(100_000, 2_000_000_000));

/** No binding: the expiry Bybit gives a key made now (null when bound to IPs). */
export const unboundExpiry = (ips: readonly string[], from: number): number | null =>
  ips.length === 0 ? from + BYBIT_UNBOUND_KEY_LIFETIME_MS : null;

/** `["*"]` and `[]` both mean "no binding". */
export const normaliseIps = (ips: readonly string[]): string[] =>
  ips.filter((ip) => ip !== "*" && ip.trim() !== "").map((ip) => ip.trim());

/** Every group present, as Bybit's answers list them (missing ones as []). */
export const fullPermissions = (p: BybitPermissions): Record<string, string[]> =>
  Object.fromEntries(BYBIT_PERMISSION_GROUPS.map((g) => [g, [...(p[g] ?? [])]]));

/** Keys that may call create/update/delete (https://bybit-exchange.github.io/docs/v5/user/create-subuid-apikey). */
export const canManageKeys = (key: BybitKey): boolean => {
  const wallet = key.permissions.Wallet ?? [];
  const allowed = key.isMaster
    ? ["AccountTransfer", "SubMemberTransfer", "Withdraw"]
    : ["AccountTransfer", "SubMemberTransfer"];
  return wallet.some((p) => allowed.includes(p));
};

function keyFromSeed(seed: BybitKeySeed, ownerUid: string, masterUid: string, isMaster: boolean): BybitKey {
  const ips = normaliseIps(seed.ips);
  const createdAt = Date.parse(seed.createdAt);
  return {
    id: newBybitKeyId(),
    apiKey: seed.apiKey,
    secret: seed.secret,
    note: seed.note,
    readOnly: seed.readOnly,
    ips,
    permissions: seed.permissions,
    createdAt,
    expiredAt: seed.expiredAt ? Date.parse(seed.expiredAt) : unboundExpiry(ips, createdAt),
    status: "active",
    ownerUid,
    masterUid,
    isMaster,
  };
}

export class BybitWorld {
  bybitMasters: BybitMaster[] = [];
  readonly bybitKeys = new Map<string, BybitKey>();

  static fromScenario(section: BybitScenario | undefined): BybitWorld {
    const world = new BybitWorld();
    for (const m of section?.masters ?? []) {
      const master: BybitMaster = {
        uid: m.uid,
        username: m.username,
        keys: m.keys.map((k) => keyFromSeed(k, m.uid, m.uid, true)),
        subMembers: m.subMembers.map((s) => ({
          uid: s.uid,
          username: s.username,
          memberType: s.memberType,
          status: s.status,
          keys: s.keys.map((k) => keyFromSeed(k, s.uid, m.uid, false)),
        })),
      };
      world.bybitMasters.push(master);
    }
    world.reindex();
    return world;
  }

  reindex(): void {
    this.bybitKeys.clear();
    for (const m of this.bybitMasters) {
      for (const k of m.keys) this.bybitKeys.set(k.apiKey, k);
      for (const s of m.subMembers) for (const k of s.keys) this.bybitKeys.set(k.apiKey, k);
    }
  }

  master(uid: string): BybitMaster | undefined {
    return this.bybitMasters.find((m) => m.uid === uid);
  }

  subMember(masterUid: string, uid: string): BybitSubMember | undefined {
    return this.master(masterUid)?.subMembers.find((s) => s.uid === uid);
  }

  expired(key: BybitKey, now: number): boolean {
    return key.expiredAt !== null && now >= key.expiredAt;
  }

  /** Revokes a key as a person would on bybit.com's "API Management" page. */
  uiRevoke(apiKey: string): UiRevokeResult {
    const key = this.bybitKeys.get(apiKey);
    if (!key) return { found: false, alreadyRevoked: false };
    if (key.status === "revoked") return { found: true, alreadyRevoked: true };
    key.status = "revoked";
    return { found: true, alreadyRevoked: false };
  }

  #keyView(k: BybitKey, now: number) {
    return {
      apiKey: k.apiKey,
      note: k.note,
      // Expired keys are listed as revoked: they no longer authenticate.
      status: k.status === "active" && !this.expired(k, now) ? "active" : "revoked",
      readOnly: k.readOnly,
      ips: k.ips.length ? k.ips : ["*"],
      permissions: fullPermissions(k.permissions),
      createdAt: new Date(k.createdAt).toISOString(),
      expiredAt: k.expiredAt === null ? null : new Date(k.expiredAt).toISOString(),
    };
  }

  /** The control API's `GET /state` section: every master, sub-member and key, secrets left out. */
  view(now: number) {
    return {
      masters: this.bybitMasters.map((m) => ({
        uid: m.uid,
        username: m.username,
        keys: m.keys.map((k) => this.#keyView(k, now)),
        subMembers: m.subMembers.map((s) => ({
          uid: s.uid,
          username: s.username,
          memberType: s.memberType,
          status: s.status,
          keys: s.keys.map((k) => this.#keyView(k, now)),
        })),
      })),
    };
  }

  /** The "API Management" page's rows. */
  uiRows(now: number): UiRow[] {
    const row = (owner: string, k: BybitKey): UiRow => ({
      owner,
      label: k.note,
      apiKey: k.apiKey,
      detail: [
        k.readOnly ? "read-only" : "read-write",
        ...Object.entries(k.permissions).flatMap(([g, ps]) => (ps ?? []).map((p) => `${g}:${p}`)),
        k.ips.length ? `IPs ${k.ips.join(",")}` : "no IP binding",
      ].join(" "),
      status: k.status === "active" && !this.expired(k, now) ? "active" : "revoked",
    });
    return this.bybitMasters.flatMap((m) => [
      ...m.keys.map((k) => row(`${m.username} (UID ${m.uid})`, k)),
      ...m.subMembers.flatMap((s) =>
        s.keys.map((k) => row(`${s.username} (UID ${s.uid}, sub of ${m.uid})`, k)),
      ),
    ]);
  }
}

// ---------------------------------------------------------------------------------------------------
// The state file's `bybitMasters` field

const PersistedKey = z.object({
  id: z.string(),
  apiKey: z.string(),
  secret: z.string(),
  note: z.string(),
  readOnly: z.union([z.literal(0), z.literal(1)]),
  ips: z.array(z.string()),
  permissions: z.record(z.string(), z.array(z.string())),
  createdAt: z.number(),
  expiredAt: z.number().nullable(),
  status: z.enum(["active", "revoked"]),
  ownerUid: z.string(),
  masterUid: z.string(),
  isMaster: z.boolean(),
});

export const BybitPersisted = z.object({
  bybitMasters: z
    .array(
      z.object({
        uid: z.string(),
        username: z.string(),
        keys: z.array(PersistedKey),
        subMembers: z.array(
          z.object({
            uid: z.string(),
            username: z.string(),
            memberType: z.union([z.literal(1), z.literal(6)]),
            status: z.union([z.literal(1), z.literal(2), z.literal(4)]),
            keys: z.array(PersistedKey),
          }),
        ),
      }),
    )
    // State files written before Bybit existed have no such field.
    .default([]),
});

export const saveBybit = (world: BybitWorld) => ({ bybitMasters: world.bybitMasters });

export function restoreBybit(data: Record<string, unknown>): BybitWorld {
  const { bybitMasters } = data as z.output<typeof BybitPersisted>;
  const world = new BybitWorld();
  world.bybitMasters = bybitMasters as BybitMaster[];
  world.reindex();
  return world;
}
