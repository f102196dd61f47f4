/**
 * `keyward scan` (task: patterns): text into tokens for detect.ts. A token is a whole run of the
 * characters keys and blobs are made of, standing alone (not one part of a dotted run, no base64 padding
 * after it), of a length some shape allows; identifiers and placeholders are told apart from keys here,
 * and so are exchange names inside words or random tokens. Nothing here names an exchange.
 */
import type { CompiledExchange, CompiledLeakPatterns } from "./leak-compile.js";
import type { LeakTokenShape } from "./scan-types.js";

/** Characters a key or a blob is made of: one of these beside a token means it is part of a longer one. */
export const TOKEN_CHARS = "A-Za-z0-9_+/\\-";
/** Shorter tokens are words; longer ones are blobs (no exchange issues a key or secret this long). */
export const MIN_TOKEN = 8;
export const MAX_TOKEN = 256;

/**
 * Whether a name found at `at` is a word or a part of an identifier: before it no letter or digit, or a
 * camelCase hump (`myOkx`: a lower-case letter, then the name with a capital); after it no lower-case
 * letter or digit (`okxKey`, `OKX_KEY`, `okx"`). So a name inside a word (`tokxyz`) does not count, nor
 * one inside a random token (`…goBFxPl47…`, `…Xa_bfxQ…`): see randomRun.
 */
export function nameStands(text: string, at: number, end: number): boolean {
  const before = text.charCodeAt(at - 1);
  const first = text.charCodeAt(at);
  const after = text.charCodeAt(end);
  const okBefore =
    Number.isNaN(before) || !isAlnum(before) || (isLower(before) && first >= 65 && first <= 90);
  if (!okBefore || !(Number.isNaN(after) || !(isLower(after) || isDigit(after)))) return false;
  return !randomRun(text, at, end);
}

/** Runs shorter than this are identifiers or words whatever their letters. */
const RANDOM_RUN_MIN = 20;

/**
 * Whether the run of token characters around [at, end) looks random (a key, a hash in base64): at
 * least RANDOM_RUN_MIN long, and the kind of character (upper, lower, digit) changes between neighbours
 * at least 45 times in 100. Random base64 changes about 60 times in 100; identifiers, even camelCase
 * with digits (`bybitV5ClientFactory`), about 30 or fewer, and `_`/`-` do not count.
 */
function randomRun(text: string, at: number, end: number): boolean {
  let from = at;
  while (from > 0 && isTokenChar(text.charCodeAt(from - 1))) from--;
  let to = end;
  while (to < text.length && isTokenChar(text.charCodeAt(to))) to++;
  if (to - from < RANDOM_RUN_MIN) return false;
  let pairs = 0;
  let changes = 0;
  let last = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const kind = isLower(c) ? 1 : isDigit(c) ? 2 : c >= 65 && c <= 90 ? 3 : 0;
    if (kind !== 0 && last !== 0) {
      pairs++;
      if (kind !== last) changes++;
    }
    last = kind;
  }
  return pairs > 0 && changes / pairs >= 0.45;
}
export const isLower = (c: number): boolean => c >= 97 && c <= 122;
export const isDigit = (c: number): boolean => c >= 48 && c <= 57;
export const isAlnum = (c: number): boolean => isLower(c) || isDigit(c) || (c >= 65 && c <= 90);

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

/**
 * One word of an identifier: `Word`, `word`, `WORD` of three letters or more (random letters have many
 * two-letter humps: `mvOljljXH`), or `Id`.
 */
const WORD = /^(?:[A-Z]?[a-z]{3,}|[A-Z]{3,}|Id)$/;

/**
 * A technical term with a number in it (`base64url`, `sha256sum`, `ipv4addr`, `oauth2token`,
 * `python310`): a known word, one number, maybe a lower-case word. Met: `base64url` next to a secret and an
 * exchange's name in the docs was taken for a short client id. Only known words: any lower-case word would
 * also refuse a real random id about once in 680 (8 letters and digits can come out lower case with one
 * run of digits: `qzrk4mvb`), and with it the key and secret beside it.
 */
const TERM_WITH_NUMBER =
  /^(?:base|sha|ipv|utf|ucs|oauth|md|crc|aes|rsa|hmac|pbkdf|argon|bip|secp|int|uint|float|http|tls|python|node|win)[0-9]+(?:[a-z]{3,})?$/;

/**
 * Identifiers and placeholders, not keys: a token with few distinct characters for its length
 * (`XXXXXXXX…`, `0000…`); a technical term with a number in it (TERM_WITH_NUMBER); one that splits (at
 * `_ - + /` and camelCase humps) into words only (`getAccountBalance`, `snake_case_name`, `requestId`:
 * met as ccxt's identifiers next to exchange names). A random key of 8 characters or more almost always
 * has a digit, which no word has, so the split is rarely needed and few real keys can be lost to it.
 */
function looksMadeUp(token: string, distinct: number): boolean {
  if (distinct < Math.min(8, Math.ceil(token.length / 3))) return true;
  if (TERM_WITH_NUMBER.test(token)) return true;
  if (/[0-9]/.test(token)) return false;
  const parts = token
    .split(/[_\-+/]+/)
    .flatMap((p) => p.split(/(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/))
    .filter((p) => p.length > 0);
  return parts.every((p) => WORD.test(p));
}

export interface Token {
  text: string;
  at: number;
  /** Bit 2i: exchange i's key shape matches the whole token; bit 2i+1: its secret shape. */
  shapes: number;
  /** What the text just before it calls it (detect.ts labelOf), once worked out. */
  label?: "key" | "secret" | "passphrase" | null;
  /** classes(text), and whether looksMadeUp(text): worked out once per token, when first needed. */
  classes?: number;
  madeUp?: boolean;
}

/** Which shapes match the whole of `text` (see Token.shapes). */
export function shapesOf(compiled: CompiledLeakPatterns, text: string): number {
  let shapes = 0;
  // Each distinct shape once (several exchanges share "43 base64url"), and only where its lengths allow.
  for (const shape of compiled.shapes) {
    if (text.length <= MAX_TOKEN && shape.lengths[text.length] === 1 && shape.exact.test(text))
      shapes |= shape.bits;
  }
  return shapes;
}
export const isKeyShaped = (t: Token, ex: CompiledExchange): boolean =>
  (t.shapes & (1 << (2 * ex.index))) !== 0;
export const isSecretShaped = (t: Token, ex: CompiledExchange): boolean =>
  (t.shapes & (1 << (2 * ex.index + 1))) !== 0;

export function tokenOk(token: Token, minClasses: number): boolean {
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
export const isWordish = (c: number): boolean => isAlnum(c) || c === 95 /* _ */ || c === 45; /* - */
export const isTokenChar = (c: number): boolean => isWordish(c) || c === 43 /* + */ || c === 47; /* / */

/** Not one part of a dotted run (`header.payload.signature`), not followed by base64 padding. */
function standsAlone(text: string, at: number, end: number): boolean {
  if (text.charCodeAt(at - 1) === 46 && isWordish(text.charCodeAt(at - 2))) return false;
  const after = text.charCodeAt(end);
  if (after === 61) return false;
  return !(after === 46 && isWordish(text.charCodeAt(end + 1)));
}

/** The whole token (run) that text[from, to) lies in, if it stands alone and some shape matches it. */
export function tokenAround(
  compiled: CompiledLeakPatterns,
  text: string,
  from: number,
  to: number,
): Token | null {
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
export function tokensIn(
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
