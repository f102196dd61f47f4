/**
 * `keyward scan` (task: patterns): finds credentials Keyward does not know, from the shapes each
 * exchange's profile declares (`leaks`, scan/scan-types.ts). Pure and synchronous: the engine hands it
 * one chunk of a file at a time (bytes decoded as latin1, so a character offset is a byte offset) and
 * overlaps chunks by `span`, so every credential lies whole in at least one chunk.
 *
 * Nothing here names an exchange: every fact comes from the profiles. The rules:
 * - A token (a key, a secret) stands alone: the characters beside it are none of the characters keys and
 *   blobs are made of (letters, digits, `_ - + /`), it is not one part of a dotted run (`a.b.c`, as in a
 *   JWT) and not followed by `=` (base64 padding). So a slice of a base64 blob, of a JWT or of a longer
 *   id never counts as a key.
 * - A token made only of words (`getAccountBalance`, `snake_case_name`, `PERPETUAL`) or of too few
 *   distinct characters (`XXXXXXXX…`, `0000…`) is an identifier or a placeholder, not a key; shapes that
 *   ordinary text could form also need `minClasses` kinds of characters (upper, lower, digit).
 * - A name counts as a word or as a part of an identifier, any case: `okx`, `OKX_API_KEY`, `myOkxKey`,
 *   `"exchange": "okx"`; never inside another word.
 * - Confidence: key + secret + name within the window → "high"; key + secret, no name, where the profile
 *   says such a pair is rare enough (`pairWithoutName`) → "medium"; key + name alone → "low". A
 *   passphrase value found with a pair (the profile's `passphraseWords`) raises a medium to high: three
 *   fields of one credential.
 * - A token closer to another exchange's name that also has that exchange's shape is left to that
 *   exchange (a config file with several exchanges' keys one after another).
 *
 * Speed: one regex finds the rare parts (the names, and the keys of exchanges whose pairs count without
 * a name); only around those are the shapes looked for, so ordinary text costs one regex pass.
 */
import type { LeakPatterns, LeakTokenShape } from "./scan-types.js";

/** A credential-shaped find in one chunk. Holds raw text: never printed (scan-types.ts). */
export interface DetectedLeak {
  exchange: string;
  confidence: "high" | "medium" | "low";
  key: string;
  secret?: string;
  passphrase?: string;
  /** Offset of the key in the text given to `detectLeaks`. */
  offset: number;
}

/** The default distance (bytes) between the parts of one credential (scan-types.ts `window`). */
export const DEFAULT_LEAK_WINDOW = 512;
/** The longest passphrase value taken after a passphrase word. */
const MAX_PASSPHRASE = 64;

interface CompiledExchange {
  exchange: string;
  index: number;
  window: number;
  pairWithoutName: boolean;
  keyExact: RegExp;
  keyMinClasses: number;
  secretExact: RegExp;
  secretMinClasses: number;
  /** The secret's shape as is, to look for secrets near a key found without a name. */
  secretScan: RegExp;
  passphrase: RegExp | null;
}

/** What `compileLeakPatterns` returns: opaque to callers but for `span`. */
export interface CompiledLeakPatterns {
  /** The longest stretch of text one detection can cover: the engine overlaps chunks by at least this. */
  readonly span: number;
  readonly exchanges: readonly CompiledExchange[];
  /** Finds the names and (the literal tails of) the keys of pairWithoutName exchanges: one group each. */
  readonly anchor: RegExp | null;
  /** What each of the anchor's groups finds, and for which exchange. */
  readonly groups: readonly { kind: "name" | "key"; exchange: number }[];
  /** The token lengths some shape can have (1 = yes), indexed by length up to MAX_TOKEN. */
  readonly lengths: Uint8Array;
  /** Any exchange's passphrase word, any case: a token right after one is a passphrase. */
  readonly passphraseLabel: RegExp | null;
}

/** Characters a key or a blob is made of: one of these beside a token means it is part of a longer one. */
const TOKEN_CHARS = "A-Za-z0-9_+/\\-";
/** Shorter tokens are words; longer ones are blobs (no exchange issues a key or secret this long). */
const MIN_TOKEN = 8;
const MAX_TOKEN = 256;

