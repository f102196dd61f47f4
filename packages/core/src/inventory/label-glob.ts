/**
 * Label globs (`--label 'bot-*'`, the web's revoke and rotate plans): plain `*`, `?` and `[..]`,
 * case-insensitive, matched by the loop below in at most pattern × label steps.
 *
 * Why not a glob library: picomatch compiles to a backtracking RegExp, and an extglob such as
 * `*(*)*(*)*(*)z` against a long label took minutes of the event loop: one unauthenticated request to
 * the web app froze every page. Here there are no extglobs, braces or negation (every character but
 * `* ? [ \` matches itself), the pattern is capped at MAX_LABEL_GLOB_LENGTH, and matching keeps a single
 * backtrack point (the last `*`), so a hostile pattern costs the same as any other.
 */
import { KeywardError } from "../errors.js";

/** Longest label glob accepted. Exchange labels are short; a longer pattern is a mistake or an attack. */
export const MAX_LABEL_GLOB_LENGTH = 128;

type Token =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "char"; char: string }
  | { kind: "set"; negate: boolean; ranges: [number, number][] };

export const LABEL_GLOB_HINT =
  "Label globs use * (any run of characters), ? (one character) and [..] (one of a set, [!..] none of it); \\ makes the next character literal.";

/** Parses a glob (already lower-cased), or says what is wrong with it. */
function parse(pattern: string): Token[] | string {
  if (pattern.length > MAX_LABEL_GLOB_LENGTH) {
    return `a label glob is at most ${MAX_LABEL_GLOB_LENGTH} characters (this one has ${pattern.length})`;
  }
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === "*") {
      // Runs of stars are one star: fewer backtrack points, same meaning.
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
    } else if (c === "?") tokens.push({ kind: "any" });
    else if (c === "\\") {
      const next = chars[++i];
      if (next === undefined) return "the glob ends with a lone \\ (write \\\\ to match a backslash)";
      tokens.push({ kind: "char", char: next });
    } else if (c === "[") {
      const set = parseSet(chars, i + 1);
      if (typeof set === "string") return set;
      tokens.push(set.token);
      i = set.end;
    } else tokens.push({ kind: "char", char: c });
  }
  return tokens;
}

/** `[abc]`, `[a-z]`, `[!x]` or `[^x]`; a `]` right after the opening (or `!`) is literal. */
function parseSet(chars: string[], start: number): { token: Token; end: number } | string {
  let i = start;
  const negate = chars[i] === "!" || chars[i] === "^";
  if (negate) i++;
  const ranges: [number, number][] = [];
  const first = i;
  const literal = (): string | undefined => {
    let c = chars[i];
    if (c === "\\") c = chars[++i];
    i++;
    return c;
  };
  while (i < chars.length && (chars[i] !== "]" || i === first)) {
    const lo = literal();
    if (lo === undefined) break;
    if (chars[i] === "-" && chars[i + 1] !== undefined && chars[i + 1] !== "]") {
      i++;
      const hi = literal();
      if (hi === undefined) break;
      const [a, b] = [lo.codePointAt(0) ?? 0, hi.codePointAt(0) ?? 0];
      if (a > b) return `the range [${lo}-${hi}] is backwards`;
      ranges.push([a, b]);
    } else {
      const a = lo.codePointAt(0) ?? 0;
      ranges.push([a, a]);
    }
  }
  if (chars[i] !== "]") return "a [ is not closed by ]";
  return { token: { kind: "set", negate, ranges }, end: i };
}

const matchesOne = (token: Token, char: string): boolean => {
  switch (token.kind) {
    case "any":
      return true;
    case "char":
      return token.char === char;
    case "set": {
      const cp = char.codePointAt(0) ?? 0;
      return token.ranges.some(([lo, hi]) => cp >= lo && cp <= hi) !== token.negate;
    }
    case "star":
      return false;
  }
};

/** What is wrong with a label glob, or undefined if it is fine (for schemas: the message names no field). */
export function labelGlobProblem(pattern: string): string | undefined {
  const parsed = parse(pattern.toLowerCase());
  return typeof parsed === "string" ? parsed : undefined;
}

/** A case-insensitive matcher for a label glob; a bad glob is CONFIG_INVALID naming `label`. */
export function compileLabelGlob(pattern: string): (label: string) => boolean {
  const tokens = parse(pattern.toLowerCase());
  if (typeof tokens === "string")
    throw new KeywardError("CONFIG_INVALID", `label: ${tokens}`, { hint: LABEL_GLOB_HINT });
  return (label) => {
    const s = Array.from(label.toLowerCase());
    // Greedy match with one backtrack point: on a mismatch after a `*`, that star takes one more
    // character and the rest is tried again from there. Earlier stars never need to move (a later
    // star can absorb anything they would), so the work is at most tokens × characters.
    let p = 0;
    let i = 0;
    let starP = -1;
    let starI = 0;
    while (i < s.length) {
      const token = tokens[p];
      if (token && token.kind !== "star" && matchesOne(token, s[i] as string)) {
        p++;
        i++;
      } else if (token?.kind === "star") {
        starP = p++;
        starI = i;
      } else if (starP >= 0) {
        p = starP + 1;
        i = ++starI;
      } else return false;
    }
    while (tokens[p]?.kind === "star") p++;
    return p === tokens.length;
  };
}
