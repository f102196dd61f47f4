/**
 * `keyward rotate plan|apply|resume|status|abort`: bulk rotation (see @keyward/core rotation/). The plan is
 * a reviewed file; apply journals every step before touching an exchange or a target; resume finishes
 * whatever a crash interrupted; abort undoes what can still be undone.
 */
import {
  abortRotation,
  applyPlan,
  buildRotationPlan,
  type CreateRequest,
  type CredentialsInput,
  checkRecipient,
  checkTargetSyntax,
  DEFAULT_RUN_OPTIONS,
  isEmptySelector,
  KeywardError,
  type KeywardHome,
  planJson,
  type RotationDeps,
  RotationJournal,
  type RotationReport,
  readPlanFile,
  reportOf,
  runRotation,
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
import { loadInventory, parseSelector, type SelectorFlags, select } from "../selection.js";

interface PlanOptions extends SelectorFlags {
  deliver?: string[];
  recipient?: string;
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
}

async function refuseReadOnly(home: KeywardHome): Promise<void> {
  if (!(await home.state().isWritable())) {
    throw new KeywardError("AUDIT_UNAVAILABLE", `the audit log at ${home.paths.state} is read-only`, {
      hint: "Rotating is refused when it cannot be journaled and audited. Make the state database writable and run again.",
    });
  }
}

const journalOf = (home: KeywardHome) => new RotationJournal(home.state(), home.audit());

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
  for (const target of deliver) checkTargetSyntax(target);
  const recipient = opts.recipient ? await checkRecipient(opts.recipient) : null;
  return withHome(globals, async (home) => {
    const inventory = await loadInventory(home, selector, !opts.json);
    for (const a of inventory.accounts.filter((x) => x.error)) {
      err(`keyward: ${a.account}: could not list keys: ${a.error?.message}`);
    }
    const keys = select(inventory, selector, home.config.settings.maxKeyAgeDays);
    const vault = await home.vault();
    const held = new Set<string>();
    for (const key of keys) if (await home.credentialsForKey(key)) held.add(key.id);
    const busy = new Map(
      (await journalOf(home).busyKeys(keys.map((k) => k.id))).map((b) => [b.keyId, b.runId]),
    );
    const plan = await buildRotationPlan({
      keys,
      deliver,
      recipient,
      // Relative targets are the command line's: against the directory keyward runs in.
      cwd: process.cwd(),
      home: home.paths.dir,
      isAccountKey: (key) => {
        const account = home.config.accounts.find((a) => a.name === key.account);
        return account !== undefined && vault.get(account.credentialsRef)?.apiKey === key.apiKey;
      },
      holdsSecret: (key) => held.has(key.id),
      busy,
    });
    if (opts.output) await writePlanFile(opts.output, plan);
    if (opts.json) process.stdout.write(planJson(plan));
    else if (keys.length === 0) out("No keys match; nothing to rotate.");
    else {
      printPlan(plan);
      out(
        opts.output
          ? `\nPlan written to ${opts.output}. Apply it with: keyward rotate apply ${opts.output}`
          : "\nSave it with -o plan.json (or --json > plan.json), review it, then: keyward rotate apply plan.json",
      );
    }
    if (inventory.accounts.some((a) => a.error)) return EXIT.FAILED;
    return plan.slots.length === 0 && plan.refused.length > 0 ? EXIT.FAILED : EXIT.OK;
  });
}

function exitCodeOf(report: RotationReport): ExitCode {
  const s = report.summary;
  if (s.failed > 0 || s.active > 0) return EXIT.FAILED;
  if (s.waiting > 0) return EXIT.AWAITING_MANUAL;
  return EXIT.OK;
}

