/**
 * Use case: abort a run, undoing what can still be undone (core's abortRotation). Refused before
 * anything is recorded when the audit log cannot be written, when the run's journal does not verify
 * (JOURNAL_TAMPERED), and, where programs may not run, for a run with exec targets or a check command
 * (CLI_ONLY): abort puts the old secret back in every target, which for exec: targets runs them.
 */
import type { SecondFactorPrompt } from "../adapters/interface.js";
import type { KeywardHome } from "../home/home.js";
import { type AbortReport, abortRotation } from "../rotation/abort.js";
import {
  refusePrograms,
  refuseUnauditedRotation,
  requireRotation,
  rotationChildEnv,
  rotationJournal,
} from "./rotation-common.js";

export interface AbortRotationInput {
  runId: string;
  allowPrograms: boolean;
  /** The shell's environment: exec targets get it without any secret. */
  env: NodeJS.ProcessEnv;
  /** Once the run may be aborted, before anything is undone: stop a session driving it here. */
  beforeAbort?(): Promise<void>;
  /**
   * How a person answers an exchange's second-factor challenge (the CLI's hidden prompt, the web's code
   * field) when the account has no seed in the vault. Without it such a call fails with
   * SECOND_FACTOR_REQUIRED. Every answered challenge is audited (home.adapterFor).
   */
  secondFactor?: SecondFactorPrompt;
}

export async function abortRotationRun(home: KeywardHome, input: AbortRotationInput): Promise<AbortReport> {
  const journal = rotationJournal(home);
  const run = await requireRotation(journal, input.runId);
  if (!input.allowPrograms) refusePrograms(run, "abort");
  await refuseUnauditedRotation(home);
  await home.vault(); // the audit key is in it
  await journal.verifiedRun(run.id);
  await input.beforeAbort?.();
  return abortRotation(run.id, {
    home,
    journal,
    audit: home.audit(),
    adapterFor: home.liveAdapterSource(input.secondFactor ? { secondFactor: input.secondFactor } : {}),
    childEnv: rotationChildEnv(input.env),
    signal: new AbortController().signal,
  });
}
