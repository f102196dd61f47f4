/**
 * Worker threads run the built worker (dist/scan/scan-worker.js; the test task builds first), so this
 * test drives the built engine: the TypeScript sources would read in-process.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { ScanEngineOptions, ScanEngineResult } from "../src/scan/scan-types.js";
import { ACME_PATTERNS, commitAll, initRepo, putFile, tempDirsForFile } from "./helpers/scan-fs.js";

type Engine = { scanSources(o: ScanEngineOptions): Promise<ScanEngineResult> };
const ENGINE = new URL("../dist/scan/engine.js", import.meta.url).href;

const NEEDLES = Array.from({ length: 500 }, (_, i) => ({
  text: `${(0x1000_0000 + i * 7919).toString(16)}-ab12-4c3d-8e9f-${(0x1000_0000_0000 + i).toString(16)}`,
  ref: i,
}));
const patterns = ACME_PATTERNS;

const tempDir = tempDirsForFile("scan-workers");
let dir: string;
let engine: Engine;
beforeAll(async () => {
  engine = (await import(ENGINE)) as Engine;
  dir = tempDir();
  for (let f = 0; f < 300; f++) {
    const lines: string[] = [];
    for (let l = 0; l < 200; l++) lines.push(`  const v${l} = call(${f}, ${l}); // ordinary text ${f * l}`);
    if (f % 7 === 0) lines.splice(f % 150, 0, `  id: "${NEEDLES[f]?.text}",`);
    if (f % 50 === 0)
      lines.push(`acmex api key AKX7Q2M9Z4K8T1V6B3N5P${f % 10}R secret ${"3f9a1c7e".repeat(6)}`);
    putFile(dir, `d${f % 9}/f${f}.ts`, `${lines.join("\n")}\n`);
  }
});

describe("scan engine: worker threads", () => {
  it("finds the same, in the same order, with 1 and 2 workers", async () => {
    const base = { roots: [dir], git: false, needles: NEEDLES, patterns };
    const one = await engine.scanSources({ ...base, workers: 1 });
    const two = await engine.scanSources({ ...base, workers: 2 });
    expect(one.hits.filter((h) => h.type === "needle")).toHaveLength(Math.ceil(300 / 7));
    expect(one.hits.filter((h) => h.type === "pattern")).toHaveLength(6);
    expect(two.hits).toEqual(one.hits);
    expect({ ...two.stats, elapsedMs: 0 }).toEqual({ ...one.stats, elapsedMs: 0 });
    expect(one.stats.files).toBe(300);
  });

  it("finds the same in git history with 1 and 2 workers (blobs searched by the workers)", async () => {
    const repo = tempDir();
    const git = initRepo(repo);
    for (let f = 0; f < 400; f++) {
      const lines = [`// file ${f}`, `export const n = ${f};`];
      if (f % 9 === 0) lines.push(`const id = "${NEEDLES[f]?.text}";`);
      if (f % 100 === 0)
        lines.push(`acmex key AKX7Q2M9Z4K8T1V6B3N5P${f % 10}R secret ${"3f9a1c7e".repeat(6)}`);
      putFile(repo, `f${f}.ts`, `${lines.join("\n")}\n`);
    }
    putFile(repo, "bin.dat", Buffer.from([0, 1, 2, 3]));
    const added = commitAll(git, "all");
    git(
      "rm",
      "-q",
      ...Array.from({ length: 400 }, (_, f) => `f${f}.ts`).filter((_, f) => f % 9 === 0 || f % 100 === 0),
    );
    git("commit", "-q", "-m", "gone");
    const base = { roots: [repo], git: true, needles: NEEDLES, patterns };
    const one = await engine.scanSources({ ...base, workers: 1 });
    const two = await engine.scanSources({ ...base, workers: 2 });
    const history = one.hits.filter((h) => h.location.commit !== undefined);
    expect(history.filter((h) => h.type === "needle")).toHaveLength(Math.ceil(400 / 9));
    expect(history.filter((h) => h.type === "pattern")).toHaveLength(4);
    for (const h of history) expect(h.location.commit).toBe(added);
    expect(two.hits).toEqual(one.hits);
    expect({ ...two.stats, elapsedMs: 0 }).toEqual({ ...one.stats, elapsedMs: 0 });
    expect(one.stats.blobs).toBeGreaterThanOrEqual(400);
    expect(one.stats.skipped.binary).toBe(2); // bin.dat in the work tree and its blob
  });

  it("stops the workers when aborted", async () => {
    const controller = new AbortController();
    let armed = false;
    const run = engine.scanSources({
      roots: [dir],
      git: false,
      needles: NEEDLES,
      patterns,
      workers: 2,
      signal: controller.signal,
      // The first report comes as the scan starts; the abort lands while the threads start or read
      // (starting a worker alone takes longer than this).
      onProgress: () => {
        if (armed) return;
        armed = true;
        setTimeout(() => controller.abort(), 15);
      },
    });
    await expect(run).rejects.toMatchObject({ code: "SCAN_ABORTED" });
    // A scan after it is unaffected (the stopped pool left nothing behind).
    const again = await engine.scanSources({
      roots: [dir],
      git: false,
      needles: NEEDLES,
      patterns,
      workers: 2,
    });
    expect(again.stats.files).toBe(300);
  });
});
