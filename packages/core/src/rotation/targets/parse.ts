/**
 * Delivery targets: where a rotated key's new credentials go, written as `KIND:WHERE` on the command line
 * and stored parsed in the plan file (never with a secret in it).
 *
 * | Target | What Keyward writes |
 * |---|---|
 * | `dotenv:PATH[#PREFIX]` | the variables PREFIX_API_KEY, PREFIX_API_SECRET and (OKX) PREFIX_API_PASSPHRASE; without a prefix API_KEY, API_SECRET, API_PASSPHRASE. Only those lines change. |
 * | `json:PATH#POINTER` | `apiKey`, `secret` and (OKX) `passphrase` in the object at the RFC 6901 pointer (e.g. `/exchange`) |
 * | `age:DIR` | one file per key, `DIR/<account>.<sub-account or master>.<label>.age`, encrypted to `--recipient` |
 * | `exec:CMD` | runs CMD with `sh -c`; the credentials arrive as one JSON object on its stdin |
 *
 * Placeholders, expanded per key when the plan is made, let one `--deliver` serve many keys:
 * `{account}`, `{sub}` (the sub-account, or `master`), `{label}` (the key's label without an earlier
 * rotation's suffix), `{exchange}`, `{slot}`. In a dotenv PREFIX they expand upper-case with `_` for
 * anything but letters and digits (`bot-1` → `BOT_1`); in a JSON pointer they are escaped (RFC 6901);
 * in paths and commands anything but letters, digits, `.`, `_` and `-` becomes `_` (so a value cannot
 * add `/`, NUL or a control character to a path).
 *
 * Placeholders come from the exchange (a key's label is whatever its creator typed), so in a path they
 * must not move the file: a value that expands to `.`, `..` or nothing is refused (a key labelled `..`
 * would turn `/srv/bots/{label}/.env` into `/srv/.env`), and the path must stay under the literal text
 * before the first placeholder. Relative paths are made absolute against the caller's directory; a
 * caller with none (the web server, whose own directory is Keyward's home) passes `null` and they are
 * refused. Where a path really leads (symlinks, Keyward's home) is checked on the filesystem, in place.ts.
 */
import { isAbsolute, join, resolve, sep } from "node:path";
import { z } from "zod";
import { KeywardError } from "../../errors.js";

/**
 * Plans hold absolute paths only (parseTarget makes them so): a relative path in an edited plan file
 * would otherwise be written wherever `rotate apply` happens to run.
 */
const AbsolutePath = z
  .string()
  .min(1)
  .refine((p) => isAbsolute(p), "must be an absolute path")
  .refine((p) => !p.includes("\0"), "must not contain a NUL character");

export const TargetSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("dotenv"),
    path: AbsolutePath,
    prefix: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .nullable(),
  }),
  z.strictObject({ kind: z.literal("json"), path: AbsolutePath, pointer: z.string() }),
  z.strictObject({
    kind: z.literal("age"),
    dir: AbsolutePath,
    /** The file inside `dir` for this key; set when the plan is made. */
    file: AbsolutePath,
  }),
  z.strictObject({ kind: z.literal("exec"), command: z.string().min(1) }),
]);
export type Target = z.infer<typeof TargetSchema>;
export type TargetKind = Target["kind"];

export const TARGET_KINDS: readonly TargetKind[] = ["dotenv", "json", "age", "exec"];

/** The names of what each placeholder stands for, per key. */
export interface TargetVars {
  account: string;
  sub: string;
  label: string;
  exchange: string;
  slot: number;
}

const HINT =
  "Use dotenv:PATH[#PREFIX], json:PATH#POINTER, age:DIR (with --recipient) or exec:CMD, e.g. dotenv:/srv/bot/.env#OKX or json:/srv/bot/config.json#/exchange.";

const bad = (text: string, why: string) =>
  new KeywardError("CONFIG_INVALID", `--deliver ${JSON.stringify(text)}: ${why}`, { hint: HINT });

const PLACEHOLDER = /\{(account|sub|label|exchange|slot)\}/g;

const forPath = (value: string) => value.replace(/[^A-Za-z0-9._-]/g, "_");
const forPrefix = (value: string) => value.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
const forPointer = (value: string) => value.replace(/~/g, "~0").replace(/\//g, "~1");

function expand(text: string, vars: TargetVars, encode: (v: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: keyof TargetVars) => encode(String(vars[name])));
}

/** Whether the target text names a placeholder (so it can serve several keys). */
export const hasPlaceholder = (text: string): boolean => new RegExp(PLACEHOLDER.source).test(text);

/**
 * Checks a target's form without expanding it (the command line is checked before any key is listed).
 * `cwd` null: relative paths are refused, as parseTarget does.
 */
export function checkTargetSyntax(text: string, cwd: string | null = "/"): TargetKind {
  return parseTarget(text, { account: "a", sub: "s", label: "l", exchange: "okx", slot: 1 }, cwd).kind;
}

