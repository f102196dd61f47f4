/**
 * The key policy `keyward check` enforces: which risks are errors (exit 1, for cron and CI), which are
 * warnings, which are off; per exchange and per account; and keys a person chose to accept for a while.
 * A small JSON file, `policy.json` in the home or `--policy FILE`, checked the changesets way like
 * config.json: schema → normalise → rules, and every problem names the field to fix. An unknown rule
 * name is an error: a typo must never silently switch a check off.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from "node:fs";
import { z } from "zod";
import { EXCHANGE_PROFILES } from "../adapters/registry.js";
import { formatZodIssues } from "../config/zod-format.js";
import { ExchangeIdSchema } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";

export const POLICY_FILE_NAME = "policy.json";

export const SeveritySchema = z.enum(["error", "warning", "off"]);
export type Severity = z.output<typeof SeveritySchema>;

/**
 * The rules, with their defaults and why: what a security team would want from a nightly check.
 * A key that can move money from anywhere, or withdraw at all, is an error; so are keys that fail
 * silently (a tracked key that no longer authenticates, an account Keyward could not act for in an
 * incident). Hygiene (age, expiry, what Keyward cannot see) is a warning: worth a look, not a page.
 */
export const SHARED_POLICY_RULES = {
  "no-ip": { default: "error", text: "a key that can trade or withdraw is bound to no IP address" },
  withdraw: { default: "error", text: "a key can withdraw funds" },
  transfer: { default: "warning", text: "a key can move funds between accounts" },
  old: { default: "warning", text: "a key is older than maxKeyAgeDays" },
  expiring: { default: "warning", text: "a key expires within expiringWithinDays (or has expired)" },
  "dead-tracked": { default: "error", text: "a tracked key no longer authenticates" },
  "account-unhealthy": {
    default: "error",
    text: "an account's own key is dead, cannot be probed, or lacks what managing keys needs",
  },
  unverified: { default: "warning", text: "Keyward cannot see a key's permissions" },
} as const satisfies Record<string, { default: Severity; text: string }>;

/** Every rule a policy may name: the shared ones, then each exchange's own risks (default: warning). */
export const POLICY_RULES: Readonly<Record<string, { default: Severity; text: string }>> = {
  ...SHARED_POLICY_RULES,
  ...Object.fromEntries(
    EXCHANGE_PROFILES.flatMap((p) =>
      Object.entries(p.risks).map(([name, risk]) => [
        name,
        { default: "warning" as Severity, text: risk.text },
      ]),
    ),
  ),
};
export const POLICY_RULE_NAMES = Object.keys(POLICY_RULES) as [string, ...string[]];

/**
 * Findings no policy can switch off: an account that could not be listed (its keys cannot be vouched
 * for) is always an error; an ignore past its `until` date is always a warning (and stops applying), and
 * so is an ignore naming a key the inventory does not hold (a typo must not look handled).
 */
export const FIXED_RULES = {
  unreachable: "error",
  "ignore-expired": "warning",
  "ignore-unknown": "warning",
} as const satisfies Record<string, Exclude<Severity, "off">>;

const RulesSchema = z.strictObject(
  Object.fromEntries(POLICY_RULE_NAMES.map((name) => [name, SeveritySchema.optional()])) as Record<
    string,
    z.ZodOptional<typeof SeveritySchema>
  >,
);

const Days = z.number().int().positive().max(3650);
/** A calendar date (the ignore lasts through that day, UTC) or a date-time. */
const Until = z.union([z.iso.date(), z.iso.datetime({ offset: true })]);

const OverrideSchema = z.strictObject({
  exchange: ExchangeIdSchema.optional(),
  account: z.string().min(1).max(64).optional(),
  rules: RulesSchema.default({}),
  maxKeyAgeDays: Days.optional(),
  expiringWithinDays: Days.optional(),
});

