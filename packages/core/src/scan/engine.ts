/**
 * The scan engine (task: scan engine): reads files, folders and git history and reports raw hits,
 * exact needles (key ids and secrets Keyward knows) and the profiles' leak patterns. See scan-types.ts
 * for the layers; this one knows nothing of accounts, the vault or the audit log, and never branches on
 * an exchange: patterns are the profiles' data, compiled by detect.ts.
 *
 * - Files: walk.ts (no links followed, non-regular files, `.git`, excluded paths skipped), read in
 *   1 MiB chunks by file-scan.ts, searched by source-scan.ts (needle automaton from multi-match.ts;
 *   `detectLeaks` per chunk), in worker threads (worker-pool.ts) or in-process for small scans.
 * - History (`git: true`): git-history.ts, every blob reachable from every ref, streamed from one
 *   `git cat-file --batch`; each hit once per (first commit, path) of its blob.
 * - Line and column are computed for hits only (line-index.ts).
 *
 * The hits hold raw key text and secrets: they stay in memory and are never logged; errors name paths,
 * never content.
 */
import { lstatSync } from "node:fs";
import { availableParallelism } from "node:os";
import { KeywardError } from "../errors.js";
import { compileLeakPatterns } from "./detect.js";
import { CHUNK_BYTES, type FileOutcome, locate, scanFile } from "./file-scan.js";
import { blobSizes, gitDirOf, historyIndex, readBlob, readBlobs } from "./git-history.js";
import { locateOffsets } from "./line-index.js";
import { compileNeedles, type NeedleAutomaton } from "./multi-match.js";
import {
  DEFAULT_MAX_FILE_BYTES,
  type ScanEngineOptions,
  type ScanEngineResult,
  type ScanHit,
  type ScanProgress,
  type ScanStats,
} from "./scan-types.js";
import type { WorkerAnswer } from "./scan-worker.js";
import { DEFAULT_MIN_CONFIDENCE, looksBinary, type RawHit, SourceScanner } from "./source-scan.js";
import { checkRoots, excludeRules, type ScanRoot, type WalkFile, walkRoot } from "./walk.js";
import { WorkerPool, workersAvailable } from "./worker-pool.js";

/** At most this many worker threads by default (one per core up to it). */
export const MAX_DEFAULT_WORKERS = 4;
/** A scan whose walk finds fewer files than this stays in-process: starting threads costs more. */
const IN_PROCESS_FILES = 64;
/** …and holds fewer bytes than this (a few large logs are still read in parallel). */
const IN_PROCESS_BYTES = 16 * 1024 * 1024;
/** Files per batch handed to a worker. */
const BATCH_FILES = 32;
/** How long the engine may keep the event loop before yielding (progress, abort, other work). */
const SLICE_MS = 15;
const PROGRESS_MS = 100;

const aborted = () =>
  new KeywardError("SCAN_ABORTED", "The scan was stopped before it finished", {
    hint: "Nothing was reported: run it again to scan to the end.",
  });

/** Yields to the event loop every SLICE_MS, checks for an abort, and reports progress ≤ 10 times a second. */
class Pace {
  private lastYield = performance.now();
  private lastProgress = Number.NEGATIVE_INFINITY;
  constructor(
    private readonly signal: AbortSignal | undefined,
    private readonly onProgress: ((p: ScanProgress) => void) | undefined,
    private readonly snapshot: () => ScanProgress,
  ) {}

  check(): void {
    if (this.signal?.aborted) throw aborted();
  }

  async tick(current?: string): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastYield = performance.now();
    this.check();
    this.progress(current, now);
  }

  /** `force`: a new phase (once a scan) is reported at once. */
  progress(current?: string, now = performance.now(), force = false): void {
    if (!this.onProgress || (!force && now - this.lastProgress < PROGRESS_MS)) return;
    this.lastProgress = now;
    const p = this.snapshot();
    this.onProgress(current === undefined ? p : { ...p, current });
  }
}

