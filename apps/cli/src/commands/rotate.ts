/**
 * `keyward rotate plan|apply|resume|status|abort`: bulk rotation (see @keyward/core rotation/). The plan is
 * a reviewed file; apply journals every step before touching an exchange or a target; resume finishes
 * whatever a crash interrupted; abort undoes what can still be undone.
 */
import {
  abortRotationRun,
  applyRotation,
  type CreateRequest,
  type CredentialsInput,
  checkRotationTargets,
  createdKeyText,
  DEFAULT_RUN_OPTIONS,
  isEmptySelector,
  type KeywardHome,
  planJson,
  planRotation,
  type RotationHooks,
  type RotationReport,
  type RotationSession,
  readOnlyJournal,
  readPlanFile,
  resumeRotation,
  rotationStatus,
  type SlotRow,
  writePlanFile,
} from "@keyward/core";
import { withHome } from "../context.js";
import { readEnv } from "../env.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { isInteractive, parseDuration } from "../input.js";
import { err, field, out, printJson } from "../output.js";
import type { GlobalOptions } from "../program.js";
import {
  eventPrinter,
  nextCommand,
  printPlan,
  printReport,
  printStatus,
  promptCredentials,
  stdinCredentials,
} from "../rotation-io.js";
import { secondFactorOptions } from "../second-factor.js";
import { loadInventory, parseSelector, type SelectorFlags, select } from "../selection.js";

/** Also each target kind's own options (core's TARGET_OPTIONS), by name; readTargetOptions picks them. */
interface PlanOptions extends SelectorFlags {
  deliver?: string[];
  resetInPlace?: boolean;
  output?: string;
  json?: boolean;
}

interface RunFlags {
  credentialsStdin?: boolean;
  manualTimeout?: string;
  concurrency?: string;
  json?: boolean;
}

interface ApplyOptions extends RunFlags {
  grace: string;
  checkCmd?: string;
  /** Accepts the plan's in-place resets (no grace); a plan with any is refused without it. */
  resetInPlace?: boolean;
}

export async function rotatePlan(
  globals: GlobalOptions,
  ids: string[],
  opts: PlanOptions,
): Promise<ExitCode> {
  const selector = parseSelector(ids, opts);
  if (isEmptySelector(selector)) {
    throw usageError(
      "nothing selected",
      "Name key ids, use --exchange/--account/--label/--risky, or say --all.",
    );
  }
  const deliver = opts.deliver ?? [];
  // Relative targets are the command line's: against the directory keyward runs in. The targets' own
  // options (e.g. a recipient) are the command's flags of the same names.
  const targets = { deliver, cwd: process.cwd(), allowPrograms: true, options: { ...opts } };
  await checkRotationTargets(targets);
  return withHome(globals, async (home) => {
    const inventory = await loadInventory(home, selector, !opts.json);
    for (const a of inventory.accounts.filter((x) => x.error)) {
      err(`keyward: ${a.account}: could not list keys: ${a.error?.message}`);
    }
    const keys = select(inventory, selector, home.config.settings.maxKeyAgeDays);
    const plan = await planRotation(home, {
      ...targets,
      keys,
      ...(opts.resetInPlace ? { resetInPlace: true } : {}),
    });
    if (opts.output) await writePlanFile(opts.output, plan);
    if (opts.json) process.stdout.write(planJson(plan));
    else if (keys.length === 0) out("No keys match; nothing to rotate.");
    else {
      printPlan(plan);
      const accept = plan.slots.some((s) => s.reset) ? " --reset-in-place" : "";
      if (plan.slots.length === 0) {
        // Nothing to apply: `rotate apply` would refuse this plan ("every selected key was refused").
        out("\nEvery selected key was refused (reasons above): there is nothing to apply.");
      } else {
        out(
          opts.output
            ? `\nPlan written to ${opts.output}. Apply it with: keyward rotate apply ${opts.output}${accept}`
            : `\nSave it with -o plan.json (or --json > plan.json), review it, then: keyward rotate apply plan.json${accept}`,
        );
      }
    }
    if (inventory.accounts.some((a) => a.error)) return EXIT.FAILED;
    // Every selected key refused: the input was refused and nothing changed (README's exit codes: 2), as
    // `rotate apply` refuses such a plan (CONFIG_INVALID).
    return plan.slots.length === 0 && plan.refused.length > 0 ? EXIT.USAGE : EXIT.OK;
  });
}

function exitCodeOf(report: RotationReport): ExitCode {
  const s = report.summary;
  if (s.failed > 0 || s.active > 0) return EXIT.FAILED;
  if (s.waiting > 0) return EXIT.AWAITING_MANUAL;
  return EXIT.OK;
}

/**
 * How `keyward rotate apply|resume` takes part in a run core's use case drives: the person's new
 * credentials for assisted slots from a hidden prompt or stdin, progress lines, Ctrl-C as a stop.
 */
function runHooks(opts: RunFlags): { hooks: RotationHooks; dispose(): void } {
  const crashAt = readEnv().KEYWARD_TEST_CRASH_AFTER;
  const fromStdin = opts.credentialsStdin ? stdinCredentials() : undefined;
  const fromPrompt = !opts.credentialsStdin && isInteractive() ? promptCredentials() : undefined;
  const ask = fromStdin ?? fromPrompt;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  const printer = eventPrinter(Boolean(opts.json));
  // The create request is printed by the event; the stdin reader needs the slot to match entries.
  const slots = new Map<number, SlotRow>();
  const hooks: RotationHooks = {
    // No prompt and no stdin: "not now" at once, and the slot waits for `rotate resume`.
    answer: (request: CreateRequest): Promise<CredentialsInput | undefined> => {
      const slot = slots.get(request.slot);
      return ask && slot ? ask(request, slot) : Promise.resolve(undefined);
    },
    onEvent: (e) => {
      if (e.type === "ask-credentials") return; // the create request was printed with its steps
      if (e.type === "credentials-refused") return printer.onRefused(e.slot, e.reason);
      slots.set(e.slot.slot, e.slot);
      printer.onEvent(e);
    },
    crashPoint: (point) => {
      if (crashAt !== undefined && point === crashAt) process.kill(process.pid, "SIGKILL");
    },
    env: process.env,
    signal: abort.signal,
  };
  return { hooks, dispose: () => process.off("SIGINT", onSigint) };
}

