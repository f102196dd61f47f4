/**
 * What every rotation use case shares: the refusal when the audit log cannot be written, the journal
 * (writing, or read-only for status and views), the run an id names, the programs a run would start on
 * this machine (and the refusal to start them where no program may run: the browser), and the
 * environment those programs get. The shells (`keyward rotate`, the web server) call the use cases in
 * `rotation-*.ts`; none of them repeats this.
 */
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { RotationJournal, type RunRow } from "../rotation/journal.js";
import { describeTarget, isWebAllowed } from "../rotation/targets/index.js";
import { requireAuditable } from "./require-auditable.js";

/** Fail closed before touching any exchange or file: nothing is rotated without a journal and audit trail. */
export async function refuseUnauditedRotation(home: KeywardHome): Promise<void> {
  await requireAuditable(
    home,
    "Rotating is refused when it cannot be journaled and audited. Make the state database writable and run again.",
  );
}

/** The journal that journals runs and steps (with their audit entries and MACs). */
export const rotationJournal = (home: KeywardHome): RotationJournal =>
  new RotationJournal(home.state(), home.audit());

/**
 * A journal for reading only (status, views): it needs no vault, and a write through it is a bug. The
 * run and slot rows it returns are not authenticated; resume and abort check them again.
 */
export const readOnlyJournal = (home: KeywardHome): RotationJournal =>
  new RotationJournal(home.state(), {
    append: () => {
      throw new KeywardError("INTERNAL", "status does not write");
    },
  });

/** The run an id names, or undefined (each shell words "no such rotation" its own way). */
export const findRotation = (home: KeywardHome, runId: string): Promise<RunRow | undefined> =>
  readOnlyJournal(home).run(runId);

/** The run, or CONFIG_INVALID (a use case called with an id its shell did not check). */
export async function requireRotation(journal: RotationJournal, runId: string): Promise<RunRow> {
  const run = await journal.run(runId);
  if (!run) {
    throw new KeywardError("CONFIG_INVALID", `no rotation ${runId}`, {
      hint: "See them with `keyward rotate status`.",
    });
  }
  return run;
}

/** The programs a run would start on this machine (targets the web may not use, the check command), as text. */
export function runPrograms(run: Pick<RunRow, "plan" | "options">): string[] {
  const targets = run.plan.slots.flatMap((s) =>
    s.deliver.filter((t) => !isWebAllowed(t)).map(describeTarget),
  );
  return [...new Set(targets), ...(run.options.checkCmd ? ["--check-cmd"] : [])];
}

/** What to run in a terminal instead, for a run with programs; null when anyone may drive it. */
export function cliOnly(run: RunRow): { programs: string[]; resume: string; abort: string } | null {
  const programs = runPrograms(run);
  if (programs.length === 0) return null;
  return { programs, resume: `keyward rotate resume ${run.id}`, abort: `keyward rotate abort ${run.id}` };
}

/**
 * Where no program may run (a browser session), a run with exec targets or a check command is neither
 * resumed nor aborted: both would run its programs in this process (abort re-delivers the old secret).
 */
export function refusePrograms(run: RunRow, verb: "resume" | "abort"): void {
  const only = cliOnly(run);
  if (!only) return;
  throw new KeywardError(
    "CLI_ONLY",
    `rotation ${run.id} runs programs on this machine (${only.programs.join(", ")}): the browser cannot ${verb} it`,
    { hint: `Run \`${only[verb]}\` in a terminal; a browser session never starts programs.` },
  );
}

/**
 * The environment of exec targets and the check command: the shell's, without the vault passphrase or
 * the crash-test seam (core reads no environment itself: the shell hands its own in).
 */
export function rotationChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const child = { ...env };
  delete child.KEYWARD_PASSPHRASE;
  delete child.KEYWARD_TEST_CRASH_AFTER;
  return child;
}
