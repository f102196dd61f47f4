/**
 * Bulk revoke from the browser: plans (what was reviewed is exactly what runs), and jobs that each
 * follow one of core's revoke sessions (`startRevoke`) and keep every event it emits, so any number of
 * browser tabs can follow one job live (Server-Sent Events), reconnect without losing events
 * (Last-Event-ID), or load its state after a reload. The revoke itself, its ordering, pacing, audit
 * entries, proof of death, the wait for people, "stop waiting" and "verify now" are all core's; the
 * server keeps job ids, the event log, and the HTTP answers.
 */
import { randomUUID } from "node:crypto";
import {
  type InventoryRow,
  inventoryRow,
  type KeywardHome,
  type ManualSteps,
  type RevokeKeyResult,
  type RevokeOutcome,
  type RevokePlan,
  type RevokeSession,
  type RevokeSessionEvent,
  type RevokeSummary,
  shortKey,
  startRevoke,
} from "@keyward/core";
import { HttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";
import { errorInfo, JobEventLog, PlanStore, requireConfirmation } from "./job-events.js";

export type { JobEvent } from "./job-events.js";

export interface PlanView {
  planId: string | null;
  /**
   * `accountKey`: the key Keyward uses for the account (revoked after the account's other keys);
   * `disableFirst`: switched off by the exchange's kill switch before any key of its account is removed.
   */
  items: {
    order: number;
    method: "api" | "manual";
    key: InventoryRow;
    accountKey: boolean;
    disableFirst: boolean;
  }[];
  byApi: number;
  byPerson: number;
  accounts: string[];
  estimatedApiMs: number;
  /** What the person must type to go ahead: the number of keys. */
  confirmWith: string;
  /** Accounts that could not be listed: their keys come from their last listing (stale), by hand. */
  accountErrors: { account: string; message: string; hint?: string }[];
  /** E.g. "Keyward loses access to <account> after this". */
  warnings: string[];
  /**
   * Selected keys the plan leaves out (an account's own key revoked by API that the selection did not
   * name), each with the plain line saying why and how to include it.
   */
  heldBack: { key: InventoryRow; reason: string }[];
  /** Keys a kill switch could disable first, and how many will be (the page offers the box when available > 0). */
  disableFirst: { available: number; planned: number };
  expiresAt: string | null;
}

/**
 * A revoke result as the browser sees it (core's result is already secret-free). `pending`: no event
 * about the key yet (its outcome is not known).
 */
export type ResultView = RevokeKeyResult & { apiKeyShort: string; pending: boolean };

export type JobStatus = "running" | "waiting" | "finished" | "error";

export interface JobView {
  id: string;
  status: JobStatus;
  total: number;
  byApi: number;
  byPerson: number;
  startedAt: string;
  finishedAt: string | null;
  manualDeadline: number | null;
  results: ResultView[];
  checklist: { keyId: string; steps: ManualSteps }[];
  summary: RevokeSummary;
  error: { code: string; message: string; hint?: string } | null;
}

/** A key's state as a revoke left it (or leaves it, while the job runs): see `latestResults`. */
export interface KeyRevokeState {
  keyId: string;
  jobId: string;
  startedAt: string;
  /** The job still runs or waits for a person: the key's outcome may still change. */
  active: boolean;
  /** No outcome yet (the key's turn has not come). */
  pending: boolean;
  outcome: RevokeOutcome;
  verified: boolean;
  /** The proof lines (as the revoke job's page shows them): why verified or not. */
  evidence: string[];
  /** The revoke removed it (revoked, or found already revoked) and proved it dead: it works no more. */
  gone: boolean;
}

const PLAN_TTL_MS = 15 * 60_000;
const MAX_JOBS_KEPT = 20;

const view = (r: RevokeKeyResult & { pending?: boolean }): ResultView => ({
  ...structuredClone(r),
  apiKeyShort: shortKey(r.apiKey),
  pending: r.pending ?? false,
});

/** A revoke session with an id and the log of its events as the browser sees them. */
export class RevokeJob extends JobEventLog {
  readonly id = randomUUID();
  // Set by `start` before any event: a session's events arrive only after it was handed over.
  session!: RevokeSession;
  error: JobView["error"] = null;

  private constructor() {
    super();
  }

  /** `start` starts the session with the listener that records its events here. */
  static async start(
    start: (onEvent: (event: RevokeSessionEvent) => void) => Promise<RevokeSession>,
  ): Promise<RevokeJob> {
    const job = new RevokeJob();
    job.session = await start((e) => job.record(e));
    return job;
  }

  get active(): boolean {
    return this.session.active;
  }

  get status(): JobStatus {
    return this.session.status;
  }

  /** Settles when the session ends. */
  get done(): Promise<void> {
    return this.session.settled;
  }

  summary(): RevokeSummary {
    return this.session.summary();
  }

  toView(): JobView {
    const { session } = this;
    return {
      id: this.id,
      status: session.status,
      total: session.plan.items.length,
      byApi: session.plan.byApi,
      byPerson: session.plan.byPerson,
      startedAt: session.startedAt,
      finishedAt: session.finishedAt,
      manualDeadline: session.manualDeadline,
      results: session.results().map(view),
      checklist: session.checklist(),
      summary: this.summary(),
      error: this.error,
    };
  }

  /** Records one of the session's events (its results are the session's copies: copied again). */
  record(event: RevokeSessionEvent): void {
    switch (event.type) {
      case "started":
        this.emit("started", { total: event.total, byApi: event.byApi, byPerson: event.byPerson });
        return;
      case "manual-waiting":
        this.emit("manual-waiting", { pending: event.pending, deadline: event.deadline });
        return;
      case "manual-steps":
        this.emit("manual-steps", { result: view(event.result), steps: event.steps });
        return;
      case "stopping":
        this.emit("stopping", {});
        return;
      case "verify-now": {
        const { keyId, status, evidence, recorded } = event;
        if (recorded) this.emit("summary", { summary: this.summary() });
        this.emit("verify-now", { keyId, status, evidence, recorded });
        return;
      }
      case "finished":
        this.emit("finished", { summary: this.summary(), results: this.toView().results });
        return;
      case "error":
        this.error = errorInfo(
          event.error,
          "Nothing may have been revoked; check the audit log and the inventory, then try again.",
        );
        this.emit("error", { ...this.error });
        return;
      default:
        this.emit(event.type, { result: view(event.result) });
    }
  }
}

export interface RevokeJobsOptions {
  home: KeywardHome;
  inventory: InventoryService;
  manual: { timeoutMs: number; pollMs: number };
  log: (line: string) => void;
}

export class RevokeJobs {
  readonly #plans = new PlanStore<RevokePlan>(PLAN_TTL_MS);
  /** What led to a stored plan (the Scan page's scan), recorded in its `revoke.requested` when started. */
  readonly #causes = new Map<string, { scan: number }>();
  readonly #jobs = new Map<string, RevokeJob>();
  #starting = false;

  constructor(private readonly options: RevokeJobsOptions) {}

  storePlan(plan: RevokePlan, accountErrors: PlanView["accountErrors"], cause?: { scan: number }): PlanView {
    const planId = plan.items.length > 0 ? randomUUID() : null;
    const expiresAt = this.#plans.put(planId, plan);
    for (const id of this.#causes.keys()) if (!this.#plans.get(id)) this.#causes.delete(id);
    if (planId && cause) this.#causes.set(planId, cause);
    const { maxKeyAgeDays } = this.options.home.config.settings;
    return {
      planId,
      items: plan.items.map((item, i) => ({
        order: i + 1,
        method: item.method,
        key: inventoryRow(item.key, { maxKeyAgeDays }),
        accountKey: item.accountKey === true,
        disableFirst: item.disableFirst === true,
      })),
      byApi: plan.byApi,
      byPerson: plan.byPerson,
      accounts: plan.accounts,
      estimatedApiMs: plan.estimatedApiMs,
      confirmWith: String(plan.items.length),
      accountErrors,
      warnings: plan.warnings,
      heldBack: plan.heldBack.map(({ key, reason }) => ({
        key: inventoryRow(key, { maxKeyAgeDays }),
        reason,
      })),
      disableFirst: plan.disableFirst,
      expiresAt: planId ? new Date(expiresAt).toISOString() : null,
    };
  }

  get(id: string): RevokeJob {
    const job = this.#jobs.get(id);
    if (!job) {
      throw new HttpError(
        404,
        "JOB_NOT_FOUND",
        `no revoke job ${id}`,
        "Open the Revoke page to see current jobs.",
      );
    }
    return job;
  }

  list(): JobView[] {
    return [...this.#jobs.values()].reverse().map((j) => j.toView());
  }

  /**
   * What the revokes this server keeps, started at or after `since`, last said of each of `keyIds`: the
   * newest such job's result for the key (a later revoke of the same key supersedes an earlier one). The
   * Scan page shows a scan's keys in this state (scan-jobs.ts), not in the state the scan found them in.
   */
  latestResults(keyIds: readonly string[], since: string): KeyRevokeState[] {
    const wanted = new Set(keyIds);
    const latest = new Map<string, KeyRevokeState>();
    for (const job of this.#jobs.values()) {
      if (job.session.startedAt < since) continue;
      for (const r of job.session.results()) {
        if (!wanted.has(r.id)) continue;
        latest.set(r.id, {
          keyId: r.id,
          jobId: job.id,
          startedAt: job.session.startedAt,
          active: job.active,
          pending: r.pending,
          outcome: r.outcome,
          verified: r.verified,
          evidence: [...r.evidence],
          // Removed, and proven: a delete the exchange acknowledged but whose key still answers (or is
          // still listed) may still work, and stays on offer.
          gone: !r.pending && r.verified && (r.outcome === "revoked" || r.outcome === "already-revoked"),
        });
      }
    }
    return [...latest.values()];
  }

  active(): RevokeJob | undefined {
    return [...this.#jobs.values()].find((j) => j.active);
  }

  /** Starts the reviewed plan once the person typed its key count. */
  async start(planId: string, confirm: string): Promise<RevokeJob> {
    const plan = this.#plans.get(planId);
    if (!plan) {
      throw new HttpError(
        409,
        "PLAN_EXPIRED",
        "this revoke plan is unknown, expired or already used",
        "Review the selection again (Review plan) and confirm the new plan.",
      );
    }
    requireConfirmation(plan.items.length, confirm, "revoke", "Nothing was revoked.");
    const running = this.active();
    if (running || this.#starting) {
      throw new HttpError(
        409,
        "REVOKE_RUNNING",
        "another revoke is still running",
        "Wait for it to finish, or stop waiting for its manual steps, then start this one.",
      );
    }
    const { home, inventory, manual, log } = this.options;
    const cause = this.#causes.get(planId);
    // Refused (AUDIT_UNAVAILABLE, 503) before the plan is used when the audit log cannot be written.
    // No second revoke may start while this one awaits its start (the check above and the registration
    // below are no longer in one synchronous step).
    this.#starting = true;
    let job: RevokeJob;
    try {
      job = await RevokeJob.start((onEvent) =>
        startRevoke(home, plan, {
          ...(cause ? { cause } : {}),
          adapterFor: (name) => inventory.adapterFor(name),
          manual: { wait: true, ...manual },
          onEvent: (e) => {
            onEvent(e);
            if (e.type !== "finished" && e.type !== "error") return;
            log(`revoke ${job.id}: ${job.status} ${JSON.stringify(job.summary())}`);
            // The inventory changed: fetch it again in the background for the next page load.
            inventory.refresh().catch(() => {});
          },
        }),
      );
    } finally {
      this.#starting = false;
    }
    this.#plans.markUsed(planId);
    this.#causes.delete(planId);
    this.#jobs.set(job.id, job);
    while (this.#jobs.size > MAX_JOBS_KEPT) {
      const oldest = [...this.#jobs.values()].find((j) => !j.active);
      if (!oldest) break;
      this.#jobs.delete(oldest.id);
    }
    log(`revoke ${job.id}: ${plan.items.length} key(s), ${plan.byApi} by API, ${plan.byPerson} by a person`);
    return job;
  }

  /** Stops waiting for manual steps (or the API keys not yet revoked); what is done stays done. */
  stop(id: string): JobView {
    const job = this.get(id);
    job.session.stopWaiting();
    return job.toView();
  }

  /** "Verify now" (core's): probes a key that waits for a person, with its own secret. */
  async verifyNow(
    id: string,
    keyId: string,
  ): Promise<{ status: "alive" | "dead" | "inconclusive"; evidence: string; recorded: boolean }> {
    const answer = await this.get(id).session.verifyNow(keyId);
    switch (answer.outcome) {
      case "unknown-key":
        throw new HttpError(
          404,
          "KEY_NOT_FOUND",
          `key ${keyId} is not part of this revoke`,
          "Pick a key from the checklist.",
        );
      case "not-pending": {
        const { result } = answer;
        throw new HttpError(
          409,
          "NOT_PENDING",
          `key ${result.label || shortKey(result.apiKey)} is not waiting for a person (it is ${result.outcome}${result.verified ? ", verified" : ""})`,
          "Nothing to verify: see its result in the table.",
        );
      }
      case "not-provable":
        throw new HttpError(
          409,
          "NOT_PROVABLE",
          `Keyward holds no secret for ${answer.result.label || shortKey(answer.result.apiKey)}, so it cannot prove it revoked`,
          "Check on the exchange's page that the key is gone; track the key with its secret next time so Keyward can prove it.",
        );
      default:
        return { status: answer.status, evidence: answer.evidence, recorded: answer.recorded };
    }
  }

  /** Stops every job (server shutdown) and waits for them to wind down. */
  async close(): Promise<void> {
    for (const job of this.#jobs.values()) job.session.stopWaiting();
    await Promise.allSettled([...this.#jobs.values()].map((j) => j.done));
  }
}
