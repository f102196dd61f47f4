/**
 * Bulk rotation from the browser, over core's rotation engine (packages/core/src/rotation): plans
 * (reviewed, then applied once), runs driven in the background by applyPlan / runRotation with their
 * events kept for any number of live viewers, resume, stop (pause) and abort. The engine owns the
 * protocol, the journal, delivery and proof; the server only relays events and, for assisted slots,
 * the new key's credentials a person pastes into the page (browser → server only; they go to the vault).
 *
 * From the browser only file targets are allowed (dotenv, json, age): `exec:` targets and the check
 * command run programs on this machine, which a browser session must not be able to do. Use
 * `keyward rotate` for those. That holds for runs started elsewhere too: a run the CLI started with an
 * `exec:` target or `--check-cmd` is shown here but neither resumed nor aborted (both would run its
 * programs in this server's process); the page names the CLI command instead.
 */
import {
  abortRotation,
  applyPlan,
  buildRotationPlan,
  type CreateRequest,
  type CredentialsInput,
  checkPlan,
  checkRecipient,
  checkTargetSyntax,
  DEFAULT_RUN_OPTIONS,
  describeTarget,
  type KeyRecord,
  type KeywardHome,
  type ManualSteps,
  type RotationDeps,
  type RotationEvent,
  RotationJournal,
  type RotationPlan,
  type RotationReport,
  type RunRow,
  reportOf,
  runRotation,
  type SlotRow,
} from "@keyward/core";
import { HttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";
import { errorInfo, JobEventLog, PlanStore, refuseReadOnly, requireConfirmation } from "./job-events.js";

export const WEB_TARGET_KINDS = ["dotenv", "json", "age"] as const;

export interface RotationPlanView {
  plan: RotationPlan;
  /** Each slot's targets as text (describeTarget), in slot order. */
  targets: string[][];
  confirmWith: string;
  accountErrors: { account: string; message: string; hint?: string }[];
}

export interface RotationRunView {
  id: string;
  state: RunRow["state"];
  createdAt: string;
  updatedAt: string;
  options: RunRow["options"];
  report: RotationReport;
  slots: SlotRow[];
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
   * Set when the run has `exec:` targets or a check command (started with `keyward rotate`): what they
   * are, and that resume and abort are for the CLI only. Null for runs the browser may drive.
   */
  cliOnly: { programs: string[]; resume: string; abort: string } | null;
}

/** The programs a run would start on this machine (exec targets, the check command), as text. */
export function localPrograms(run: Pick<RunRow, "plan" | "options">): string[] {
  const targets = run.plan.slots.flatMap((s) =>
    s.deliver.filter((t) => t.kind === "exec").map(describeTarget),
  );
  return [...new Set(targets), ...(run.options.checkCmd ? ["--check-cmd"] : [])];
}

interface PendingCreate {
  request: CreateRequest;
  attempt: number;
  refused: string | null;
  resolve: (value: CredentialsInput | undefined) => void;
}

export class RotationJob extends JobEventLog {
  readonly abort = new AbortController();
  readonly pending = new Map<number, PendingCreate>();
  readonly revokeSteps = new Map<number, ManualSteps>();
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
}

const PLAN_TTL_MS = 30 * 60_000;

function cliOnly(run: RunRow): RotationRunView["cliOnly"] {
  const programs = localPrograms(run);
  if (programs.length === 0) return null;
  return { programs, resume: `keyward rotate resume ${run.id}`, abort: `keyward rotate abort ${run.id}` };
}

export class RotationJobs {
  readonly #plans = new PlanStore<RotationPlan>(PLAN_TTL_MS);
  readonly #jobs = new Map<string, RotationJob>();

  constructor(private readonly options: RotationJobsOptions) {}

  #journal(): RotationJournal {
    return new RotationJournal(this.options.home.state(), this.options.home.audit());
  }

  /** Plans a rotation of the selected keys (listed live) with file targets only. */
  async plan(
    keys: readonly KeyRecord[],
    deliver: readonly string[],
    recipient: string | null,
    accountErrors: RotationPlanView["accountErrors"],
  ): Promise<RotationPlanView> {
    for (const target of deliver) {
      // null: relative paths are refused (the server's directory is nobody's choice, and would be the home).
      const kind = checkTargetSyntax(target, null);
      if (!(WEB_TARGET_KINDS as readonly string[]).includes(kind)) {
        throw new HttpError(
          400,
          "TARGET_NOT_ALLOWED",
          `${kind}: targets run programs on this machine and are not allowed from the browser`,
          "Deliver to files (dotenv:, json:, age:) here, or run `keyward rotate` in a terminal for exec targets and check commands.",
        );
      }
    }
    const checkedRecipient = recipient ? await checkRecipient(recipient) : null;
    const { home } = this.options;
    const vault = await home.vault();
    const held = new Set<string>();
    for (const key of keys) if (await home.credentialsForKey(key)) held.add(key.id);
    const busy = new Map(
      (await this.#journal().busyKeys(keys.map((k) => k.id))).map((b) => [b.keyId, b.runId]),
    );
    const plan = await buildRotationPlan({
      keys,
      deliver,
      recipient: checkedRecipient,
      cwd: null,
      home: home.paths.dir,
      isAccountKey: (key) => {
        const account = home.config.accounts.find((a) => a.name === key.account);
        return account !== undefined && vault.get(account.credentialsRef)?.apiKey === key.apiKey;
      },
      holdsSecret: (key) => held.has(key.id),
      busy,
    });
    this.#plans.put(plan.slots.length > 0 ? plan.id : null, plan);
    return {
      plan,
      targets: plan.slots.map((s) => s.deliver.map(describeTarget)),
      confirmWith: String(plan.slots.length),
      accountErrors,
    };
  }

  /** Applies a reviewed plan once the person typed its key count. */
  async apply(planId: string, confirm: string, graceMs: number, concurrency: number): Promise<RotationJob> {
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
    await this.#refuseReadOnly();
    // Conflicts (a key in another unfinished rotation, an unknown account) are answered now, not in the run.
    await checkPlan(plan, { home: this.options.home, journal: this.#journal() });
    this.#plans.markUsed(planId);
    const options = { ...DEFAULT_RUN_OPTIONS, graceMs, concurrency, checkCmd: null };
    const job = this.#start(plan.id, (deps) => applyPlan(plan, options, deps), "applying");
    // applyPlan checks on disk once more where the targets lead before it journals the run (a symlink
    // may have been swapped in since the plan): answer once the run is journaled, or the attempt ended.
    const journal = this.#journal();
    while (job.active && !(await journal.run(plan.id))) await new Promise((r) => setTimeout(r, 5));
    return job;
  }

  async resume(runId: string): Promise<RotationJob> {
    const run = await this.#run(runId);
    this.#refuseLocalPrograms(run, "resume");
    if (run.state !== "active") {
      throw new HttpError(
        409,
        "RUN_SETTLED",
        `rotation ${runId} is ${run.state}: nothing to resume`,
        "Start a new rotation from the inventory.",
      );
    }
    await this.#refuseReadOnly();
    // Answered now (409 JOURNAL_TAMPERED), not in the run: a run someone else wrote is not resumed.
    await this.#journal().verifiedRun(runId);
    await this.options.home.audit().append("rotation.resumed", runId, { from: "web" });
    return this.#start(runId, (deps) => runRotation(runId, deps), "resuming");
  }

  /** Pauses a run this server drives: slots stop at their next step; resume goes on from there. */
  async stop(runId: string): Promise<RotationRunView> {
    const job = this.#jobs.get(runId);
    if (job?.active) {
      job.abort.abort();
      for (const p of job.pending.values()) p.resolve(undefined);
      job.emit("stopping", {});
      await job.done;
    }
    return this.view(runId);
  }

  /** Undoes what can be undone (core's abortRotation); a run this server drives is stopped first. */
  async abort(runId: string) {
    // Abort puts the old secret back in every target, which for exec: targets runs them.
    this.#refuseLocalPrograms(await this.#run(runId), "abort");
    await this.#refuseReadOnly();
    await this.#journal().verifiedRun(runId);
    await this.stop(runId);
    const report = await abortRotation(runId, this.#deps(new AbortController().signal));
    this.options.inventory.refresh().catch(() => {});
    return report;
  }

  /** The new key's credentials for an assisted slot, from the person who created it. */
  provideCredentials(runId: string, slot: number, credentials: CredentialsInput): void {
    const pending = this.#jobs.get(runId)?.pending.get(slot);
    if (!pending) {
      throw new HttpError(
        409,
        "NOT_WAITING",
        `rotation ${runId} slot ${slot} is not waiting for a new key now`,
        "If the run stopped waiting, resume it; the page then asks for the key again.",
      );
    }
    if (pending.request.needsPassphrase && !credentials.passphrase) {
      throw new HttpError(
        400,
        "BAD_REQUEST",
        "passphrase: is required for this key",
        "OKX keys have the passphrase chosen when the key was made.",
      );
    }
    if (!pending.request.needsPassphrase && credentials.passphrase) {
      throw new HttpError(
        400,
        "BAD_REQUEST",
        "passphrase: this exchange's keys have none",
        "Leave the passphrase empty.",
      );
    }
    this.#jobs.get(runId)?.pending.delete(slot);
    pending.resolve(credentials);
  }

  async runs(): Promise<RotationRunView[]> {
    const runs = await this.#journal().runs({ limit: 20 });
    return Promise.all(runs.map((run) => this.view(run.id)));
  }

  async view(runId: string): Promise<RotationRunView> {
    const run = await this.#run(runId);
    const slots = await this.#journal().slots(runId);
    const job = this.#jobs.get(runId);
    return {
      id: run.id,
      state: run.state,
      createdAt: run.createdAt,
      updatedAt: run.updatedAt,
      options: run.options,
      report: reportOf(run, slots),
      slots,
      targets: run.plan.slots.map((s) => s.deliver.map(describeTarget)),
      running: job?.active ?? false,
      createRequests: job
        ? [...job.pending.values()].map((p) => ({ ...p.request, attempt: p.attempt, refused: p.refused }))
        : [],
      revokeSteps: job ? [...job.revokeSteps].map(([slot, steps]) => ({ slot, steps })) : [],
      // From the journal: a resumed slot does not announce its grace period again.
      grace: slots.flatMap((s) =>
        s.graceUntil && (s.step === "checked" || s.step === "delivered")
          ? [{ slot: s.slot, until: s.graceUntil }]
          : [],
      ),
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
    for (const job of active) {
      job.abort.abort();
      for (const p of job.pending.values()) p.resolve(undefined);
    }
    await Promise.allSettled(active.map((j) => j.done));
  }

  async #run(runId: string): Promise<RunRow> {
    const run = await this.#journal().run(runId);
    if (!run)
      throw new HttpError(
        404,
        "RUN_NOT_FOUND",
        `no rotation ${runId}`,
        "Open the Rotate page to see the rotations.",
      );
    return run;
  }

  /** A browser session never runs programs: runs with exec targets or a check command are the CLI's. */
  #refuseLocalPrograms(run: RunRow, verb: "resume" | "abort"): void {
    const only = cliOnly(run);
    if (!only) return;
    throw new HttpError(
      409,
      "CLI_ONLY",
      `rotation ${run.id} runs programs on this machine (${only.programs.join(", ")}): the browser cannot ${verb} it`,
      `Run \`${only[verb]}\` in a terminal; a browser session never starts programs.`,
    );
  }

  #refuseReadOnly(): Promise<void> {
    return refuseReadOnly(
      this.options.home,
      "Rotating is refused when it cannot be journaled and audited. Make the state database writable.",
    );
  }

  /** The engine's dependencies; adapters follow the vault, as an account's own key may switch midway. */
  #deps(signal: AbortSignal, job?: RotationJob): RotationDeps {
    const { home } = this.options;
    const env = { ...process.env };
    delete env.KEYWARD_PASSPHRASE;
    return {
      home,
      journal: this.#journal(),
      audit: home.audit(),
      adapterFor: home.liveAdapterSource(),
      ...(job
        ? {
            askCredentials: (request: CreateRequest, attempt: number, refused?: string) =>
              new Promise<CredentialsInput | undefined>((resolve) => {
                if (signal.aborted) return resolve(undefined);
                job.pending.set(request.slot, { request, attempt, refused: refused ?? null, resolve });
                job.emit("ask-credentials", { request, attempt, refused: refused ?? null });
              }),
            onEvent: (e: RotationEvent) => this.#record(job, e),
          }
        : {}),
      childEnv: env,
      signal,
    };
  }

  #record(job: RotationJob, e: RotationEvent): void {
    if (e.type === "revoke-steps") job.revokeSteps.set(e.slot.slot, e.steps);
    if (
      e.type === "step" &&
      (e.slot.step === "dead" || e.slot.step === "finished" || e.slot.step === "aborted")
    ) {
      job.revokeSteps.delete(e.slot.slot);
    }
    if (e.type === "step" && e.slot.step !== "awaiting-new-key") job.pending.delete(e.slot.slot);
    const { slot, ...rest } = e;
    job.emit(e.type, { ...rest, slot });
  }

  #start(runId: string, run: (deps: RotationDeps) => Promise<RotationReport>, what: string): RotationJob {
    const existing = this.#jobs.get(runId);
    if (existing?.active) {
      throw new HttpError(
        409,
        "ROTATION_RUNNING",
        `rotation ${runId} is already running here`,
        "Follow it on the Rotate page.",
      );
    }
    const job = new RotationJob(runId);
    this.#jobs.set(runId, job);
    this.options.log(`rotation ${runId}: ${what}`);
    job.emit("started", { runId });
    job.done = (async () => {
      try {
        const report = await run(this.#deps(job.abort.signal, job));
        job.emit("report", { report });
      } catch (error) {
        job.emit("error", errorInfo(error, "Check the rotation's state on this page; resume or abort it."));
      } finally {
        job.active = false;
        for (const p of job.pending.values()) p.resolve(undefined);
        job.pending.clear();
        job.emit("ended", {});
        this.options.log(`rotation ${runId}: ${what} ended`);
        this.options.inventory.refresh().catch(() => {});
      }
    })();
    return job;
  }
}
