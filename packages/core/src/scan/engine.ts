/**
 * The scan engine (task: scan engine): reads files, folders and git history and reports raw hits,
 * exact needles (key ids and secrets Keyward knows) and the profiles' leak patterns. See scan-types.ts
 * for the layers; this one knows nothing of accounts, the vault or the audit log, and never branches on
 * an exchange: patterns are the profiles' data, compiled by detect.ts.
 *
 * - Files (scan-files.ts): walk.ts (no links followed, non-regular files, `.git`, excluded paths
 *   skipped), read in 1 MiB chunks by file-scan.ts (UTF-16 with a BOM as UTF-8: utf16.ts), searched by
 *   source-scan.ts (needle automaton from multi-match.ts; `detectLeaks` per chunk), in worker threads
 *   (worker-pool.ts, handed batches by parallel.ts) or in-process for small scans.
 * - History (`git: true`, scan-history.ts): git-history.ts, every blob reachable from every ref,
 *   streamed from one `git cat-file --batch`; each hit once per (first commit, path) of its blob.
 * - Line and column are computed for hits only (line-index.ts); pace.ts yields, reports progress and
 *   notices an abort.
 *
 * The hits hold raw key text and secrets: they stay in memory and are never logged; errors name paths,
 * never content.
 */
import { availableParallelism } from "node:os";
import { compileLeakPatterns } from "./detect.js";
import { GIT_STALL_MS } from "./git-history.js";
import { compileNeedles } from "./multi-match.js";
import { aborted, Pace } from "./pace.js";
import { MAX_KEPT_HITS, Parallel } from "./parallel.js";
import { scanFiles } from "./scan-files.js";
import { scanHistory } from "./scan-history.js";
import {
  DEFAULT_MAX_FILE_BYTES,
  type ScanEngineOptions,
  type ScanEngineResult,
  type ScanHit,
  type ScanProgress,
  type ScanStats,
} from "./scan-types.js";
import { DEFAULT_MIN_CONFIDENCE, SourceScanner } from "./source-scan.js";
import { checkRoots, excludeRules } from "./walk.js";
import { WorkerPool, workersAvailable } from "./worker-pool.js";

/** At most this many worker threads by default (one per core up to it). */
export const MAX_DEFAULT_WORKERS = 4;

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
    skippedSources: [],
    hitsDropped: 0,
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
  const hits: ScanHit[] = [];
  const maxKeptHits = options.maxKeptHits ?? MAX_KEPT_HITS;
  // A source keeps at most the scan's budget while it is read (SourceScanner's maxHits).
  const scanner = new SourceScanner(automaton, compiled, minConfidence, maxKeptHits);
  const warnings: string[] = [];
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
      new WorkerPool(workers, {
        automaton,
        patterns: options.patterns,
        maxFileBytes,
        binary,
        minConfidence,
        maxKeptHits,
      }),
      signal,
      pace,
    );
    return parallel;
  };
  try {
    // Each phase is reported as it starts (a shell shows "scanning…" at once), then at most 10 times a second.
    pace.progress(undefined, performance.now(), true);
    pace.check();
    const files = {
      roots,
      rules,
      maxFileBytes,
      binary,
      stats,
      hits,
      maxKeptHits,
      pace,
      scanner,
      startParallel,
    };
    await scanFiles(files);
    if (options.git) {
      phase = "history";
      pace.progress(undefined, performance.now(), true);
      pace.check();
      await scanHistory({ ...files, git: { signal, stallMs: options.gitStallMs ?? GIT_STALL_MS }, warnings });
    }
  } finally {
    await parallel?.close();
  }
  pace.check();
  hits.sort(byLocation);
  stats.elapsedMs = Math.round(performance.now() - started);
  return { hits, stats, warnings };
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
