/**
 * Runs one keyward command and turns every outcome into an exit code (see exit.ts). Commands are
 * functions that return a code or throw; messages for the user are printed here, once.
 */
import { CommanderError } from "commander";
import { EXIT, type ExitCode, ExitError } from "./exit.js";
import { err } from "./output.js";
import { buildProgram } from "./program.js";

/** KeywardError codes that mean "your input or setup is wrong; nothing was changed". */
const USAGE_CODES = new Set([
  "CONFIG_INVALID",
  "ACCOUNT_NOT_FOUND",
  "KEY_NOT_FOUND",
  "VAULT_PASSPHRASE",
  "VAULT_MISSING",
  "VAULT_CORRUPT",
  "NOT_SUPPORTED",
  // The home or a file in it can be changed by another user: fix the permissions, then run again.
  "HOME_INSECURE",
  // A read-only audit log: revoking is refused before anything happens.
  "AUDIT_UNAVAILABLE",
  // `keyward scan` named a path that does not exist or cannot be read: nothing was read.
  "SCAN_PATH_INVALID",
  // `keyward scan` could not open the vault (and was not told --no-vault): nothing was read.
  "SCAN_VAULT_LOCKED",
]);

/**
 * KeywardError codes that end a command with 1 ("something failed") although the input was right: the
 * exchange asked for a second-factor code and none could be given (no seed in the vault and no terminal,
 * or the person let the prompt expire or cancelled it), or it refused the code. The step that asked was
 * not carried out; steps before it were (a revoke's or rotation's report says which).
 */
const SECOND_FACTOR_CODES = new Set(["SECOND_FACTOR_REQUIRED", "SECOND_FACTOR_REFUSED"]);

interface KeywardLike {
  name: string;
  code: string;
  message: string;
  hint?: string;
}
const isKeywardLike = (e: unknown): e is KeywardLike =>
  e instanceof Error && e.name === "KeywardError" && typeof (e as { code?: unknown }).code === "string";

export async function main(argv: string[]): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.OK;
  const program = buildProgram((code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    return report(error);
  }
}

function report(error: unknown): ExitCode {
  // Messages echo exchange answers, labels and what the user typed: `err` escapes control characters.
  const print = (message: string, hint?: string) => {
    err(`keyward: ${message}\n${hint ? `  hint: ${hint}\n` : ""}`);
  };
  if (error instanceof CommanderError) {
    // Commander already printed its message (unknown option, missing argument, …) or the help.
    return error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  }
  if (error instanceof ExitError) {
    if (error.message) print(error.message, error.hint);
    return error.exitCode;
  }
  if (isKeywardLike(error)) {
    print(error.message, error.hint);
    if (SECOND_FACTOR_CODES.has(error.code)) return EXIT.FAILED;
    return USAGE_CODES.has(error.code) ? EXIT.USAGE : EXIT.FAILED;
  }
  print(
    `internal error: ${error instanceof Error ? error.message : String(error)}`,
    "This is a bug; please report it with the command you ran.",
  );
  return EXIT.FAILED;
}
