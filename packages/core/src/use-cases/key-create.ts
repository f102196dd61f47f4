/**
 * `keyward key create` and the web's "New key" form: one new key in an account (or one of its
 * sub-accounts), created by API where the exchange's profile says that kind of key is, then the rotation
 * engine's API path with nothing to replace (the plan slot's `create`): `creating` journaled (MAC'd)
 * before the request with the label as the idempotency token, the secret straight into the vault,
 * verified by a probe with its own secret, delivered to the targets, `finished`. A crash anywhere is
 * finished by running the same create again (or `keyward rotate resume`): a key found with the label
 * whose secret was lost is revoked and created anew (the `creating` reconciliation of rotation/api-steps.ts,
 * audited `rotation.orphan-deleted`), never left behind: only a key provably made by this create (the
 * permissions and IPs asked for, made after `creating` was journaled); any other key with the label,
 * someone else's, stops the create untouched. That rule also covers a continued create, which does not
 * repeat the "label already taken" check below.
 *
 * Everything the person typed is checked before any request: the kind of key (a person-created kind is
 * refused with what to do instead), the label (as the exchange stores it: a label it would change could
 * not find the key again after a crash), the permissions (those the exchange grants by API; withdraw
 * only with `allowWithdraw`), the IPs (addresses or CIDR ranges; a trade key without any only with
 * `noIp`, as `keyward check` flags it), the targets (the rotation's kinds and checks).
 */

import { isIP } from "node:net";
import { z } from "zod";
import { exchangeProfile } from "../adapters/registry.js";
import { canonicalJson } from "../audit/canonical-json.js";
import type { Credentials } from "../domain/credentials.js";
import { type KeyLocation, keyId, type Permission, PermissionSchema } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { createStandIn } from "../rotation/create-stand-in.js";
import type { RotationReport } from "../rotation/engine.js";
import { newRunId } from "../rotation/plan.js";
import {
  DEFAULT_RUN_OPTIONS,
  MAX_LABEL,
  PLAN_KIND,
  type PlanSlot,
  type RotationPlan,
  RotationPlanSchema,
  type RunOptions,
} from "../rotation/schemas.js";
import { parseTarget, planTargetOptions, type TargetOptionValues } from "../rotation/targets/index.js";
import { subAccountKeys } from "../rotation/verify.js";
import { readOnlyJournal } from "./rotation-common.js";
import { checkRotationTargets } from "./rotation-plan.js";
import { applyRotation, resumeRotation } from "./rotation-run.js";
import type { RotationHooks, RotationSession } from "./rotation-session.js";

export const CreateKeyInputSchema = z.strictObject({
  account: z.string().min(1),
  /** null: the account itself (where the exchange creates that kind of key by API). */
  subAccount: z.string().min(1).nullable(),
  label: z.string(),
  permissions: z.array(PermissionSchema).min(1, "name at least one permission, e.g. read,trade"),
  /** Addresses or CIDR ranges the key is bound to. */
  ip: z.array(z.string()),
  /** The person says a trade or withdraw key is to have no IP binding (refused otherwise). */
  noIp: z.boolean().default(false),
  /** The person says the key may withdraw (refused otherwise). */
  allowWithdraw: z.boolean().default(false),
  /** Target texts, as `rotate plan --deliver` takes them. */
  deliver: z.array(z.string()),
  /** The secret is shown once at the end (the shell checks it can): then no target is needed. */
  showSecretOnce: z.boolean().default(false),
});
export type CreateKeyInput = z.input<typeof CreateKeyInputSchema>;

export interface CreateKeyShell {
  /** Relative target paths are taken from here (the CLI's working directory); null: refused. */
  cwd: string | null;
  /** false where no program may run (a browser session): exec targets are refused. */
  allowPrograms: boolean;
  /** The target kinds' own options (e.g. an age recipient), by name. */
  targetOptions?: TargetOptionValues;
}

