/**
 * The person's side of an exchange's second-factor challenge (issue 13): when an account has no TOTP
 * seed in the vault, the adapter asks here for the code, with a hidden prompt on the terminal. The code
 * goes to the adapter and nowhere else: never printed, logged or kept.
 *
 * Without a terminal there is no one to ask: the shell passes no prompt at all, and the adapter fails
 * the call with SECOND_FACTOR_REQUIRED and its hint (store the seed, or run at a terminal).
 */
import {
  exchangeProfile,
  KeywardError,
  type KeywardHome,
  type SecondFactorPrompt,
  type SecondFactorRequest,
} from "@keyward/core";
import { isInteractive } from "./input.js";
import { terminalSafe, withOutputHeld } from "./output.js";

const NO_CODE_HINT = (account: string) =>
  `Run the command again and type the code before the exchange's challenge expires, or store the account's seed so Keyward answers itself: keyward account set-seed ${account}`;

export interface TerminalSecondFactorOptions {
  /** The exchange's name for an account ("Deribit"), for the prompt. */
  exchangeOf(account: string): string;
}

/** A hidden prompt on this terminal, or undefined when stdin or stderr is not one. */
export function terminalSecondFactor(options: TerminalSecondFactorOptions): SecondFactorPrompt | undefined {
  if (!isInteractive()) return undefined;
  // One prompt at a time: a revoke's keys run concurrently and several may meet a challenge at once.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    code(request) {
      const asked = queue.then(() => ask(request, options));
      queue = asked.catch(() => {});
      return asked;
    },
  };
}

/** The prompt's text: what the exchange is about to do, for which account, and how long is left. */
export function secondFactorMessage(
  request: SecondFactorRequest,
  exchange: string,
  now = Date.now(),
): string {
  const left = Math.max(0, Math.floor((request.expiresAt - now) / 1000));
  return terminalSafe(
    `${request.retry ? "That code was refused (wrong or stale). " : ""}${exchange} asks for a two-factor code for ${request.account} to ${request.action} (${left} s left)`,
  );
}

async function ask(request: SecondFactorRequest, options: TerminalSecondFactorOptions): Promise<string> {
  const remaining = request.expiresAt - Date.now();
  if (remaining <= 0) {
    throw new KeywardError(
      "SECOND_FACTOR_REQUIRED",
      `the two-factor challenge for ${request.account} expired before it could be asked`,
      { hint: NO_CODE_HINT(request.account) },
    );
  }
  const { default: password } = await import("@inquirer/password");
  try {
    // The prompt closes itself when the exchange would refuse any answer anyway.
    const code = await withOutputHeld(() =>
      password(
        {
          message: secondFactorMessage(request, options.exchangeOf(request.account)),
          mask: false,
          validate: (value) =>
            /^\d{6,8}$/.test(value.trim()) || "Type the code your authenticator app shows (6 digits).",
        },
        { output: process.stderr, signal: AbortSignal.timeout(remaining) },
      ),
    );
    return code.trim();
  } catch (error) {
    // Ctrl-C at the prompt (ExitPromptError) or the time ran out (AbortPromptError): no code.
    const timedOut = error instanceof Error && error.name === "AbortPromptError";
    throw new KeywardError(
      "SECOND_FACTOR_REQUIRED",
      timedOut
        ? `no two-factor code was typed for ${request.account} before the exchange's challenge expired`
        : `no two-factor code was given for ${request.account} (the prompt was cancelled)`,
      { hint: NO_CODE_HINT(request.account) },
    );
  }
}

/**
 * Adapter options carrying this terminal's prompt (none without a terminal), for commands that build
 * adapters or hand core a use case's `secondFactor`.
 */
export function secondFactorOptions(home: Pick<KeywardHome, "account">): {
  secondFactor?: SecondFactorPrompt;
} {
  const prompt = terminalSecondFactor({
    exchangeOf: (account) => exchangeProfile(home.account(account).exchange).name,
  });
  return prompt ? { secondFactor: prompt } : {};
}
