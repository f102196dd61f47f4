/**
 * `dotenv:PATH[#PREFIX]`: rewrites only the key's variables in a dotenv file and keeps every other line,
 * comment and blank line as it was. The variables are
 *
 *   PREFIX_API_KEY, PREFIX_API_SECRET, PREFIX_API_PASSPHRASE (only for a key with a passphrase)
 *
 * or API_KEY, API_SECRET, API_PASSPHRASE without a prefix. A variable already in the file is replaced
 * where it stands (every occurrence, so every dotenv reader sees the new value, and a multi-line quoted
 * value is replaced whole, keeping a trailing `# comment`); a missing one is appended.
 *
 * Values are written single-quoted, the one quoting that sh (`. file`, `set -a`), docker compose,
 * python-dotenv and the npm dotenv package all read literally, or nearly: no `$VAR`, `$(…)`, backtick
 * or `\n` expansion in any of them. A value it cannot carry is refused, never written another way
 * (double quotes would let `$(…)` and backticks run under `sh`): one with a single quote, a line
 * break or another control character, `${` (python-dotenv expands `${NAME}` whatever the quotes), two
 * backslashes in a row (python-dotenv reads them as one) or a trailing backslash (docker compose and
 * python-dotenv read it as escaping the closing quote).
 *
 * The file is replaced atomically, keeping its owner, group and mode (place.ts); a symlink is followed
 * and its target replaced. The `dotenv` package is used to read values back, never to write.
 * Writes to one file are serialised in this process (place.ts), so keys sharing it never lose an update.
 */

import { readFile } from "node:fs/promises";
import { parse } from "dotenv";
import { z } from "zod";
import { withPassphraseNote } from "../../adapters/registry.js";
import { KeywardError } from "../../errors.js";
import { errnoOf } from "../../vault/atomic-write.js";
import type { DeliveryPayload } from "./payload.js";
import { checkedPlace, replaceFile, resolvePlace, serialised } from "./place.js";
import { AbsolutePath, expand, expandPath, forPrefix } from "./placeholders.js";
import type { DeliveryTarget } from "./target.js";

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

const DotenvSchema = z.strictObject({
  kind: z.literal("dotenv"),
  path: AbsolutePath,
  prefix: z.string().regex(VARIABLE).nullable(),
});
export type DotenvTarget = z.infer<typeof DotenvSchema>;

export interface DotenvNames {
  apiKey: string;
  secret: string;
  passphrase: string;
}

export function dotenvNames(prefix: string | null): DotenvNames {
  const p = prefix ? `${prefix}_` : "";
  return { apiKey: `${p}API_KEY`, secret: `${p}API_SECRET`, passphrase: `${p}API_PASSPHRASE` };
}

const LINE = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$/;

/** What in a value single quotes cannot carry to every reader, or undefined when it is safe. */
export function dotenvUnsafe(value: string): string | undefined {
  if (value.includes("'")) return "a single quote";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(value)) return "a line break or another control character";
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text "${" is what is refused
  if (value.includes("${")) return '"${" (python-dotenv expands ${NAME} even inside single quotes)';
  if (value.includes("\\\\")) return "two backslashes in a row (python-dotenv reads them as one)";
  if (value.endsWith("\\")) {
    return "a trailing backslash (docker compose and python-dotenv read it as escaping the closing quote)";
  }
  return undefined;
}

const UNQUOTABLE_HINT =
  "Deliver this key to a json, age or exec target instead (they carry any value), then run `keyward rotate resume` or `keyward rotate abort`.";

/** The value single-quoted; throws for a value single quotes cannot carry (see dotenvUnsafe). */
function quote(name: string, value: string): string {
  const unsafe = dotenvUnsafe(value);
  if (unsafe) {
    throw new KeywardError(
      "DELIVERY_FAILED",
      `dotenv: the value of ${name} contains ${unsafe}; it cannot be written so that every dotenv reader and sh read it literally`,
      { hint: UNQUOTABLE_HINT },
    );
  }
  return `'${value}'`;
}

/**
 * Where the value of a variable ends: for a quoted value, the line holding the closing quote (a value
 * may span lines); returns the index of that line and the text after the value (a comment), if any.
 */
function valueExtent(lines: string[], start: number, raw: string): { end: number; tail: string } {
  const q = raw[0];
  if (q === "'" || q === '"' || q === "`") {
    let text = raw.slice(1);
    for (let i = start; i < lines.length; i++) {
      const close = closingQuote(text, q);
      if (close >= 0) return { end: i, tail: text.slice(close + 1) };
      text = lines[i + 1] ?? "";
    }
    return { end: start, tail: "" }; // unterminated: treat as one line, as dotenv does
  }
  const comment = /\s+#.*$/.exec(raw);
  return { end: start, tail: comment ? comment[0] : "" };
}