/**
 * A path with its placeholders expanded, absolute. Refuses a value that would move the file (`.`,
 * `..`, nothing), and a result that leaves the literal prefix before the first placeholder (a literal
 * `..` after a placeholder may climb back up to it, not past it).
 */
function expandPath(text: string, p: string, vars: TargetVars, cwd: string | null): string {
  for (const m of p.matchAll(PLACEHOLDER)) {
    const name = m[1] as keyof TargetVars;
    const value = forPath(String(vars[name]));
    if (value === "" || value === "." || value === "..") {
      throw bad(
        text,
        `{${name}} expands to ${JSON.stringify(value)} for this key (${vars.exchange} ${vars.account} "${vars.label}"), which would change the folder the file is in`,
      );
    }
  }
  const expanded = expand(p, vars, forPath);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(expanded)) throw bad(text, "the path contains a control character");
  if (!isAbsolute(expanded) && cwd === null) {
    throw bad(text, `"${expanded}" is a relative path; give the full path (starting with /)`);
  }
  const absolute = isAbsolute(expanded) ? expanded : resolve(cwd ?? "/", expanded);
  const first = p.search(new RegExp(PLACEHOLDER.source));
  if (first >= 0) {
    const literal = p.slice(0, first);
    const base = resolve(cwd ?? "/", literal || ".");
    // A literal ending in "/" (or nothing) names a folder: the result must be inside it.
    const under = literal === "" || literal.endsWith("/") ? (base.endsWith(sep) ? base : base + sep) : base;
    if (!resolve(absolute).startsWith(under)) {
      throw bad(text, `for key "${vars.label}" the path leads to ${resolve(absolute)}, outside ${under}`);
    }
  }
  return absolute;
}

/**
 * Parses one `--deliver` value for one key: placeholders expanded, relative paths made absolute against
 * `cwd` (refused when it is null), then checked. Errors are CONFIG_INVALID naming the value and what is
 * wrong with it.
 */
export function parseTarget(text: string, vars: TargetVars, cwd: string | null): Target {
  const colon = text.indexOf(":");
  const kind = colon > 0 ? text.slice(0, colon) : "";
  const rest = colon > 0 ? text.slice(colon + 1) : "";
  const path = (p: string) => expandPath(text, p, vars, cwd);
  switch (kind) {
    case "dotenv": {
      const hash = rest.lastIndexOf("#");
      const file = hash >= 0 ? rest.slice(0, hash) : rest;
      const prefix = hash >= 0 ? expand(rest.slice(hash + 1), vars, forPrefix) : null;
      if (!file) throw bad(text, "the file path is missing");
      if (prefix !== null && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
        throw bad(
          text,
          `the prefix "${prefix}" is not a variable name (letters, digits, _; not starting with a digit)`,
        );
      }
      return { kind: "dotenv", path: path(file), prefix };
    }
    case "json": {
      const hash = rest.lastIndexOf("#");
      if (hash < 0) throw bad(text, "a JSON pointer is required after '#', e.g. #/exchange");
      const file = rest.slice(0, hash);
      const pointer = expand(rest.slice(hash + 1), vars, forPointer);
      if (!file) throw bad(text, "the file path is missing");
      if (pointer !== "" && !pointer.startsWith("/")) {
        throw bad(text, `"${pointer}" is not a JSON pointer (RFC 6901): it must be empty or start with "/"`);
      }
      if (/~[^01]|~$/.test(pointer))
        throw bad(text, `"${pointer}" has a "~" not followed by 0 or 1 (RFC 6901)`);
      return { kind: "json", path: path(file), pointer };
    }
    case "age": {
      if (!rest) throw bad(text, "the directory is missing");
      const dir = path(rest);
      const name = [vars.account, vars.sub, vars.label].map(forPath).join(".");
      return { kind: "age", dir, file: join(dir, `${name}.age`) };
    }
    case "exec": {
      const command = expand(rest, vars, forPath).trim();
      if (!command) throw bad(text, "the command is missing");
      return { kind: "exec", command };
    }
    default:
      throw bad(text, `unknown kind "${kind || text}" (known: ${TARGET_KINDS.join(", ")})`);
  }
}

/** How a target shows in plans, progress and the audit log (no secret: targets hold none). */
export function describeTarget(target: Target): string {
  switch (target.kind) {
    case "dotenv":
      return `dotenv:${target.path}${target.prefix === null ? "" : `#${target.prefix}`}`;
    case "json":
      return `json:${target.path}#${target.pointer}`;
    case "age":
      return `age:${target.file}`;
    case "exec":
      return `exec:${target.command}`;
  }
}

/**
 * Where two keys would overwrite each other: the same dotenv variables, the same JSON object, the same
 * age file. Returns the clashing description, or undefined.
 */
export const clashKey = (target: Target): string | undefined =>
  target.kind === "exec" ? undefined : describeTarget(target);