/** What would be created, checked (the plan of one `create` slot), and what the person should know. */
export interface CreateKeyPlan {
  plan: RotationPlan;
  warnings: string[];
}

const refuse = (message: string, hint?: string) =>
  new KeywardError("CONFIG_INVALID", message, hint ? { hint } : {});

/** An address or a CIDR range (`10.0.0.0/24`, `2001:db8::/32`), or why not. */
function ipProblem(text: string): string | undefined {
  const [address, prefix, extra] = text.split("/");
  const family = isIP(address ?? "");
  if (family === 0 || extra !== undefined) return `"${text}" is not an IP address or a CIDR range`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (!/^\d+$/.test(prefix) || bits > max) return `"${text}": the prefix must be 0 to ${max}`;
  return undefined;
}

/**
 * Checks the input against the account's exchange and builds the plan of one `create` slot. Makes no
 * request to any exchange (a refusal here changes nothing anywhere).
 */
export async function planKeyCreate(
  home: KeywardHome,
  raw: CreateKeyInput,
  shell: CreateKeyShell,
  /** `dryRun`: a plan to look at, not to run: a missing target is said (a warning), not refused. */
  options: { dryRun?: boolean } = {},
): Promise<CreateKeyPlan> {
  const parsed = CreateKeyInputSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw refuse(`key create: ${issue?.path.join(".") || "input"}: ${issue?.message ?? "is invalid"}`);
  }
  const input = parsed.data;
  const account = home.account(input.account);
  const profile = exchangeProfile(account.exchange);
  const location: KeyLocation = input.subAccount === null ? "master" : "sub-account";
  const kind = profile.keys[location];
  const where =
    input.subAccount === null ? `account ${account.name} itself` : `sub-account ${input.subAccount}`;
  if (kind?.create !== "api") {
    const site = profile.regions?.hosts[profile.regions.default]?.site ?? `${profile.name}'s site`;
    const subs = profile.keys["sub-account"]?.create === "api";
    throw new KeywardError("NOT_SUPPORTED", `${profile.name} creates keys in ${where} only by a person`, {
      hint: `Create it on ${site}, then \`keyward key track ${account.name} --label ${input.label || "<label>"}\`${subs && input.subAccount === null ? `; or create it in a sub-account by API with --sub NAME` : ""}.`,
    });
  }
  const label = input.label;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(label) || label.length > MAX_LABEL) {
    throw refuse(
      `label "${label}": use 1 to ${MAX_LABEL} letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
  const stored = profile.storedLabel?.(label) ?? label;
  if (stored !== label) {
    // The label is how the key is found again after a crash: it must be listed exactly as given.
    throw refuse(
      `label "${label}": ${profile.name} would store it as "${stored}"`,
      `Use "${stored}" or another label ${profile.name} keeps as it is.`,
    );
  }
  const permissions: Permission[] = [...new Set<Permission>(["read", ...input.permissions])];
  const warnings: string[] = [];
  if (permissions.includes("withdraw")) {
    if (!input.allowWithdraw) {
      throw refuse(
        "withdraw: a key that can withdraw moves money out of the account if it leaks",
        "Leave withdraw out, or say --allow-withdraw if this key really must withdraw.",
      );
    }
    warnings.push("the key can WITHDRAW: keep it bound to as few IP addresses as possible");
  }
  const ungrantable = permissions.filter((p) => !profile.apiGrantable.includes(p));
  if (ungrantable.length > 0) {
    throw refuse(
      `${profile.name} keys created by Keyward cannot have ${ungrantable.join(", ")}`,
      `Permissions ${profile.name} grants by API here: ${profile.apiGrantable.join(", ")}.`,
    );
  }
  for (const ip of input.ip) {
    const problem = ipProblem(ip);
    if (problem) throw refuse(`--ip ${problem}`);
  }
  const ip = [...new Set(input.ip)];
  const moves = permissions.some((p) => p !== "read");
  if (ip.length > 0 && input.noIp) throw refuse("--ip and --no-ip contradict each other");
  if (moves && ip.length === 0 && !input.noIp) {
    throw refuse(
      `a ${permissions.filter((p) => p !== "read").join("/")} key without an IP binding works from anywhere once leaked (\`keyward check\` flags it)`,
      "Bind it with --ip ADDRESS[,ADDRESS…], or say --no-ip if it really must work from anywhere.",
    );
  }
  if (moves && input.noIp)
    warnings.push("no IP binding: the key works from anywhere; `keyward check` flags it");
  if (!profile.reportsIpWhitelist && ip.length > 0) {
    warnings.push(`${profile.name} does not report IP bindings: Keyward cannot verify them`);
  }
  if (input.deliver.length === 0 && !input.showSecretOnce && options.dryRun) {
    warnings.push(
      "no target: a real run needs at least one --deliver target, or --show-secret-once on a terminal",
    );
  } else if (input.deliver.length === 0 && !input.showSecretOnce) {
    // A secret only the vault holds serves no program, and Keyward has no command that hands an existing
    // secret out later (a rotation makes a new key): so the key needs a target, or the person takes it now.
    throw refuse(
      "name where the new key goes: at least one --deliver target, or --show-secret-once on a terminal",
      "The secret is never printed otherwise, and Keyward cannot deliver it later (a rotation would make a new key).",
    );
  }
  const targetOptions = await checkRotationTargets({
    deliver: input.deliver,
    cwd: shell.cwd,
    allowPrograms: shell.allowPrograms,
    options: shell.targetOptions ?? {},
  });
  const id = newRunId();
  const vars = {
    account: account.name,
    sub: input.subAccount ?? "master",
    label,
    exchange: account.exchange,
    slot: 1,
  };
  const pseudo = createStandIn(label);
  const slot: PlanSlot = {
    slot: 1,
    method: "api",
    create: true,
    old: {
      id: keyId(account.exchange, account.name, input.subAccount, pseudo),
      exchange: account.exchange,
      account: account.name,
      subAccount: input.subAccount,
      location,
      apiKey: pseudo,
      label,
      permissions,
      rawPermissions: "",
      ip,
      accountKey: false,
      meta: {},
    },
    new: {
      label,
      subAccount: input.subAccount,
      permissions,
      // No old key's exact form to copy: the adapter makes the one for the permissions.
      rawPermissions: "",
      ip: profile.reportsIpWhitelist ? ip : null,
    },
    deliver: input.deliver.map((text) => parseTarget(text, vars, shell.cwd)),
    notes: warnings,
  };
  const plan = RotationPlanSchema.parse({
    kind: PLAN_KIND,
    version: 1,
    id,
    createdAt: new Date().toISOString(),
    ...planTargetOptions(targetOptions),
    slots: [slot],
    refused: [],
    estimatedApiMs: profile.writeSpacingMs,
  });
  return { plan, warnings };
}