/** The environment of exec targets and the check command: keyward's, without any secret or test seam. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.KEYWARD_PASSPHRASE;
  delete env.KEYWARD_TEST_CRASH_AFTER;
  return env;
}

async function execute(
  home: KeywardHome,
  opts: RunFlags,
  run: (deps: RotationDeps) => Promise<RotationReport>,
): Promise<ExitCode> {
  await refuseReadOnly(home);
  // The audit key is in the vault: open it before the journal's first entry.
  await home.vault();
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
  try {
    const report = await run({
      home,
      journal: journalOf(home),
      audit: home.audit(),
      adapterFor: home.liveAdapterSource(),
      ...(ask
        ? {
            askCredentials: (request: CreateRequest): Promise<CredentialsInput | undefined> => {
              const slot = slots.get(request.slot);
              return slot ? ask(request, slot) : Promise.resolve(undefined);
            },
          }
        : {}),
      onEvent: (e) => {
        if ("slot" in e) slots.set(e.slot.slot, e.slot);
        printer.onEvent(e);
      },
      crashPoint: (point) => {
        if (crashAt !== undefined && point === crashAt) process.kill(process.pid, "SIGKILL");
      },
      childEnv: childEnv(),
      signal: abort.signal,
    });
    if (opts.json) {
      printJson(report);
      // The JSON stays exact on stdout; the person still learns what to run next.
      const next = nextCommand(report);
      if (next) err(next);
    } else printReport(report);
    return exitCodeOf(report);
  } finally {
    process.off("SIGINT", onSigint);
  }
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
    return await execute(home, opts, (deps) => applyPlan(plan, options, deps));
  });
}

/** The run an optional ID names, else the newest active one. */
async function pickRun(journal: RotationJournal, id: string | undefined, what: string) {
  if (id) {
    const run = await journal.run(id);
    if (!run) throw usageError(`no rotation ${id}`, "See them with `keyward rotate status`.");
    return run;
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
  return run;
}

export async function rotateResume(
  globals: GlobalOptions,
  id: string | undefined,
  opts: RunFlags,
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const journal = journalOf(home);
    const run = await pickRun(journal, id, "resume");
    if (run.state !== "active") {
      const report = reportOf(run, await journal.slots(run.id));
      if (opts.json) printJson(report);
      else printReport(report);
      return exitCodeOf(report);
    }
    // Options given now replace the journaled ones for this run's remaining work.
    const given = runOptions(opts, home);
    const overrides = {
      ...(opts.concurrency === undefined ? {} : { concurrency: given.concurrency }),
      ...(opts.manualTimeout === undefined ? {} : { manualTimeoutMs: given.manualTimeoutMs }),
    };
    await home.vault(); // the audit key is in it
    // Before anything is recorded or run: a run someone else wrote (JOURNAL_TAMPERED) is not resumed.
    await journal.verifiedRun(run.id);
    await home.audit().append("rotation.resumed", run.id, { ...overrides });
    return await execute(home, opts, (deps) => runRotation(run.id, deps, overrides));
  });
}

export async function rotateStatus(
  globals: GlobalOptions,
  id: string | undefined,
  opts: { json?: boolean },
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const journal = new RotationJournal(home.state(), {
      append: () => {
        throw new KeywardError("INTERNAL", "status does not write");
      },
    });
    const picked = id
      ? [await journal.run(id)].filter((r) => r !== undefined)
      : await journal.runs({ limit: 20 });
    const runs = await Promise.all(picked.map(async (run) => ({ run, slots: await journal.slots(run.id) })));
    if (id && runs.length === 0)
      throw usageError(`no rotation ${id}`, "See them with `keyward rotate status`.");
    if (opts.json) {
      printJson({
        runs: runs.map(({ run, slots }) => ({
          id: run.id,
          state: run.state,
          createdAt: run.createdAt,
          updatedAt: run.updatedAt,
          options: run.options,
          report: reportOf(run, slots),
          slots,
        })),
      });
    } else printStatus(runs);
    return EXIT.OK;
  });
}

export async function rotateAbort(
  globals: GlobalOptions,
  id: string | undefined,
  opts: { json?: boolean },
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    await refuseReadOnly(home);
    await home.vault(); // the audit key is in it
    const journal = journalOf(home);
    const run = await pickRun(journal, id, "abort");
    const report = await abortRotation(run.id, {
      home,
      journal,
      audit: home.audit(),
      adapterFor: home.liveAdapterSource(),
      childEnv: childEnv(),
    });
    if (opts.json) printJson(report);
    else {
      for (const s of report.slots) {
        out(`${s.slot}. ${field(s.label || "-")} (${s.step}): ${s.result}: ${s.explanation}`);
        if (s.steps) for (const [i, step] of s.steps.steps.entries()) out(`    ${i + 1}. ${step}`);
      }
      out(`\nrotation ${report.runId} is ${report.state}`);
    }
    return report.slots.some((s) => s.result === "not-undone") ? EXIT.FAILED : EXIT.OK;
  });
}
