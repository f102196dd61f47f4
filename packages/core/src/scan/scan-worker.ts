/**
 * A scan worker thread (see worker-pool.ts): reads and searches the files the engine sends it, in
 * batches, and answers with their hits and counts. The needle automaton arrives compiled, in memory
 * (workerData: never argv, env or a file), since it holds the secrets Keyward searches for; the leak
 * patterns are compiled here (RegExps do not cross threads).
 */
import { parentPort, workerData } from "node:worker_threads";
import { compileLeakPatterns } from "./detect.js";
import { CHUNK_BYTES, scanFile } from "./file-scan.js";
import type { NeedleAutomaton } from "./multi-match.js";
import type { LeakPatterns, ScanHit, ScanStats } from "./scan-types.js";
import { type MinConfidence, SourceScanner } from "./source-scan.js";
import type { WalkFile } from "./walk.js";

export interface WorkerInit {
  automaton: NeedleAutomaton;
  patterns: readonly { exchange: string; leaks: LeakPatterns }[];
  maxFileBytes: number;
  binary: boolean;
  minConfidence: MinConfidence;
}

export interface WorkerBatch {
  id: number;
  files: WalkFile[];
}

export interface WorkerAnswer {
  id: number;
  hits: ScanHit[];
  files: number;
  bytes: number;
  skipped: ScanStats["skipped"];
}

const init = workerData as WorkerInit;
const scanner = new SourceScanner(
  init.automaton,
  init.patterns.length > 0 ? compileLeakPatterns(init.patterns) : undefined,
  init.minConfidence,
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
  };
  for (const file of batch.files) {
    const steps = scanFile(file, scanner, buffer, options);
    let step = steps.next();
    while (!step.done) step = steps.next();
    const outcome = step.value;
    if (outcome.kind === "scanned") {
      answer.files++;
      answer.bytes += outcome.bytes;
      for (const hit of outcome.hits) answer.hits.push(hit);
    } else {
      answer.skipped[outcome.kind]++;
    }
  }
  parentPort?.postMessage(answer);
});