/** What the person asked for, comparable between two runs: a rerun with the same intent resumes. */
const intentOf = (slot: PlanSlot): string =>
  canonicalJson({
    account: slot.old.account,
    subAccount: slot.new.subAccount,
    label: slot.new.label,
    permissions: [...slot.new.permissions].sort(),
    ip: [...slot.old.ip].sort(),
    deliver: slot.deliver,
  });

export interface PreparedKeyCreate {
  plan: RotationPlan;
  warnings: string[];
  /** An unfinished create of the same key (same label, same intent) is continued instead. */
  resumed: boolean;
  /** The run that creates the key (the unfinished one when `resumed`). */
  runId: string;
  /**
   * Starts (or continues) the run: the session drives it (`done` gives the report); undefined when the
   * run had already ended. `from`: who continues it, for the `key.create-resumed` entry (`web`).
   */
  start(hooks: RotationHooks, from?: string): Promise<RotationSession | undefined>;
}

const OPTIONS: RunOptions = { ...DEFAULT_RUN_OPTIONS, graceMs: 0, checkCmd: null, concurrency: 1 };

/**
 * Checks everything (planKeyCreate) and finds the run that is to create the key, so a shell knows the
 * run's id before it starts it. Refused before any change when the label is used by another unfinished
 * create with another intent, or by a key the exchange already lists there (it would be taken for a
 * crash's orphan and deleted).
 */