/**
 * The shortest and longest text a shape matches, for the subset profiles use (classes, literals,
 * `{n}`, `{n,m}`, `?`, top-level `|`); null where it cannot tell (then every length is tried).
 */
function lengthRange(pattern: string): [number, number] | null {
  let min = 0;
  let max = 0;
  let altMin = Infinity;
  let altMax = 0;
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i] ?? "";
    if (c === "|") {
      altMin = Math.min(altMin, min);
      altMax = Math.max(altMax, max);
      min = 0;
      max = 0;
      i++;
      continue;
    }
    if (c === "[") {
      let close = i + 1;
      while (close < pattern.length && pattern[close] !== "]") close += pattern[close] === "\\" ? 2 : 1;
      i = close + 1;
    } else if (c === "\\") i += 2;
    else if ("()*+.^$".includes(c)) return null;
    else i++;
    const q = /^(?:\{(\d+)(?:,(\d+))?\}|(\?))/.exec(pattern.slice(i));
    if (q === null) {
      min++;
      max++;
    } else if (q[3] !== undefined) {
      max++;
      i++;
    } else {
      if (q[2] === "" || (q[0].includes(",") && q[2] === undefined)) return null;
      min += Number(q[1]);
      max += q[2] === undefined ? Number(q[1]) : Number(q[2]);
      i += q[0].length;
    }
  }
  return [Math.min(altMin, min), Math.max(altMax, max)];
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A name in any case, as a plain regex (no look-arounds: they would slow the one pass to a crawl). */
const anyCase = (name: string): string =>
  [...name]
    .map((c) => (/[a-z]/i.test(c) ? `[${c.toUpperCase()}${c.toLowerCase()}]` : escapeRegex(c)))
    .join("");

/**
 * Whether a name found at `at` is a word or a part of an identifier: before it no letter or digit, or a
 * camelCase hump (`myOkx`: a lower-case letter, then the name with a capital); after it no lower-case
 * letter or digit (`okxKey`, `OKX_KEY`, `okx"`). So a name inside a word or a random token (`…3bfx9…`)
 * does not count.
 */
function nameStands(text: string, at: number, end: number): boolean {
  const before = text.charCodeAt(at - 1);
  const first = text.charCodeAt(at);
  const after = text.charCodeAt(end);
  const okBefore =
    Number.isNaN(before) || !isAlnum(before) || (isLower(before) && first >= 65 && first <= 90);
  return okBefore && (Number.isNaN(after) || !(isLower(after) || isDigit(after)));
}
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isAlnum = (c: number): boolean => isLower(c) || isDigit(c) || (c >= 65 && c <= 90);

/** A passphrase word as a word or identifier part (the look-arounds are fine here: it runs on a window). */
const wordSource = (word: string): string => `(?<![A-Za-z0-9])${anyCase(word)}(?![a-z0-9])`;

/**
 * The tail of a shape from its first top-level literal character on (`-[0-9a-f]{4}-…` of a UUID), or
 * null where there is none (or a top-level `|`). A regex that starts with a literal is scanned for
 * several times faster than one that starts with a class, so the one pass looks for the tail and checks
 * the whole shape around each hit.
 */
function literalTail(pattern: string): string | null {
  let depth = 0;
  let inClass = false;
  let tail: number | null = null;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      continue;
    }
    if (c === "{") {
      const close = pattern.indexOf("}", i);
      if (close > i) i = close; // a quantifier's digits are no literal
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) return null;
    else if (tail === null && depth === 0 && i > 0 && !".*+?{}^$|".includes(c)) {
      const next = pattern[i + 1];
      if (next !== "?" && next !== "*" && !pattern.startsWith("{0", i + 1)) tail = i;
    }
  }
  return tail === null ? null : pattern.slice(tail);
}

