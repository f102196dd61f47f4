/**
 * The delivery targets: one driver per kind (target.ts is the interface), listed once below. Parsing a
 * `--deliver` value, describing and storing a parsed target, clash detection, where a plan's files go,
 * delivery, the `--help` text, which kinds the web may use and each kind's own options all iterate over
 * DELIVERY_TARGETS; adding a kind is its file, its line in the list and a test file calling `testTarget`.
 *
 * Every file target checks, right before it writes, where its path really leads (place.ts): never into
 * Keyward's home, never through a symlink another user could change, never into a folder every user can
 * write to; and writes to one file are serialised in this process.
 */
import { z } from "zod";
import { ageTarget } from "./age.js";
import { dotenvTarget } from "./dotenv.js";
import { execTarget } from "./exec.js";
import { jsonTarget } from "./json.js";
import type { DeliveryContext, DeliveryPayload } from "./payload.js";
import { type DeliveryTarget, type TargetOption, TargetParseError, type TargetVars } from "./target.js";

/** Every delivery target, in the order `--help` shows them. */
export const DELIVERY_TARGETS = [dotenvTarget, jsonTarget, ageTarget, execTarget] as const;

type Drivers = typeof DELIVERY_TARGETS;
type SchemasOf<D extends readonly { schema: unknown }[]> = { -readonly [I in keyof D]: D[I]["schema"] };
type Schemas = SchemasOf<Drivers>;

/** A parsed target as plans and the journal store it: `{kind, …}`, each kind's own fields. */
export const TargetSchema = z.discriminatedUnion(
  "kind",
  DELIVERY_TARGETS.map((d) => d.schema) as unknown as Schemas,
);
export type Target = z.infer<typeof TargetSchema>;
export type TargetKind = Target["kind"];

/** Any driver of the list, as generic code sees it. */
type Driver = DeliveryTarget<Target, TargetOptionName>;

export const TARGET_KINDS: readonly TargetKind[] = DELIVERY_TARGETS.map((d) => d.kind);

/** The driver of a kind (the list's types are each driver's own; here any target goes). */
export function targetDriver(kind: string): Driver | undefined {
  return (DELIVERY_TARGETS as unknown as readonly Driver[]).find((d) => d.kind === kind);
}

const driverOf = (target: Target): Driver => {
  const driver = targetDriver(target.kind);
  if (!driver) throw new Error(`no delivery target driver for kind ${target.kind}`);
  return driver;
};

// ---- options a kind needs once per plan (the age recipient) ----

/** Every option of every kind, e.g. `recipient` (age). */
export type TargetOptionName = Drivers[number]["options"][number]["name"];
/** Option values as given: absent or null when not given. */
export type TargetOptionValues = { [K in TargetOptionName]?: string | null };
/** What a delivery gets besides the target and the payload: the context and the plan's options. */
export type DeliveryOptions = DeliveryContext & TargetOptionValues;
/** Option values as the plan file stores them: every option, null when not given. */
export type PlanTargetOptions = { [K in TargetOptionName]: string | null };

export const TARGET_OPTIONS: readonly TargetOption<TargetOptionName>[] = DELIVERY_TARGETS.flatMap(
  (d): readonly TargetOption<TargetOptionName>[] => d.options,
);

/**
 * The plan file's fields for the options, spread into the plan's schema (the age recipient has been the
 * plan's `recipient` field since plans were first written). A new option defaults to null, so a plan
 * written before it existed still parses.
 */
export const TargetOptionsShape = Object.fromEntries(
  TARGET_OPTIONS.map((o) => [o.name, z.string().nullable().default(null)]),
) as { [K in TargetOptionName]: z.ZodDefault<z.ZodNullable<z.ZodString>> };

/**
 * Checks the options a person gave (command-line flags, the web's request), whether or not a target
 * needs them; every option in the result, null when not given. Throws CONFIG_INVALID naming the option.
 */
export async function readTargetOptions(
  given: Readonly<Record<string, unknown>>,
): Promise<PlanTargetOptions> {
  const values: Record<string, string | null> = {};
  for (const option of TARGET_OPTIONS) {
    const value = given[option.name];
    values[option.name] = typeof value === "string" && value ? await option.check(value) : null;
  }
  return values as PlanTargetOptions;
}

/** Every option's value for the plan file (null when not given). */
export function planTargetOptions(values: TargetOptionValues): PlanTargetOptions {
  return Object.fromEntries(TARGET_OPTIONS.map((o) => [o.name, values[o.name] ?? null])) as PlanTargetOptions;
}

/** The options a plan gives its deliveries: those set (spread into DeliveryOptions). */
export function targetOptionsOf(values: TargetOptionValues): TargetOptionValues {
  return Object.fromEntries(
    TARGET_OPTIONS.flatMap((o) => (values[o.name] ? [[o.name, values[o.name]]] : [])),
  ) as TargetOptionValues;
}

/**
 * Checks that each option the targets' kinds need is given and valid (when a plan is made and again
 * before it is applied: the plan file may have been edited). Throws CONFIG_INVALID naming the option.
 */
