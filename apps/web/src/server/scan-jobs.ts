/**
 * The Scan page's jobs (task: web): a leak scan of a file or folder on this machine, run by core's
 * `scanLeaks` (the same use case as `keyward scan`: needles from the home, the engine, findings, the
 * `scan.done` audit entry), followed live by any number of tabs (Server-Sent Events, as revoke jobs:
 * job-events.ts). The browser gets progress counts, then the report: core's `ScanReport`, which holds
 * no secret and no unknown key in full (scan-types.ts), and the ids "Revoke these" selects
 * (`revocableKeyIds`). File content never leaves core; the server keeps job ids, events and answers.
 * A scan's view also carries what the revokes started since then did to the keys it found (their
 * results, revoke-jobs.ts): a key revoked after the scan is shown revoked, and offered to no new revoke.
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import {
  type RevocableKey,
  revocableKeyIds,
  revocableKeys,
  type ScanProgress,
  type ScanReport,
  toSarif,
} from "@keyward/core";
import { HttpError } from "./http-errors.js";
import { errorInfo, JobEventLog } from "./job-events.js";
import type { KeyRevokeState } from "./revoke-jobs.js";

export type ScanJobStatus = "running" | "finished" | "stopped" | "error";

/** What a scan is asked to do: one root (absolute, checked by the route), and the page's two boxes. */
export interface ScanRequest {
  path: string;
  git: boolean;
  verify: boolean;
}

/** Runs one scan: core's scanLeaks over the server's home and adapters (server.ts builds it). */
export type ScanRunner = (
  request: ScanRequest,
  options: { onProgress(progress: ScanProgress): void; signal: AbortSignal },
) => Promise<ScanReport>;

/** What the revokes started at or after `since` last said of each of `keyIds` (RevokeJobs.latestResults). */
export type RevokesOf = (keyIds: readonly string[], since: string) => KeyRevokeState[];

/** Progress as the page shows it: counts and the path being read (never content). */
export type ScanProgressView = Omit<ScanProgress, "current"> & { current: string | null };

export interface ScanJobView {
  id: string;
  status: ScanJobStatus;
  request: ScanRequest;
  startedAt: string;
  finishedAt: string | null;
  progress: ScanProgressView;
  report: ScanReport | null;
  /** The found known keys that may still work: what "Revoke these" selects (core's revocableKeyIds). */
  revocable: string[];
  /**
   * Each of them with why it is there ("secret found at .env:4" / "key id found at notes.txt:1, no secret
   * with it"; core's revocableKeys). Only those whose secret was found are ticked by default: an id alone
   * can be planted by anyone who knows it.
   */
  revocableKeys: RevocableKey[];
  /**
   * The found known keys' state as a revoke started since the scan left it (or leaves it, while it
   * runs): per key, the newest such revoke's own result. Keys no revoke has touched are absent.
   */
  revokes: KeyRevokeState[];
  /**
   * The ids of `revocable` a new revoke may still take: not revoked since the scan (revoked or already
   * revoked), and not in a revoke still running. A revoke that failed, or left a key waiting for a person
   * and ended, leaves it here: the key may still work.
   */
  stillRevocable: string[];
  error: { code: string; message: string; hint?: string } | null;
}

const MAX_JOBS_KEPT = 10;
/** Progress events at most this often: a disk has many files, the page needs a few updates a second. */
const PROGRESS_EVERY_MS = 250;

const { version: WEB_VERSION } = createRequire(import.meta.url)("../../package.json") as { version: string };

export class ScanJob extends JobEventLog {
  readonly id = randomUUID();
  readonly startedAt = new Date().toISOString();
  readonly #abort = new AbortController();
  status: ScanJobStatus = "running";
  finishedAt: string | null = null;
  progress: ScanProgressView = { phase: "files", files: 0, bytes: 0, commits: 0, blobs: 0, current: null };
  report: ScanReport | null = null;
  revocable: string[] = [];
  revocableKeys: RevocableKey[] = [];
  error: ScanJobView["error"] = null;
  #lastProgress = 0;
  readonly done: Promise<void>;

