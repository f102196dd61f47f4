/**
 * The scan's files phase (task: scan engine): walk the roots (walk.ts) and read each file in chunks
 * (file-scan.ts), in this thread for a small scan, else in batches to the worker threads.
 */
import { lstatSync } from "node:fs";
import { CHUNK_BYTES, type FileOutcome, scanFile, skippedSource } from "./file-scan.js";
import type { Pace } from "./pace.js";
import { absorbCounts, type KeptHits, keepHit, nameSkipped, type Parallel } from "./parallel.js";
import type { WorkerAnswer } from "./scan-worker.js";
import type { SourceScanner } from "./source-scan.js";
import { type excludeRules, type ScanRoot, type WalkFile, walkRoot } from "./walk.js";

/** A scan whose walk finds fewer files than this stays in-process: starting threads costs more. */
const IN_PROCESS_FILES = 64;
/** …and holds fewer bytes than this (a few large logs are still read in parallel). */
const IN_PROCESS_BYTES = 16 * 1024 * 1024;
/** Files per batch handed to a worker. */
const BATCH_FILES = 32;

export interface FilesJob extends KeptHits {
  roots: ScanRoot[];
  rules: ReturnType<typeof excludeRules>;
  maxFileBytes: number;
  binary: boolean;
  pace: Pace;
  scanner: SourceScanner;
  startParallel: () => Parallel | undefined;
}

function count(job: KeptHits, file: WalkFile, outcome: FileOutcome): void {
  if (outcome.kind === "scanned") {
    job.stats.files++;
    job.stats.bytes += outcome.bytes;
    job.stats.hitsDropped += outcome.dropped;
    for (const h of outcome.hits) keepHit(job, h);
  } else {
    job.stats.skipped[outcome.kind]++;
    const named = skippedSource(file, outcome);
    if (named) nameSkipped(job.stats, named);
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

export async function scanFiles(job: FilesJob): Promise<void> {
  const { pace, stats } = job;
  const walk = (function* () {
    for (const root of job.roots) yield* walkRoot(root, job.rules, stats);
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
      count(job, file, step.value);
      await pace.tick(file.shown);
    };
    for (const file of head) await one(file);
    while (!walked.done) {
      await one(walked.value);
      walked = walk.next();
    }
    return;
  }

  const absorb = (a: WorkerAnswer) => absorbCounts(job, a);
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