function checkShape(shape: LeakTokenShape, where: string): void {
  try {
    new RegExp(shape.pattern);
  } catch (e) {
    throw new Error(`leak pattern ${where} is not a valid regex: ${(e as Error).message}`);
  }
  if (/\((?!\?[:=!<])/.test(shape.pattern)) throw new Error(`leak pattern ${where} has a capture group`);
}

/** Compiles the profiles' `leaks` once per scan (the engine shares the result between chunks). */
export function compileLeakPatterns(
  list: readonly { exchange: string; leaks: LeakPatterns }[],
): CompiledLeakPatterns {
  const exchanges: CompiledExchange[] = [];
  const anchorParts: string[] = [];
  const groups: { kind: "name" | "key"; exchange: number }[] = [];
  let span = 0;
  const lengths = new Uint8Array(MAX_TOKEN + 1);
  const passphraseWords = new Set<string>();
  if (list.length > 15) throw new Error("at most 15 exchanges' leak patterns at once (shape bits)");
  list.forEach(({ exchange, leaks }, index) => {
    for (const shape of [leaks.key, leaks.secret]) {
      const range = lengthRange(shape.pattern) ?? [MIN_TOKEN, MAX_TOKEN];
      for (let n = Math.max(MIN_TOKEN, range[0]); n <= Math.min(MAX_TOKEN, range[1]); n++) lengths[n] = 1;
    }
    checkShape(leaks.key, `${exchange}.key`);
    checkShape(leaks.secret, `${exchange}.secret`);
    const window = leaks.window ?? DEFAULT_LEAK_WINDOW;
    const words = leaks.passphraseWords ?? [];
    for (const w of words) passphraseWords.add(w);
    exchanges.push({
      exchange,
      index,
      window,
      pairWithoutName: leaks.pairWithoutName,
      keyExact: new RegExp(`^(?:${leaks.key.pattern})$`),
      keyMinClasses: leaks.key.minClasses ?? 0,
      secretExact: new RegExp(`^(?:${leaks.secret.pattern})$`),
      secretMinClasses: leaks.secret.minClasses ?? 0,
      secretScan: new RegExp(leaks.secret.pattern, "g"),
      // The word, then up to a few quotes, spaces, `:` or `=`, then the value up to a quote, space or `,;`.
      passphrase:
        words.length === 0
          ? null
          : new RegExp(
              `(?:${words.map((w) => wordSource(w)).join("|")})[A-Za-z_]{0,12}["'\`]?\\s{0,3}[:=]{1,2}>?\\s{0,3}["'\`]?([^\\s"'\`,;&]{1,${MAX_PASSPHRASE}})`,
              "g",
            ),
    });
    for (const name of leaks.names) {
      anchorParts.push(`(${anyCase(name)})`);
      groups.push({ kind: "name", exchange: index });
    }
    if (leaks.pairWithoutName) {
      anchorParts.push(`(${literalTail(leaks.key.pattern) ?? leaks.key.pattern})`);
      groups.push({ kind: "key", exchange: index });
    }
    // A name up to `window` before the key, a secret or passphrase up to `window` after it, and the
    // longest token and passphrase on either side.
    span = Math.max(span, 2 * window + 2 * 256 + MAX_PASSPHRASE);
  });
  return {
    span,
    exchanges,
    anchor: anchorParts.length === 0 ? null : new RegExp(anchorParts.join("|"), "g"),
    groups,
    lengths,
    passphraseLabel:
      passphraseWords.size === 0
        ? null
        : new RegExp([...passphraseWords].map((w) => escapeRegex(w)).join("|"), "i"),
  };
}

/** How many of upper case, lower case, digit a token has, and how many distinct characters: one loop. */
function profileOf(token: string): { classes: number; distinct: number } {
  let kinds = 0;
  const seen = [0, 0, 0, 0];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c >= 65 && c <= 90) kinds |= 1;
    else if (c >= 97 && c <= 122) kinds |= 2;
    else if (c >= 48 && c <= 57) kinds |= 4;
    const slot = (c >> 5) & 3;
    seen[slot] = (seen[slot] ?? 0) | (1 << (c & 31));
  }
  let distinct = 0;
  for (let m of seen) {
    for (; m !== 0; m &= m - 1) distinct++;
  }
  return { classes: (kinds & 1) + ((kinds >> 1) & 1) + ((kinds >> 2) & 1), distinct };
}

