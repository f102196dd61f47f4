/**
 * The scan's worker threads: files are read and searched in parallel, in batches the engine hands out
 * as it walks. Started like the vault's encrypt worker (vault/encrypt-pool.ts): from the built
 * `scan-worker.js` next to this module; where it does not exist (tests running the TypeScript sources)
 * the engine reads in-process instead. A worker's failure fails the scan (never half a result); its
 * error is not passed on as is, since it could quote what the worker was given.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { KeywardError } from "../errors.js";
import type { WorkerAnswer, WorkerBatch, WorkerInit } from "./scan-worker.js";
import type { WalkFile } from "./walk.js";

const WORKER_URL = new URL("./scan-worker.js", import.meta.url);

/** Whether worker threads can run here (the built worker exists). */
export function workersAvailable(): boolean {
  try {
    return existsSync(fileURLToPath(WORKER_URL));
  } catch {
    return false;
  }
}

/** Batches in flight per worker: one being read, one waiting, so a worker never idles between them. */
const IN_FLIGHT = 2;

/** Each worker thread's heap limit. */
const WORKER_HEAP_MB = 1024;

export class WorkerPool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (a: WorkerAnswer) => void; reject: (e: KeywardError) => void }
  >();
  private next = 1;
  private failure: KeywardError | undefined;
  private readonly waiters: (() => void)[] = [];

  constructor(count: number, init: WorkerInit) {
    for (let i = 0; i < count; i++) {
      // A heap limit of its own: a worker that runs away fails alone, with a clear error, instead of
      // taking the process (the web server runs scans in its own) down with it.
      const worker = new Worker(WORKER_URL, {
        workerData: init,
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      });
      const slot = { worker, busy: 0 };
      worker.on("message", (answer: WorkerAnswer) => {
        const job = this.pending.get(answer.id);
        if (!job) return;
        this.pending.delete(answer.id);
        slot.busy--;
        job.resolve(answer);
        this.wake();
      });
      worker.on("error", (e: NodeJS.ErrnoException) => this.fail(e.code === "ERR_WORKER_OUT_OF_MEMORY"));
      worker.on("exit", (code) => {
        if (code !== 0) this.fail();
      });
      this.workers.push(slot);
    }
  }

  /**
   * Sends a batch to the least busy worker, waiting for room; `answer` settles when the worker answers
   * (rejects if a worker fails or the pool is closed).
   */
  async run(
    work: { files?: WalkFile[]; blobs?: WorkerBatch["blobs"] },
    signal?: AbortSignal,
  ): Promise<{ answer: Promise<WorkerAnswer> }> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (signal?.aborted) throw new KeywardError("SCAN_ABORTED", "The scan was stopped");
      let best: (typeof this.workers)[number] | undefined;
      for (const w of this.workers) {
        if (w.busy < IN_FLIGHT && (best === undefined || w.busy < best.busy)) best = w;
      }
      if (best) {
        const slot = best;
        const id = this.next++;
        slot.busy++;
        const answer = new Promise<WorkerAnswer>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          const batch: WorkerBatch = { id, files: work.files ?? [], blobs: work.blobs ?? [] };
          // The blobs' bytes move to the worker (transferred, not copied): they are not read here again.
          slot.worker.postMessage(
            batch,
            batch.blobs.map((b) => b.bytes.buffer as ArrayBuffer),
          );
        });
        return { answer };
      }
      await this.room(signal);
    }
  }

  /** Resolves when a worker has room (or the pool failed, or the scan was stopped). */
  private room(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private fail(outOfMemory = false): void {
    if (this.failure) return;
    this.failure = outOfMemory
      ? new KeywardError(
          "INTERNAL",
          `A scan worker thread ran out of memory (its limit is ${WORKER_HEAP_MB} MB)`,
          {
            hint: "Scan fewer or smaller files at a time (--max-file-size, --exclude), or report it.",
          },
        )
      : new KeywardError("INTERNAL", "A scan worker thread failed", {
          hint: "Run the scan again; if it fails again, report it.",
        });
    this.settle(this.failure);
  }

  private settle(error: KeywardError): void {
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
    this.wake();
  }

  /** Whether a worker failed (the engine then stops waiting for answers). */
  get failed(): KeywardError | undefined {
    return this.failure;
  }

  /** Stops every worker at once (after the last answer, or on an abort: reading stops mid-file). */
  async close(reason?: KeywardError): Promise<void> {
    this.failure ??= reason ?? new KeywardError("SCAN_ABORTED", "The scan was stopped");
    this.settle(this.failure);
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
