/**
 * The scenario file's `bitfinex` section: users and their keys. Permissions are Bitfinex's own
 * `[scope, read, write]` triples, so a fixture reads like the exchange's API answers.
 */
import { z } from "zod";
import type { ScenarioRules } from "../exchange-module.js";
import { isIpOrCidr as ipOrCidr } from "../ip-whitelist.js";

const bit = z.union([z.literal(0), z.literal(1)]);

export const BitfinexKeySchema = z.strictObject({
  apiKey: z.string().min(1),
  apiSecret: z.string().min(1),
  label: z.string(),
  permissions: z.array(z.tuple([z.string().min(1), bit, bit])),
  ip: z
    .array(z.string().refine(ipOrCidr, { message: "expected an IPv4/IPv6 address or CIDR range" }))
    .default([]),
  createdAt: z.iso.datetime(),
  /** Highest nonce the exchange has seen for this key (as a decimal string), e.g. after µs-nonce clients. */
  lastNonce: z.string().regex(/^\d+$/).optional(),
});

export const BitfinexUserSchema = z.strictObject({
  id: z.number().int().positive(),
  email: z.email(),
  username: z.string().optional(),
  keys: z.array(BitfinexKeySchema).default([]),
});

export const BitfinexScenarioSchema = z.strictObject({ users: z.array(BitfinexUserSchema).default([]) });
export type BitfinexScenario = z.output<typeof BitfinexScenarioSchema>;
export type BitfinexKeySeed = z.output<typeof BitfinexKeySchema>;

/** Unique user ids. */
export function checkBitfinexScenario(section: BitfinexScenario, rules: ScenarioRules): void {
  const seenUsers = new Set<string>();
  section.users.forEach((user, u) => {
    rules.claim(seenUsers, String(user.id), `bitfinex.users[${u}].id`, "user id");
    user.keys.forEach((key, k) => {
      rules.claimApiKey(key.apiKey, `bitfinex.users[${u}].keys[${k}].apiKey`);
    });
  });
}
