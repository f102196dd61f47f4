/**
 * Bulk rotation from the browser, over core's rotation use cases (packages/core/src/use-cases/rotation-*,
 * the ones `keyward rotate` calls): plans (reviewed, then applied once), runs core's sessions drive in the
 * background, with their events kept here for any number of live viewers, resume, stop (pause) and
 * abort. Core owns the workflow (checks, refusals, the journal, delivery, proof, the passphrase rule for
 * an assisted slot's new key); the server keeps the reviewed plans and the runs it drives, relays
 * events, and hands over the new key's credentials a person pastes into the page (browser → server
 * only; they go to the vault).
 *
 * From the browser only the targets whose driver says `webAllowed` (those that write files) are allowed:
 * targets that run programs on this machine and the check command must not be something a
 * browser session can start. Use `keyward rotate` for those. That holds for runs started elsewhere too: a
 * run the CLI started with such a target or `--check-cmd` is shown here but neither resumed nor aborted
 * (both would run its programs in this server's process); the page names the CLI command instead.
 * Core refuses both (`allowPrograms: false`: TARGET_NOT_ALLOWED and CLI_ONLY).
 */
import {
  type AbortReport,
  abortRotationRun,
  applyRotation,
  type CreateKeyInput,
  type CreateRequest,
  type CredentialsInput,
  cliOnly,
  DEFAULT_RUN_OPTIONS,
  findRotation,
  graceOf,
  type KeyRecord,
  KeywardError,
  type KeywardHome,
  type ManualSteps,
  planRotation,
  prepareKeyCreate,
  type RotationHooks,
  type RotationPlan,
  type RotationSession,
  type RotationSessionEvent,
  type RotationStatus,
  type RunRow,
  readOnlyJournal,
  resumeRotation,
  rotationStatus,
  runTargets,
  type SlotRow,
  statusOf,
  type TargetOptionValues,
} from "@keyward/core";
import { HttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";
import { errorInfo, JobEventLog, PlanStore, requireConfirmation } from "./job-events.js";
import { rotationTarget, type SecondFactorDesk } from "./second-factor.js";

export interface RotationPlanView {
  plan: RotationPlan;
  /** Each slot's targets as text (describeTarget), in slot order. */
  targets: string[][];
  confirmWith: string;
  accountErrors: { account: string; message: string; hint?: string }[];
}

/** What core's rotationStatus says of a run, and what this server adds. */
export interface RotationRunView extends RotationStatus {
  targets: string[][];
  /** Whether this server is driving the run now. */
  running: boolean;
  /** Assisted slots waiting for the new key a person creates: what to create. */
  createRequests: (CreateRequest & { attempt: number; refused: string | null })[];
  /** Assisted slots waiting for a person to revoke the old key. */
  revokeSteps: { slot: number; steps: ManualSteps }[];
  /** Slots in their grace period: when the old key is revoked. */
  grace: { slot: number; until: string }[];
  /**
   * Set when the run has targets that run programs or a check command (started with `keyward rotate`):
   * what they are, and that resume and abort are for the CLI only. Null for runs the browser may drive.
   */
  cliOnly: { programs: string[]; resume: string; abort: string } | null;
}

/** A run this server drives: core's session, and its events kept for any number of live viewers. */
export class RotationJob extends JobEventLog {
  session: RotationSession | undefined;
  active = true;
  done: Promise<void> = Promise.resolve();

  constructor(readonly runId: string) {
    super();
  }
}

export interface RotationJobsOptions {
  home: KeywardHome;
  inventory: InventoryService;
  log: (line: string) => void;
  /** Where a run's second-factor challenges are shown (its page's code field). */
  secondFactor?: SecondFactorDesk;
}

const PLAN_TTL_MS = 30 * 60_000;

export class RotationJobs {
  readonly #plans = new PlanStore<RotationPlan>(PLAN_TTL_MS);
  readonly #jobs = new Map<string, RotationJob>();
  /** Runs an apply, resume or abort is starting now (see #reserve). */
  readonly #starting = new Set<string>();

  constructor(private readonly options: RotationJobsOptions) {}

  /** Plans a rotation of the selected keys (listed live) with file targets only. */
  async plan(
    keys: readonly KeyRecord[],
    deliver: readonly string[],
    options: TargetOptionValues,
    accountErrors: RotationPlanView["accountErrors"],
    resetInPlace = false,
  ): Promise<RotationPlanView> {
    // cwd null: relative paths are refused (the server's directory is nobody's choice, and would be the
    // home); no program may run from a browser session.
    const plan = await planRotation(this.options.home, {
      keys,
      deliver,
      options,
      cwd: null,
      allowPrograms: false,
      ...(resetInPlace ? { resetInPlace: true } : {}),
    });
    this.#plans.put(plan.slots.length > 0 ? plan.id : null, plan);
    return {
      plan,
      targets: runTargets({ plan }),
      confirmWith: String(plan.slots.length),
      accountErrors,
    };
  }

  /**
   * Applies a reviewed plan once the person typed its key count (and, for a plan with in-place resets,
   * ticked that the old secrets die at once: `acceptReset`; core refuses it otherwise).
   */
  async apply(
    planId: string,
    confirm: string,
    graceMs: number,
    concurrency: number,
    acceptReset = false,
  ): Promise<RotationJob> {
    const plan = this.#plans.get(planId);
    if (!plan) {
      throw new HttpError(
        409,
        "PLAN_EXPIRED",
        "this rotation plan is unknown, expired or already applied",
        "Review the selection again and confirm the new plan.",
      );
    }
    requireConfirmation(plan.slots.length, confirm, "rotate", "Nothing was changed.");
    const release = this.#reserve(plan.id);
    try {
      const job = new RotationJob(plan.id);
      await applyRotation(this.options.home, {
        ...this.#hooks(job),
        plan,
        options: { ...DEFAULT_RUN_OPTIONS, graceMs, concurrency, checkCmd: null },
        acceptReset,
        onStart: (session) => {
          this.#plans.markUsed(planId);
          this.#begin(job, session, "applying");
        },
      });
      return job;
    } finally {
      release();
    }
  }

  /**
   * `key create` from the browser (routes/key-create.ts): core's prepareKeyCreate (no program may run,
   * relative paths refused), then the run followed like an applied one; an unfinished create of the same
   * label and intent is continued.
   */
  async createKey(input: CreateKeyInput): Promise<RotationJob> {
    const prepared = await prepareKeyCreate(this.options.home, input, { cwd: null, allowPrograms: false });
    const release = this.#reserve(prepared.runId);
    try {
      const job = new RotationJob(prepared.runId);
      const what = prepared.resumed ? "continuing a key create" : "creating a key";
      await prepared.start(
        { ...this.#hooks(job), onStart: (session) => this.#begin(job, session, what) },
        "web",
      );
      return job;
    } finally {
      release();
    }
  }

  async resume(runId: string): Promise<RotationJob> {
    await this.#run(runId);
    const release = this.#reserve(runId);
    const job = new RotationJob(runId);
    let outcome: Awaited<ReturnType<typeof resumeRotation>>;
    try {
      outcome = await resumeRotation(this.options.home, {
        ...this.#hooks(job),
        runId,
        allowPrograms: false,
        from: "web",
        onStart: (session) => this.#begin(job, session, "resuming"),
      });
    } finally {
      release();
    }
    if (outcome.settled) {
      throw new HttpError(
        409,
        "RUN_SETTLED",
        `rotation ${runId} is ${outcome.settled.state}: nothing to resume`,
        "Start a new rotation from the inventory.",
      );
    }
    return job;
  }

  /** Pauses a run this server drives: slots stop at their next step; resume goes on from there. */
  async stop(runId: string): Promise<RotationRunView> {
    const job = this.#jobs.get(runId);
    if (job?.active) {
      const stopped = job.session?.stop();
      job.emit("stopping", {});
      // A code field still open would hold the stop until the challenge expires: it fails that step now.
      this.options.secondFactor?.cancelAll(rotationTarget(job).key);
      await stopped;
      await job.done;
    }
    return this.view(runId);
  }

  /**
   * Undoes what can be undone (core's use case); a run this server drives is stopped first. While it
   * runs, the run's job is active again (its page follows the events), so a second-factor challenge the
   * abort meets (Deribit's delete of the new key on an account without a seed) shows the run page's code
   * field, as the CLI's abort asks at its prompt; Stop cancels it, and that slot is left as it was.
   */
  async abort(runId: string): Promise<AbortReport> {
    await this.#run(runId);
    // A run this server drives is stopped first (beforeAbort), so only a start under way is refused.
    const release = this.#reserve(runId, { evenIfRunning: true });
    const desk = this.options.secondFactor;
    let job: RotationJob | undefined;
    let ended = (): void => {};
    try {
      const report = await abortRotationRun(this.options.home, {
        runId,
        allowPrograms: false,
        env: process.env,
        ...(desk ? { secondFactor: desk.promptFor(() => (job ? rotationTarget(job) : undefined)) } : {}),
        beforeAbort: async () => {
          await this.stop(runId);
          // The stopped run's job (its events stay), or a new one: the page follows it while this runs.
          job = this.#jobs.get(runId) ?? new RotationJob(runId);
          this.#jobs.set(runId, job);
          job.session = undefined;
          job.active = true;
          job.done = new Promise<void>((resolve) => {
            ended = resolve;
          });
          job.emit("aborting", { runId });
          this.options.log(`rotation ${runId}: aborting`);
        },
      });
      job?.emit("aborted", { report });
      this.options.inventory.refresh().catch(() => {});
      return report;
    } catch (error) {
      job?.emit("error", errorInfo(error, "Check the rotation's state on this page; abort it again."));
      throw error;
    } finally {
      if (job) {
        job.active = false;
        job.emit("ended", {});
        this.options.log(`rotation ${runId}: aborting ended`);
      }
      ended();
      release();
    }
  }

  /** The new key's credentials for an assisted slot, from the person who created it. */
  provideCredentials(runId: string, slot: number, credentials: CredentialsInput): void {
    const session = this.#jobs.get(runId)?.session;
    if (!session) {
      throw new KeywardError(
        "NOT_WAITING",
        `rotation ${runId} slot ${slot} is not waiting for a new key now`,
        {
          hint: "If the run stopped waiting, resume it; the page then asks for the key again.",
        },
      );
    }
    session.provideCredentials(slot, credentials);
  }

  async runs(): Promise<RotationRunView[]> {
    return (await rotationStatus(this.options.home, { limit: 20 })).map(({ run, slots }) =>
      this.#view(run, slots),
    );
  }

  async view(runId: string): Promise<RotationRunView> {
    const run = await this.#run(runId);
    return this.#view(run, await readOnlyJournal(this.options.home).slots(runId));
  }

  #view(run: RunRow, slots: SlotRow[]): RotationRunView {
    const session = this.#jobs.get(run.id)?.session;
    return {
      ...statusOf(run, slots),
      targets: runTargets(run),
      running: this.#jobs.get(run.id)?.active ?? false,
      createRequests: (session?.pendingCreates() ?? []).map((p) => ({
        ...p.request,
        attempt: p.attempt,
        refused: p.refused,
      })),
      revokeSteps: session?.revokeSteps() ?? [],
      grace: graceOf(slots),
      cliOnly: cliOnly(run),
    };
  }

  async job(runId: string): Promise<RotationJob> {
    await this.#run(runId);
    const job = this.#jobs.get(runId);
    if (!job) {
      throw new HttpError(
        404,
        "NOT_RUNNING",
        `rotation ${runId} is not being run by this server`,
        "Resume it to follow it live.",
      );
    }
    return job;
  }

  async close(): Promise<void> {
    const active = [...this.#jobs.values()].filter((j) => j.active);
    for (const job of active) void job.session?.stop();
    await Promise.allSettled(active.map((j) => j.done));
  }

  async #run(runId: string): Promise<RunRow> {
    const run = await findRotation(this.options.home, runId);
    if (!run)
      throw new HttpError(
        404,
        "RUN_NOT_FOUND",
        `no rotation ${runId}`,
        "Open the Rotate page to see the rotations.",
      );
    return run;
  }

  /**
   * Claims a run for one apply, resume or abort until it has started (or failed to): the check and the
   * claim are one synchronous step, so two requests for one run (a double submit, two tabs) cannot both
   * pass the check while the first awaits its start. The second answers 409.
   */
  #reserve(runId: string, { evenIfRunning = false } = {}): () => void {
    if (this.#starting.has(runId)) {
      throw new HttpError(
        409,
        "ROTATION_RUNNING",
        `rotation ${runId} is being started, resumed or aborted here right now`,
        "Follow it on the Rotate page.",
      );
    }
    if (!evenIfRunning) this.#refuseRunning(runId);
    this.#starting.add(runId);
    return () => this.#starting.delete(runId);
  }

  #refuseRunning(runId: string): void {
    if (this.#jobs.get(runId)?.active) {
      throw new HttpError(
        409,
        "ROTATION_RUNNING",
        `rotation ${runId} is already running here`,
        "Follow it on the Rotate page.",
      );
    }
  }

  /** The session's events, relayed to the job's viewers as they were named and shaped. */
  #hooks(job: RotationJob): RotationHooks {
    const desk = this.options.secondFactor;
    return {
      env: process.env,
      ...(desk ? { secondFactor: desk.promptFor(() => rotationTarget(job)) } : {}),
      onEvent: (e: RotationSessionEvent) => {
        if (e.type === "ask-credentials") {
          job.emit("ask-credentials", { request: e.request, attempt: e.attempt, refused: e.refused });
        } else if (e.type !== "credentials-refused") {
          const { slot, ...rest } = e;
          job.emit(e.type, { ...rest, slot });
        }
      },
    };
  }

  /**
   * The job is this run's from now on (before the engine's first event): registered, announced, and
   * the run's end (report or error) relayed to its viewers.
   */
  #begin(job: RotationJob, session: RotationSession, what: string): void {
    this.#jobs.set(job.runId, job);
    this.options.log(`rotation ${job.runId}: ${what}`);
    job.emit("started", { runId: job.runId });
    job.session = session;
    job.done = (async () => {
      try {
        const report = await session.done;
        job.emit("report", { report });
      } catch (error) {
        job.emit("error", errorInfo(error, "Check the rotation's state on this page; resume or abort it."));
      } finally {
        job.active = false;
        job.emit("ended", {});
        this.options.log(`rotation ${job.runId}: ${what} ended`);
        this.options.inventory.refresh().catch(() => {});
      }
    })();
  }
}