export const PolicySchema = z.strictObject({
  version: z.literal(1).default(1),
  /** Default: the home's `settings.maxKeyAgeDays`. */
  maxKeyAgeDays: Days.optional(),
  expiringWithinDays: Days.default(14),
  rules: RulesSchema.default({}),
  overrides: z.array(OverrideSchema).default([]),
  ignore: z
    .array(
      z.strictObject({
        key: z.string().min(1).max(512),
        reason: z.string().trim().min(1, "a reason is required").max(500),
        until: Until.optional(),
      }),
    )
    .default([]),
});
export type PolicyDocument = z.output<typeof PolicySchema>;

/** A checked policy, normalised: every rule has a severity, thresholds are set. */
export interface Policy {
  /** Where it came from (a path, or "defaults"), for messages. */
  source: string;
  maxKeyAgeDays: number;
  expiringWithinDays: number;
  rules: Record<string, Severity>;
  overrides: {
    exchange?: string;
    account?: string;
    rules: Record<string, Severity>;
    maxKeyAgeDays?: number;
    expiringWithinDays?: number;
  }[];
  /** `until`: when the ignore stops applying (epoch ms, exclusive); undefined: never. */
  ignore: { key: string; reason: string; until?: string; untilMs?: number }[];
}

export interface PolicyContext {
  /** The home's `settings.maxKeyAgeDays`: the default of the policy's. */
  maxKeyAgeDays: number;
  /** The home's account names: an override naming another account is a typo. */
  accounts: readonly string[];
}

const invalid = (source: string, message: string, hint?: string) =>
  new KeywardError("CONFIG_INVALID", `${source}: ${message}`, {
    hint: hint ?? `Fix the field named above in ${source}; see docs/policy.example.json.`,
  });

/** Parses and checks a policy document; `source` names the file in messages. */
export function parsePolicy(input: unknown, source: string, context: PolicyContext): Policy {
  const parsed = PolicySchema.safeParse(input);
  if (!parsed.success) throw invalid(source, formatZodIssues(parsed.error));
  const doc = parsed.data;
  // Rules a schema cannot express.
  const accounts = new Map(context.accounts.map((a) => [a.toLowerCase(), a]));
  const overrides = doc.overrides.map((o, i) => {
    if ((o.exchange === undefined) === (o.account === undefined))
      throw invalid(source, `overrides[${i}]: name either "exchange" or "account" (exactly one)`);
    if (o.account !== undefined && !accounts.has(o.account.toLowerCase()))
      throw invalid(
        source,
        `overrides[${i}].account: "${o.account}" is not an account of this home`,
        `Use one of: ${[...accounts.values()].join(", ") || "(no accounts yet)"}.`,
      );
    return {
      ...(o.exchange !== undefined ? { exchange: o.exchange } : {}),
      ...(o.account !== undefined ? { account: accounts.get(o.account.toLowerCase()) } : {}),
      rules: defined(o.rules),
      ...(o.maxKeyAgeDays !== undefined ? { maxKeyAgeDays: o.maxKeyAgeDays } : {}),
      ...(o.expiringWithinDays !== undefined ? { expiringWithinDays: o.expiringWithinDays } : {}),
    };
  });
  const ignore = doc.ignore.map((entry) => {
    if (entry.until === undefined) return { key: entry.key, reason: entry.reason };
    // A bare date lasts through that day (UTC).
    const untilMs = /^\d{4}-\d{2}-\d{2}$/.test(entry.until)
      ? Date.parse(`${entry.until}T00:00:00Z`) + 86_400_000
      : Date.parse(entry.until);
    return { key: entry.key, reason: entry.reason, until: entry.until, untilMs };
  });
  return {
    source,
    maxKeyAgeDays: doc.maxKeyAgeDays ?? context.maxKeyAgeDays,
    expiringWithinDays: doc.expiringWithinDays,
    rules: {
      ...Object.fromEntries(POLICY_RULE_NAMES.map((n) => [n, POLICY_RULES[n]?.default ?? "warning"])),
      ...defined(doc.rules),
    },
    overrides,
    ignore,
  };
}

const defined = (rules: Record<string, Severity | undefined>): Record<string, Severity> =>
  Object.fromEntries(Object.entries(rules).filter((e): e is [string, Severity] => e[1] !== undefined));