/** One word of an identifier: `Word`, `word`, `WORD` (two letters or more), no digits. */
const WORD = /^(?:[A-Z]?[a-z]{2,}|[A-Z]{2,})$/;

/**
 * Identifiers and placeholders, not keys: a token with few distinct characters for its length
 * (`XXXXXXXX…`, `0000…`), or one that splits (at `_ - + /` and camelCase humps) into words only
 * (`getAccountBalance`, `snake_case_name`). A random key of 8 characters or more almost always has a
 * digit, which no word has, so the split is rarely needed.
 */
function looksMadeUp(token: string, distinct: number): boolean {
  if (distinct < Math.min(8, Math.ceil(token.length / 3))) return true;
  if (/[0-9]/.test(token)) return false;
  const parts = token
    .split(/[_\-+/]+/)
    .flatMap((p) => p.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/))
    .filter((p) => p.length > 0);
  return parts.every((p) => WORD.test(p));
}

interface Token {
  text: string;
  at: number;
  /** Bit 2i: exchange i's key shape matches the whole token; bit 2i+1: its secret shape. */
  shapes: number;
  /** classes(text), and whether looksMadeUp(text): worked out once per token, when first needed. */
  classes?: number;
  madeUp?: boolean;
}

/** Which shapes match the whole of `text` (see Token.shapes). */
function shapesOf(compiled: CompiledLeakPatterns, text: string): number {
  let shapes = 0;
  for (const ex of compiled.exchanges) {
    if (ex.keyExact.test(text)) shapes |= 1 << (2 * ex.index);
    if (ex.secretExact.test(text)) shapes |= 1 << (2 * ex.index + 1);
  }
  return shapes;
}
const isKeyShaped = (t: Token, ex: CompiledExchange): boolean => (t.shapes & (1 << (2 * ex.index))) !== 0;
const isSecretShaped = (t: Token, ex: CompiledExchange): boolean =>
  (t.shapes & (1 << (2 * ex.index + 1))) !== 0;

function tokenOk(token: Token, minClasses: number): boolean {
  if (token.classes === undefined) {
    const p = profileOf(token.text);
    token.classes = p.classes;
    token.madeUp = looksMadeUp(token.text, p.distinct);
  }
  return token.classes >= minClasses && token.madeUp !== true;
}

/**
 * Runs of the characters keys and blobs are made of, at least MIN_TOKEN long (no shape is shorter): a
 * run is a whole token, so a key inside a longer run (a slice of a base64 blob) never matches a shape.
 */
// The look-behind makes a failed try inside a short word cost one character, not the rest of the word.
const RUN = new RegExp(`(?<![${TOKEN_CHARS}])[${TOKEN_CHARS}]{${MIN_TOKEN},}`, "g");
const isWordish = (c: number): boolean => isAlnum(c) || c === 95 /* _ */ || c === 45; /* - */
const isTokenChar = (c: number): boolean => isWordish(c) || c === 43 /* + */ || c === 47; /* / */

/** Not one part of a dotted run (`header.payload.signature`), not followed by base64 padding. */
function standsAlone(text: string, at: number, end: number): boolean {
  if (text.charCodeAt(at - 1) === 46 && isWordish(text.charCodeAt(at - 2))) return false;
  const after = text.charCodeAt(end);
  if (after === 61) return false;
  return !(after === 46 && isWordish(text.charCodeAt(end + 1)));
}

/** The whole token (run) that text[from, to) lies in, if it stands alone and some shape matches it. */
function tokenAround(compiled: CompiledLeakPatterns, text: string, from: number, to: number): Token | null {
  let at = from;
  while (at > 0 && isTokenChar(text.charCodeAt(at - 1))) at--;
  let end = to;
  while (end < text.length && isTokenChar(text.charCodeAt(end))) end++;
  const length = end - at;
  if (length > MAX_TOKEN || compiled.lengths[length] !== 1 || !standsAlone(text, at, end)) return null;
  const tokenText = text.slice(at, end);
  const shapes = shapesOf(compiled, tokenText);
  return shapes === 0 ? null : { text: tokenText, at, shapes };
}

