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
 *   exchange (a config file with several exchanges' keys one after another). A secret goes with the
 *   nearest key before it. A token the text calls a secret (`API_SECRET=`) is no key where both shapes
 *   fit it, and one it calls a passphrase (`passphrase: "…"`) is neither key nor secret.
 *
 * Files: leak-compile.ts (the profiles' shapes compiled once per scan), leak-tokens.ts (text into
 * tokens, identifiers and names told apart), this one (finds, pairing and confidence).
 *
 * Speed: one regex finds the rare parts (the names, and the keys of exchanges whose pairs count without
 * a name); only around those are the shapes looked for, so ordinary text costs one regex pass.
 */
import type { CompiledExchange, CompiledLeakPatterns } from "./leak-compile.js";
import {
  isKeyShaped,
  isSecretShaped,
  MAX_TOKEN,
  nameStands,
  type Token,
  tokenAround,
  tokenOk,
  tokensIn,
} from "./leak-tokens.js";

export {
  type CompiledLeakPatterns,
  compileLeakPatterns,
  DEFAULT_LEAK_WINDOW,
} from "./leak-compile.js";
export { acceptsToken } from "./leak-tokens.js";

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
        // A key within a window of the name, its secret within a window of the key: two windows.
        nameStretches.push({
          from: Math.max(0, m.index - 2 * ex.window - MAX_TOKEN),
          to: end + 2 * ex.window + MAX_TOKEN,
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
      !(isSecretShaped(t, ex) && labelOf(compiled, text, t) === "secret") &&
      labelOf(compiled, text, t) !== "passphrase";
    const keys = tokens.filter((t) => isKey(t) && !claimedByOther(compiled, namesAt, ex, t));
    if (keys.length === 0) continue;
    const secrets = tokens.filter(
      (t) =>
        isSecretShaped(t, ex) &&
        tokenOk(t, ex.secretMinClasses) &&
        labelOf(compiled, text, t) !== "passphrase" &&
        !(isKeyShaped(t, ex) && labelOf(compiled, text, t) === "key") &&
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

/** How far before a token its label is looked for (`BITFINEX_API_SECRET=` is 20). */
const LABEL_REACH = 24;

/**
 * What the text just before a token, on its line, calls it: the last label word there (`API_SECRET=`,
 * `"secretKey": `, `apiKey=`, `passphrase: `), or null. Where key and secret have the same shape that
 * is what tells them apart, and a passphrase a person chose can have any key's shape but is never a
 * key or a secret. The last word counts: in `passphrase=Ab1! apiKey=…` the key is a key.
 */
function labelOf(compiled: CompiledLeakPatterns, text: string, token: Token): Token["label"] {
  if (token.label !== undefined) return token.label;
  const before = text.slice(Math.max(0, token.at - LABEL_REACH), token.at);
  const line = before.slice(before.lastIndexOf("\n") + 1);
  let label: Token["label"] = null;
  const words = compiled.labels;
  words.lastIndex = 0;
  for (let m = words.exec(line); m !== null; m = words.exec(line)) {
    label = m[1] !== undefined ? "passphrase" : m[2] !== undefined ? "secret" : "key";
  }
  token.label = label;
  return label;
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
