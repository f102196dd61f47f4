/**
 * Handing batches to the scan's worker threads (task: scan engine; the threads: worker-pool.ts): wait
 * for room (so memory stays bounded), take answers as they come, stop everything on an abort or a
 * worker's failure.
 */
import { aborted, type Pace } from "./pace.js";
import { MAX_SKIPPED_LISTED, type ScanHit, type ScanStats, type SkippedSource } from "./scan-types.js";
import type { WorkerAnswer, WorkerBatch } from "./scan-worker.js";
import type { WalkFile } from "./walk.js";
import type { WorkerPool } from "./worker-pool.js";

/**
 * Batches handed to the worker pool: waits for room (so memory stays bounded), collects answers as they
 * come, and stops everything on an abort or a worker's failure.
 */
export class Parallel {
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

/** Where a scan keeps its hits: `maxKeptHits` is the scan's budget (ScanEngineOptions.maxKeptHits). */
export interface KeptHits {
  stats: ScanStats;
  hits: ScanHit[];
  maxKeptHits: number;
}

/** A worker's counts and file hits into the scan's. */
export function absorbCounts(into: KeptHits, a: WorkerAnswer): void {
  const stats = into.stats;
  stats.files += a.files;
  stats.blobs += a.blobs;
  stats.bytes += a.bytes;
  stats.hitsDropped += a.dropped;
  for (const k of Object.keys(a.skipped) as (keyof ScanStats["skipped"])[]) stats.skipped[k] += a.skipped[k];
  for (const s of a.skippedFiles) nameSkipped(stats, s);
  for (const h of a.hits) keepHit(into, h);
}

/**
 * Hits kept for a whole scan by default; past it the scan goes on and counts (stats.hitsDropped) but
 * keeps no more places.
 */
export const MAX_KEPT_HITS = 100_000;

/** Keeps a hit, or counts it if the scan's budget of kept hits is spent. */
export function keepHit(into: KeptHits, hit: ScanHit): void {
  if (into.hits.length >= into.maxKeptHits) into.stats.hitsDropped++;
  else into.hits.push(hit);
}

/** Names a skipped source (the first MAX_SKIPPED_LISTED; the counts in `skipped` hold them all). */
export function nameSkipped(stats: Pick<ScanStats, "skippedSources">, source: SkippedSource): void {
  if (stats.skippedSources.length < MAX_SKIPPED_LISTED) stats.skippedSources.push(source);
}