/** The stand-alone tokens in the merged regions that some shape matches, in order. */
function tokensIn(
  compiled: CompiledLeakPatterns,
  text: string,
  regions: readonly { from: number; to: number }[],
): Token[] {
  const out: Token[] = [];
  for (const region of regions) {
    let from = region.from;
    while (from > 0 && isTokenChar(text.charCodeAt(from - 1))) from--; // a run that starts before the region
    // Up to MAX_TOKEN + 1 past the region: a run cut off there is too long to be a token either way.
    const slice = text.slice(from, region.to + MAX_TOKEN + 1);
    RUN.lastIndex = 0;
    for (let m = RUN.exec(slice); m !== null && from + m.index < region.to; m = RUN.exec(slice)) {
      const length = m[0].length;
      const at = from + m.index;
      if (length > MAX_TOKEN || compiled.lengths[length] !== 1) continue;
      if (!standsAlone(text, at, at + length)) continue;
      const shapes = shapesOf(compiled, m[0]);
      if (shapes !== 0) out.push({ text: m[0], at, shapes });
    }
  }
  return out;
}

/** The first index in `sorted` (ascending) whose value is >= `value`. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The distance from `at` to the nearest of `sorted`, Infinity if none. */
function nearest(sorted: readonly number[], at: number): number {
  const i = lowerBound(sorted, at);
  const after = sorted[i];
  const before = sorted[i - 1];
  return Math.min(after === undefined ? Infinity : after - at, before === undefined ? Infinity : at - before);
}

/** Merges stretches (given in ascending order of `from`). */
function merge(stretches: readonly { from: number; to: number }[]): { from: number; to: number }[] {
  const out: { from: number; to: number }[] = [];
  for (const s of stretches) {
    const last = out[out.length - 1];
    if (last !== undefined && s.from <= last.to) last.to = Math.max(last.to, s.to);
    else out.push({ ...s });
  }
  return out;
}

export interface DetectOptions {
  /**
   * Finds below this are not made at all (no object, no search for their secret): the engine passes
   * its `minConfidence` (scan-types.ts), so a tree full of order ids next to exchange names costs
   * nothing for the "low" finds nobody asked for. Default "low": everything.
   */
  minConfidence?: DetectedLeak["confidence"];
}
const RANK = { low: 1, medium: 2, high: 3 } as const;