async function execute(
  opts: RunFlags,
  start: (hooks: RotationHooks) => Promise<RotationSession>,
): Promise<ExitCode> {
  const { hooks, dispose } = runHooks(opts);
  try {
    const session = await start(hooks);
    return finish(await session.done, opts);
  } finally {
    dispose();
  }
}

function finish(report: RotationReport, opts: RunFlags): ExitCode {
  if (opts.json) {
    printJson(report);
    // The JSON stays exact on stdout; the person still learns what to run next.
    const next = nextCommand(report);
    if (next) err(next);
  } else printReport(report);
  return exitCodeOf(report);
}

function runOptions(opts: RunFlags, home: KeywardHome) {
  const concurrency =
    opts.concurrency === undefined ? DEFAULT_RUN_OPTIONS.concurrency : Number(opts.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw usageError(`--concurrency: "${opts.concurrency}" is not a whole number from 1 to 64`);
  }
  const manualTimeoutMs =
    opts.manualTimeout === undefined
      ? home.config.settings.manualTimeoutMs
      : parseDuration(opts.manualTimeout, "--manual-timeout");
  return { concurrency, manualTimeoutMs };
}

export async function rotateApply(
  globals: GlobalOptions,
  planPath: string,
  opts: ApplyOptions,
): Promise<ExitCode> {
  const graceMs = parseDuration(opts.grace, "--grace");
  const plan = await readPlanFile(planPath);
  return withHome(globals, async (home) => {
    const options = {
      ...DEFAULT_RUN_OPTIONS,
      ...runOptions(opts, home),
      graceMs,
      checkCmd: opts.checkCmd ?? null,
    };
    const acceptReset = opts.resetInPlace === true;
    return await execute(opts, (hooks) =>
      applyRotation(home, { ...hooks, ...secondFactorOptions(home), plan, options, acceptReset }),
    );
  });
}

/** The run an optional ID names, else the newest active one. */
async function pickRun(home: KeywardHome, id: string | undefined, what: string): Promise<string> {
  const journal = readOnlyJournal(home);
  if (id) {
    const run = await journal.run(id);
    if (!run) throw usageError(`no rotation ${id}`, "See them with `keyward rotate status`.");
    return run.id;
  }
  const active = await journal.runs({ active: true });
  const run = active[0];
  if (!run)
    throw usageError(
      `no rotation to ${what}`,
      "Every rotation is finished or aborted (`keyward rotate status`).",
    );
  if (active.length > 1) {
    throw usageError(
      `${active.length} rotations are unfinished (${active.map((r) => r.id).join(", ")})`,
      `Name one: keyward rotate ${what} ${active[0]?.id}`,
    );
  }
  return run.id;
}

export async function rotateResume(
  globals: GlobalOptions,
  id: string | undefined,
  opts: RunFlags,
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const runId = await pickRun(home, id, "resume");
    // Options given now replace the journaled ones for this run's remaining work.
    const given = runOptions(opts, home);
    const overrides = {
      ...(opts.concurrency === undefined ? {} : { concurrency: given.concurrency }),
      ...(opts.manualTimeout === undefined ? {} : { manualTimeoutMs: given.manualTimeoutMs }),
    };
    const { hooks, dispose } = runHooks(opts);
    try {
      const outcome = await resumeRotation(home, {
        ...hooks,
        ...secondFactorOptions(home),
        runId,
        overrides,
        allowPrograms: true,
      });
      if (outcome.session) return finish(await outcome.session.done, opts);
      // Finished or aborted already: its report, nothing run.
      if (opts.json) printJson(outcome.settled);
      else printReport(outcome.settled);
      return exitCodeOf(outcome.settled);
    } finally {
      dispose();
    }
  });
}

export async function rotateStatus(
  globals: GlobalOptions,
  id: string | undefined,
  opts: { json?: boolean },
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const runs = await rotationStatus(home, id ? { runId: id } : { limit: 20 });
    if (id && runs.length === 0)
      throw usageError(`no rotation ${id}`, "See them with `keyward rotate status`.");
    if (opts.json) printJson({ runs: runs.map((r) => r.status) });
    else printStatus(runs);
    return EXIT.OK;
  });
}

export async function rotateAbort(
  globals: GlobalOptions,
  id: string | undefined,
  opts: { json?: boolean },
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const runId = await pickRun(home, id, "abort");
    const report = await abortRotationRun(home, {
      runId,
      allowPrograms: true,
      env: process.env,
      ...secondFactorOptions(home),
    });
    if (opts.json) printJson(report);
    else {
      for (const s of report.slots) {
        const name = s.create ? createdKeyText(s.label) : s.label || "-";
        out(`${s.slot}. ${field(name)} (${s.step}): ${s.result}: ${s.explanation}`);
        if (s.steps) for (const [i, step] of s.steps.steps.entries()) out(`    ${i + 1}. ${step}`);
      }
      out(`\nrotation ${report.runId} is ${report.state}`);
    }
    return report.slots.some((s) => s.result === "not-undone") ? EXIT.FAILED : EXIT.OK;
  });
}
