/**
 * Exact multi-pattern search for the scan engine: every needle (key ids and secrets Keyward knows) found
 * in one pass over the bytes, whatever their number. Why our own Aho–Corasick and not a package: measured
 * on 50 MB with 5,000 needles, `@monyone/aho-corasick` ran at ≈ 20 MB/s and `modern-ahocorasick` at
 * ≈ 27 MB/s (they walk JS strings and objects per character), while `grep -F` does hundreds of MB/s; a
 * whole disk at 20 MB/s takes hours. Here the automaton is a DFA in typed arrays over bytes:
 *
 * - Byte classes: only bytes that occur in some needle get their own class (key ids use ~64 of 256), every
 *   other byte is class 0 and always leads back to the root, so a row is small.
 * - Dense rows (a full DFA transition per class) for the shallow states, in breadth-first order, up to a
 *   memory budget: clean text almost never leaves depth 1–2, so the hot loop is one table load per byte.
 *   Deeper states (most of them, on a single needle's path) keep sparse edges and a failure link, taken
 *   only while a text really follows a needle's prefix.
 * - Streaming: a `NeedleStream` carries the state and the last bytes across chunks, so a needle split
 *   across two reads is found, at its absolute offset.
 *
 * A needle counts only at a token boundary: where its first (last) byte is [A-Za-z0-9], the byte before
 * (after) it must not be, so an 8-character id inside a longer word is not a hit.
 */
import type { ScanNeedle } from "./scan-types.js";

/** 1 for [A-Za-z0-9]. */
const WORD = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  if ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122)) WORD[b] = 1;
}

/** The sign bit of a dense cell: the next state has output. */
const OUTPUT = -0x80000000;
const ROW = 0x7fffffff;
/** The start table's size at most (classes³ bytes; ~65 classes for key ids make 275 KB). */
const START_TABLE_BYTES = 4 * 1024 * 1024;

/** Dense cells (4 bytes each) at most: 4 MiB of table, whatever the number of needles (a larger table
 * measured no faster: the states clean text visits are the first few thousand). */
const DENSE_CELL_BUDGET = 1024 * 1024;

/**
 * The compiled automaton: plain typed arrays and numbers, so it can be sent to a worker as is
 * (structured clone) instead of compiled again there.
 */