/** Finds the credentials in `text` that the compiled profiles describe. */
export function detectLeaks(
  text: string,
  compiled: CompiledLeakPatterns,
  options: DetectOptions = {},
): DetectedLeak[] {
  const min = RANK[options.minConfidence ?? "low"];
  const { anchor, exchanges } = compiled;
  if (anchor === null) return [];
  // Pass 1: the rare parts (names, key tails), and the stretches around them worth a closer look.
  const namesAt: number[][] = exchanges.map(() => []);
  const nameStretches: { from: number; to: number }[] = [];
  const found = new Map<number, Token>();
  const tailStretches: { from: number; to: number }[][] = exchanges.map(() => []);
  anchor.lastIndex = 0;
  for (let m = anchor.exec(text); m !== null; m = anchor.exec(text)) {
    for (let g = 0; g < compiled.groups.length; g++) {
      if (m[g + 1] === undefined) continue;
      const group = compiled.groups[g];
      const ex = exchanges[group?.exchange ?? -1];
      if (group === undefined || ex === undefined) break;
      const end = m.index + m[0].length;
      if (group.kind === "name") {
        if (!nameStands(text, m.index, end)) break;
        namesAt[ex.index]?.push(m.index);
        nameStretches.push({
          from: Math.max(0, m.index - ex.window - MAX_TOKEN),
          to: end + ex.window + MAX_TOKEN,
        });
      } else {
        // A key's tail: the whole token around it, and (below) the secrets within the window of it.
        const key = tokenAround(compiled, text, m.index, end);
        if (key !== null && isKeyShaped(key, ex)) {
          found.set(key.at, key);
          tailStretches[ex.index]?.push({
            from: Math.max(0, key.at - ex.window - MAX_TOKEN),
            to: key.at + key.text.length + ex.window,
          });
        }
      }
      break;
    }
  }
  // Near names every shape counts; near a key found without a name, only that exchange's secrets.
  for (const t of tokensIn(compiled, text, merge(nameStretches))) found.set(t.at, t);
  for (const ex of exchanges) {
    for (const region of merge(tailStretches[ex.index] ?? [])) {
      const slice = text.slice(region.from, region.to);
      ex.secretScan.lastIndex = 0;
      for (let m = ex.secretScan.exec(slice); m !== null; m = ex.secretScan.exec(slice)) {
        const at = region.from + m.index;
        const t = tokenAround(compiled, text, at, at + m[0].length);
        if (t !== null && t.at === at && t.text.length === m[0].length) found.set(t.at, t);
      }
    }
  }
  if (found.size === 0) return [];
  const tokens = [...found.values()].sort((a, b) => a.at - b.at);

  const out: DetectedLeak[] = [];
  for (const ex of exchanges) {
    const names = namesAt[ex.index] ?? [];
    const isKey = (t: Token): boolean =>
      isKeyShaped(t, ex) &&
      tokenOk(t, ex.keyMinClasses) &&
      (ex.pairWithoutName || nearest(names, t.at) <= ex.window) &&
      !(isSecretShaped(t, ex) && labelled(text, t.at, SECRET_LABEL)) &&
      !labelledPassphrase(compiled, text, t);
    const keys = tokens.filter((t) => isKey(t) && !claimedByOther(compiled, namesAt, ex, t));
    if (keys.length === 0) continue;
    const secrets = tokens.filter(
      (t) =>
        isSecretShaped(t, ex) &&
        tokenOk(t, ex.secretMinClasses) &&
        !labelledPassphrase(compiled, text, t) &&
        !claimedByOther(compiled, namesAt, ex, t),
    );
    const pairs = pair(keys, secrets, ex.window);
    for (const k of keys) {
      if (pairs.asSecret.has(k)) continue;
      const secret = pairs.secretOf.get(k);
      if (secret === undefined && min > RANK.low) continue; // a key alone is low at most
      const nameNear = nearest(names, k.at) <= ex.window;
      // A passphrase belongs to a pair (a key alone near one is more likely an order id in a log line).
      const passphrase = secret === undefined ? undefined : findPassphrase(ex, text, k.at, k.text.length);
      let confidence: DetectedLeak["confidence"] | null = null;
      if (secret !== undefined && nameNear) confidence = "high";
      else if (secret !== undefined && ex.pairWithoutName) confidence = passphrase ? "high" : "medium";
      else if (nameNear) confidence = "low";
      if (confidence === null || RANK[confidence] < min) continue;
      const leak: DetectedLeak = { exchange: ex.exchange, confidence, key: k.text, offset: k.at };
      if (secret !== undefined) leak.secret = secret.text;
      if (passphrase !== undefined) leak.passphrase = passphrase;
      out.push(leak);
    }
  }
  return out.sort((a, b) => a.offset - b.offset);
}

/**
 * Whether the text just before a token, on its line, has `label` (`API_SECRET=`, `"secret": `): where
 * key and secret have the same shape, that is what tells them apart.
 */
function labelled(text: string, at: number, label: RegExp): boolean {
  const before = text.slice(Math.max(0, at - 24), at);
  return label.test(before.slice(before.lastIndexOf("\n") + 1));
}
const SECRET_LABEL = /secret/i;

/**
 * Whether a token is a passphrase's value (`passphrase: "QuietFox37"`): a passphrase a person chose can
 * have any exchange's key shape, and is never a key or a secret.
 */
function labelledPassphrase(compiled: CompiledLeakPatterns, text: string, token: Token): boolean {
  return compiled.passphraseLabel !== null && labelled(text, token.at, compiled.passphraseLabel);
}

/**
 * Which secret goes with which key: each secret with the nearest key before it that has none yet
 * (credentials are written key first), then the secrets left with the nearest key after them. A token
 * that both shapes fit (key and secret alike, e.g. two 43-character tokens) is one or the other: the
 * first is the key, the next the secret. So a key nearby (an order id next to a leaked pair) never
 * takes the secret of the key it sits beside.
 */
