/**
 * A scan worker thread (see worker-pool.ts): reads and searches the files the engine sends it, in
 * batches, or searches the history's blobs git streamed to the engine, and answers with hits and counts. The needle automaton arrives compiled, in memory
 * (workerData: never argv, env or a file), since it holds the secrets Keyward searches for; the leak
 * patterns are compiled here (RegExps do not cross threads).
 */
import { parentPort, workerData } from "node:worker_threads";
import { compileLeakPatterns } from "./detect.js";
import { CHUNK_BYTES, scanBytes, scanFile, skippedSource } from "./file-scan.js";
import type { NeedleAutomaton } from "./multi-match.js";
import type { LeakPatterns, ScanHit, ScanStats, SkippedSource } from "./scan-types.js";
import { type MinConfidence, SourceScanner } from "./source-scan.js";
import type { WalkFile } from "./walk.js";

export interface WorkerInit {
  automaton: NeedleAutomaton;
  patterns: readonly { exchange: string; leaks: LeakPatterns }[];
  maxFileBytes: number;
  binary: boolean;
  minConfidence: MinConfidence;
  /** The scan's budget of kept hits: per source, and per answer (the rest counted in `dropped`). */
  maxKeptHits: number;
}

/** Files to read, or (history) blobs git already streamed, each with the caller's key for it. */
export interface WorkerBatch {
  id: number;
  files: WalkFile[];
  blobs: { key: number; bytes: Uint8Array }[];
}

export interface WorkerAnswer {
  id: number;
  hits: ScanHit[];
  files: number;
  bytes: number;
  skipped: ScanStats["skipped"];
  /** The files skipped as tooLarge, binary or unreadable, by name (the engine keeps the first ones). */
  skippedFiles: SkippedSource[];
  /** The keys of the blobs skipped as binary (the engine names them by their first path). */
  binaryBlobs: number[];
  /** Matches counted but not kept (ScanStats.hitsDropped). */
  dropped: number;
  /** Blobs searched (binaries are counted in skipped), and the hits of those with any (path ""). */
  blobs: number;
  blobHits: { key: number; hits: ScanHit[]; dropped: number }[];
}

const init = workerData as WorkerInit;
const scanner = new SourceScanner(
  init.automaton,
  init.patterns.length > 0 ? compileLeakPatterns(init.patterns) : undefined,
  init.minConfidence,
  init.maxKeptHits,
);
const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
const options = { maxFileBytes: init.maxFileBytes, binary: init.binary };

parentPort?.on("message", (batch: WorkerBatch) => {
  const answer: WorkerAnswer = {
    id: batch.id,
    hits: [],
    files: 0,
    bytes: 0,
    skipped: { tooLarge: 0, binary: 0, unreadable: 0, notRegular: 0, excluded: 0 },
    skippedFiles: [],
    binaryBlobs: [],
    dropped: 0,
    blobs: 0,
    blobHits: [],
  };
  for (const blob of batch.blobs) {
    const outcome = scanBytes(blob.bytes, scanner, init.binary);
    if (outcome.kind === "binary") {
      answer.skipped.binary++;
      answer.binaryBlobs.push(blob.key);
      continue;
    }
    answer.blobs++;
    answer.bytes += blob.bytes.length;
    // A blob's dropped matches are counted by the caller, once per path it sits at.
    if (outcome.hits.length > 0)
      answer.blobHits.push({ key: blob.key, hits: outcome.hits, dropped: outcome.dropped });
  }
  for (const file of batch.files) {
    const steps = scanFile(file, scanner, buffer, options);
    let step = steps.next();
    while (!step.done) step = steps.next();
    const outcome = step.value;
    if (outcome.kind === "scanned") {
      answer.files++;
      answer.bytes += outcome.bytes;
      answer.dropped += outcome.dropped;
      // The engine keeps no more than its budget in all: an answer never carries more.
      for (const hit of outcome.hits) {
        if (answer.hits.length >= init.maxKeptHits) answer.dropped++;
        else answer.hits.push(hit);
      }
    } else {
      answer.skipped[outcome.kind]++;
      const named = skippedSource(file, outcome);
      if (named) answer.skippedFiles.push(named);
    }
  }
  parentPort?.postMessage(answer);
});