/** Reads every root (and with `git`, every repository's history) and reports what it found. */
export async function scanSources(options: ScanEngineOptions): Promise<ScanEngineResult> {
  const started = performance.now();
  const signal = options.signal;
  if (signal?.aborted) throw aborted();
  const roots = checkRoots(options.roots);
  const rules = excludeRules(options.exclude);
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const binary = options.binary ?? false;
  const stats: ScanStats = {
    files: 0,
    bytes: 0,
    commits: 0,
    blobs: 0,
    skipped: { tooLarge: 0, binary: 0, unreadable: 0, notRegular: 0, excluded: 0 },
    elapsedMs: 0,
  };
  let phase: ScanProgress["phase"] = "files";
  const pace = new Pace(signal, options.onProgress, () => ({
    phase,
    files: stats.files,
    bytes: stats.bytes,
    commits: stats.commits,
    blobs: stats.blobs,
  }));
  const automaton = compileNeedles(options.needles);
  const compiled = options.patterns.length > 0 ? compileLeakPatterns(options.patterns) : undefined;
  const minConfidence = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const scanner = new SourceScanner(automaton, compiled, minConfidence);
  const hits: ScanHit[] = [];
  const workers = Math.max(
    1,
    Math.floor(options.workers ?? Math.min(MAX_DEFAULT_WORKERS, availableParallelism())),
  );

  await scanFiles({
    roots,
    rules,
    maxFileBytes,
    binary,
    workers,
    stats,
    hits,
    pace,
    scanner,
    automaton,
    options,
  });
  if (options.git) {
    phase = "history";
    pace.progress(undefined, performance.now(), true);
    pace.check();
    await scanHistory({ roots, maxFileBytes, binary, stats, hits, pace, scanner, signal });
  }
  pace.check();
  hits.sort(byLocation);
  stats.elapsedMs = Math.round(performance.now() - started);
  return { hits, stats };
}

interface FilesJob {
  roots: ScanRoot[];
  rules: ReturnType<typeof excludeRules>;
  maxFileBytes: number;
  binary: boolean;
  workers: number;
  stats: ScanStats;
  hits: ScanHit[];
  pace: Pace;
  scanner: SourceScanner;
  automaton: NeedleAutomaton;
  options: ScanEngineOptions;
}

function count(job: { stats: ScanStats; hits: ScanHit[] }, outcome: FileOutcome): void {
  if (outcome.kind === "scanned") {
    job.stats.files++;
    job.stats.bytes += outcome.bytes;
    for (const h of outcome.hits) job.hits.push(h);
  } else {
    job.stats.skipped[outcome.kind]++;
  }
}

/** The files' sizes added up (as listed now; a file that cannot be stat'ed counts 0). */
function bytesOf(files: readonly WalkFile[]): number {
  let total = 0;
  for (const f of files) {
    try {
      total += lstatSync(f.path, { throwIfNoEntry: false })?.size ?? 0;
    } catch {
      // Unreadable: the read will count it.
    }
  }
  return total;
}

