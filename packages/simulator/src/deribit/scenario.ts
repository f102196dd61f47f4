/**
 * The scenario file's `deribit` section: accounts (main or sub), each with its two-factor seed and its API
 * keys. Key fields mirror Deribit's key objects (`client_id`, `max_scope`, `ip_whitelist`, …) so a fixture
 * reads like `private/list_api_keys`' answer.
 */
import { z } from "zod";
import type { ScenarioRules } from "../exchange-module.js";
import { isIpOrCidr } from "../ip-whitelist.js";
import { ScenarioDateTime } from "../scenario-kit.js";
import { KEY_NAME, parseScope } from "./scopes.js";
import { isBase32Seed } from "./totp.js";

/** Keys per (sub)account (https://support.deribit.com/hc/en-us/articles/25944603459613). */
export const DERIBIT_MAX_KEYS = 8;

const MaxScope = z.string().superRefine((text, ctx) => {
  const scope = parseScope(text);
  if (typeof scope === "string") ctx.addIssue({ code: "custom", message: scope.replace(/^max_scope: /, "") });
});

/** Epoch ms, or an ISO / `now-<days>d` date-time (scenario-kit), as epoch ms. */
const Timestamp = z.union([
  z.number().int().nonnegative(),
  ScenarioDateTime.transform((iso) => Date.parse(iso)),
]);

export const DeribitKeySchema = z.strictObject({
  id: z.number().int().positive(),
  client_id: z.string().min(1),
  client_secret: z.string().min(1),
  name: z.string().regex(KEY_NAME, { message: "expected at most 16 of A-Z a-z 0-9 _" }).default(""),
  max_scope: MaxScope,
  enabled: z.boolean().default(true),
  ip_whitelist: z
    .array(z.string().refine(isIpOrCidr, { message: "expected an IPv4/IPv6 address or CIDR range" }))
    .default([]),
  /** When the key was made: epoch ms, ISO, or `now-400d`. */
  timestamp: Timestamp,
});

export const DeribitAccountSchema = z.strictObject({
  id: z.number().int().positive(),
  username: z.string().min(1),
  type: z.enum(["main", "subaccount"]).default("main"),
  /** The account's two-factor seed (base32, RFC 4648): the challenge's codes come from it. */
  totpSeed: z
    .string()
    .min(16, { message: "expected a base32 seed of at least 16 characters (80 bits)" })
    .refine(isBase32Seed, { message: "expected base32 (A-Z, 2-7)" }),
  keys: z.array(DeribitKeySchema).default([]),
  /**
   * The account's credit bucket at its first request (then it refills as usual): less than full models
   * bots that already spent the account's credits. Absent: full.
   */
  credits: z.number().int().nonnegative().optional(),
});

export const DeribitScenarioSchema = z.strictObject({ accounts: z.array(DeribitAccountSchema).default([]) });
export type DeribitScenario = z.output<typeof DeribitScenarioSchema>;
export type DeribitKeySeed = z.output<typeof DeribitKeySchema>;

/** Unique account ids and usernames, key ids unique in their account, client ids unique, ≤ 8 keys each. */
export function checkDeribitScenario(section: DeribitScenario, rules: ScenarioRules): void {
  const ids = new Set<string>();
  const usernames = new Set<string>();
  section.accounts.forEach((account, a) => {
    const at = `deribit.accounts[${a}]`;
    rules.claim(ids, String(account.id), `${at}.id`, "account id");
    rules.claim(usernames, account.username, `${at}.username`, "username");
    if (account.keys.length > DERIBIT_MAX_KEYS)
      rules.fail(`${at}.keys: at most ${DERIBIT_MAX_KEYS} keys per account (${account.keys.length} given)`);
    const keyIds = new Set<string>();
    account.keys.forEach((key, k) => {
      rules.claim(keyIds, String(key.id), `${at}.keys[${k}].id`, "key id");
      rules.claimApiKey(key.client_id, `${at}.keys[${k}].client_id`);
    });
  });
}
