/** Exchange credentials: an API key plus secrets that never print (see Secret). */
import { z } from "zod";
import { Secret } from "./secret.js";

export interface Credentials {
  apiKey: string;
  secret: Secret;
  /** Where the exchange's profile lists a `passphrase` field: the one chosen when the key was made. */
  passphrase?: Secret;
}

/** Credentials as a user pastes them (stdin JSON): `{apiKey, secret, passphrase?}`. */
export const CredentialsInputSchema = z.strictObject({
  apiKey: z.string().trim().min(1, "is required"),
  secret: z.string().min(1, "is required"),
  passphrase: z.string().min(1).optional(),
});
export type CredentialsInput = z.infer<typeof CredentialsInputSchema>;

export const toCredentials = (input: CredentialsInput): Credentials => ({
  apiKey: input.apiKey,
  secret: new Secret(input.secret),
  ...(input.passphrase === undefined ? {} : { passphrase: new Secret(input.passphrase) }),
});

/** Every secret value in a set of credentials, for redaction and for canary checks. */
export const secretsOf = (c: Credentials): Secret[] => (c.passphrase ? [c.secret, c.passphrase] : [c.secret]);
