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
import { compileNeedles } from "./multi-match.js";
import {
  DEFAULT_MAX_FILE_BYTES,
  type ScanEngineOptions,
  type ScanEngineResult,
  type ScanHit,
  type ScanProgress,
  type ScanStats,
} from "./scan-types.js";
import type { WorkerAnswer, WorkerBatch } from "./scan-worker.js";
import { DEFAULT_MIN_CONFIDENCE, looksBinary, type RawHit, SourceScanner } from "./source-scan.js";
import { checkRoots, excludeRules, type ScanRoot, type WalkFile, walkRoot } from "./walk.js";
import { WorkerPool, workersAvailable } from "./worker-pool.js";

/** At most this many worker threads by default (one per core up to it). */
export const MAX_DEFAULT_WORKERS = 4;
/** A scan whose walk finds fewer files than this stays in-process: starting threads costs more. */
const IN_PROCESS_FILES = 64;
/** …and holds fewer bytes than this (a few large logs are still read in parallel). */
const IN_PROCESS_BYTES = 16 * 1024 * 1024;
/** A history with fewer blobs than this is searched in-process. */
const IN_PROCESS_BLOBS = 256;
/** Blobs up to this size go to the workers (larger ones are streamed here, never held whole). */
const WORKER_BLOB_BYTES = 1024 * 1024;
/** A batch of blobs for a worker: this many bytes or blobs, whichever comes first. */
const BATCH_BLOB_BYTES = 4 * 1024 * 1024;
const BATCH_BLOBS = 512;
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

  // Worker threads, started when the scan turns out big enough (see scanFiles, scanHistory) and shared
  // by both phases.
  let parallel: Parallel | undefined;
  const startParallel = (): Parallel | undefined => {
    if (workers <= 1 || !workersAvailable()) return undefined;
    parallel ??= new Parallel(
      new WorkerPool(workers, { automaton, patterns: options.patterns, maxFileBytes, binary, minConfidence }),
      signal,
      pace,
    );
    return parallel;
  };
  try {
    await scanFiles({ roots, rules, maxFileBytes, binary, stats, hits, pace, scanner, startParallel });
    if (options.git) {
      phase = "history";
      pace.progress(undefined, performance.now(), true);
      pace.check();
      await scanHistory({
        roots,
        rules,
        maxFileBytes,
        binary,
        stats,
        hits,
        pace,
        scanner,
        signal,
        startParallel,
      });
    }
  } finally {
    await parallel?.close();
  }
  pace.check();
  hits.sort(byLocation);
  stats.elapsedMs = Math.round(performance.now() - started);
  return { hits, stats };
}

/**
 * Batches handed to the worker pool: waits for room (so memory stays bounded), collects answers as they
 * come, and stops everything on an abort or a worker's failure.
 */
class Parallel {
  private failure: unknown;
  private answers: Promise<void>[] = [];
  private readonly onAbort = () => {
    void this.pool.close(aborted());
  };

  constructor(
    private readonly pool: WorkerPool,
    private readonly signal: AbortSignal | undefined,
    private readonly pace: Pace,
  ) {
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** Sends a batch once a worker has room; `absorb` takes its answer. */
  async send(work: { files?: WalkFile[]; blobs?: WorkerBatch["blobs"] }, absorb: (a: WorkerAnswer) => void) {
    this.check();
    const { answer } = await this.pool.run(work, this.signal);
    this.answers.push(
      answer.then(
        (a) => {
          absorb(a);
          this.pace.progress();
        },
        (e: unknown) => {
          this.failure ??= e;
        },
      ),
    );
  }

  /** Throws the first failure (a worker's, or the abort). */
  check(): void {
    if (this.failure) throw this.failure;
    this.pace.check();
  }

  /** Waits for every answer sent so far. */
  async drain(): Promise<void> {
    const answers = this.answers;
    this.answers = [];
    await Promise.all(answers);
    this.check();
  }

  async close(): Promise<void> {
    this.signal?.removeEventListener("abort", this.onAbort);
    await this.pool.close();
  }
}

/** A worker's counts and file hits into the scan's. */
function absorbCounts(stats: ScanStats, hits: ScanHit[], a: WorkerAnswer): void {
  stats.files += a.files;
  stats.blobs += a.blobs;
  stats.bytes += a.bytes;
  for (const k of Object.keys(a.skipped) as (keyof ScanStats["skipped"])[]) stats.skipped[k] += a.skipped[k];
  for (const h of a.hits) hits.push(h);
}

interface FilesJob {
  roots: ScanRoot[];
  rules: ReturnType<typeof excludeRules>;
  maxFileBytes: number;
  binary: boolean;
  stats: ScanStats;
  hits: ScanHit[];
  pace: Pace;
  scanner: SourceScanner;
  startParallel: () => Parallel | undefined;
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
  const parallel = !walked.done || bytesOf(head) > IN_PROCESS_BYTES ? job.startParallel() : undefined;
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

