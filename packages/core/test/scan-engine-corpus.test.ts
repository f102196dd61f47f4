/**
 * The engine over task 2's leak corpus (testing/leak-corpus.ts): ordinary source trees with credentials
 * planted, known and unknown, near their exchange's name and not, in minified JSON, across a large
 * file's 1 MiB boundary, and in files only git history holds. Every planted key is found where the
 * manifest says (known ones exactly, as needles; unknown ones by pattern, with the manifest's
 * confidence), and nothing else at medium confidence or above.
 */
import { describe, expect, it } from "vitest";
import { EXCHANGE_PROFILES } from "../src/index.js";
import { scanSources } from "../src/scan/engine.js";
import type { ScanHit, ScanNeedle } from "../src/scan/scan-types.js";
import { fakeCredentials, generateLeakCorpus, type PlantedLeak, seededRng } from "../src/testing/index.js";
import { commitAll, initRepo, tempDirsForFile } from "./helpers/scan-fs.js";

const PATTERNS = EXCHANGE_PROFILES.flatMap((p) => (p.leaks ? [{ exchange: p.id, leaks: p.leaks }] : []));

const tempDir = tempDirsForFile("engine-corpus");

/** Known credentials, as the use case would have them: key ids and secrets as needles. */
function knownSet(seed: number) {
  const rng = seededRng(seed);
  const known = EXCHANGE_PROFILES.flatMap((p) =>
    p.leaks
      ? [
          { exchange: p.id, key: fakeCredentials(p, rng).key },
          { exchange: p.id, ...fakeCredentials(p, rng) },
        ]
      : [],
  );
  const needles: ScanNeedle[] = [];
  known.forEach((k, i) => {
    needles.push({ text: k.key, ref: 2 * i });
    if ("secret" in k && k.secret) needles.push({ text: k.secret, ref: 2 * i + 1 });
  });
  return { known, needles };
}

const atLeastMedium = (c: string | null) => c === "high" || c === "medium";
const placeOf = (p: PlantedLeak) => `${p.path}:${p.line}`;
/** A hit's place relative to the root (files) or in the repository (history). */
const placeOfHit = (root: string, h: ScanHit) =>
  `${h.location.commit === undefined ? h.location.path.slice(root.length + 1) : h.location.path}:${h.location.line}`;

