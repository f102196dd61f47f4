/**
 * Credentials for the leak corpus and tests (task: patterns): fake ones made from a profile's shapes
 * (what a leak of a key the exchange issued looks like), and the formats leaks come in (.env, YAML,
 * JSON, minified JSON, a Python dict, a shell export, a log line), with or without the exchange's name.
 * No exchange is named here: everything comes from the profiles.
 */
import { acceptsToken } from "../scan/detect.js";
import type { LeakPatterns, LeakTokenShape } from "../scan/scan-types.js";
import { type Rng, str } from "./leak-random.js";

/** A string the regex source matches, for the subset profiles use: classes, literals, {n} / {n,m}, `|`. */
function sample(pattern: string, rng: Rng): string {
  const alternatives: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "[" || c === "(") depth++;
    else if (c === "]" || c === ")") depth--;
    else if (c === "|" && depth === 0) {
      alternatives.push(pattern.slice(from, i));
      from = i + 1;
    }
  }
  alternatives.push(pattern.slice(from));
  // The first alternative is the exchange's current format (later ones are older forms).
  const source = alternatives[0] ?? "";
  let out = "";
  for (let i = 0; i < source.length; ) {
    let chars: string;
    const c = source[i] ?? "";
    if (c === "[") {
      const close = source.indexOf("]", i + 1);
      chars = expandClass(source.slice(i + 1, close));
      i = close + 1;
    } else if (c === "\\") {
      chars = source[i + 1] ?? "";
      i += 2;
    } else if ("()|*+?.^$".includes(c)) {
      throw new Error(`fakeCredentials: unsupported pattern syntax "${c}" in ${pattern}`);
    } else {
      chars = c;
      i++;
    }
    let count = 1;
    const q = /^\{(\d+)(?:,(\d+))?\}/.exec(source.slice(i));
    if (q) {
      const min = Number(q[1]);
      const max = q[2] === undefined ? min : Number(q[2]);
      count = min + rng.int(max - min + 1);
      i += q[0].length;
    }
    out += str(rng, chars, count);
  }
  return out;
}

function expandClass(body: string): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? "";
    const c2 = body[i + 2];
    if (c === "\\") {
      out += body[i + 1] ?? "";
      i++;
    } else if (body[i + 1] === "-" && c2 !== undefined) {
      for (let x = c.charCodeAt(0); x <= c2.charCodeAt(0); x++) out += String.fromCharCode(x);
      i += 2;
    } else out += c;
  }
  return out;
}

function fakeToken(shape: LeakTokenShape, rng: Rng): string {
  for (let tries = 0; tries < 1000; tries++) {
    const token = sample(shape.pattern, rng);
    if (acceptsToken(shape, token)) return token;
  }
  throw new Error(`fakeCredentials: no token of ${shape.pattern} passes the detector's checks`);
}

export interface FakeCredential {
  key: string;
  secret: string;
  passphrase?: string;
}

/**
 * A realistic credential of an exchange, from its profile's shapes (`leaks`): what a leak of a key the
 * exchange issued looks like. Keys with a passphrase (`passphraseWords`) get one a person might choose.
 */
export function fakeCredentials(
  profile: { leaks?: LeakPatterns | undefined; id?: string },
  rng: Rng,
): FakeCredential {
  const leaks = profile.leaks;
  if (leaks === undefined) throw new Error(`fakeCredentials: profile ${profile.id ?? "?"} has no leaks`);
  const out: FakeCredential = { key: fakeToken(leaks.key, rng), secret: fakeToken(leaks.secret, rng) };
  if ((leaks.passphraseWords ?? []).length > 0) {
    out.passphrase = `${rng.pick(["Blue", "Quiet", "Rapid", "Amber"])}${rng.pick(["Fox", "Harbor", "Cedar"])}${rng.int(90) + 10}${rng.pick(["!", "#", "%", "*"])}`;
  }
  return out;
}

export type PlantFormat = "env" | "yaml" | "json" | "minified-json" | "python" | "shell" | "log";
export const PLANT_FORMATS: readonly PlantFormat[] = [
  "env",
  "yaml",
  "json",
  "minified-json",
  "python",
  "shell",
  "log",
];

export interface PlantedCredential {
  exchange: string;
  key: string;
  secret?: string;
  passphrase?: string;
}