export async function checkTargetOptions(
  targets: Iterable<Target>,
  values: TargetOptionValues,
): Promise<void> {
  const kinds = new Set<string>();
  for (const target of targets) kinds.add(target.kind);
  for (const driver of DELIVERY_TARGETS) {
    if (!kinds.has(driver.kind)) continue;
    for (const option of driver.options) await option.check(values[option.name] ?? undefined);
  }
}

// ---- text: usage, hints ----

const optionFlag = (o: TargetOption) => o.flag.split(" ")[0] ?? o.flag;

/** Each kind's form, with the flags of its options: `age:DIR (with --recipient)`. */
const formsWithOptions = (): string[] =>
  DELIVERY_TARGETS.map((d) =>
    d.options.length ? `${d.usage.form} (with ${d.options.map(optionFlag).join(", ")})` : d.usage.form,
  );

const orList = (items: readonly string[]) =>
  items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;

/** The hint of every `--deliver` error: every form, and two examples. */
export const TARGET_HINT = `Use ${orList(formsWithOptions())}, e.g. ${orList(DELIVERY_TARGETS.slice(0, 2).map((d) => d.example))}.`;

/** One line listing the forms: `dotenv:PATH[#PREFIX], json:PATH#POINTER, age:DIR, exec:CMD`. */
export const TARGET_FORMS = DELIVERY_TARGETS.map((d) => d.usage.form).join(", ");

/** The placeholders, for help texts. */
export { PLACEHOLDERS } from "./placeholders.js";

/** Each kind's form and what it writes, for `--help` (the caller wraps and aligns). */
export const targetUsage = (): { kind: string; form: string; text: string; webAllowed: boolean }[] =>
  DELIVERY_TARGETS.map((d) => ({ kind: d.kind, ...d.usage, webAllowed: d.webAllowed }));

// ---- one target ----

/**
 * Parses one `--deliver` value for one key: placeholders expanded, relative paths made absolute against
 * `cwd` (refused when it is null), then checked by the kind's driver. Errors are TargetParseError
 * (CONFIG_INVALID) naming the value, the field and what is wrong with it.
 */
export function parseTarget(text: string, vars: TargetVars, cwd: string | null): Target {
  const fail = (field: string, why: string): never => {
    throw new TargetParseError(text, field, why, TARGET_HINT);
  };
  const colon = text.indexOf(":");
  const kind = colon > 0 ? text.slice(0, colon) : "";
  const driver = targetDriver(kind);
  if (!driver) return fail("kind", `unknown kind "${kind || text}" (known: ${TARGET_KINDS.join(", ")})`);
  return driver.parse(text.slice(colon + 1), { text, vars, cwd, fail });
}

/**
 * Checks a target's form without expanding it (the command line is checked before any key is listed).
 * `cwd` null: relative paths are refused, as parseTarget does.
 */
export function checkTargetSyntax(text: string, cwd: string | null = "/"): TargetKind {
  return parseTarget(text, { account: "a", sub: "s", label: "l", exchange: "x", slot: 1 }, cwd).kind;
}

/** How a target shows in plans, progress and the audit log (no secret: targets hold none). */
export const describeTarget = (target: Target): string => driverOf(target).describe(target);

/**
 * Where two keys would overwrite each other (the same dotenv variables, JSON object, age file): equal
 * clash keys clash. Undefined for a target that never clashes.
 */
export const clashKey = (target: Target): string | undefined => driverOf(target).clashKey(target);

/** The file a target writes and whether its folder must exist, or undefined (see DeliveryTarget.place). */
export const targetPlace = (target: Target): { path: string; needsFolder: boolean } | undefined =>
  driverOf(target).place(target);

/** Whether a browser session may use a target of this kind (false for kinds that run programs). */
export const isWebAllowed = (target: Pick<Target, "kind">): boolean =>
  targetDriver(target.kind)?.webAllowed === true;

/** Writes the payload's credentials to the target; returns a line of evidence (no secret). */
export async function deliver(
  target: Target,
  payload: DeliveryPayload,
  options: DeliveryOptions,
): Promise<string> {
  return driverOf(target).deliver(target, payload, options);
}

/** The example of the first kind: for hints naming one target. */
export const TARGET_EXAMPLE = DELIVERY_TARGETS[0].example;

/** A hint for two keys that would overwrite each other: a placeholder gives each its own place. */
export const CLASH_HINT = `Give each key its own place with a placeholder, e.g. ${orList(
  DELIVERY_TARGETS.filter((d) => d.example.includes("{")).map((d) => d.example),
)}.`;

export { ageTarget, checkRecipient } from "./age.js";
export { dotenvNames, dotenvTarget, dotenvUnsafe, readDotenv, rewriteDotenv } from "./dotenv.js";
export { execTarget, runShell, type ShellResult } from "./exec.js";
export { jsonTarget, pointerTokens, readJson, rewriteJson } from "./json.js";
export { type DeliveryContext, type DeliveryPayload, payloadJson } from "./payload.js";
export { hasPlaceholder } from "./placeholders.js";
export {
  type DeliveryTarget,
  type ParsedTarget,
  type TargetOption,
  type TargetParseContext,
  TargetParseError,
  type TargetVars,
} from "./target.js";
