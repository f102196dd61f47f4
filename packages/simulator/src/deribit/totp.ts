/**
 * The simulator's own TOTP (RFC 6238 over RFC 4226 HOTP, HMAC-SHA1) for Deribit's two-factor challenge,
 * written from the RFCs with node:crypto only, so it checks the adapter's TOTP library instead of sharing
 * its mistakes. Seeds are base32 (RFC 4648), as authenticator apps take them.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/** Deribit's (and every authenticator app's) step: a code lives 30 s. */
export const TOTP_STEP_MS = 30_000;
export const TOTP_DIGITS = 6;

/** RFC 4648 base32: upper or lower case, `=` padding optional; undefined when not base32. */
export function base32Decode(text: string): Buffer | undefined {
  const clean = text.toUpperCase().replace(/=+$/, "");
  if (clean.length === 0) return undefined;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of clean) {
    const index = ALPHABET.indexOf(char);
    if (index === -1) return undefined;
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export const isBase32Seed = (text: string): boolean => base32Decode(text) !== undefined;

/** RFC 4226 HOTP: dynamic truncation of HMAC-SHA1(key, counter), `digits` decimal digits. */
export function hotp(key: Buffer, counter: number, digits = TOTP_DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", key).update(message).digest();
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

/** The time step a moment falls in (RFC 6238: T0 = 0, X = 30 s). */
export const totpStep = (now: number): number => Math.floor(now / TOTP_STEP_MS);

/** The code an authenticator shows at `now` for a base32 seed. */
export function totpCode(seed: string, now: number, digits = TOTP_DIGITS): string {
  const key = base32Decode(seed);
  if (!key) throw new Error("TOTP seed is not base32");
  return hotp(key, totpStep(now), digits);
}

/**
 * Whether `code` is the seed's code for the step of `now` or one step either side (clock drift between the
 * person's phone and the server; the ±1 window is UNCONFIRMED for Deribit).
 */
export function totpMatches(seed: string, code: string, now: number, window = 1): boolean {
  const key = base32Decode(seed);
  if (!key || !/^\d{6}$/.test(code)) return false;
  const given = Buffer.from(code);
  let match = false;
  // Every candidate is compared (no early exit), in constant time each.
  for (let d = -window; d <= window; d++) {
    const step = totpStep(now) + d;
    if (step < 0) continue;
    if (timingSafeEqual(Buffer.from(hotp(key, step)), given)) match = true;
  }
  return match;
}