function closingQuote(text: string, q: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\" && q === '"') i++;
    else if (text[i] === q) return i;
  }
  return -1;
}

/** The new file text: the named variables set, everything else as it was. Pure. */
export function rewriteDotenv(text: string, values: Record<string, string>): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.length === 0 ? [] : text.split(/\r?\n/);
  const endsWithNewline = lines.length > 0 && lines.at(-1) === "";
  if (endsWithNewline) lines.pop();
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const m = LINE.exec(line);
    const name = m?.[2];
    if (!m || name === undefined || !(name in values)) {
      out.push(line);
      continue;
    }
    const { end, tail } = valueExtent(lines, i, m[4] ?? "");
    out.push(`${m[1]}${name}${m[3]}${quote(name, values[name] as string)}${tail}`);
    seen.add(name);
    i = end;
  }
  for (const [name, value] of Object.entries(values)) {
    if (!seen.has(name)) out.push(`${name}=${quote(name, value)}`);
  }
  return `${out.join(eol)}${eol}`;
}

export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return "";
    throw error;
  }
}

const describe = (target: DotenvTarget): string =>
  `dotenv:${target.path}${target.prefix === null ? "" : `#${target.prefix}`}`;

async function deliverDotenv(target: DotenvTarget, payload: DeliveryPayload, home: string): Promise<string> {
  const names = dotenvNames(target.prefix);
  const { credentials } = payload;
  const values: Record<string, string> = {
    [names.apiKey]: credentials.apiKey,
    [names.secret]: credentials.secret.reveal(),
    ...(credentials.passphrase ? { [names.passphrase]: credentials.passphrase.reveal() } : {}),
  };
  const name = describe(target);
  for (const [variable, value] of Object.entries(values)) {
    const unsafe = dotenvUnsafe(value);
    if (unsafe) {
      // Names the target, the key and the variable; never the value.
      throw new KeywardError(
        "DELIVERY_FAILED",
        `${name}: the ${variable} of key "${payload.label}" contains ${unsafe}; no quoting keeps it literal for sh, docker compose, python-dotenv and dotenv, so nothing was written`,
        { hint: UNQUOTABLE_HINT },
      );
    }
  }
  const { real } = await checkedPlace(target.path, name, home);
  const next = rewriteDotenv(await readText(real), values);
  await replaceFile(real, Buffer.from(next, "utf8"), name);
  return `wrote ${Object.keys(values).join(", ")} in ${real}`;
}

/** The credentials a dotenv target holds now (for checks and for keeping the old key before an overwrite). */
export async function readDotenv(
  target: DotenvTarget,
): Promise<{ apiKey?: string; secret?: string; passphrase?: string }> {
  const names = dotenvNames(target.prefix);
  const parsed = parse(await readText(target.path));
  return {
    ...(parsed[names.apiKey] === undefined ? {} : { apiKey: parsed[names.apiKey] }),
    ...(parsed[names.secret] === undefined ? {} : { secret: parsed[names.secret] }),
    ...(parsed[names.passphrase] === undefined ? {} : { passphrase: parsed[names.passphrase] }),
  };
}

export const dotenvTarget = {
  kind: "dotenv",
  schema: DotenvSchema,
  usage: {
    form: "dotenv:PATH[#PREFIX]",
    text: `sets PREFIX_API_KEY, PREFIX_API_SECRET and ${withPassphraseNote()} PREFIX_API_PASSPHRASE (no prefix: API_KEY, API_SECRET, API_PASSPHRASE); other lines and comments stay; values are single-quoted (one with ' \${ a line break or a trailing \\ is refused)`,
  },
  example: "dotenv:/srv/bots/.env#{label}",
  webAllowed: true,
  options: [],
  parse(spec, ctx) {
    const hash = spec.lastIndexOf("#");
    const file = hash >= 0 ? spec.slice(0, hash) : spec;
    const prefix = hash >= 0 ? expand(spec.slice(hash + 1), ctx.vars, forPrefix) : null;
    if (!file) ctx.fail("path", "the file path is missing");
    if (prefix !== null && !VARIABLE.test(prefix)) {
      ctx.fail(
        "prefix",
        `the prefix "${prefix}" is not a variable name (letters, digits, _; not starting with a digit)`,
      );
    }
    return { kind: "dotenv", path: expandPath(file, ctx), prefix };
  },
  describe,
  // The same file and prefix: the same variables.
  clashKey: describe,
  place: (target) => ({ path: target.path, needsFolder: true }),
  async deliver(target, payload, options) {
    const { real } = await resolvePlace(target.path, describe(target));
    return serialised(real, () => deliverDotenv(target, payload, options.home));
  },
} satisfies DeliveryTarget<DotenvTarget, never>;
