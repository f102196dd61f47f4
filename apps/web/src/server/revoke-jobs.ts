/**
 * Bulk revoke from the browser: plans (what was reviewed is exactly what runs), and jobs that run
 * core's runRevoke in the background and keep every event it emits, so any number of browser tabs can
 * follow one job live (Server-Sent Events), reconnect without losing events (Last-Event-ID), or load
 * its state after a reload. The revoke itself, its ordering, pacing, audit entries and proof of death
 * are all core's; the server adds only the "verify now" probe a person asks for after a manual step.
 */
import { randomUUID } from "node:crypto";
import {
  type Credentials,
  forgetRevoked,
  type InventoryRow,
  inventoryRow,
  type KeyRecord,
  type KeywardHome,
  type ManualSteps,
  type RevokeEvent,
  type RevokeKeyResult,
  type RevokePlan,
  type RevokeSummary,
  runRevoke,
  shortKey,
  summarise,
} from "@keyward/core";
import { HttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";
import { errorInfo, JobEventLog, PlanStore, refuseReadOnly, requireConfirmation } from "./job-events.js";

export type { JobEvent } from "./job-events.js";

export interface PlanView {
  planId: string | null;
  /** `accountKey`: the key Keyward uses for the account (revoked after the account's other keys). */
  items: { order: number; method: "api" | "manual"; key: InventoryRow; accountKey: boolean }[];
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

const PLAN_TTL_MS = 15 * 60_000;
const MAX_JOBS_KEPT = 20;

const view = (r: RevokeKeyResult): ResultView => ({
  ...structuredClone(r),
  apiKeyShort: shortKey(r.apiKey),
  pending: false,
});

export class RevokeJob extends JobEventLog {
  readonly id = randomUUID();
  status: JobStatus = "running";
  readonly startedAt = new Date().toISOString();
  finishedAt: string | null = null;
  manualDeadline: number | null = null;
  error: JobView["error"] = null;
  readonly results = new Map<string, ResultView>();
  readonly checklist = new Map<string, ManualSteps>();
  readonly abort = new AbortController();
  done: Promise<void> = Promise.resolve();

  constructor(
    readonly plan: RevokePlan,
    readonly keys: Map<string, KeyRecord>,
  ) {
    super();
    for (const { key, method } of plan.items) {
      this.results.set(key.id, {
        id: key.id,
        exchange: key.exchange,
        account: key.account,
        subAccount: key.subAccount,
        label: key.label,
        apiKey: key.apiKey,
        apiKeyShort: shortKey(key.apiKey),
        pending: true,
        method,
        outcome: "failed",
        verified: false,
        evidence: [],
      });
    }
  }

  get active(): boolean {
    return this.status === "running" || this.status === "waiting";
  }

  /** Counts over the keys whose outcome is known (while running, `total` is less than the plan's). */
  summary(): RevokeSummary {
    return summarise([...this.results.values()].filter((r) => !r.pending));
  }

  toView(): JobView {
    return {
      id: this.id,
      status: this.status,
      total: this.plan.items.length,
      byApi: this.plan.byApi,
      byPerson: this.plan.byPerson,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      manualDeadline: this.manualDeadline,
      results: this.plan.items.flatMap(({ key }) => this.results.get(key.id) ?? []),
      checklist: [...this.checklist].map(([keyId, steps]) => ({ keyId, steps })),
      summary: this.summary(),
      error: this.error,
    };
  }

  /** Records one of runRevoke's events (a copy: core keeps mutating its result objects). */
  record(event: RevokeEvent): void {
    switch (event.type) {
      case "started":
        this.emit("started", { total: event.total, byApi: event.byApi, byPerson: event.byPerson });
        return;
      case "manual-waiting":
        this.status = "waiting";
        this.manualDeadline = event.deadline;
        this.emit("manual-waiting", { pending: event.pending, deadline: event.deadline });
        return;
      case "manual-steps": {
        const result = view(event.result);
        this.results.set(result.id, result);
        this.checklist.set(result.id, event.steps);
        this.emit("manual-steps", { result, steps: event.steps });
        return;
      }
      default: {
        const result = view(event.result);
        this.results.set(result.id, result);
        this.emit(event.type, { result });
      }
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
  readonly #jobs = new Map<string, RevokeJob>();

  constructor(private readonly options: RevokeJobsOptions) {}

  storePlan(plan: RevokePlan, accountErrors: PlanView["accountErrors"]): PlanView {
    const planId = plan.items.length > 0 ? randomUUID() : null;
    const expiresAt = this.#plans.put(planId, plan);
    const { maxKeyAgeDays } = this.options.home.config.settings;
    return {
      planId,
      items: plan.items.map((item, i) => ({
        order: i + 1,
        method: item.method,
        key: inventoryRow(item.key, { maxKeyAgeDays }),
        accountKey: item.accountKey === true,
      })),
      byApi: plan.byApi,
      byPerson: plan.byPerson,
      accounts: plan.accounts,
      estimatedApiMs: plan.estimatedApiMs,
      confirmWith: String(plan.items.length),
      accountErrors,
      warnings: plan.warnings,
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
    if (running) {
      throw new HttpError(
        409,
        "REVOKE_RUNNING",
        "another revoke is still running",
        "Wait for it to finish, or stop waiting for its manual steps, then start this one.",
      );
    }
    const { home } = this.options;
    // Fail closed before touching any exchange: no revoke without an audit trail.
    await refuseReadOnly(
      home,
      "Revoking is refused when it cannot be audited. Make the state database writable and try again.",
    );
    this.#plans.markUsed(planId);
    const keys = new Map(plan.items.map((i) => [i.key.id, i.key]));
    const credentials = new Map<string, Credentials>();
    for (const { key } of plan.items) {
      const c = await home.credentialsForKey(key);
      if (c) credentials.set(key.id, c);
    }
    const adapters = await this.options.inventory.adapters();
    const job = new RevokeJob(plan, keys);
    this.#jobs.set(job.id, job);
    while (this.#jobs.size > MAX_JOBS_KEPT) {
      const oldest = [...this.#jobs.values()].find((j) => !j.active);
      if (!oldest) break;
      this.#jobs.delete(oldest.id);
    }
    this.options.log(
      `revoke ${job.id}: ${plan.items.length} key(s), ${plan.byApi} by API, ${plan.byPerson} by a person`,
    );
    job.done = (async () => {
      try {
        const report = await runRevoke(plan, {
          adapterFor: (name) => {
            const adapter = adapters.get(name);
            if (!adapter) throw new HttpError(404, "ACCOUNT_NOT_FOUND", `no account ${name}`);
            return adapter;
          },
          credentialsFor: (key) => credentials.get(key.id),
          audit: home.audit(),
          manual: { wait: true, ...this.options.manual },
          signal: job.abort.signal,
          onEvent: (e) => job.record(e),
        });
        for (const r of report.results) job.results.set(r.id, view(r));
        // Keys proven dead must not come back from the last listing if their account dies next.
        await forgetRevoked(home.inventoryCache(), report.results);
        job.status = "finished";
        job.finishedAt = report.finishedAt;
        job.emit("finished", { summary: job.summary(), results: job.toView().results });
      } catch (error) {
        // runRevoke throws only when it cannot start (e.g. the audit log refused the "requested" entry).
        job.status = "error";
        job.finishedAt = new Date().toISOString();
        job.error = errorInfo(
          error,
          "Nothing may have been revoked; check the audit log and the inventory, then try again.",
        );
        job.emit("error", { ...job.error });
      } finally {
        this.options.log(`revoke ${job.id}: ${job.status} ${JSON.stringify(job.summary())}`);
        // The inventory changed: fetch it again in the background for the next page load.
        this.options.inventory.refresh().catch(() => {});
      }
    })();
    return job;
  }

  /** Stops waiting for manual steps (or the API keys not yet revoked); what is done stays done. */
  stop(id: string): JobView {
    const job = this.get(id);
    if (job.active) {
      job.abort.abort();
      job.emit("stopping", {});
    }
    return job.toView();
  }

  /**
   * "Verify now": probes a key that waits for a person, with its own secret. While the job is still
   * waiting, core's poll records the death (within its poll interval) and this only reports what the
   * probe says; once the job has stopped waiting, a "dead" answer is recorded here, as core would.
   */
  async verifyNow(
    id: string,
    keyId: string,
  ): Promise<{ status: "alive" | "dead" | "inconclusive"; evidence: string; recorded: boolean }> {
    const job = this.get(id);
    const key = job.keys.get(keyId);
    const result = job.results.get(keyId);
    if (!key || !result) {
      throw new HttpError(
        404,
        "KEY_NOT_FOUND",
        `key ${keyId} is not part of this revoke`,
        "Pick a key from the checklist.",
      );
    }
    if (result.outcome !== "awaiting-manual") {
      throw new HttpError(
        409,
        "NOT_PENDING",
        `key ${result.label || result.apiKeyShort} is not waiting for a person (it is ${result.outcome}${result.verified ? ", verified" : ""})`,
        "Nothing to verify: see its result in the table.",
      );
    }
    const { home } = this.options;
    const credentials = await home.credentialsForKey(key);
    if (!credentials) {
      throw new HttpError(
        409,
        "NOT_PROVABLE",
        `Keyward holds no secret for ${result.label || result.apiKeyShort}, so it cannot prove it revoked`,
        "Check on the exchange's page that the key is gone; track the key with its secret next time so Keyward can prove it.",
      );
    }
    const adapter = (await this.options.inventory.adapters()).get(key.account);
    if (!adapter) throw new HttpError(404, "ACCOUNT_NOT_FOUND", `no account ${key.account}`);
    const probe = await adapter.probe(credentials, key.meta.uid ? { uid: key.meta.uid } : {});
    const evidence = probe.status === "inconclusive" ? `${probe.reason}: ${probe.evidence}` : probe.evidence;
    let recorded = false;
    if (probe.status === "dead" && !job.active && result.outcome === "awaiting-manual") {
      const audit = home.audit();
      result.outcome = "revoked";
      result.verified = true;
      result.evidence.push(`after the manual step (verify now): probe: dead (${probe.evidence})`);
      await audit.append("manual.confirmed", key.id, { evidence: probe.evidence });
      await audit.append("revoke.verified", key.id, { evidence: result.evidence });
      recorded = true;
      job.emit("manual-done", { result: structuredClone(result) });
      job.emit("summary", { summary: job.summary() });
    }
    job.emit("verify-now", { keyId, status: probe.status, evidence, recorded });
    return { status: probe.status, evidence, recorded };
  }

  /** Stops every job (server shutdown) and waits for them to wind down. */
  async close(): Promise<void> {
    for (const job of this.#jobs.values()) if (job.active) job.abort.abort();
    await Promise.allSettled([...this.#jobs.values()].map((j) => j.done));
  }
}
