/** Exchange credentials: an API key plus secrets that never print (see Secret). */
import { z } from "zod";
import { Secret } from "./secret.js";

export interface Credentials {
  apiKey: string;
  secret: Secret;
  /** Where the exchange's profile lists a `passphrase` field: the one chosen when the key was made. */
  passphrase?: Secret;
  /**
   * Where the exchange's profile lists a `totpSeed` field: the account's two-factor (TOTP, RFC 6238) seed,
   * so Keyward can answer the exchange's second-factor challenge itself (e.g. Deribit's key management).
   * It belongs to the account, not the key: it stays in the vault, follows the account to a rotated
   * account key and is never delivered to a target.
   */
  totpSeed?: Secret;
}

/** Credentials as a user pastes them (stdin JSON): `{apiKey, secret, passphrase?, totpSeed?}`. */
export const CredentialsInputSchema = z.strictObject({
  apiKey: z.string().trim().min(1, "is required"),
  secret: z.string().min(1, "is required"),
  passphrase: z.string().min(1).optional(),
  totpSeed: z.string().min(1).optional(),
});
export type CredentialsInput = z.infer<typeof CredentialsInputSchema>;

export const toCredentials = (input: CredentialsInput): Credentials => ({
  apiKey: input.apiKey,
  secret: new Secret(input.secret),
  ...(input.passphrase === undefined ? {} : { passphrase: new Secret(input.passphrase) }),
  ...(input.totpSeed === undefined ? {} : { totpSeed: new Secret(input.totpSeed) }),
});

/** Every secret value in a set of credentials, for redaction and for canary checks. */
export const secretsOf = (c: Credentials): Secret[] =>
  [c.secret, c.passphrase, c.totpSeed].filter((s): s is Secret => s !== undefined);
