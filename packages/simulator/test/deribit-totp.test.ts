/**
 * The simulator's own TOTP (src/deribit/totp.ts) against the RFCs' published vectors: RFC 4648 §10 for
 * base32 and RFC 6238 Appendix B (SHA-1, 8 digits, seed "12345678901234567890") for the codes.
 */
import { describe, expect, it } from "vitest";
import { base32Decode, hotp, totpCode, totpMatches } from "../src/deribit/totp.js";

/** "12345678901234567890" in base32. */
const RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe("base32 (RFC 4648 §10)", () => {
  it("decodes the RFC's vectors, padded or not, either case", () => {
    const vectors: [string, string][] = [
      ["MY======", "f"],
      ["MZXQ====", "fo"],
      ["MZXW6===", "foo"],
      ["MZXW6YQ=", "foob"],
      ["MZXW6YTB", "fooba"],
      ["MZXW6YTBOI======", "foobar"],
      ["mzxw6ytboi", "foobar"],
    ];
    for (const [text, plain] of vectors) expect(base32Decode(text)?.toString("utf8"), text).toBe(plain);
    expect(base32Decode(RFC_SEED)?.toString("utf8")).toBe("12345678901234567890");
  });

  it("refuses what is not base32", () => {
    for (const bad of ["", "MZXW1", "MZXW8", "MZ-XW", "MZ XW"])
      expect(base32Decode(bad), bad).toBeUndefined();
  });
});

describe("TOTP (RFC 6238 Appendix B, SHA-1)", () => {
  const vectors: [number, string][] = [
    [59, "94287082"],
    [1111111109, "07081804"],
    [1111111111, "14050471"],
    [1234567890, "89005924"],
    [2000000000, "69279037"],
    [20000000000, "65353130"],
  ];

  it("gives the RFC's 8-digit codes", () => {
    for (const [seconds, code] of vectors)
      expect(totpCode(RFC_SEED, seconds * 1000, 8), String(seconds)).toBe(code);
  });

  it("6 digits are the last 6 of the same truncation (RFC 4226 §5.4)", () => {
    for (const [seconds, code] of vectors) expect(totpCode(RFC_SEED, seconds * 1000)).toBe(code.slice(2));
    // RFC 4226 Appendix D, counter 0 and 1.
    const key = Buffer.from("12345678901234567890");
    expect([hotp(key, 0), hotp(key, 1)]).toEqual(["755224", "287082"]);
  });

  it("accepts the current step and one either side, nothing further, and no malformed code", () => {
    const now = 1_234_567_890_000;
    const at = (offsetSteps: number) => totpCode(RFC_SEED, now + offsetSteps * 30_000);
    expect(totpMatches(RFC_SEED, at(0), now)).toBe(true);
    expect(totpMatches(RFC_SEED, at(-1), now)).toBe(true);
    expect(totpMatches(RFC_SEED, at(1), now)).toBe(true);
    expect(totpMatches(RFC_SEED, at(-2), now)).toBe(false);
    expect(totpMatches(RFC_SEED, at(2), now)).toBe(false);
    expect(totpMatches(RFC_SEED, "12345", now)).toBe(false);
    expect(totpMatches(RFC_SEED, `${at(0)}0`, now)).toBe(false);
  });
});
