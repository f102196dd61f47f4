/**
 * The scan's pace (task: scan engine): the engine reads synchronously in slices, yielding to the event
 * loop every SLICE_MS so progress reports, an abort and the rest of the process (a web server) get their
 * turn; progress is reported at most ten times a second, and at once when a phase starts.
 */
import { KeywardError } from "../errors.js";
import type { ScanProgress } from "./scan-types.js";

/** How long the engine may keep the event loop before yielding (progress, abort, other work). */
const SLICE_MS = 15;
const PROGRESS_MS = 100;

export const aborted = () =>
  new KeywardError("SCAN_ABORTED", "The scan was stopped before it finished", {
    hint: "Nothing was reported: run it again to scan to the end.",
  });

/** Yields to the event loop every SLICE_MS, checks for an abort, and reports progress ≤ 10 times a second. */
export class Pace {
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