describe("scan engine over the leak corpus", () => {
  it("finds every planted key, known and unknown, and nothing else at medium or above", async () => {
    const root = tempDir();
    const { known, needles } = knownSet(7001);
    const corpus = await generateLeakCorpus({
      root,
      seed: 9,
      files: 250,
      totalBytes: 2_500_000,
      plant: { known, unknownPerExchange: 3 },
      largeFile: { bytes: 2 * 1024 * 1024 + 1000 },
    });
    expect(corpus.planted.some((p) => p.format === "minified-json")).toBe(true);
    expect(corpus.planted.some((p) => p.path.endsWith(".log"))).toBe(true);
    const { hits, stats } = await scanSources({
      roots: [root],
      git: false,
      needles,
      patterns: PATTERNS,
      workers: 1,
    });
    expect(stats.files).toBe(corpus.files);

    // Known keys: each one found exactly where it was planted (as a needle).
    const needleAt = new Set(
      hits
        .filter((h) => h.type === "needle" && h.ref % 2 === 0)
        .map((h) => `${placeOfHit(root, h)} ${h.type === "needle" ? h.ref : ""}`),
    );
    for (const p of corpus.planted.filter((x) => x.known)) {
      const ref = 2 * known.findIndex((k) => k.key === p.key);
      expect(needleAt.has(`${placeOf(p)} ${ref}`), `${placeOf(p)} known ${p.exchange}`).toBe(true);
    }
    // No needle anywhere it was not planted: a key on its manifest line, a secret a few lines from its key.
    for (const h of hits) {
      if (h.type !== "needle") continue;
      const cred = known[Math.floor(h.ref / 2)];
      const plant = corpus.planted.find(
        (p) => p.known && p.key === cred?.key && p.path === h.location.path.slice(root.length + 1),
      );
      const place = `${placeOfHit(root, h)} ref ${h.ref}`;
      expect(plant, place).toBeDefined();
      if (h.ref % 2 === 0) expect(h.location.line, place).toBe(plant?.line);
      else expect(Math.abs(h.location.line - (plant?.line ?? 0)), place).toBeLessThanOrEqual(10);
    }

    // Patterns: exactly the planted ones the manifest says detection reports at medium or above, each
    // with that confidence; nothing else at medium or above (the default minConfidence).
    const patternHits = hits.filter((h) => h.type === "pattern");
    const got = patternHits.map(
      (h) => `${placeOfHit(root, h)} ${h.type === "pattern" ? `${h.exchange} ${h.key} ${h.confidence}` : ""}`,
    );
    const want = corpus.planted
      .filter((p) => atLeastMedium(p.detect))
      .map((p) => `${placeOf(p)} ${p.exchange} ${p.key} ${p.detect}`);
    expect(got.sort()).toEqual(want.sort());
  });

  it("the built engine finds the same with 1 and 2 worker threads", async () => {
    // Worker threads run dist/scan/scan-worker.js (the test task builds first).
    const built = (await import(new URL("../dist/scan/engine.js", import.meta.url).href)) as {
      scanSources: typeof scanSources;
    };
    const root = tempDir();
    const { known, needles } = knownSet(7003);
    await generateLeakCorpus({
      root,
      seed: 13,
      files: 300,
      totalBytes: 2_000_000,
      plant: { known, unknownPerExchange: 2 },
    });
    const base = { roots: [root], git: false, needles, patterns: PATTERNS };
    const one = await built.scanSources({ ...base, workers: 1 });
    const two = await built.scanSources({ ...base, workers: 2 });
    expect(one.hits.length).toBeGreaterThan(0);
    expect(two.hits).toEqual(one.hits);
    expect({ ...two.stats, elapsedMs: 0 }).toEqual({ ...one.stats, elapsedMs: 0 });
  });

  it("finds keys that only git history holds (files deleted later), with the commit that added them", async () => {
    const root = tempDir();
    const { known, needles } = knownSet(7002);
    const corpus = await generateLeakCorpus({
      root,
      seed: 11,
      files: 120,
      totalBytes: 1_000_000,
      plant: { known, unknownPerExchange: 2 },
    });
    // What the files give before they are deleted: history must give the same, at the same places.
    const before = await scanSources({ roots: [root], git: false, needles, patterns: PATTERNS, workers: 1 });
    const patternPlaces = (hits: ScanHit[]) =>
      hits
        .filter((h) => h.type === "pattern")
        .map((h) => `${placeOfHit(root, h)} ${h.type === "pattern" ? h.key : ""}`)
        .sort();
    const git = initRepo(root);
    const added = commitAll(git, "the tree");
    // Every file with a plant is deleted: only history has them now.
    const withPlants = [...new Set(corpus.planted.map((p) => p.path))];
    git("rm", "-q", ...withPlants);
    git("commit", "-q", "-m", "remove the leaks");

    const { hits } = await scanSources({ roots: [root], git: true, needles, patterns: PATTERNS, workers: 1 });
    // The work tree no longer holds any plant.
    expect(hits.filter((h) => h.location.commit === undefined && h.type === "needle")).toEqual([]);
    const history = hits.filter((h) => h.location.commit !== undefined);
    for (const h of history) expect(h.location.commit).toBe(added);
    const knownFound = new Set(history.filter((h) => h.type === "needle").map((h) => placeOfHit(root, h)));
    for (const p of corpus.planted.filter((x) => x.known))
      expect(knownFound.has(placeOf(p)), placeOf(p)).toBe(true);
    const patternFound = patternPlaces(history);
    expect(patternFound).toEqual(patternPlaces(before.hits));
    // Every plant that detection reports at medium or above is among them.
    for (const p of corpus.planted.filter((x) => atLeastMedium(x.detect))) {
      expect(patternFound, placeOf(p)).toContain(`${placeOf(p)} ${p.key}`);
    }
  });
});