/** The policy with nothing changed: every rule at its default. */
export const defaultPolicy = (context: PolicyContext): Policy => parsePolicy({}, "defaults", context);

/**
 * What applies to one key or account: the policy's rules, an exchange's override over them, an
 * account's over both (most specific wins; among overrides of one kind, the later wins).
 */
export function policyFor(
  policy: Policy,
  exchange: string,
  account: string,
): { rules: Record<string, Severity>; maxKeyAgeDays: number; expiringWithinDays: number } {
  const matching = [
    ...policy.overrides.filter((o) => o.exchange === exchange),
    ...policy.overrides.filter((o) => o.account?.toLowerCase() === account.toLowerCase()),
  ];
  let result = {
    rules: { ...policy.rules },
    maxKeyAgeDays: policy.maxKeyAgeDays,
    expiringWithinDays: policy.expiringWithinDays,
  };
  for (const o of matching)
    result = {
      rules: { ...result.rules, ...o.rules },
      maxKeyAgeDays: o.maxKeyAgeDays ?? result.maxKeyAgeDays,
      expiringWithinDays: o.expiringWithinDays ?? result.expiringWithinDays,
    };
  return result;
}

/**
 * Reads a policy file. `required`: a missing file is an error (an explicit `--policy`); else the
 * defaults apply. Like the home's files, a policy another user may change is refused (they could turn
 * every rule off and hide a withdraw key from the nightly check), and so is a symlink.
 *
 * The file is opened once (O_NOFOLLOW: a symlink fails the open itself), its owner and mode are checked
 * on that descriptor and the policy is read from it: whoever can write the parent folder cannot swap
 * the file between the check and the read.
 */
export function loadPolicy(path: string, context: PolicyContext, options: { required: boolean }): Policy {
  const posix = process.platform !== "win32" && typeof process.getuid === "function";
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (posix ? constants.O_NOFOLLOW : 0));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (posix && code === "ELOOP") throw symlinkRefused(path);
    if (code === "ENOENT" || code === "ENOTDIR") {
      if (options.required)
        throw new KeywardError("CONFIG_INVALID", `${path}: no such policy file`, {
          hint: "Give an existing file to --policy, or leave it out to use $KEYWARD_HOME/policy.json or the defaults.",
        });
      return defaultPolicy(context);
    }
    throw invalid(path, `not valid JSON (${(error as Error).message})`);
  }
  let text: string;
  try {
    if (posix) {
      const st = fstatSync(fd);
      // O_NOFOLLOW already refused a symlink; a descriptor's stat is never one (kept for clarity).
      if (st.isSymbolicLink()) throw symlinkRefused(path);
      const uid = (process.getuid as () => number)();
      if (st.uid !== uid && st.uid !== 0)
        throw new KeywardError(
          "HOME_INSECURE",
          `${path} is owned by uid ${st.uid}, not by the user running Keyward (uid ${uid})`,
          { hint: `Another user could change the policy. Check the file, then: chown ${uid} ${path}` },
        );
      if ((st.mode & 0o022) !== 0)
        throw new KeywardError(
          "HOME_INSECURE",
          `${path} is writable by ${st.mode & 0o002 ? "every user" : "its group"} (mode ${(st.mode & 0o7777).toString(8).padStart(4, "0")})`,
          { hint: `Another local user could switch checks off. Make it private: chmod 600 ${path}` },
        );
    }
    try {
      text = readFileSync(fd, "utf8");
    } catch (error) {
      throw invalid(path, `not valid JSON (${(error as Error).message})`);
    }
  } finally {
    closeSync(fd);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(path, `not valid JSON (${(error as Error).message})`);
  }
  return parsePolicy(json, path, context);
}

const symlinkRefused = (path: string) =>
  new KeywardError("HOME_INSECURE", `${path} is a symlink; the policy must be the file itself`, {
    hint: "Whoever can change the link could change which policy applies. Copy the file itself there.",
  });