export interface NeedleAutomaton {
  /** Byte → class (0: no needle has this byte). */
  classOf: Uint8Array | Uint16Array;
  classes: number;
  states: number;
  /** States [0, denseStates) have a full row in `dense`. */
  denseStates: number;
  /**
   * dense[s * classes + c] = the next state's row (its id × classes), with the sign bit set when the
   * next state has output: the hot loop adds the class and loads, with no multiply or shift between.
   */
  dense: Int32Array;
  fail: Int32Array;
  /** Sparse edges of states ≥ denseStates: edgeStart[s - denseStates] … edgeStart[s - denseStates + 1]. */
  edgeStart: Int32Array;
  edgeClass: Uint16Array;
  edgeTo: Int32Array;
  /** First pattern ending exactly at a state (-1: none); patterns of equal text chain through patNext. */
  outFirst: Int32Array;
  /** The nearest proper suffix state with output (-1: none). */
  dict: Int32Array;
  hasOut: Uint8Array;
  patLength: Int32Array;
  patRef: Int32Array;
  patNext: Int32Array;
  /** Whether the pattern's first (last) byte is [A-Za-z0-9], so a token boundary is required there. */
  patWordStart: Uint8Array;
  patWordEnd: Uint8Array;
  /** The longest needle in bytes (the stream keeps this many bytes of the previous chunk). */
  /** stayBoundary[b] / stayInWord[b]: byte b leaves root 0 (BOUNDARY) / 1 (IN_WORD) where it is. */
  stayBoundary: Uint8Array;
  stayInWord: Uint8Array;
  /**
   * starts[(c0 * classes + c1) * classes + c2] = 1 when some needle starts with bytes of classes c0 c1
   * c2 (needles shorter than three bytes mark every continuation). Leaving a root, the hot loop looks
   * here first: an ordinary word starts no needle, so the automaton goes straight back to a root.
   * Absent when classes³ would pass START_TABLE_BYTES.
   */
  starts: Uint8Array | undefined;
  maxLength: number;
  needles: number;
}

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** Compiles needles (UTF-8 bytes of `text`; empty texts are ignored) into an automaton. */
export function compileNeedles(needles: readonly ScanNeedle[], denseCellBudget = DENSE_CELL_BUDGET) {
  const patterns: { bytes: Uint8Array; ref: number }[] = [];
  for (const n of needles) {
    if (n.text.length === 0) continue;
    patterns.push({ bytes: encoder.encode(n.text), ref: n.ref });
  }
  // Byte classes. Class 0: non-word bytes in no needle; class 1: word bytes in no needle (the two
  // roots below treat them differently); then one class per byte that occurs in a needle.
  const classOf = new Uint16Array(256);
  for (let b = 0; b < 256; b++) classOf[b] = WORD[b] ? 1 : 0;
  const seen = new Uint8Array(256);
  let classes = 2;
  const wordClass: number[] = [0, 1];
  for (const p of patterns) {
    for (const b of p.bytes) {
      if (seen[b]) continue;
      seen[b] = 1;
      classOf[b] = classes++;
      wordClass.push(WORD[b] ?? 0);
    }
  }

  // The trie, in insertion order, with first-child / next-sibling lists (build time only).
  // At most one node per needle byte, plus the root: sized once.
  let cap = 1;
  for (const p of patterns) cap += p.bytes.length;
  const firstChild = new Int32Array(cap).fill(-1);
  const nextSibling = new Int32Array(cap).fill(-1);
  const nodeClass = new Uint16Array(cap);
  const terminal = new Int32Array(cap).fill(-1);
  let nodes = 1;
  const patCount = patterns.length;
  const patLength = new Int32Array(patCount);
  const patRef = new Int32Array(patCount);
  const patNext = new Int32Array(patCount).fill(-1);
  const patWordStart = new Uint8Array(patCount);
  const patWordEnd = new Uint8Array(patCount);
  let maxLength = 0;
  // Inserted in byte order, so each needle shares its prefix with the one before and every node past
  // that prefix is new: no search among siblings (a cold compile of 10k needles is most of a small
  // scan's time otherwise).
  for (const p of patterns) maxLength = Math.max(maxLength, p.bytes.length);
  const sorted = patterns.map((_, k) => k);
  sorted.sort((a, b) => Buffer.compare(patterns[a]?.bytes ?? EMPTY, patterns[b]?.bytes ?? EMPTY));
  const path = new Int32Array(maxLength + 1); // path[d]: the previous needle's node at depth d
  let prev: Uint8Array = EMPTY;
  for (const k of sorted) {
    const bytes = patterns[k]?.bytes ?? EMPTY;
    let common = 0;
    const most = Math.min(prev.length, bytes.length);
    while (common < most && prev[common] === bytes[common]) common++;
    let s = path[common] ?? 0;
    for (let d = common; d < bytes.length; d++) {
      const child = nodes++;
      nodeClass[child] = classOf[bytes[d] ?? 0] ?? 0;
      nextSibling[child] = firstChild[s] ?? -1;
      firstChild[s] = child;
      path[d + 1] = child;
      s = child;
    }
    prev = bytes;
    patLength[k] = bytes.length;
    patRef[k] = patterns[k]?.ref ?? 0;
    patNext[k] = terminal[s] ?? -1;
    terminal[s] = k;
    patWordStart[k] = WORD[bytes[0] ?? 0] ?? 0;
    patWordEnd[k] = WORD[bytes[bytes.length - 1] ?? 0] ?? 0;
  }

  // The token boundary before a needle is built into the automaton, which is what makes it fast on
  // ordinary text: two roots, BOUNDARY (the byte before was not [A-Za-z0-9], or the text starts) and
  // IN_WORD (it was). A needle whose first byte is a word byte starts only from BOUNDARY, and the
  // failure links only fall back to suffixes that start at a boundary, so inside an ordinary word
  // the automaton sits in IN_WORD, whose row sends every word byte back to itself.
  // Numbering: 0 = BOUNDARY (the trie's root), 1 = IN_WORD, then the trie's nodes breadth-first, so
  // the shallow states, which get dense rows, are a prefix.
  const states = nodes + 1;
  const order = new Int32Array(states); // new id → old trie node (IN_WORD: the root's, filtered)
  const newId = new Int32Array(nodes);
  order[0] = 0;
  order[1] = 0;
  let tail = 2;
  for (let head = 0; head < tail; head++) {
    if (head === 1) continue;
    const old = order[head] ?? 0;
    for (let ch = firstChild[old] ?? -1; ch !== -1; ch = nextSibling[ch] ?? -1) {
      newId[ch] = tail;
      order[tail++] = ch;
    }
  }
  const denseStates = Math.max(2, Math.min(states, Math.floor(denseCellBudget / classes)));
  const childOf = (s: number, c: number): number => {
    if (s === 1 && wordClass[c]) return -1;
    for (let ch = firstChild[order[s] ?? 0] ?? -1; ch !== -1; ch = nextSibling[ch] ?? -1) {
      if (nodeClass[ch] === c) return newId[ch] ?? -1;
    }
    return -1;
  };
  const rootFallback = (c: number) => (wordClass[c] ? 1 : 0);

  const fail = new Int32Array(states);
  const outFirst = new Int32Array(states).fill(-1);
  const dict = new Int32Array(states).fill(-1);
  const hasOut = new Uint8Array(states);
  for (let s = 2; s < states; s++) outFirst[s] = terminal[order[s] ?? 0] ?? -1;
  const dense = new Int32Array(denseStates * classes);
  const encode = (t: number) => (t * classes) | (hasOut[t] ? OUTPUT : 0);
  /** δ(s, c) at build time for a state whose row (if dense) is finished: else edges and failure links. */
  const delta = (from: number, c: number): number => {
    let s = from;
    for (;;) {
      if (s < denseStates) return ((dense[s * classes + c] ?? 0) & ROW) / classes;
      const t = childOf(s, c);
      if (t !== -1) return t;
      s = fail[s] ?? 0;
    }
  };
  // One breadth-first pass. At state s: its children's failure links (δ of s's failure link, which is
  // shallower, so its row is finished) and output links, then s's own row: its failure link's row with
  // its own children written over it (the roots: back to a root by the byte's kind).
  for (let s = 0; s < states; s++) {
    if (s !== 1) {
      for (let ch = firstChild[order[s] ?? 0] ?? -1; ch !== -1; ch = nextSibling[ch] ?? -1) {
        const v = newId[ch] ?? 0;
        const c = nodeClass[ch] ?? 0;
        const f = s === 0 ? rootFallback(c) : delta(fail[s] ?? 0, c);
        fail[v] = f;
        dict[v] = (outFirst[f] ?? -1) !== -1 ? f : (dict[f] ?? -1);
        hasOut[v] = (outFirst[v] ?? -1) !== -1 || (dict[v] ?? -1) !== -1 ? 1 : 0;
      }
    }
    if (s >= denseStates) continue;
    const row = s * classes;
    if (s <= 1) {
      for (let c = 0; c < classes; c++) dense[row + c] = encode(rootFallback(c));
    } else {
      const failRow = (fail[s] ?? 0) * classes;
      dense.copyWithin(row, failRow, failRow + classes);
    }
    for (let ch = firstChild[order[s] ?? 0] ?? -1; ch !== -1; ch = nextSibling[ch] ?? -1) {
      const c = nodeClass[ch] ?? 0;
      if (s === 1 && wordClass[c]) continue;
      dense[row + c] = encode(newId[ch] ?? 0);
    }
  }
  // Sparse edges for the rest.
  const sparse = states - denseStates;
  const edgeStart = new Int32Array(sparse + 1);
  let edges = 0;
  for (let s = denseStates; s < states; s++) {
    edgeStart[s - denseStates] = edges;
    for (let ch = firstChild[order[s] ?? 0] ?? -1; ch !== -1; ch = nextSibling[ch] ?? -1) edges++;
  }
  edgeStart[sparse] = edges;
  const edgeClass = new Uint16Array(edges);
  const edgeTo = new Int32Array(edges);
  let e = 0;
  for (let s = denseStates; s < states; s++) {
    for (let ch = firstChild[order[s] ?? 0] ?? -1; ch !== -1; ch = nextSibling[ch] ?? -1) {
      edgeClass[e] = nodeClass[ch] ?? 0;
      edgeTo[e] = newId[ch] ?? 0;
      e++;
    }
  }
  // Bytes that leave each root where it is: the hot loop skips runs of them without the table.
  const stayBoundary = new Uint8Array(256);
  const stayInWord = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    const c = classOf[b] ?? 0;
    stayBoundary[b] = dense[c] === 0 ? 1 : 0;
    stayInWord[b] = dense[classes + c] === classes ? 1 : 0;
  }
  let starts: Uint8Array | undefined;
  if (classes * classes * classes <= START_TABLE_BYTES) {
    const table = new Uint8Array(classes * classes * classes);
    for (const p of patterns) {
      const c0 = classOf[p.bytes[0] ?? 0] ?? 0;
      const from1 = p.bytes.length > 1 ? (classOf[p.bytes[1] ?? 0] ?? 0) : 0;
      const to1 = p.bytes.length > 1 ? from1 + 1 : classes;
      for (let c1 = from1; c1 < to1; c1++) {
        const from2 = p.bytes.length > 2 ? (classOf[p.bytes[2] ?? 0] ?? 0) : 0;
        const to2 = p.bytes.length > 2 ? from2 + 1 : classes;
        for (let c2 = from2; c2 < to2; c2++) table[(c0 * classes + c1) * classes + c2] = 1;
      }
    }
    starts = table;
  }
  const automaton: NeedleAutomaton = {
    classOf: classes <= 256 ? Uint8Array.from(classOf) : classOf,
    classes,
    states,
    denseStates,
    dense,
    fail,
    edgeStart,
    edgeClass,
    edgeTo,
    outFirst,
    dict,
    hasOut,
    patLength,
    patRef,
    patNext,
    patWordStart,
    patWordEnd,
    stayBoundary,
    stayInWord,
    starts,
    maxLength,
    needles: patCount,
  };
  return automaton;
}

