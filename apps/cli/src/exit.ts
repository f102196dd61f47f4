/**
 * Exit codes, and the one error type commands throw to end with a given code. The process exits in
 * one place only (bin.ts), after main() has turned every error into a message and a code.
 *
 *   0  everything asked for is done (and, for revoke, verified)
 *   1  something failed (an exchange refused, a key could not be revoked or proven dead)
 *   2  usage, configuration or input error: nothing was changed
 *   3  revoke: some keys still wait for a person to act on the exchange's web site
 */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, AWAITING_MANUAL: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class ExitError extends Error {
  override readonly name = "ExitError";
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export const usageError = (message: string, hint?: string) => new ExitError(EXIT.USAGE, message, hint);