  constructor(
    readonly request: ScanRequest,
    run: ScanRunner,
    log: (line: string) => void,
    private readonly revokesOf: RevokesOf = () => [],
  ) {
    super();
    this.emit("started", { request });
    this.done = run(request, { onProgress: (p) => this.#onProgress(p), signal: this.#abort.signal }).then(
      (report) => {
        this.report = report;
        this.revocable = revocableKeyIds(report);
        this.revocableKeys = revocableKeys(report);
        this.#end(this.#abort.signal.aborted ? "stopped" : "finished");
        log(
          `scan ${this.id}: ${report.findings.length} finding(s) in ${report.stats.files} file(s)` +
            `${report.git ? `, ${report.stats.commits} commit(s)` : ""}`,
        );
      },
      (error: unknown) => {
        if (this.#abort.signal.aborted) {
          this.#end("stopped");
          return;
        }
        this.error = errorInfo(error, "Check the path and try again; the server's terminal has details.");
        this.#end("error");
        log(`scan ${this.id}: failed (${this.error.code})`);
      },
    );
  }

  get active(): boolean {
    return this.status === "running";
  }

  #onProgress(p: ScanProgress): void {
    this.progress = { ...p, current: p.current ?? null };
    const now = Date.now();
    if (now - this.#lastProgress < PROGRESS_EVERY_MS) return;
    this.#lastProgress = now;
    this.emit("progress", { progress: this.progress });
  }

  #end(status: ScanJobStatus): void {
    this.status = status;
    this.finishedAt = new Date().toISOString();
    if (this.report) this.progress = { ...this.progress, ...countsOf(this.report), current: null };
    // The last event carries the whole view, so a tab that follows the stream needs no second request.
    this.emit(status, { job: this.toView() });
  }

  stop(): void {
    this.#abort.abort();
  }

  toView(): ScanJobView {
    const revokes = this.revocable.length > 0 ? this.revokesOf(this.revocable, this.startedAt) : [];
    // Not offered again: a key a revoke removed, or one a revoke still works on.
    const settled = new Set(revokes.filter((r) => r.gone || r.active).map((r) => r.keyId));
    return {
      id: this.id,
      status: this.status,
      request: this.request,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      progress: this.progress,
      report: this.report,
      revocable: this.revocable,
      revocableKeys: this.revocableKeys,
      revokes,
      stillRevocable: this.revocable.filter((id) => !settled.has(id)),
      error: this.error,
    };
  }
}

const countsOf = (report: ScanReport) => ({
  files: report.stats.files,
  bytes: report.stats.bytes,
  commits: report.stats.commits,
  blobs: report.stats.blobs,
});

export interface ScanJobsOptions {
  run: ScanRunner;
  log: (line: string) => void;
  /** The path field's default (the demo's leaky folder), if any. */
  defaultPath?: string;
  /** What revokes did to found keys since a scan (server.ts: the revoke jobs'). */
  revokesOf?: RevokesOf;
}

export class ScanJobs {
  readonly #jobs = new Map<string, ScanJob>();

  constructor(private readonly options: ScanJobsOptions) {}

  get defaultPath(): string | null {
    return this.options.defaultPath ?? null;
  }

  /** Starts a scan; one at a time (a scan reads a whole disk: two would only halve each other). */
  start(request: ScanRequest): ScanJob {
    if ([...this.#jobs.values()].some((j) => j.active)) {
      throw new HttpError(
        409,
        "SCAN_RUNNING",
        "another scan is still running",
        "Wait for it to finish, or stop it on the Scan page, then start this one.",
      );
    }
    const job = new ScanJob(request, this.options.run, this.options.log, this.options.revokesOf);
    this.#jobs.set(job.id, job);
    while (this.#jobs.size > MAX_JOBS_KEPT) {
      const oldest = [...this.#jobs.values()].find((j) => !j.active);
      if (!oldest) break;
      this.#jobs.delete(oldest.id);
    }
    this.options.log(
      `scan ${job.id}: ${request.path}${request.git ? " with git history" : ""}${request.verify ? ", verifying unknown keys" : ""}`,
    );
    return job;
  }

  get(id: string): ScanJob {
    const job = this.#jobs.get(id);
    if (!job) {
      throw new HttpError(404, "JOB_NOT_FOUND", `no scan ${id}`, "Open the Scan page to see current scans.");
    }
    return job;
  }

  list(): ScanJobView[] {
    return [...this.#jobs.values()].reverse().map((j) => j.toView());
  }

  /**
   * Whether a scan this server ran (and still keeps) was audited as entry `seq`: a revoke plan may name
   * only such a scan as its cause, so `revoke.requested` never points at an entry the scan did not write.
   */
  audited(seq: number): boolean {
    return this.revocableOf(seq) !== undefined;
  }

  /**
   * The revocable key ids of the scan this server ran (and still keeps) audited as entry `seq`, or
   * undefined: a plan naming that scan as its cause may select only these (routes/revoke.ts).
   */
  revocableOf(seq: number): readonly string[] | undefined {
    return [...this.#jobs.values()].find((j) => j.report?.auditSeq === seq)?.revocable;
  }

  /** The finished scan's SARIF 2.1.0 log (core's toSarif): as safe as the report it is made from. */
  sarif(id: string): ReturnType<typeof toSarif> {
    const { report } = this.get(id);
    if (!report) {
      throw new HttpError(409, "SCAN_NOT_DONE", "this scan has no report yet", "Wait for it to finish.");
    }
    return toSarif(report, { version: WEB_VERSION });
  }

  /** Stops every scan (server shutdown) and waits for them to wind down. */
  async close(): Promise<void> {
    for (const job of this.#jobs.values()) job.stop();
    await Promise.allSettled([...this.#jobs.values()].map((j) => j.done));
  }
}