export async function prepareKeyCreate(
  home: KeywardHome,
  raw: CreateKeyInput,
  shell: CreateKeyShell,
): Promise<PreparedKeyCreate> {
  const { plan, warnings } = await planKeyCreate(home, raw, shell);
  const slot = plan.slots[0] as PlanSlot;
  const journal = readOnlyJournal(home);
  for (const run of await journal.runs({ active: true })) {
    const other = run.plan.slots.find((s) => s.create && s.old.id === slot.old.id);
    if (!other) continue;
    if (intentOf(other) !== intentOf(slot)) {
      throw refuse(
        `an unfinished key create (${run.id}) uses the label "${slot.new.label}" in ${slot.old.account}${slot.new.subAccount ? `/${slot.new.subAccount}` : ""} with other permissions, IPs or targets`,
        `Finish it exactly as it was asked (\`keyward rotate resume ${run.id}\`) or give this key another label.`,
      );
    }
    return {
      plan: run.plan,
      warnings,
      resumed: true,
      runId: run.id,
      async start(hooks, from) {
        const outcome = await resumeRotation(home, {
          ...hooks,
          runId: run.id,
          allowPrograms: shell.allowPrograms,
          ...(from === undefined ? {} : { from }),
        });
        return outcome.session;
      },
    };
  }
  const adapter = await home.adapterFor(slot.old.account);
  const taken = (await subAccountKeys(adapter, slot.new.subAccount)).find((k) => k.label === slot.new.label);
  if (taken) {
    throw refuse(
      `a key labelled "${slot.new.label}" already exists in ${slot.old.account}${slot.new.subAccount ? `/${slot.new.subAccount}` : ""} (${taken.id})`,
      "The label is how Keyward finds its new key after a crash: give this key a label no key there has.",
    );
  }
  return {
    plan,
    warnings,
    resumed: false,
    runId: plan.id,
    start: (hooks) => applyRotation(home, { ...hooks, plan, options: OPTIONS }),
  };
}

export interface CreateKeyResult extends Omit<PreparedKeyCreate, "start"> {
  /** Drives the run; `done` gives the report. Absent when the run had already ended. */
  session?: RotationSession;
}

/** prepareKeyCreate, then the run started with the shell's hooks. */
export async function createKey(
  home: KeywardHome,
  raw: CreateKeyInput,
  shell: CreateKeyShell,
  hooks: RotationHooks,
): Promise<CreateKeyResult> {
  const { start, ...prepared } = await prepareKeyCreate(home, raw, shell);
  const session = await start(hooks);
  return { ...prepared, ...(session ? { session } : {}) };
}

/** The created key's credentials, for `--show-secret-once` (the shell shows them once, on a terminal). */
export async function createdKeySecret(
  home: KeywardHome,
  report: RotationReport,
): Promise<Credentials | undefined> {
  const slot = report.slots[0];
  if (!slot?.newKeyId || slot.outcome !== "finished") return undefined;
  const vault = await home.vault();
  const creds = vault.get(`key:${slot.newKeyId}`);
  if (!creds) return undefined;
  await home.audit().append("key.secret-shown", slot.newKeyId, { run: report.runId });
  // The key's own credentials: never the account's TOTP seed.
  return {
    apiKey: creds.apiKey,
    secret: creds.secret,
    ...(creds.passphrase ? { passphrase: creds.passphrase } : {}),
  };
}
