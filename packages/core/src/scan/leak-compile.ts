/**
 * `keyward scan` (task: patterns): the profiles' `leaks` compiled once per scan for detect.ts: the one
 * anchor regex (names, and the literal tail of each key shape whose pairs count without a name), each
 * distinct shape's exact regex and lengths, the passphrase words, and `span` (how far the engine must
 * overlap chunks). Nothing here names an exchange.
 */
import { MAX_TOKEN, MIN_TOKEN } from "./leak-tokens.js";
import type { LeakPatterns, LeakTokenShape } from "./scan-types.js";

/** The default distance (bytes) between the parts of one credential (scan-types.ts `window`). */
export const DEFAULT_LEAK_WINDOW = 512;
/** The longest passphrase value taken after a passphrase word. */
export const MAX_PASSPHRASE = 64;

export interface CompiledExchange {
  exchange: string;
  index: number;
  window: number;
  pairWithoutName: boolean;
  keyMinClasses: number;
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
  /**
   * Label words, any case: group 1 any exchange's passphrase word, group 2 `secret` (`secretKey`,
   * `secret_key` too), group 3 `key` or `id`. detect.ts reads the last one before a token.
   */
  readonly labels: RegExp;
  /** The distinct shapes, each with the Token.shapes bits of every key or secret that has it. */
  readonly shapes: readonly { exact: RegExp; lengths: Uint8Array; bits: number }[];
}

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
    const q = /^(?:\{(\d+)(,?)(\d*)\}|(\?))/.exec(pattern.slice(i));
    if (q === null) {
      min++;
      max++;
    } else if (q[4] !== undefined) {
      max++;
      i++;
    } else {
      if (q[2] === "," && q[3] === "") return null; // {n,}: no longest
      min += Number(q[1]);
      max += q[3] === "" ? Number(q[1]) : Number(q[3]);
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

/**
 * `[c]{n}` as `[c][c]{n-1}`: the same language, but V8 scans for a class repeated n times about twice as
 * slowly as for one class followed by the rest (measured on the leak corpus, 140 vs 260 MB/s), and this
 * scan runs over every stretch around a key found without a name. Other shapes are left as they are.
 */
function unrollFirst(pattern: string): string {
  const m = /^(\[[^\]\\]+\])\{(\d+)\}$/.exec(pattern);
  const n = Number(m?.[2]);
  return m === null || !(n > 1) ? pattern : `${m[1]}${m[1]}{${n - 1}}`;
}

/** The token lengths the shapes allow, as 1s in a table indexed by length (MIN_TOKEN..MAX_TOKEN). */
function lengthTable(shapes: readonly LeakTokenShape[], into = new Uint8Array(MAX_TOKEN + 1)): Uint8Array {
  for (const shape of shapes) {
    const range = lengthRange(shape.pattern) ?? [MIN_TOKEN, MAX_TOKEN];
    for (let n = Math.max(MIN_TOKEN, range[0]); n <= Math.min(MAX_TOKEN, range[1]); n++) into[n] = 1;
  }
  return into;
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
  const distinctShapes = new Map<string, { exact: RegExp; lengths: Uint8Array; bits: number }>();
  const addShape = (shape: LeakTokenShape, bit: number): void => {
    const known = distinctShapes.get(shape.pattern);
    if (known !== undefined) known.bits |= bit;
    else {
      distinctShapes.set(shape.pattern, {
        exact: new RegExp(`^(?:${shape.pattern})$`),
        lengths: lengthTable([shape]),
        bits: bit,
      });
    }
  };
  if (list.length > 15) throw new Error("at most 15 exchanges' leak patterns at once (shape bits)");
  list.forEach(({ exchange, leaks }, index) => {
    lengthTable([leaks.key, leaks.secret], lengths);
    checkShape(leaks.key, `${exchange}.key`);
    checkShape(leaks.secret, `${exchange}.secret`);
    const window = leaks.window ?? DEFAULT_LEAK_WINDOW;
    const words = leaks.passphraseWords ?? [];
    addShape(leaks.key, 1 << (2 * index));
    addShape(leaks.secret, 1 << (2 * index + 1));
    for (const w of words) passphraseWords.add(w);
    exchanges.push({
      exchange,
      index,
      window,
      pairWithoutName: leaks.pairWithoutName,
      keyMinClasses: leaks.key.minClasses ?? 0,
      secretMinClasses: leaks.secret.minClasses ?? 0,
      secretScan: new RegExp(unrollFirst(leaks.secret.pattern), "g"),
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
    shapes: [...distinctShapes.values()],
    labels: new RegExp(
      `(${[...passphraseWords].map((w) => escapeRegex(w)).join("|") || "(?!)"})|(secret(?:[_-]?key)?)|(key|id)`,
      "gi",
    ),
  };
}
