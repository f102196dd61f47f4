/**
 * The scenario file's `bybit` section: master accounts, their own keys and their sub-members' keys.
 * Field names mirror Bybit v5's own (`note`, `readOnly` 0/1, `ips`, the `permissions` groups) so a fixture
 * reads like the API's answers (docs/exchanges/bybit.md#scenario-section).
 */
import { z } from "zod";
import type { ScenarioRules } from "../exchange-module.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { ScenarioDateTime } from "../scenario-kit.js";

/** The permission groups Bybit's key objects carry (https://bybit-exchange.github.io/docs/v5/user/apikey-info). */
export const BYBIT_PERMISSION_GROUPS = [
  "ContractTrade",
  "Spot",
  "Wallet",
  "Options",
  "Derivatives",
  "Exchange",
  "Earn",
  "NFT",
  "BlockTrade",
  "Affiliate",
  "CopyTrading",
] as const;

export const BybitPermissionsSchema = z.partialRecord(
  z.enum(BYBIT_PERMISSION_GROUPS),
  z.array(z.string().min(1)),
);
export type BybitPermissions = z.output<typeof BybitPermissionsSchema>;

/** `["*"]` (or `[]`) is "no IP binding"; otherwise addresses or CIDR ranges. */
export const BybitIpsSchema = z
  .array(z.string())
  .refine((ips) => (ips.length === 1 && ips[0] === "*") || ips.every(isIpOrCidr), {
    message: 'expected ["*"] or a list of IPv4/IPv6 addresses or CIDR ranges',
  });

export const BybitKeySchema = z.strictObject({
  apiKey: z.string().min(1),
  secret: z.string().min(1),
  note: z.string().default(""),
  readOnly: z.union([z.literal(0), z.literal(1)]),
  ips: BybitIpsSchema.default(["*"]),
  permissions: BybitPermissionsSchema.default({}),
  /** ISO, or relative to loading (`now-80d`: scenario-kit's ScenarioDateTime). */
  createdAt: ScenarioDateTime,
  /**
   * When the key stops working. Absent: 90 days after `createdAt` for a key without an IP binding, never
   * for an IP-bound one; set it to model a password change (docs/exchanges/bybit.md#key-expiry).
   */
  expiredAt: ScenarioDateTime.optional(),
});

const uid = z.string().regex(/^\d{1,20}$/, { message: "expected a numeric UID as a string" });

export const BybitSubMemberSchema = z.strictObject({
  uid,
  username: z.string().min(1),
  /** 1 normal sub-account, 6 custodial sub-account. */
  memberType: z.union([z.literal(1), z.literal(6)]).default(1),
  /** 1 normal, 2 login banned, 4 frozen. */
  status: z.union([z.literal(1), z.literal(2), z.literal(4)]).default(1),
  keys: z.array(BybitKeySchema).default([]),
});

export const BybitMasterSchema = z.strictObject({
  uid,
  username: z.string().min(1),
  /** The master account's own keys; no API lists them (each key sees only itself through query-api). */
  keys: z.array(BybitKeySchema).default([]),
  subMembers: z.array(BybitSubMemberSchema).default([]),
});

export const BybitScenarioSchema = z.strictObject({ masters: z.array(BybitMasterSchema).default([]) });
export type BybitScenario = z.output<typeof BybitScenarioSchema>;
export type BybitKeySeed = z.output<typeof BybitKeySchema>;

/** Unique UIDs (masters and sub-members) and API keys; no withdraw permission on sub-member keys. */
export function checkBybitScenario(section: BybitScenario, rules: ScenarioRules): void {
  const uids = new Set<string>();
  section.masters.forEach((master, m) => {
    const at = `bybit.masters[${m}]`;
    rules.claim(uids, master.uid, `${at}.uid`, "UID");
    master.keys.forEach((key, k) => {
      rules.claimApiKey(key.apiKey, `${at}.keys[${k}].apiKey`);
    });
    master.subMembers.forEach((sub, s) => {
      rules.claim(uids, sub.uid, `${at}.subMembers[${s}].uid`, "UID");
      sub.keys.forEach((key, k) => {
        const where = `${at}.subMembers[${s}].keys[${k}]`;
        rules.claimApiKey(key.apiKey, `${where}.apiKey`);
        // Bybit offers sub-account keys only AccountTransfer and SubMemberTransferList under Wallet.
        if (key.permissions.Wallet?.includes("Withdraw"))
          rules.fail(`${where}.permissions.Wallet: a sub-account key cannot withdraw`);
      });
    });
  });
}