/** A needle found: its `ref` and the absolute byte offset of its first byte in the stream. */
export type OnNeedle = (ref: number, offset: number) => void;

/**
 * One stream of bytes (a file, a blob) through an automaton. `write` each chunk in order, then `end`;
 * matches are reported as soon as their token boundaries are known (a match ending at a chunk's last
 * byte waits for the next chunk's first byte).
 */
export class NeedleStream {
  private state = 0;
  private offset = 0;
  /** The last bytes before the current chunk (up to maxLength), for the boundary before a match. */
  private readonly tail: Uint8Array;
  private tailLength = 0;
  /** Matches ending at the previous chunk's last byte whose following byte is not known yet. */
  private pending: { k: number; start: number }[] = [];

  constructor(
    private readonly a: NeedleAutomaton,
    private readonly onNeedle: OnNeedle,
  ) {
    this.tail = new Uint8Array(Math.max(1, a.maxLength));
  }

  /** Bytes written so far. */
  get position(): number {
    return this.offset;
  }

  write(buf: Uint8Array): void {
    const n = buf.length;
    if (n === 0) return;
    if (this.pending.length > 0) {
      const after = WORD[buf[0] ?? 0];
      for (const p of this.pending) if (!after) this.onNeedle(this.a.patRef[p.k] ?? 0, p.start);
      this.pending = [];
    }
    const a = this.a;
    if (a.needles === 0) {
      this.offset += n;
      return;
    }
    const dense = a.dense;
    const classes = a.classes;
    const classOf = a.classOf;
    const denseStates = a.denseStates;
    const stayBoundary = a.stayBoundary;
    const stayInWord = a.stayInWord;
    const starts = a.starts;
    const denseEnd = denseStates * classes;
    // The state as its row (id × classes): BOUNDARY is row 0, IN_WORD row `classes`.
    let r = this.state * classes;
    let i = 0;
    while (i < n) {
      // In a root, skip the bytes that keep it there (spaces, the rest of an ordinary word) with a
      // loop that does not wait on the table: most of a clean text is read here.
      if (r === 0 || r === classes) {
        if (r === 0) while (i < n && stayBoundary[buf[i] as number]) i++;
        else while (i < n && stayInWord[buf[i] as number]) i++;
        if (i >= n) break;
        // No needle starts with the next three bytes: this byte only moves between the roots.
        if (
          starts !== undefined &&
          i + 2 < n &&
          starts[
            ((classOf[buf[i] as number] as number) * classes + (classOf[buf[i + 1] as number] as number)) *
              classes +
              (classOf[buf[i + 2] as number] as number)
          ] === 0
        ) {
          r = WORD[buf[i] as number] ? classes : 0;
          i++;
          continue;
        }
      }
      const c = classOf[buf[i] as number] as number;
      const t = r < denseEnd ? (dense[r + c] as number) : this.step(r / classes, c);
      r = t & ROW;
      if (t < 0) this.emit(r / classes, buf, i);
      i++;
    }
    this.state = r / classes;
    this.keepTail(buf);
    this.offset += n;
  }

