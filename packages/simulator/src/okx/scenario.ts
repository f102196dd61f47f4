/**
 * The scenario file's `okx` section. Field names mirror OKX's own (`perm`/`ip` comma lists, `ts` as
 * epoch-millisecond strings) so a fixture reads like the exchange's API answers.
 */
import { z } from "zod";
import type { ScenarioRules } from "../exchange-module.js";
import { isIpOrCidr as ipOrCidr } from "../ip-whitelist.js";

/** OKX lists IPs as one comma-separated string; "" means "no binding". */
const okxIpList = z.string().refine((s) => s === "" || s.split(",").every((ip) => ipOrCidr(ip.trim())), {
  message: 'expected a comma-separated list of IPv4/IPv6 addresses or CIDR ranges, or ""',
});

export const OKX_PERM_RULE = /^(read_only|trade|withdraw)(,(read_only|trade|withdraw))*$/;

const okxPerm = z.string().regex(OKX_PERM_RULE, {
  message: 'expected a comma-separated list of "read_only", "trade", "withdraw"',
});

const msString = z.string().regex(/^\d{1,16}$/, { message: "expected epoch milliseconds as a string" });

export const OkxKeySchema = z.strictObject({
  apiKey: z.string().min(1),
  secretKey: z.string().min(1),
  passphrase: z.string().min(1),
  label: z.string(),
  perm: okxPerm,
  ip: okxIpList.default(""),
  ts: msString,
  /** Demo-trading key: only valid with the `x-simulated-trading: 1` header. */
  demo: z.boolean().default(false),
  /** Frozen by the exchange: every call answers 50100. */
  frozen: z.boolean().default(false),
  /** Last authenticated use (epoch ms); drives the 14-day idle expiry. Defaults to when the simulator loads it. */
  lastUsedAt: msString.optional(),
});

const subAcctName = z
  .string()
  .regex(/^[A-Za-z0-9]{6,20}$/, { message: "expected 6-20 letters or digits (OKX sub-account name rule)" });

export const OkxSubAccountSchema = z.strictObject({
  name: subAcctName,
  uid: z.string().regex(/^\d+$/, { message: "expected a numeric UID string" }),
  label: z.string().default(""),
  enable: z.boolean().default(true),
  type: z.enum(["1", "2", "5", "9", "12"]).default("1"),
  ts: msString.optional(),
  keys: z.array(OkxKeySchema).default([]),
});

/** The regional hosts: www.okx.com, eea.okx.com, us.okx.com; each gets its own listener. */
export const OKX_REGIONS = ["www", "eea", "us"] as const;
export const OkxRegionSchema = z.enum(OKX_REGIONS);
export type OkxRegion = z.infer<typeof OkxRegionSchema>;

export const OkxAccountSchema = z.strictObject({
  uid: z.string().regex(/^\d+$/, { message: "expected a numeric UID string" }),
  name: z.string().min(1),
  /** Which OKX host the account lives on (www.okx.com, eea.okx.com, us.okx.com). */
  region: OkxRegionSchema.default("www"),
  /** The account's own keys are its master keys. */
  keys: z.array(OkxKeySchema).default([]),
  subAccounts: z.array(OkxSubAccountSchema).default([]),
});

export const OkxScenarioSchema = z.strictObject({ accounts: z.array(OkxAccountSchema).default([]) });
export type OkxScenario = z.output<typeof OkxScenarioSchema>;
export type OkxKeySeed = z.output<typeof OkxKeySchema>;

/**
 * Unique UIDs (masters and subs alike), sub-account names, and labels per sub-account; no sub-account
 * key may withdraw.
 */
export function checkOkxScenario(section: OkxScenario, rules: ScenarioRules): void {
  const seenUids = new Set<string>();
  section.accounts.forEach((account, a) => {
    const at = `okx.accounts[${a}]`;
    rules.claim(seenUids, account.uid, `${at}.uid`, "uid");
    account.keys.forEach((key, k) => {
      rules.claimApiKey(key.apiKey, `${at}.keys[${k}].apiKey`);
    });
    const subNames = new Set<string>();
    account.subAccounts.forEach((sub, s) => {
      const subAt = `${at}.subAccounts[${s}]`;
      rules.claim(seenUids, sub.uid, `${subAt}.uid`, "uid");
      rules.claim(subNames, sub.name, `${subAt}.name`, "sub-account name");
      const labels = new Set<string>();
      sub.keys.forEach((key, k) => {
        rules.claimApiKey(key.apiKey, `${subAt}.keys[${k}].apiKey`);
        rules.claim(labels, key.label, `${subAt}.keys[${k}].label`, "label in this sub-account");
        if (key.perm.split(",").includes("withdraw")) {
          rules.fail(`${subAt}.keys[${k}].perm: sub-account keys cannot withdraw (OKX 59504)`);
        }
      });
    });
  });
}