export interface PlantedLeak extends PlantedCredential {
  /** Relative to the root, with "/". */
  path: string;
  /** 1-based line of the key. */
  line: number;
  /** Whether the exchange's name is within the profile's window of the key. */
  nearName: boolean;
  format: PlantFormat;
  /** Given by the caller (`plant.known`): what the engine finds by exact match. */
  known: boolean;
  /** What pattern detection alone should report for it, by the profile's rules; null: nothing. */
  detect: "high" | "medium" | "low" | null;
}

/**
 * A credential written in one of the formats leaks come in (`name`: the exchange's name beside it, or
 * null for a pair alone), and the index of the line holding the key.
 */
export function credentialSnippet(
  format: PlantFormat,
  cred: PlantedCredential,
  name: string | null,
  rng: Rng,
): { text: string; keyLine: number } {
  const N = name?.toUpperCase();
  const pre = N === undefined ? "" : `${N}_`;
  const s = cred.secret;
  const p = cred.passphrase;
  switch (format) {
    case "env": {
      const lines = [`${pre}API_KEY=${cred.key}`];
      if (s !== undefined) lines.push(`${pre}API_SECRET=${s}`);
      if (p !== undefined) lines.push(`${pre}PASSPHRASE=${p}`);
      return { text: `${lines.join("\n")}\n`, keyLine: 0 };
    }
    case "shell": {
      const lines = [`export ${pre}KEY="${cred.key}"`];
      if (s !== undefined) lines.push(`export ${pre}SECRET="${s}"`);
      if (p !== undefined) lines.push(`export ${pre}PASSPHRASE='${p}'`);
      return { text: `${lines.join("\n")}\n`, keyLine: 0 };
    }
    case "yaml": {
      const lines = [name === null ? "credentials:" : `${name}:`, `  apiKey: ${cred.key}`];
      if (s !== undefined) lines.push(`  secret: "${s}"`);
      if (p !== undefined) lines.push(`  passphrase: "${p}"`);
      return { text: `${lines.join("\n")}\n`, keyLine: 1 };
    }
    case "json": {
      const lines = ["{"];
      if (name !== null) lines.push(`  "exchange": "${name}",`);
      lines.push(`  "apiKey": "${cred.key}"${s !== undefined || p !== undefined ? "," : ""}`);
      const keyLine = lines.length - 1;
      if (s !== undefined) lines.push(`  "secret": "${s}"${p !== undefined ? "," : ""}`);
      if (p !== undefined) lines.push(`  "password": "${p}"`);
      lines.push("}");
      return { text: `${lines.join("\n")}\n`, keyLine };
    }
    case "minified-json": {
      const fields = [
        ...(name === null ? [] : [`"exchange":"${name}"`]),
        `"apiKey":"${cred.key}"`,
        ...(s === undefined ? [] : [`"secret":"${s}"`]),
        ...(p === undefined ? [] : [`"passphrase":"${p}"`]),
      ];
      return { text: `{"id":${rng.int(1e6)},${fields.join(",")},"enabled":true},`, keyLine: 0 };
    }
    case "python": {
      const inner = [`"api_key": "${cred.key}"`];
      if (s !== undefined) inner.push(`"secret": "${s}"`);
      if (p !== undefined) inner.push(`"passphrase": "${p}"`);
      const head = name === null ? "CREDENTIALS = {" : `EXCHANGES = {"${name}": {`;
      const tail = name === null ? "}" : "}}";
      return { text: `${head}${inner.join(", ")}${tail}\n`, keyLine: 0 };
    }
    case "log": {
      const where = name === null ? "venue" : name;
      const rest = `${s !== undefined ? ` secret=${s}` : ""}${p !== undefined ? ` passphrase=${p}` : ""}`;
      return {
        text: `2025-11-${10 + rng.int(18)}T0${rng.int(9)}:1${rng.int(9)}:00.000Z INFO connect ${where} apiKey=${cred.key}${rest} attempt=${rng.int(5) + 1}\n`,
        keyLine: 0,
      };
    }
  }
}

/** What pattern detection alone makes of a planted credential, by the profile's rules. */
export function expectedDetect(
  cred: PlantedCredential,
  leaks: LeakPatterns,
  nearName: boolean,
): PlantedLeak["detect"] {
  if (!acceptsToken(leaks.key, cred.key)) return null;
  const secret = cred.secret !== undefined && acceptsToken(leaks.secret, cred.secret);
  const pass = cred.passphrase !== undefined && (leaks.passphraseWords ?? []).length > 0;
  if (secret && nearName) return "high";
  if (secret && leaks.pairWithoutName) return pass ? "high" : "medium";
  if (nearName) return pass ? "medium" : "low";
  return null;
}
