/**
 * One source (a file, a blob) through both searches, chunk by chunk: the needle automaton (exact, its
 * state carried across chunks) and the profiles' leak patterns (task 2's `detectLeaks`, on each chunk
 * decoded as latin1 so a string offset is a byte offset).
 *
 * Pattern detection and chunk boundaries: `compiled.span` is the longest stretch of text one detection
 * covers (the key, its secret, its passphrase, the exchange's name around it). Each chunk is searched
 * together with the previous chunk's last 2 × span bytes (+ a margin), and a detection is kept only if
 * its key lies in the range this chunk owns: from where the previous chunk's range ended up to span
 * bytes before this chunk's end (to the end, for the last chunk). The ranges tile the source, so each
 * credential is reported once, and each is searched with the whole of its surroundings: a credential
 * across a chunk boundary is found whole in the next chunk, never as a truncated token in this one.
 */
import type { CompiledLeakPatterns, DetectedLeak } from "./detect.js";
import { detectLeaks } from "./detect.js";
import { type NeedleAutomaton, NeedleStream } from "./multi-match.js";

/** What a source holds, by absolute byte offset (of the needle; of the key, for a pattern). */
export type RawHit =
  | { type: "needle"; ref: number; offset: number }
  | { type: "pattern"; leak: DetectedLeak; offset: number };

export type MinConfidence = "high" | "medium" | "low";
export const DEFAULT_MIN_CONFIDENCE: MinConfidence = "medium";
const RANK: Record<MinConfidence, number> = { low: 0, medium: 1, high: 2 };

/** Bytes beyond 2 × span kept before each chunk, so a token cut at the window's start is never in range. */
const MARGIN = 256;

/** As git and grep decide: a NUL byte in the first 8 KiB. */
export const BINARY_PROBE_BYTES = 8 * 1024;
export function looksBinary(firstBytes: Uint8Array): boolean {
  return firstBytes.subarray(0, BINARY_PROBE_BYTES).indexOf(0) !== -1;
}

/**
 * Per source, the places kept for one needle or one pattern key; the rest are counted (`dropped`), so a
 * file holding one key id millions of times costs a few hits of memory, not millions.
 */
export const MAX_HITS_PER_KEY = 20;

/** A source's hits kept by default; past it they are counted (`dropped`). See SourceScanner's `maxHits`. */
export const MAX_HITS_PER_SOURCE = 100_000;

export class SourceScanner {
  private needles: NeedleStream | undefined;
  private hits: RawHit[] = [];
  private perKey = new Map<string, number>();
  /** Hits of the current source counted but not kept (past MAX_HITS_PER_KEY for their key, or `maxHits`). */
  dropped = 0;
  private base = 0;
  private ownedFrom = 0;
  private carry: Buffer = Buffer.alloc(0);
  private done = false;
  private readonly keep: number;

  private readonly minRank: number;

  constructor(
    private readonly automaton: NeedleAutomaton | undefined,
    private readonly patterns: CompiledLeakPatterns | undefined,
    private readonly minConfidence: MinConfidence = DEFAULT_MIN_CONFIDENCE,
    /**
     * Hits kept per source, while it is read: the scan keeps no more than its budget (maxKeptHits) in
     * all, so a source's further hits are only counted. Without it a file of distinct keys (a named file
     * is read whatever its size) held every hit until it was finished: 256 MB of them exhausted the heap.
     */
    private readonly maxHits: number = MAX_HITS_PER_SOURCE,
  ) {
    this.keep = patterns ? 2 * patterns.span + MARGIN : 0;
    this.minRank = RANK[minConfidence];
  }

  /** Starts a new source. */
  begin(): void {
    this.hits = [];
    this.perKey = new Map();
    this.dropped = 0;
    this.base = 0;
    this.ownedFrom = 0;
    this.carry = Buffer.alloc(0);
    this.done = false;
    this.needles =
      this.automaton && this.automaton.needles > 0
        ? new NeedleStream(this.automaton, (ref, offset) =>
            this.add(`n${ref}`, { type: "needle", ref, offset }),
          )
        : undefined;
  }

  /** The next chunk; `final` when it is the source's last (or pass an empty final chunk at the end). */
  write(chunk: Uint8Array, final: boolean): void {
    if (this.done) return;
    this.needles?.write(chunk);
    if (final) this.needles?.end();
    if (this.patterns) this.detect(chunk, final);
    this.base += chunk.length;
    if (final) this.done = true;
  }

  /** The hits of the source (call after the final write). */
  end(): RawHit[] {
    if (!this.done) this.write(new Uint8Array(0), true);
    return this.hits;
  }

  private add(key: string, hit: RawHit): void {
    // Checked first: past it, not even the per-key count grows (distinct keys would grow it unbounded).
    if (this.hits.length >= this.maxHits) {
      this.dropped++;
      return;
    }
    const n = this.perKey.get(key) ?? 0;
    if (n >= MAX_HITS_PER_KEY) {
      this.dropped++;
      return;
    }
    this.perKey.set(key, n + 1);
    this.hits.push(hit);
  }

  private detect(chunk: Uint8Array, final: boolean): void {
    const patterns = this.patterns;
    if (!patterns) return;
    const span = patterns.span;
    const end = this.base + chunk.length;
    const ownedTo = final ? end : end - span;
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const text = this.carry.length === 0 ? view : Buffer.concat([this.carry, view]);
    if (ownedTo > this.ownedFrom) {
      const textStart = end - text.length;
      const found = detectLeaks(text.toString("latin1"), patterns, { minConfidence: this.minConfidence });
      for (const leak of found) {
        const offset = textStart + leak.offset;
        if (offset < this.ownedFrom || offset >= ownedTo) continue;
        // Also here, whatever the detector did with the option.
        if (RANK[leak.confidence] < this.minRank) continue;
        this.add(`p${leak.key}`, { type: "pattern", leak, offset });
      }
      this.ownedFrom = ownedTo;
    }
    if (!final) {
      // Copied: the caller reuses its read buffer.
      this.carry = Buffer.from(text.subarray(Math.max(0, text.length - this.keep)));
    }
  }
}
