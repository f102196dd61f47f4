/**
 * The leak corpus (testing/leak-corpus.ts) and pattern detection over it: a generated tree of ordinary
 * source code gives nothing at medium or above (several seeds), and with credentials planted gives
 * exactly the planted ones, each where the manifest says, with the confidence it says. The tree is
 * deterministic, and a large file's credential across the 1 MiB boundary is found once when the file
 * is searched in 1 MiB chunks overlapped by `span`, as the engine reads it.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { describe, expect, it } from "vitest";
import { EXCHANGE_PROFILES } from "../src/index.js";
import { compileLeakPatterns, type DetectedLeak, detectLeaks } from "../src/scan/detect.js";
import {
  fakeCredentials,
  generateLeakCorpus,
  LARGE_FILE_BOUNDARY,
  type PlantedLeak,
  seededRng,
} from "../src/testing/index.js";
import { tempDirsForFile } from "./helpers/scan-fs.js";

const COMPILED = compileLeakPatterns(
  EXCHANGE_PROFILES.flatMap((p) => (p.leaks ? [{ exchange: p.id, leaks: p.leaks }] : [])),
);
const tempDir = tempDirsForFile("corpus");

function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((name) => {
    const path = join(root, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

interface Found extends DetectedLeak {
  path: string;
  line: number;
}

/** Detection over every file of a tree, each file whole (the corpus's files are small). */
function detectTree(root: string): Found[] {
  const out: Found[] = [];
  for (const file of filesUnder(root)) {
    const text = readFileSync(file, "latin1");
    for (const leak of detectLeaks(text, COMPILED)) {
      const line = text.slice(0, leak.offset).split("\n").length;
      out.push({ ...leak, path: relative(root, file).split(sep).join("/"), line });
    }
  }
  return out;
}

const atLeastMedium = (f: { confidence: string | null }) =>
  f.confidence === "high" || f.confidence === "medium";
const where = (f: { path: string; line: number; exchange: string; key: string }) =>
  `${f.path}:${f.line} ${f.exchange} ${f.key}`;

