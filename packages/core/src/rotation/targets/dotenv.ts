/**
 * `dotenv:PATH[#PREFIX]`: rewrites only the key's variables in a dotenv file and keeps every other line,
 * comment and blank line as it was. The variables are
 *
 *   PREFIX_API_KEY, PREFIX_API_SECRET, PREFIX_API_PASSPHRASE (OKX only)
 *
 * or API_KEY, API_SECRET, API_PASSPHRASE without a prefix. A variable already in the file is replaced
 * where it stands (every occurrence, so every dotenv reader sees the new value, and a multi-line quoted
 * value is replaced whole, keeping a trailing `# comment`); a missing one is appended. Values are
 * written single-quoted (literal in dotenv, docker compose, python-dotenv and sh).
 *
 * The file is replaced atomically (temp file, fsync, rename) with mode 0600; a symlink is followed and
 * its target replaced. The `dotenv` package is used to read values back, never to write.
 */
import { readFile, readlink, realpath } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parse } from "dotenv";
import { KeywardError } from "../../errors.js";
import { errnoOf, writeFileAtomic } from "../../vault/atomic-write.js";
import type { Target } from "./parse.js";
import type { DeliveryPayload } from "./payload.js";

type DotenvTarget = Extract<Target, { kind: "dotenv" }>;

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

/** The value as dotenv writes it literally; throws for a value no quoting keeps intact. */
function quote(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw unquotable(name, "a line break");
  if (!value.includes("'")) return `'${value}'`;
  if (!/["\\]/.test(value)) return `"${value}"`;
  throw unquotable(name, "both quote kinds or a backslash");
}

const unquotable = (name: string, what: string) =>
  new KeywardError(
    "DELIVERY_FAILED",
    `dotenv: the value of ${name} contains ${what}; no dotenv quoting keeps it intact`,
    {
      hint: "Deliver this key to a json, age or exec target instead.",
    },
  );

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

/**
 * The file behind a path, following symlinks (also one whose file does not exist yet), so the atomic
 * rename replaces the file and never the link; the path itself when nothing is there yet.
 */
export async function realTarget(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < 20; hops++) {
    try {
      return await realpath(current);
    } catch (error) {
      if (errnoOf(error) !== "ENOENT") throw error;
    }
    try {
      current = resolve(dirname(current), await readlink(current));
    } catch {
      return current;
    }
  }
  return current;
}

export async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return "";
    throw error;
  }
}

export async function deliverDotenv(target: DotenvTarget, payload: DeliveryPayload): Promise<string> {
  const names = dotenvNames(target.prefix);
  const { credentials } = payload;
  const values: Record<string, string> = {
    [names.apiKey]: credentials.apiKey,
    [names.secret]: credentials.secret.reveal(),
    ...(credentials.passphrase ? { [names.passphrase]: credentials.passphrase.reveal() } : {}),
  };
  const file = await realTarget(target.path);
  const next = rewriteDotenv(await readText(file), values);
  await writeFileAtomic(file, Buffer.from(next, "utf8"), { mode: 0o600 });
  return `wrote ${Object.keys(values).join(", ")} in ${file}`;
}

/** The credentials a dotenv target holds now (for checks and for keeping the old key before an overwrite). */
export async function readDotenv(
  target: DotenvTarget,
): Promise<{ apiKey?: string; secret?: string; passphrase?: string }> {
  const names = dotenvNames(target.prefix);
  const parsed = parse(await readText(await realTarget(target.path)));
  return {
    ...(parsed[names.apiKey] === undefined ? {} : { apiKey: parsed[names.apiKey] }),
    ...(parsed[names.secret] === undefined ? {} : { secret: parsed[names.secret] }),
    ...(parsed[names.passphrase] === undefined ? {} : { passphrase: parsed[names.passphrase] }),
  };
}
