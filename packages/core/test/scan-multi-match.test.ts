import { describe, expect, it } from "vitest";
import { compileNeedles, NeedleStream } from "../src/scan/multi-match.js";
import type { ScanNeedle } from "../src/scan/scan-types.js";
import { seededRng } from "../src/testing/leak-random.js";

const isWord = (b: number | undefined) =>
  b !== undefined && ((b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122));

/** The reference: indexOf for every needle at every position, with the token-boundary rule. */
function naive(text: Uint8Array, needles: readonly ScanNeedle[]): string[] {
  const hay = Buffer.from(text);
  const out: string[] = [];
  for (const n of needles) {
    const bytes = Buffer.from(n.text, "utf8");
    if (bytes.length === 0) continue;
    for (let i = hay.indexOf(bytes); i !== -1; i = hay.indexOf(bytes, i + 1)) {
      if (isWord(bytes[0]) && isWord(hay[i - 1])) continue;
      if (isWord(bytes[bytes.length - 1]) && isWord(hay[i + bytes.length])) continue;
      out.push(`${n.ref}@${i}`);
    }
  }
  return out.sort();
}

/** Runs the automaton over `text` cut into chunks at the given sizes (cycled). */
function streamed(text: Uint8Array, needles: readonly ScanNeedle[], cuts: number[], budget?: number) {
  const out: string[] = [];
  const s = new NeedleStream(compileNeedles(needles, budget), (ref, offset) => out.push(`${ref}@${offset}`));
  let pos = 0;
  let k = 0;
  while (pos < text.length) {
    const size = Math.max(1, cuts[k++ % cuts.length] ?? 1);
    s.write(text.subarray(pos, pos + size));
    pos += size;
  }
  s.end();
  return out.sort();
}

describe("multi-match: the needle automaton against a naive indexOf search", () => {
  it("finds the same matches on random texts, needle sets and chunkings (200 seeds)", () => {
    for (let seed = 1; seed <= 200; seed++) {
      // Seeded (mulberry32), so a failure can be replayed from its seed.
      const r = seededRng(seed).next;
      // A small alphabet with word and non-word bytes makes overlaps, prefixes and suffixes frequent.
      const alphabet = seed % 3 === 0 ? "ab-" : seed % 3 === 1 ? "abc1 .-_" : "aAbB0 \n=é";
      const pick = () => alphabet[Math.floor(r() * alphabet.length)] ?? "a";
      const word = (len: number) => Array.from({ length: len }, pick).join("");
      const textStr = word(50 + Math.floor(r() * 400));
      const needles: ScanNeedle[] = [];
      const count = 1 + Math.floor(r() * 12);
      for (let i = 0; i < count; i++) {
        const kind = r();
        let text: string;
        if (kind < 0.4) {
          // A piece of the text itself (so there are hits), including at offset 0 and at the very end.
          const len = 1 + Math.floor(r() * 6);
          const at =
            i === 0 ? 0 : i === 1 ? Math.max(0, textStr.length - len) : Math.floor(r() * textStr.length);
          text = textStr.slice(at, at + len);
        } else if (kind < 0.6 && needles.length > 0) {
          // A prefix or suffix of another needle, or that needle extended.
          const other = needles[Math.floor(r() * needles.length)]?.text ?? "a";
          text = r() < 0.33 ? other.slice(0, -1) : r() < 0.5 ? other.slice(1) : other + pick();
        } else {
          text = word(1 + Math.floor(r() * 5));
        }
        needles.push({ text, ref: i });
      }
      needles.push({ text: needles[0]?.text ?? "a", ref: 99 }); // the same text twice: both refs
      const text = Buffer.from(textStr, "utf8");
      const expected = naive(text, needles);
      const cuts = [1 + Math.floor(r() * 7), 1 + Math.floor(r() * 64), 1000];
      expect(streamed(text, needles, [text.length], undefined), `seed ${seed} whole`).toEqual(expected);
      expect(streamed(text, needles, cuts, undefined), `seed ${seed} chunked`).toEqual(expected);
      // A tiny dense budget: most states sparse, the failure-link path does the work.
      expect(streamed(text, needles, cuts, 8), `seed ${seed} sparse`).toEqual(expected);
    }
  });

  it("counts a needle only at a token boundary", () => {
    const needles = [
      { text: "AbCd1234", ref: 1 },
      { text: "-x-", ref: 2 },
    ];
    const text = Buffer.from("xAbCd1234 AbCd1234y AbCd1234 (AbCd1234)\n-x--x-a-x-b");
    expect(streamed(text, needles, [3])).toEqual(naive(text, needles));
    expect(streamed(text, needles, [3])).toEqual(["1@20", "1@30", "2@40", "2@43", "2@47"].sort());
  });

  it("finds a needle split across two chunks, and one at the very end of the stream", () => {
    const id = "8f14e45f-ceea-467f-a0e6-c1a2b3d4e5f6";
    const text = Buffer.from(`key=${id}\nlast ${id}`);
    const out = streamed(text, [{ text: id, ref: 7 }], [10, 9, 13]);
    expect(out).toEqual([`7@4`, `7@${text.length - id.length}`].sort());
  });

  it("handles no needles and empty needles", () => {
    const text = Buffer.from("anything at all");
    expect(streamed(text, [], [4])).toEqual([]);
    expect(streamed(text, [{ text: "", ref: 1 }], [4])).toEqual([]);
  });
});