  /** The stream is over: a match at the very end has a boundary after it. */
  end(): void {
    for (const p of this.pending) this.onNeedle(this.a.patRef[p.k] ?? 0, p.start);
    this.pending = [];
  }

  /** Transition from a sparse (deep) state: its own edges, else its failure link's. */
  private step(from: number, c: number): number {
    const a = this.a;
    let s = from;
    for (;;) {
      if (s < a.denseStates) return a.dense[s * a.classes + c] ?? 0;
      const i = s - a.denseStates;
      const end = a.edgeStart[i + 1] ?? 0;
      for (let e = a.edgeStart[i] ?? 0; e < end; e++) {
        if (a.edgeClass[e] === c) {
          const t = a.edgeTo[e] ?? 0;
          return (t * a.classes) | (a.hasOut[t] ? OUTPUT : 0);
        }
      }
      s = a.fail[s] ?? 0;
    }
  }

  private emit(state: number, buf: Uint8Array, i: number): void {
    const a = this.a;
    for (
      let p = (a.outFirst[state] ?? -1) !== -1 ? state : (a.dict[state] ?? -1);
      p !== -1;
      p = a.dict[p] ?? -1
    ) {
      for (let k = a.outFirst[p] ?? -1; k !== -1; k = a.patNext[k] ?? -1) {
        const len = a.patLength[k] ?? 0;
        const start = this.offset + i - len + 1;
        if (a.patWordStart[k] && start > 0) {
          const j = i - len; // index of the byte before, in this chunk or (negative) in the tail
          const before = j >= 0 ? buf[j] : this.tail[this.tailLength + j];
          if (WORD[before ?? 0]) continue;
        }
        if (a.patWordEnd[k]) {
          if (i + 1 >= buf.length) {
            this.pending.push({ k, start });
            continue;
          }
          if (WORD[buf[i + 1] ?? 0]) continue;
        }
        this.onNeedle(a.patRef[k] ?? 0, start);
      }
    }
  }

  private keepTail(buf: Uint8Array): void {
    const cap = this.tail.length;
    if (buf.length >= cap) {
      this.tail.set(buf.subarray(buf.length - cap));
      this.tailLength = cap;
      return;
    }
    const keep = Math.min(this.tailLength, cap - buf.length);
    this.tail.copyWithin(0, this.tailLength - keep, this.tailLength);
    this.tail.set(buf, keep);
    this.tailLength = keep + buf.length;
  }
}
