/**
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
 * The drivers parse with these helpers; the hint of their errors lists every kind (index.ts).
 */
import { isAbsolute, resolve, sep } from "node:path";
import { z } from "zod";
import type { TargetParseContext, TargetVars } from "./target.js";

export const PLACEHOLDERS = "{account} {sub} {label} {exchange} {slot}";

const PLACEHOLDER = /\{(account|sub|label|exchange|slot)\}/g;

export const forPath = (value: string): string => value.replace(/[^A-Za-z0-9._-]/g, "_");
export const forPrefix = (value: string): string => value.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
export const forPointer = (value: string): string => value.replace(/~/g, "~0").replace(/\//g, "~1");

export function expand(text: string, vars: TargetVars, encode: (v: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: keyof TargetVars) => encode(String(vars[name])));
}

/** Whether the target text names a placeholder (so it can serve several keys). */
export const hasPlaceholder = (text: string): boolean => new RegExp(PLACEHOLDER.source).test(text);

/**
 * Plans hold absolute paths only (parsing makes them so): a relative path in an edited plan file
 * would otherwise be written wherever `rotate apply` happens to run.
 */
export const AbsolutePath = z
  .string()
  .min(1)
  .refine((p) => isAbsolute(p), "must be an absolute path")
  .refine((p) => !p.includes("\0"), "must not contain a NUL character");

/**
 * A path with its placeholders expanded, absolute. Refuses a value that would move the file (`.`,
 * `..`, nothing), and a result that leaves the literal prefix before the first placeholder (a literal
 * `..` after a placeholder may climb back up to it, not past it).
 */
export function expandPath(p: string, ctx: TargetParseContext, field = "path"): string {
  const { vars, cwd, fail } = ctx;
  for (const m of p.matchAll(PLACEHOLDER)) {
    const name = m[1] as keyof TargetVars;
    const value = forPath(String(vars[name]));
    if (value === "" || value === "." || value === "..") {
      fail(
        field,
        `{${name}} expands to ${JSON.stringify(value)} for this key (${vars.exchange} ${vars.account} "${vars.label}"), which would change the folder the file is in`,
      );
    }
  }
  const expanded = expand(p, vars, forPath);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(expanded)) fail(field, "the path contains a control character");
  if (!isAbsolute(expanded) && cwd === null) {
    fail(field, `"${expanded}" is a relative path; give the full path (starting with /)`);
  }
  const absolute = isAbsolute(expanded) ? expanded : resolve(cwd ?? "/", expanded);
  const first = p.search(new RegExp(PLACEHOLDER.source));
  if (first >= 0) {
    const literal = p.slice(0, first);
    const base = resolve(cwd ?? "/", literal || ".");
    // A literal ending in "/" (or nothing) names a folder: the result must be inside it.
    const under = literal === "" || literal.endsWith("/") ? (base.endsWith(sep) ? base : base + sep) : base;
    if (!resolve(absolute).startsWith(under)) {
      fail(field, `for key "${vars.label}" the path leads to ${resolve(absolute)}, outside ${under}`);
    }
  }
  return absolute;
}
