/**
 * The account's two-factor seed (`totpSeed`, issue 13): the rule for when it may be given and what it
 * must look like. One rule for every shell (the CLI's stdin and prompts, the web's form, core's
 * addAccount and setAccountSeed), decided by the exchange profile's credential fields, never by an
 * exchange id. Plain data only: no node:* here, so it stays browser-safe.
 */
import type { ExchangeProfile } from "../adapters/profile.js";

/**
 * RFC 4648 base32 without padding, as authenticator apps show it under the QR code. 16 characters (80
 * bits) is the shortest seed exchanges hand out; 128 (640 bits) is far above any of them, so anything
 * longer is not a seed (a pasted otpauth:// link, a recovery code list).
 */
const MIN_LENGTH = 16;
const MAX_LENGTH = 128;

/**
 * The seed as Keyward stores it: spaces and dashes (how apps group it for reading) and `=` padding
 * removed, upper case. Codes computed from either form are the same.
 */
export const normaliseTotpSeed = (text: string): string =>
  text
    .replace(/[\s-]+/g, "")
    .replace(/=+$/, "")
    .toUpperCase();

/** Whether this exchange's profile lists a `totpSeed` credential field. */
export const takesTotpSeed = (profile: Pick<ExchangeProfile, "credentials">): boolean =>
  profile.credentials.some((f) => f.name === "totpSeed");

export interface SeedProblem {
  /** Starts with the field's name: "totpSeed: …". */
  message: string;
  hint: string;
}

/**
 * Why this seed cannot be stored for an account of this exchange, or undefined. Never quotes the seed:
 * the message names only what is wrong with it.
 */
export function totpSeedProblem(
  profile: Pick<ExchangeProfile, "credentials" | "name">,
  seed: string,
): SeedProblem | undefined {
  if (!takesTotpSeed(profile)) {
    return {
      message: `totpSeed: ${profile.name} asks for no second-factor code through its API, so Keyward has no use for a seed`,
      hint: "Leave the field out: nothing was stored.",
    };
  }
  const s = normaliseTotpSeed(seed);
  const hint =
    "Give the base32 text shown under the QR code when two-factor authentication was set up (letters A-Z and digits 2-7), not a 6-digit code or an otpauth:// link. Nothing was stored.";
  if (!/^[A-Z2-7]*$/.test(s))
    return { message: "totpSeed: is not base32 (letters A-Z and digits 2-7)", hint };
  // Base32 groups of 8 characters carry 5 bytes; a group cut after 1, 3 or 6 characters is not valid.
  if (s.length < MIN_LENGTH || s.length > MAX_LENGTH || [1, 3, 6].includes(s.length % 8)) {
    return {
      message: `totpSeed: must be ${MIN_LENGTH} to ${MAX_LENGTH} base32 characters of a whole number of bytes (got ${s.length})`,
      hint,
    };
  }
  return undefined;
}
