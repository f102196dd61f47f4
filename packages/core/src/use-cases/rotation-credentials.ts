/**
 * The passphrase rule for an assisted slot's new key, checked when a person hands the credentials over
 * (the web's form, the CLI's prompt or stdin), before the engine probes them: a key whose exchange
 * gives keys a passphrase needs it, and a passphrase for a key that has none is a mistake (most likely
 * the wrong key, or a value typed into the wrong field), refused rather than stored.
 */

import { exchangeProfile } from "../adapters/registry.js";
import type { CredentialsInput } from "../domain/credentials.js";
import { KeywardError } from "../errors.js";
import type { CreateRequest } from "../rotation/context.js";

/** Why these credentials break the passphrase rule, or undefined. */
export function passphraseProblem(
  request: Pick<CreateRequest, "needsPassphrase" | "exchange">,
  credentials: Pick<CredentialsInput, "passphrase" | "totpSeed">,
): { message: string; hint: string } | undefined {
  // A two-factor seed belongs to the account (set with `keyward account set-seed`), never to a new key.
  if (credentials.totpSeed) {
    return {
      message: "totpSeed: belongs to the account, not to a new key",
      hint: "Leave the seed out of the new key's credentials; the account keeps the seed it has.",
    };
  }
  if (request.needsPassphrase && !credentials.passphrase) {
    return {
      message: "passphrase: is required for this key",
      hint: `${exchangeProfile(request.exchange).name} keys have the passphrase chosen when the key was made.`,
    };
  }
  if (!request.needsPassphrase && credentials.passphrase) {
    return { message: "passphrase: this exchange's keys have none", hint: "Leave the passphrase empty." };
  }
  return undefined;
}

/** The passphrase rule as an error (CONFIG_INVALID: the input is wrong; nothing was stored). */
export function checkPassphraseRule(
  request: Pick<CreateRequest, "needsPassphrase" | "exchange">,
  credentials: Pick<CredentialsInput, "passphrase" | "totpSeed">,
): void {
  const problem = passphraseProblem(request, credentials);
  if (problem) throw new KeywardError("CONFIG_INVALID", problem.message, { hint: problem.hint });
}