  const absorb = (a: WorkerAnswer) => absorbCounts(stats, job.hits, a);
  const batch = head;
  for (;;) {
    parallel.check();
    if (batch.length >= BATCH_FILES || (walked.done && batch.length > 0)) {
      await parallel.send({ files: batch.splice(0, BATCH_FILES) }, absorb);
      continue;
    }
    if (walked.done) break;
    batch.push(walked.value);
    walked = walk.next();
    await pace.tick(walked.done ? undefined : walked.value.shown);
  }
  await parallel.drain();
}

interface HistoryJob {
  roots: ScanRoot[];
  rules: ReturnType<typeof excludeRules>;
  maxFileBytes: number;
  binary: boolean;
  stats: ScanStats;
  hits: ScanHit[];
  pace: Pace;
  scanner: SourceScanner;
  signal: AbortSignal | undefined;
  startParallel: () => Parallel | undefined;
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
    // `exclude` applies to the paths in the repository too: a blob only at excluded paths is not read.
    const rules = job.rules;
    if (rules) {
      for (const [blob, places] of index.blobs) {
        const kept = places.filter((p) => !rules.ignores(p.path));
        if (kept.length === places.length) continue;
        if (kept.length === 0) {
          index.blobs.delete(blob);
          stats.skipped.excluded++;
        } else {
          index.blobs.set(blob, kept);
        }
      }
    }
    const sizes = await blobSizes(gitDir, [...index.blobs.keys()], shown, signal);
    pace.check();
    const toRead: string[] = [];
    for (const [blob, size] of sizes) {
      if (size > job.maxFileBytes) stats.skipped.tooLarge++;
      else toRead.push(blob);
    }
    // Many blobs: the small ones (most of a history) go to the workers in batches, copied out of git's
    // stream into buffers of their own that move to the worker; the rest are searched here.
    const parallel = toRead.length >= IN_PROCESS_BLOBS ? job.startParallel() : undefined;
    let batch: WorkerBatch["blobs"] = [];
    let batchBytes = 0;
    const keys: string[] = []; // batch key → blob
    let own: Uint8Array | undefined; // the blob being copied for a worker
    let ownAt = 0;
    const absorb = (a: WorkerAnswer) => {
      absorbCounts(stats, job.hits, a);
      for (const { key, hits } of a.blobHits) {
        const blob = keys[key] ?? "";
        for (const place of index.blobs.get(blob) ?? []) {
          const where = {
            path: place.path,
            commit: place.commit,
            commitDate: place.commitDate,
            repository: shown,
          };
          for (const h of hits) job.hits.push({ ...h, location: { ...h.location, ...where } });
        }
      }
    };
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
          if (parallel && blobSize <= WORKER_BLOB_BYTES) {
            // Its own buffer (not a pooled one): it is transferred to the worker whole.
            own = new Uint8Array(blobSize);
            ownAt = 0;
            return;
          }
          own = undefined;
          scanner.begin();
        },
        data(bytes) {
          read += bytes.length;
          if (own) {
            own.set(bytes, ownAt);
            ownAt += bytes.length;
            return;
          }
          if (skip) return;
          pieces.push(bytes); // a stream's pieces are never reused: kept, not copied

          gathered += bytes.length;
          if (gathered >= CHUNK_BYTES && read < size) flush(false);
        },
        end() {
          if (own) {
            keys.push(current);
            batch.push({ key: keys.length - 1, bytes: own });
            batchBytes += own.length;
            own = undefined;
            return;
          }
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
      async () => {
        if (parallel && (batchBytes >= BATCH_BLOB_BYTES || batch.length >= BATCH_BLOBS)) {
          const blobs = batch;
          batch = [];
          batchBytes = 0;
          await parallel.send({ blobs }, absorb);
        }
        await pace.tick();
      },
    );
    if (parallel) {
      if (batch.length > 0) await parallel.send({ blobs: batch }, absorb);
      batch = [];
      await parallel.drain();
    }
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
