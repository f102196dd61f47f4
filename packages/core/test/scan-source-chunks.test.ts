/**
 * The engine's chunking (source-scan.ts) against searching the whole text at once: for random texts with
 * credentials of every exchange planted (task 2's snippets), cut into random chunk sizes (smaller and
 * larger than the detector's span), the finds are the same, each once, at the same offsets.
 */
import { describe, expect, it } from "vitest";
import { EXCHANGE_PROFILES } from "../src/index.js";
import { compileLeakPatterns, detectLeaks } from "../src/scan/detect.js";
import { compileNeedles } from "../src/scan/multi-match.js";
import { type RawHit, SourceScanner } from "../src/scan/source-scan.js";
import { credentialSnippet, fakeCredentials, PLANT_FORMATS, seededRng } from "../src/testing/index.js";

const PATTERNS = EXCHANGE_PROFILES.flatMap((p) => (p.leaks ? [{ exchange: p.id, leaks: p.leaks }] : []));
const COMPILED = compileLeakPatterns(PATTERNS);

const WORDS = ["const", "value", "return", "await", "result", "index", "config", "order", "price", "size"];

function plantedText(seed: number) {
  const rng = seededRng(seed);
  const pick = <T>(xs: readonly T[]): T => rng.pick(xs);
  const parts: string[] = [];
  const secrets: string[] = [];
  for (let block = 0; block < 12; block++) {
    // Ordinary lines, then (most blocks) a credential in one of the formats, near its name or not.
    const lines = rng.int(60);
    for (let l = 0; l < lines; l++)
      parts.push(`  ${pick(WORDS)} ${pick(WORDS)}${l} = ${pick(WORDS)}(${l});\n`);
    if (rng.next() < 0.75) {
      const profile = pick(EXCHANGE_PROFILES.filter((p) => p.leaks));
      const cred = fakeCredentials(profile, rng);
      secrets.push(cred.secret);
      const name = rng.next() < 0.6 ? profile.id : null;
      parts.push(
        `${credentialSnippet(pick(PLANT_FORMATS), { exchange: profile.id, ...cred }, name, rng).text}\n`,
      );
    }
  }
  return { text: parts.join(""), secrets };
}

const show = (h: RawHit) =>
  h.type === "needle"
    ? `needle ${h.ref}@${h.offset}`
    : `${h.leak.exchange} ${h.leak.confidence} ${h.leak.key} ${h.leak.secret ?? "-"}@${h.offset}`;

describe("source scan: chunked the same as whole", () => {
  it("finds the same credentials and needles, once each, whatever the chunk sizes (40 seeds)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const { text, secrets } = plantedText(seed);
      const bytes = Buffer.from(text, "latin1");
      const needles = secrets.map((s, ref) => ({ text: s, ref }));
      const whole = new SourceScanner(compileNeedles(needles), COMPILED, "low");
      whole.begin();
      whole.write(bytes, true);
      const expected = whole.end().map(show).sort();
      // The reference itself: detection over the whole text at once.
      const direct = detectLeaks(text, COMPILED).map(
        (l) => `${l.exchange} ${l.confidence} ${l.key} ${l.secret ?? "-"}@${l.offset}`,
      );
      expect(
        expected.filter((e) => !e.startsWith("needle")),
        `seed ${seed}`,
      ).toEqual(direct.sort());
      expect(
        expected.filter((e) => e.startsWith("needle")),
        `seed ${seed}`,
      ).toHaveLength(secrets.length);

      const rng = seededRng(seed * 7919);
      const chunked = new SourceScanner(compileNeedles(needles), COMPILED, "low");
      chunked.begin();
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + rng.int(rng.next() < 0.5 ? 300 : 3 * COMPILED.span);
        const end = Math.min(bytes.length, at + size);
        chunked.write(bytes.subarray(at, end), end === bytes.length);
        at = end;
      }
      expect(chunked.end().map(show).sort(), `seed ${seed}`).toEqual(expected);
    }
  });
});
