/**
 * Use cases: apply a reviewed plan, and resume a run that a crash, a failure, a stop or a person's
 * absence left unfinished. Both refuse before anything happens when the audit log cannot be written,
 * open the vault (the audit key is in it) and hand back a `RotationSession` driving the run here.
 */
import type { KeywardHome } from "../home/home.js";
import { applyPlan, checkPlan, checkResetAccepted } from "../rotation/apply.js";
import { type RotationReport, reportOf, runRotation } from "../rotation/engine.js";
import { runAction } from "../rotation/journal.js";
import { type RotationPlan, type RunOptions, RunOptionsSchema } from "../rotation/schemas.js";
import {
  refusePrograms,
  refuseUnauditedRotation,
  requireRotation,
  rotationJournal,
} from "./rotation-common.js";
import { type RotationHooks, RotationSession } from "./rotation-session.js";

export interface ApplyRotationInput extends RotationHooks {
  plan: RotationPlan;
  options: RunOptions;
  /**
   * The person accepts the plan's in-place resets (no grace: the old secret dies at once); a plan with
   * any is refused without it (CONFIG_INVALID).
   */
  acceptReset?: boolean;
}

/**
 * Checks the plan (targets again, accounts, keys busy elsewhere), then journals and runs it. Resolves
 * once the run is journaled (or ended before that: `done` then says why), so a caller can show it.
 */
export async function applyRotation(home: KeywardHome, input: ApplyRotationInput): Promise<RotationSession> {
  const options = RunOptionsSchema.parse(input.options);
  checkResetAccepted(input.plan, input.acceptReset === true);
  await refuseUnauditedRotation(home);
  // The audit key is in the vault: open it before the journal's first entry.
  await home.vault();
  const journal = rotationJournal(home);
  // Conflicts (a key in another unfinished rotation, an unknown account) are answered now, not in the run.
  await checkPlan(input.plan, { home, journal });
  const session = new RotationSession(home, input.plan.id, input, (deps) =>
    applyPlan(input.plan, options, deps),
  );
  // applyPlan checks on disk once more where the targets lead before it journals the run (a symlink may
  // have been swapped in since the plan): answer once the run is journaled, or the attempt ended.
  while (session.active && !(await journal.run(input.plan.id))) await new Promise((r) => setTimeout(r, 5));
  return session;
}

export interface ResumeRotationInput extends RotationHooks {
  runId: string;
  /** Options given now, replacing the journaled ones for the run's remaining work. */
  overrides?: Partial<Pick<RunOptions, "concurrency" | "manualTimeoutMs">>;
  /** false where no program may run (a browser session): a run with programs is refused (CLI_ONLY). */
  allowPrograms: boolean;
  /** Who resumes, for the audit entry (`{from: "web"}`); the command line leaves it out. */
  from?: string;
}

/** A run already finished or aborted is not run again: its report says how it ended. */
export type ResumeOutcome =
  | { settled: RotationReport; session?: undefined }
  | { session: RotationSession; settled?: undefined };

/**
 * Resumes a run from wherever its journal says each slot is. Refused (nothing recorded, nothing run)
 * for a run whose journal does not verify (JOURNAL_TAMPERED), and, where programs may not run, for a
 * run with exec targets or a check command (CLI_ONLY); otherwise `rotation.resumed` is audited first.
 */
export async function resumeRotation(home: KeywardHome, input: ResumeRotationInput): Promise<ResumeOutcome> {
  const journal = rotationJournal(home);
  const run = await requireRotation(journal, input.runId);
  if (!input.allowPrograms) refusePrograms(run, "resume");
  if (run.state !== "active") return { settled: reportOf(run, await journal.slots(run.id)) };
  await refuseUnauditedRotation(home);
  await home.vault(); // the audit key is in it
  // Before anything is recorded or run: a run someone else wrote (JOURNAL_TAMPERED) is not resumed.
  await journal.verifiedRun(run.id);
  const overrides = input.overrides ?? {};
  await home.audit().append(runAction(run.plan, "resumed"), run.id, {
    ...overrides,
    ...(input.from === undefined ? {} : { from: input.from }),
  });
  return {
    session: new RotationSession(home, run.id, input, (deps) => runRotation(run.id, deps, overrides)),
  };
}