function pair(
  keys: readonly Token[],
  secrets: readonly Token[],
  window: number,
): { secretOf: Map<Token, Token>; asSecret: Set<Token> } {
  const secretOf = new Map<Token, Token>();
  const asSecret = new Set<Token>();
  const paired = new Set<Token>();
  const used = new Set<Token>();
  const byAt = new Map(keys.map((k) => [k.at, k]));
  const keyStarts = keys.map((k) => k.at);
  const take = (s: Token, k: Token): void => {
    secretOf.set(k, s);
    paired.add(k);
    used.add(s);
    const same = byAt.get(s.at);
    if (same !== undefined) asSecret.add(same);
  };
  const free = (k: Token, s: Token): boolean =>
    k.at !== s.at && k.text !== s.text && !paired.has(k) && !asSecret.has(k);
  for (const s of secrets) {
    if (paired.has(byAt.get(s.at) ?? s)) continue;
    let best: Token | undefined;
    for (let i = lowerBound(keyStarts, s.at) - 1; i >= 0; i--) {
      const k = keys[i];
      if (k === undefined || s.at - k.at > window) break;
      if (free(k, s)) {
        best = k;
        break;
      }
    }
    if (best !== undefined) take(s, best);
  }
  for (const s of secrets) {
    const self = byAt.get(s.at);
    if ((self !== undefined && (paired.has(self) || asSecret.has(self))) || used.has(s)) continue;
    const best = keys.find((k) => k.at > s.at && k.at - s.at <= window && free(k, s));
    if (best !== undefined) take(s, best);
  }
  return { secretOf, asSecret };
}

/**
 * Whether a token belongs to another exchange: it has one of that exchange's shapes and that exchange's
 * name is closer to it. Closer means before it first (a config names the exchange, then its fields), so
 * a token after one exchange's block and before the next exchange's name stays with the first.
 */
function claimedByOther(
  compiled: CompiledLeakPatterns,
  namesAt: readonly (readonly number[])[],
  ex: CompiledExchange,
  token: Token,
): boolean {
  const own = affinity(namesAt[ex.index] ?? [], token.at, ex.window);
  for (const other of compiled.exchanges) {
    if (other.index === ex.index) continue;
    if (!isKeyShaped(token, other) && !isSecretShaped(token, other)) continue;
    if (affinity(namesAt[other.index] ?? [], token.at, other.window) < own) return true;
  }
  return false;
}

/** The distance to the nearest name before `at` within the window; after it, counted one window further. */
function affinity(sorted: readonly number[], at: number, window: number): number {
  const i = lowerBound(sorted, at);
  const before = sorted[i - 1];
  if (before !== undefined && at - before <= window) return at - before;
  const after = sorted[i];
  if (after !== undefined && after - at <= window) return window + (after - at);
  return Infinity;
}

function findPassphrase(ex: CompiledExchange, text: string, at: number, length: number): string | undefined {
  if (ex.passphrase === null) return undefined;
  const from = Math.max(0, at - ex.window);
  const slice = text.slice(from, Math.min(text.length, at + length + ex.window));
  ex.passphrase.lastIndex = 0;
  let best: { value: string; distance: number } | undefined;
  for (let m = ex.passphrase.exec(slice); m !== null; m = ex.passphrase.exec(slice)) {
    const value = m[1];
    if (value === undefined || value.length < 4) continue;
    const distance = Math.abs(from + m.index - at);
    if (best === undefined || distance < best.distance) best = { value, distance };
  }
  return best?.value;
}

/**
 * Whether `token` would be taken as a field of this shape: the whole of it matches, with `minClasses`
 * kinds of characters, and it is no identifier or placeholder. For tests and generators of fake keys.
 */
export function acceptsToken(shape: LeakTokenShape, token: string): boolean {
  return (
    new RegExp(`^(?:${shape.pattern})$`).test(token) &&
    tokenOk({ text: token, at: 0, shapes: 0 }, shape.minClasses ?? 0)
  );
}
