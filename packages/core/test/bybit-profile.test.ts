/**
 * Bybit's facts as the generic code reads them from its profile, through core's public functions:
 * risk flags (expiry within 14 days), account health (master or not, the managing permissions Bybit
 * requires), the revoke plan (the account's own key last, by API; other master keys tracked, by hand),
 * and account regions (testnet). The adapter's HTTP behaviour is tested against the simulator in
 * bybit.conformance.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  AccountSchema,
  accountHealth,
  exchangeProfile,
  type KeyRecord,
  planRevoke,
  risksOf,
} from "../src/index.js";

const DAY = 86_400_000;

const key = (n: number, over: Partial<KeyRecord> = {}): KeyRecord => ({
  id: `bybit:desk:sub${n}:k${n}`,
  exchange: "bybit",
  account: "desk",
  subAccount: `sub${n}`,
  apiKey: `bybit-key-${n}`,
  label: `bot-${n}`,
  permissions: ["read", "trade"],
  rawPermissions: "rw|Spot:SpotTrade",
  ip: ["10.0.0.1"],
  createdAt: new Date().toISOString(),
  expiresAt: null,
  location: "sub-account",
  actions: { revoke: "api", create: "api" },
  probeable: false,
  state: "active",
  meta: { uid: `90${n}` },
  ...over,
});

describe("Bybit profile, read by core", () => {
  it("flags a key expiring within 14 days, not one expiring later or without a date", () => {
    const soon = key(1, {
      ip: [],
      meta: { uid: "901" },
      expiresAt: new Date(Date.now() + 5 * DAY).toISOString(),
    });
    const later = key(2, {
      ip: [],
      meta: { uid: "902" },
      expiresAt: new Date(Date.now() + 60 * DAY).toISOString(),
    });
    expect(risksOf(soon, { maxKeyAgeDays: 90 })).toEqual(["no-ip", "bybit-expires-soon"]);
    expect(risksOf(later, { maxKeyAgeDays: 90 })).toEqual(["no-ip"]);
    expect(risksOf(key(3), { maxKeyAgeDays: 90 })).toEqual([]);
  });

  it("rotation plans note the expiry from expiresAt; a date left in meta by an older version is not read", () => {
    const profile = exchangeProfile("bybit");
    const soon = key(4, { ip: [], expiresAt: new Date(Date.now() + 5.5 * DAY).toISOString() });
    expect(profile.planNotes?.(soon)).toEqual(["Bybit expires this key in 5 days"]);
    expect(profile.planNotes?.(key(5, { expiresAt: new Date(Date.now() + 60 * DAY).toISOString() }))).toEqual(
      [],
    );
    const legacy = key(6, {
      ip: [],
      meta: { uid: "906", expiredAt: new Date(Date.now() + DAY).toISOString() },
    });
    expect(risksOf(legacy, { maxKeyAgeDays: 90 })).toEqual(["no-ip"]);
  });

  it("account health: a sub-account key is not a master; a master without transfer or withdraw cannot manage keys", () => {
    const alive = {
      status: "alive" as const,
      permissions: ["read", "trade"] as KeyRecord["permissions"],
      rawPermissions: "rw|Spot:SpotTrade",
      ip: ["10.0.0.1"],
      evidence: "probe",
    };
    const sub = accountHealth("bybit", { ...alive, accountId: "901", masterId: "900" });
    expect(sub.master).toBe(false);
    expect(sub.warnings.join("\n")).toMatch(/not a master-account key/);
    const master = accountHealth("bybit", { ...alive, accountId: "900", masterId: "900" });
    expect(master.master).toBe(true);
    expect(master.warnings.join("\n")).toMatch(/Account Transfer, Subaccount Transfer or Withdrawal/);
    const manager = accountHealth("bybit", {
      ...alive,
      permissions: ["read", "transfer"],
      accountId: "900",
      masterId: "900",
    });
    expect(manager.warnings).toEqual([]);
    const unbound = accountHealth("bybit", {
      ...alive,
      ip: [],
      permissions: ["read", "transfer"],
      accountId: "900",
      masterId: "900",
    });
    expect(unbound.warnings.join("\n")).toMatch(/90 days/);
    // A read-only master holding a transfer grant still cannot manage keys: the warning says what to change.
    const readOnly = accountHealth("bybit", {
      ...alive,
      permissions: ["read"],
      rawPermissions: "ro|Wallet:AccountTransfer",
      accountId: "900",
      masterId: "900",
    });
    expect(readOnly.warnings.join("\n")).toMatch(/the key is Read-Only: .*edit it to Read-Write/);
  });

  it("the create steps name the exact grants to tick, as Bybit's form does, not the normalised permissions", () => {
    const profile = exchangeProfile("bybit");
    expect(
      profile.describePermissions(
        ["read", "trade", "transfer"],
        "rw|ContractTrade:Order,Position;Wallet:AccountTransfer",
      ),
    ).toBe("Read-Write; Contract: Order, Position; Wallet: Account Transfer");
    expect(profile.describePermissions(["read"], "ro|Spot:SpotTrade")).toBe("Read-Only; Spot: Spot Trade");
  });

  it("revoke plan: the account's own master key by API, last in its account; a tracked master key by hand", () => {
    const own = key(0, {
      id: "bybit:desk:-:own",
      subAccount: null,
      apiKey: "own-master",
      location: "master",
      actions: { revoke: "api", create: "manual" },
    });
    const tracked = key(9, {
      id: "bybit:desk:-:other",
      subAccount: null,
      apiKey: "other-master",
      location: "tracked",
      actions: { revoke: "manual", create: "manual" },
    });
    const plan = planRevoke([own, key(1), tracked, key(2)], {
      accountKeys: new Map([["desk", "own-master"]]),
      named: ["own-master"],
    });
    expect(plan.items.at(-1)?.key.apiKey).toBe("own-master");
    expect(plan.items.at(-1)?.method).toBe("api");
    expect(plan.items.find((i) => i.key.apiKey === "other-master")?.method).toBe("manual");
    expect(plan.warnings.join("\n")).toMatch(/Keyward loses access to desk/);
    // Not named (or no names given at all): held back, so no caller ends Keyward's access by omission.
    const unnamed = planRevoke([own, key(1)], { accountKeys: new Map([["desk", "own-master"]]) });
    expect(unnamed.items.map((i) => i.key.apiKey)).toEqual(["bybit-key-1"]);
    expect(unnamed.heldBack.map((h) => h.key.apiKey)).toEqual(["own-master"]);
  });

  it("testnet is a region; an unknown region is refused", () => {
    const base = { name: "desk", exchange: "bybit", credentialsRef: "desk" };
    expect(AccountSchema.safeParse({ ...base, region: "testnet" }).success).toBe(true);
    expect(AccountSchema.safeParse({ ...base, region: "mars" }).success).toBe(false);
  });
});
