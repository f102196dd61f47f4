/**
 * A source full of distinct credentials (attack review): a file named on the command line is read
 * whatever its size, so the hits a source keeps while it is read must be capped, not only the hits the
 * scan keeps once the source is finished. The built engine runs in a child process with a small heap
 * (the test task builds first): before the cap, this file's hits alone exhausted it.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { ACME, putFile, tempDirsForFile } from "./helpers/scan-fs.js";

const tempDir = tempDirsForFile("scan-source-cap");
const ENGINE = fileURLToPath(new URL("../dist/scan/engine.js", import.meta.url));
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** The i-th of a run of distinct ACME-shaped credentials (key and secret from a hash of i). */
function credential(i: number): string {
  const h = createHash("sha256").update(String(i)).digest();
  let key = "AKX";
  // 18 from the hash, then a digit and a letter: the key's two classes (ACME's minClasses) for certain.
  for (let k = 0; k < 18; k++) key += ALPHABET[(h[k] ?? 0) % 36];
  key += "7Q";
  const secret = createHash("sha256").update(`s${i}`).digest("hex").slice(0, 48);
  return `acmex key ${key} secret ${secret}`;
}

/** Runs the built engine in a node with a `heapMb` heap; its answer's counts. */
function scanInSmallHeap(heapMb: number, options: object) {
  // A module file, not --input-type + -e: worker threads inherit the flags, and refuse --input-type.
  const script = putFile(
    tempDir(),
    "scan.mjs",
    `const { scanSources } = await import(${JSON.stringify(pathToFileURL(ENGINE).href)});
    const r = await scanSources(${JSON.stringify(options)});
    process.stdout.write(JSON.stringify({ hits: r.hits.length, dropped: r.stats.hitsDropped, files: r.stats.files }));`,
  );
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, script], { encoding: "utf8" });
  expect(r.status, r.stderr.slice(0, 2000)).toBe(0);
  return JSON.parse(r.stdout) as { hits: number; dropped: number; files: number };
}

describe("scan engine: a source of distinct credentials", () => {
  it("keeps at most the scan's budget of a named file's hits while reading it, counting the rest", () => {
    const dir = tempDir();
    const count = 40_000; // ≈ 3.6 MB; holding every hit took ≈ 90 MB of heap
    const lines = Array.from({ length: count }, (_, i) => credential(i));
    const file = putFile(dir, "dump.env", `${lines.join("\n")}\n`);
    const out = scanInSmallHeap(32, {
      roots: [file],
      git: false,
      needles: [],
      patterns: [{ exchange: "acmex", leaks: ACME }],
      workers: 1,
      maxKeptHits: 10,
    });
    expect(out).toEqual({ hits: 10, dropped: count - 10, files: 1 });
  });

  it("in worker threads too: the scan keeps its budget and counts every other hit", () => {
    const dir = tempDir();
    // 80 files (over the in-process limit of 64: the workers read them), 500 distinct credentials each.
    // The workers' own heap is not limited by the flag (worker-pool.ts sets it): this checks that the
    // caps in the workers (per source, per answer) count every hit they do not send.
    for (let f = 0; f < 80; f++) {
      const lines = Array.from({ length: 500 }, (_, i) => credential(f * 500 + i));
      putFile(dir, `d/f${f}.env`, `${lines.join("\n")}\n`);
    }
    const out = scanInSmallHeap(32, {
      roots: [dir],
      git: false,
      needles: [],
      patterns: [{ exchange: "acmex", leaks: ACME }],
      workers: 2,
      maxKeptHits: 10,
    });
    expect(out).toEqual({ hits: 10, dropped: 80 * 500 - 10, files: 80 });
  });
});
