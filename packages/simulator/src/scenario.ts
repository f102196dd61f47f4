/**
 * The scenario file: the whole simulated world (accounts, sub-accounts, keys) as JSON.
 * Field names mirror the exchanges' own (OKX `perm`/`ip` comma lists, Bitfinex `[scope, read, write]`
 * permission triples) so a fixture reads like the exchanges' API answers.
 */
import { z } from "zod";
import { isIpOrCidr as ipOrCidr } from "./ip-whitelist.js";

/** OKX lists IPs as one comma-separated string; "" means "no binding". */
const okxIpList = z.string().refine((s) => s === "" || s.split(",").every((ip) => ipOrCidr(ip.trim())), {
  message: 'expected a comma-separated list of IPv4/IPv6 addresses or CIDR ranges, or ""',
});

const okxPerm = z.string().regex(/^(read_only|trade|withdraw)(,(read_only|trade|withdraw))*$/, {
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

export const OkxRegionSchema = z.enum(["www", "eea", "us"]);
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

export const ScenarioSchema = z.strictObject({
  okx: z.strictObject({ accounts: z.array(OkxAccountSchema).default([]) }).optional(),
  bitfinex: z.strictObject({ users: z.array(BitfinexUserSchema).default([]) }).optional(),
});

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.output<typeof ScenarioSchema>;
export type OkxKeySeed = z.output<typeof OkxKeySchema>;
export type BitfinexKeySeed = z.output<typeof BitfinexKeySchema>;

export class ScenarioError extends Error {
  override readonly name = "ScenarioError";
}

/** `okx.accounts[0].keys[1].secretKey` from a zod issue path. */
export const formatIssuePath = (path: readonly PropertyKey[]): string =>
  path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`))
    .join("") || "(root)";

export const formatZodError = (error: z.ZodError): string =>
  error.issues.map((issue) => `${formatIssuePath(issue.path)}: ${issue.message}`).join("; ");

/** Validates a scenario, then checks the rules a schema cannot express (unique ids and labels). */
export function parseScenario(input: unknown): Scenario {
  const result = ScenarioSchema.safeParse(input);
  if (!result.success) throw new ScenarioError(formatZodError(result.error));
  const scenario = result.data;
  const seenKeys = new Set<string>();
  const seenUids = new Set<string>();
  const claim = (set: Set<string>, value: string, where: string, what: string) => {
    if (set.has(value)) throw new ScenarioError(`${where}: duplicate ${what} "${value}"`);
    set.add(value);
  };
  scenario.okx?.accounts.forEach((account, a) => {
    const at = `okx.accounts[${a}]`;
    claim(seenUids, account.uid, `${at}.uid`, "uid");
    account.keys.forEach((key, k) => {
      claim(seenKeys, key.apiKey, `${at}.keys[${k}].apiKey`, "apiKey");
    });
    const subNames = new Set<string>();
    account.subAccounts.forEach((sub, s) => {
      const subAt = `${at}.subAccounts[${s}]`;
      claim(seenUids, sub.uid, `${subAt}.uid`, "uid");
      claim(subNames, sub.name, `${subAt}.name`, "sub-account name");
      const labels = new Set<string>();
      sub.keys.forEach((key, k) => {
        claim(seenKeys, key.apiKey, `${subAt}.keys[${k}].apiKey`, "apiKey");
        claim(labels, key.label, `${subAt}.keys[${k}].label`, "label in this sub-account");
        if (key.perm.split(",").includes("withdraw")) {
          throw new ScenarioError(`${subAt}.keys[${k}].perm: sub-account keys cannot withdraw (OKX 59504)`);
        }
      });
    });
  });
  const seenUsers = new Set<string>();
  scenario.bitfinex?.users.forEach((user, u) => {
    claim(seenUsers, String(user.id), `bitfinex.users[${u}].id`, "user id");
    user.keys.forEach((key, k) => {
      claim(seenKeys, key.apiKey, `bitfinex.users[${u}].keys[${k}].apiKey`, "apiKey");
    });
  });
  return scenario;
}

/** Parses scenario text (a file's content); `source` names the file in errors. */
export function parseScenarioText(text: string, source: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ScenarioError(`${source}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return parseScenario(json);
  } catch (error) {
    if (error instanceof ScenarioError) throw new ScenarioError(`${source}: ${error.message}`);
    throw error;
  }
}