describe("ordinary source code", () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: nothing at medium or above in a generated tree with nothing planted`, async () => {
      const root = tempDir();
      const corpus = await generateLeakCorpus({ root, seed, files: 300, totalBytes: 3_000_000 });
      expect(corpus.planted).toEqual([]);
      expect(corpus.bytes).toBeGreaterThan(2_000_000);
      const found = detectTree(root);
      expect(found.filter(atLeastMedium).map(where)).toEqual([]);
      // The tree does hold the things that fool scanners: order ids next to exchange names (low).
      expect(found.length).toBeGreaterThan(0);
    });
  }
});

describe("planted credentials", () => {
  it("exactly the planted ones are found, where the manifest says, with the confidence it says", async () => {
    const root = tempDir();
    const rng = seededRng(42);
    const known = EXCHANGE_PROFILES.flatMap((p) =>
      // A key alone (planted near its name: low), then a whole credential (planted alone).
      p.leaks
        ? [
            { exchange: p.id, key: fakeCredentials(p, rng).key },
            { exchange: p.id, ...fakeCredentials(p, rng) },
          ]
        : [],
    );
    const corpus = await generateLeakCorpus({
      root,
      seed: 9,
      files: 300,
      totalBytes: 3_000_000,
      plant: { known, unknownPerExchange: 4 },
    });
    const exchanges = new Set(corpus.planted.map((p) => p.exchange));
    expect(exchanges.size).toBe(EXCHANGE_PROFILES.length);
    expect(new Set(corpus.planted.map((p) => p.format)).size).toBe(7);
    expect(corpus.planted.some((p) => !p.nearName && p.detect === "medium")).toBe(true);
    expect(corpus.planted.some((p) => p.nearName && p.detect === "low")).toBe(true);
    expect(corpus.planted.some((p) => p.format === "minified-json" && p.detect !== null)).toBe(true);

    // Each manifest line holds its key.
    for (const p of corpus.planted) {
      const line = readFileSync(join(root, p.path), "latin1").split("\n")[p.line - 1];
      expect(line, where(p)).toContain(p.key);
    }
    const found = detectTree(root);
    const expected = corpus.planted.filter((p) => atLeastMedium({ confidence: p.detect }));
    expect(found.filter(atLeastMedium).map(where).sort()).toEqual(expected.map(where).sort());
    for (const p of expected) {
      const f = found.find((x) => where(x) === where(p));
      expect(f?.confidence, where(p)).toBe(p.detect);
      expect(f?.secret).toBe(p.secret);
    }
    // The lows planted (a key next to its name, no secret) are found too, as low.
    for (const p of corpus.planted.filter((x) => x.detect === "low")) {
      expect(found.find((x) => where(x) === where(p))?.confidence, where(p)).toBe("low");
    }
  });

  it("credentials a caller makes from the corpus's own seed are not among its ordinary ids", async () => {
    const root = tempDir();
    await generateLeakCorpus({ root, seed: 15, files: 100, totalBytes: 1_000_000 });
    const rng = seededRng(15);
    const made = EXCHANGE_PROFILES.flatMap((p) => (p.leaks ? [fakeCredentials(p, rng)] : []));
    const all = filesUnder(root)
      .map((f) => readFileSync(f, "latin1"))
      .join("\n");
    for (const c of made) {
      expect(all.includes(c.key), c.key).toBe(false);
      expect(all.includes(c.secret), c.secret).toBe(false);
    }
  });

  it("the same seed makes the same tree and manifest; another seed another", async () => {
    const digest = (root: string) => {
      const h = createHash("sha256");
      for (const f of filesUnder(root).sort()) h.update(relative(root, f)).update(readFileSync(f));
      return h.digest("hex");
    };
    const make = async (seed: number) => {
      const root = tempDir();
      const c = await generateLeakCorpus({
        root,
        seed,
        files: 60,
        totalBytes: 300_000,
        plant: { unknownPerExchange: 2 },
      });
      return { digest: digest(root), planted: c.planted.map((p) => ({ ...p })) as PlantedLeak[] };
    };
    const a = await make(5);
    const b = await make(5);
    const c = await make(6);
    expect(b).toEqual(a);
    expect(c.digest).not.toBe(a.digest);
  });

  it("a large file's credential across the 1 MiB boundary is found once in overlapped 1 MiB chunks", async () => {
    const root = tempDir();
    const corpus = await generateLeakCorpus({
      root,
      seed: 3,
      files: 5,
      totalBytes: 20_000,
      largeFile: { bytes: 3 * 1024 * 1024 },
    });
    const big = corpus.planted.find((p) => p.path.endsWith(".log"));
    expect(big).toBeDefined();
    if (big === undefined) return;
    const text = readFileSync(join(root, big.path), "latin1");
    expect(text.length).toBeGreaterThanOrEqual(3 * 1024 * 1024);
    const at = text.indexOf(big.key);
    expect(at).toBeLessThan(LARGE_FILE_BOUNDARY);
    expect(at + big.key.length).toBeGreaterThan(LARGE_FILE_BOUNDARY);
    expect(text.split("\n")[big.line - 1]).toContain(big.key);
    // As the engine reads it: 1 MiB chunks, each searched with the 2 × span bytes before it; a chunk
    // owns the offsets up to span before its end (the last one to the end), so a key cut by a chunk's
    // end is reported by the next chunk, whole. The first chunk alone holds only part of the key.
    const CHUNK = 1024 * 1024;
    const hits: number[] = [];
    let ownedFrom = 0;
    for (let start = 0; start < text.length; start += CHUNK) {
      const end = Math.min(text.length, start + CHUNK);
      const ownedTo = end === text.length ? end : end - COMPILED.span;
      const from = Math.max(0, start - 2 * COMPILED.span);
      for (const leak of detectLeaks(text.slice(from, end), COMPILED)) {
        const offset = from + leak.offset;
        if (offset >= ownedFrom && offset < ownedTo && leak.key === big.key) hits.push(offset);
      }
      ownedFrom = ownedTo;
    }
    expect(detectLeaks(text.slice(0, CHUNK), COMPILED).filter((l) => big.key.startsWith(l.key))).toEqual([]);
    expect(hits).toEqual([at]);
  });
});
