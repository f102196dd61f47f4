/**
 * The leak corpus through the whole engine (scanSources, task 1's): a planted tree gives every known
 * key by exact match and exactly the planted unknown credentials by pattern, at the manifest's path and
 * line, and nothing else at medium or above; the large file's key across the 1 MiB boundary once.
 */
import { describe, expect, it } from "vitest";
import { EXCHANGE_PROFILES } from "../src/index.js";
import { scanSources } from "../src/scan/engine.js";
import type { ScanHit } from "../src/scan/scan-types.js";
import {
  fakeCredentials,
  generateLeakCorpus,
  type PlantedCredential,
  seededRng,
} from "../src/testing/index.js";
import { tempDirsForFile } from "./helpers/scan-fs.js";

const tempDir = tempDirsForFile("corpus-engine");
const PATTERNS = EXCHANGE_PROFILES.flatMap((p) => (p.leaks ? [{ exchange: p.id, leaks: p.leaks }] : []));

describe("the leak corpus through scanSources", () => {
  it("finds every known key exactly and exactly the planted unknown ones, nothing else at medium or above", async () => {
    const root = tempDir();
    const rng = seededRng(77);
    const known: PlantedCredential[] = EXCHANGE_PROFILES.flatMap((p) =>
      p.leaks
        ? [
            { exchange: p.id, key: fakeCredentials(p, rng).key },
            { exchange: p.id, ...fakeCredentials(p, rng) },
          ]
        : [],
    );
    const corpus = await generateLeakCorpus({
      root,
      seed: 77,
      files: 300,
      totalBytes: 3_000_000,
      plant: { known, unknownPerExchange: 3 },
      largeFile: { bytes: 3 * 1024 * 1024 },
    });
    const needles = known.map((c, ref) => ({ text: c.key, ref }));
    const { hits } = await scanSources({
      roots: [root],
      git: false,
      needles,
      patterns: PATTERNS,
      workers: 2,
    });

    const at = (path: string, line: number) => `${root}/${path}:${line}`.replaceAll("\\", "/");
    const place = (h: ScanHit) => `${h.location.path.replaceAll("\\", "/")}:${h.location.line}`;
    // Known keys: each where it was planted (exact match; confidence does not matter).
    for (const p of corpus.planted.filter((x) => x.known)) {
      const ref = known.findIndex((k) => k.key === p.key);
      expect(
        hits.some((h) => h.type === "needle" && h.ref === ref && place(h) === at(p.path, p.line)),
        `${p.exchange} ${p.key.slice(0, 4)} at ${p.path}:${p.line}`,
      ).toBe(true);
    }
    // Patterns: exactly the planted ones at medium or above (the engine's default minimum).
    const expected = corpus.planted
      .filter((p) => p.detect === "high" || p.detect === "medium")
      .map((p) => `${at(p.path, p.line)} ${p.exchange} ${p.key} ${p.detect}`)
      .sort();
    const got = hits
      .flatMap((h) => (h.type === "pattern" ? [`${place(h)} ${h.exchange} ${h.key} ${h.confidence}`] : []))
      .sort();
    expect(got).toEqual(expected);
    expect(expected.some((e) => e.includes("var/log/bot.log"))).toBe(true);
  });
});