async function scanFiles(job: FilesJob): Promise<void> {
  const { pace, stats } = job;
  const walk = (function* () {
    for (const root of job.roots) yield* walkRoot(root, job.rules, stats.skipped);
  })();
  // The first files decide: a small scan stays in this thread (it answers before threads would start).
  const head: WalkFile[] = [];
  let walked = walk.next();
  while (!walked.done && head.length < IN_PROCESS_FILES) {
    head.push(walked.value);
    walked = walk.next();
  }
  const parallel =
    job.workers > 1 && (!walked.done || bytesOf(head) > IN_PROCESS_BYTES) && workersAvailable();
  if (!parallel) {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const one = async (file: WalkFile) => {
      const steps = scanFile(file, job.scanner, buffer, job);
      let step = steps.next();
      while (!step.done) {
        await pace.tick(file.shown);
        step = steps.next();
      }
      count(job, step.value);
      await pace.tick(file.shown);
    };
    for (const file of head) await one(file);
    while (!walked.done) {
      await one(walked.value);
      walked = walk.next();
    }
    return;
  }

  const pool = new WorkerPool(job.workers, {
    automaton: job.automaton,
    patterns: job.options.patterns,
    maxFileBytes: job.maxFileBytes,
    binary: job.binary,
    minConfidence: job.options.minConfidence ?? DEFAULT_MIN_CONFIDENCE,
  });
  const signal = job.options.signal;
  const onAbort = () => {
    void pool.close(aborted());
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let failure: unknown;
  const answers: Promise<void>[] = [];
  const absorb = (a: WorkerAnswer) => {
    stats.files += a.files;
    stats.bytes += a.bytes;
    for (const k of Object.keys(a.skipped) as (keyof ScanStats["skipped"])[])
      stats.skipped[k] += a.skipped[k];
    for (const h of a.hits) job.hits.push(h);
    pace.progress();
  };
  const send = async (files: WalkFile[]) => {
    const { answer } = await pool.run(files, signal);
    answers.push(
      answer.then(absorb, (e: unknown) => {
        failure ??= e;
      }),
    );
  };
  try {
    const batch = head;
    for (;;) {
      if (failure) throw failure;
      if (batch.length >= BATCH_FILES || (walked.done && batch.length > 0)) {
        await send(batch.splice(0, BATCH_FILES));
        continue;
      }
      if (walked.done) break;
      batch.push(walked.value);
      walked = walk.next();
      await pace.tick(walked.done ? undefined : walked.value.shown);
    }
    await Promise.all(answers);
    if (failure) throw failure;
    pace.check();
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await pool.close();
  }
}

interface HistoryJob {
  roots: ScanRoot[];
  maxFileBytes: number;
  binary: boolean;
  stats: ScanStats;
  hits: ScanHit[];
  pace: Pace;
  scanner: SourceScanner;
  signal: AbortSignal | undefined;
}

async function scanHistory(job: HistoryJob): Promise<void> {
  const { stats, pace, scanner, signal } = job;
  const seen = new Set<string>();
  for (const root of job.roots) {
    const gitDir = await gitDirOf(root.given, root.isDirectory, signal);
    pace.check();
    if (gitDir === undefined || seen.has(gitDir)) continue;
    seen.add(gitDir);
    const shown = root.given;
    const commitsBefore = stats.commits;
    const index = await historyIndex(gitDir, shown, signal, (n) => {
      stats.commits = commitsBefore + n;
      pace.progress();
    });
    pace.check();
    const sizes = await blobSizes(gitDir, [...index.blobs.keys()], shown, signal);
    pace.check();
    const toRead: string[] = [];
    for (const [blob, size] of sizes) {
      if (size > job.maxFileBytes) stats.skipped.tooLarge++;
      else toRead.push(blob);
    }
    // One blob at a time: its pieces are gathered into chunks of up to CHUNK_BYTES (the first decides
    // whether it is binary), searched, and let go.
    let pieces: Buffer[] = [];
    let gathered = 0;
    let first = true;
    let skip = false;
    let size = 0;
    let read = 0;
    let current = "";
    const withHits: { blob: string; raw: RawHit[] }[] = [];
    const flush = (final: boolean) => {
      const chunk = pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces, gathered);
      pieces = [];
      gathered = 0;
      if (first) {
        first = false;
        if (!job.binary && looksBinary(chunk)) {
          skip = true;
          return;
        }
      }
      scanner.write(chunk, final);
    };
    await readBlobs(
      gitDir,
      toRead,
      shown,
      {
        begin(blob, blobSize) {
          current = blob;
          size = blobSize;
          read = 0;
          first = true;
          skip = false;
          scanner.begin();
        },
        data(bytes) {
          read += bytes.length;
          if (skip) return;
          pieces.push(bytes); // a stream's pieces are never reused: kept, not copied

          gathered += bytes.length;
          if (gathered >= CHUNK_BYTES && read < size) flush(false);
        },
        end() {
          if (!skip) flush(true);
          if (skip) {
            stats.skipped.binary++;
            return;
          }
          stats.blobs++;
          stats.bytes += size;
          const raw = scanner.end();
          if (raw.length > 0) withHits.push({ blob: current, raw });
        },
      },
      signal,
      () => pace.tick(),
    );
    pace.check();
    // Line and column for blobs with hits only: read each again.
    for (const { blob, raw } of withHits) {
      const content = await readBlob(gitDir, blob, shown, signal);
      pace.check();
      const lines = locateOffsets(
        [content],
        raw.map((h) => h.offset),
      );
      for (const place of index.blobs.get(blob) ?? []) {
        const where = {
          path: place.path,
          commit: place.commit,
          commitDate: place.commitDate,
          repository: shown,
        };
        for (const hit of locate(raw, where, lines)) job.hits.push(hit);
      }
    }
  }
}

/** Files before history, then by path, line, column (the same order whatever the workers did). */
function byLocation(a: ScanHit, b: ScanHit): number {
  const la = a.location;
  const lb = b.location;
  const ha = la.commit === undefined ? 0 : 1;
  const hb = lb.commit === undefined ? 0 : 1;
  if (ha !== hb) return ha - hb;
  if ((la.repository ?? "") !== (lb.repository ?? ""))
    return (la.repository ?? "") < (lb.repository ?? "") ? -1 : 1;
  if (la.path !== lb.path) return la.path < lb.path ? -1 : 1;
  if (la.line !== lb.line) return la.line - lb.line;
  if (la.column !== lb.column) return la.column - lb.column;
  if ((la.commit ?? "") !== (lb.commit ?? "")) return (la.commit ?? "") < (lb.commit ?? "") ? -1 : 1;
  const ka = a.type === "needle" ? `n${a.ref}` : `p${a.exchange}`;
  const kb = b.type === "needle" ? `n${b.ref}` : `p${b.exchange}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
