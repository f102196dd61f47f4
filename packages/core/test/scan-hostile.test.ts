/**
 * The scan engine against hostile or odd input: sources holding one key id a huge number of times
 * (memory must stay bounded, every kept hit at its true place), and roots the walk must not lose.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isKeywardError } from "../src/index.js";
import { scanSources } from "../src/scan/engine.js";
import { MAX_PLACES_PER_BLOB } from "../src/scan/scan-history.js";
import type { ScanHit } from "../src/scan/scan-types.js";
import { MAX_HITS_PER_KEY } from "../src/scan/source-scan.js";
import { commitAll, initRepo, putFile, removeDir, tempDir } from "./helpers/scan-fs.js";

const KEY_UUID = "8f14e45f-ceea-467f-a0e6-1c2b3d4e5f60";
const KEY_SHORT = "Qm7xT2vLp9Rk4Wz8Nc";
const needles = [
  { text: KEY_UUID, ref: 0 },
  { text: KEY_SHORT, ref: 1 },
];

let dir: string;
beforeEach(() => {
  dir = tempDir("scan-hostile");
});
afterEach(() => removeDir(dir));

const where = (h: ScanHit) =>
  `${h.type === "needle" ? h.ref : "p"}@${h.location.path}:${h.location.line}:${h.location.column}`;

describe("scan engine: a source full of one key", () => {
  it("keeps a bounded number of hits per key, each at its true line and column, and counts the rest", async () => {
    const times = 200_000;
    // "x <id>" on every line (a few MB), then the other key once at the end.
    const lines: string[] = [];
    for (let i = 0; i < times; i++) lines.push(`x ${KEY_SHORT}`);
    lines.push(`tail ${KEY_UUID}`);
    writeFileSync(join(dir, "flood.log"), `${lines.join("\n")}\n`);

    const result = await scanSources({ roots: [dir], git: false, needles, patterns: [], workers: 1 });

    const short = result.hits.filter((h) => h.type === "needle" && h.ref === 1);
    expect(short).toHaveLength(MAX_HITS_PER_KEY);
    expect(result.stats.hitsDropped).toBe(times - MAX_HITS_PER_KEY);
    const path = join(dir, "flood.log");
    expect(short.map(where)).toEqual(
      Array.from({ length: MAX_HITS_PER_KEY }, (_, i) => `1@${path}:${i + 1}:3`),
    );
    // The other key, past all of them, is still found at its place.
    expect(result.hits.filter((h) => h.type === "needle" && h.ref === 0).map(where)).toEqual([
      `0@${path}:${times + 1}:6`,
    ]);
  });

  it("a normal file keeps every hit and drops none", async () => {
    writeFileSync(join(dir, "a.env"), `A=${KEY_SHORT}\nB=${KEY_SHORT}\nC=${KEY_UUID}\n`);
    const result = await scanSources({ roots: [dir], git: false, needles, patterns: [], workers: 1 });
    expect(result.hits).toHaveLength(3);
    expect(result.stats.hitsDropped).toBe(0);
  });

  it("keeps no more hits than the scan's budget, and counts the rest", async () => {
    for (const name of ["a.env", "b.env", "c.env"])
      writeFileSync(join(dir, name), `${KEY_UUID}\n${KEY_SHORT}\n`);
    const result = await scanSources({
      roots: [dir],
      git: false,
      needles,
      patterns: [],
      workers: 1,
      maxKeptHits: 4,
    });
    expect(result.hits.map(where)).toEqual([
      `0@${join(dir, "a.env")}:1:1`,
      `1@${join(dir, "a.env")}:2:1`,
      `0@${join(dir, "b.env")}:1:1`,
      `1@${join(dir, "b.env")}:2:1`,
    ]);
    expect(result.stats.hitsDropped).toBe(2);
  });

  it("lists a git blob's hits at a bounded number of its paths and counts the others", async () => {
    const repo = join(dir, "repo");
    const git = initRepo(repo);
    const paths = 2_000;
    for (let i = 0; i < paths; i++) putFile(repo, `d${i % 20}/f${i}.txt`, `id: ${KEY_UUID}\n`);
    commitAll(git, "many copies");
    // Only the history holds them now.
    for (let i = 0; i < 20; i++) rmSync(join(repo, `d${i}`), { recursive: true });

    const result = await scanSources({ roots: [repo], git: true, needles, patterns: [], workers: 1 });

    const inHistory = result.hits.filter((h) => h.location.commit !== undefined);
    expect(inHistory).toHaveLength(MAX_PLACES_PER_BLOB);
    for (const h of inHistory) expect([h.location.line, h.location.column]).toEqual([1, 5]);
    expect(result.stats.hitsDropped).toBe(paths - MAX_PLACES_PER_BLOB);
  });
});

describe("scan engine: a flooded blob read by the worker threads", () => {
  it("counts a blob's dropped matches once per path it sits at", async () => {
    const repo = join(dir, "repo");
    const git = initRepo(repo);
    // Enough blobs that the history goes to workers; one of them holds the id 30 times, at 25 paths.
    for (let i = 0; i < 300; i++) writeFileSync(join(repo, `plain${i}.txt`), `nothing ${i}\n`);
    const flood = `${Array.from({ length: 30 }, () => KEY_UUID).join("\n")}\n`;
    for (let i = 0; i < 25; i++) writeFileSync(join(repo, `flood${i}.txt`), flood);
    commitAll(git, "flood");
    git("rm", "-q", "flood*.txt");

    // Worker threads run the built worker: drive the built engine (the sources would read in-process).
    const built = (await import(
      /* @vite-ignore */ new URL("../dist/scan/engine.js", import.meta.url).href
    )) as { scanSources: typeof scanSources };
    const result = await built.scanSources({ roots: [repo], git: true, needles, patterns: [], workers: 2 });

    const inHistory = result.hits.filter((h) => h.location.commit !== undefined);
    expect(inHistory).toHaveLength(MAX_PLACES_PER_BLOB * MAX_HITS_PER_KEY);
    expect(result.stats.hitsDropped).toBe(25 * 30 - MAX_PLACES_PER_BLOB * MAX_HITS_PER_KEY);
  });
});

describe("scan engine: roots", () => {
  it("scans a root that is a link to a file, shown as given", async () => {
    const target = join(dir, "real.env");
    writeFileSync(target, `KEY=${KEY_UUID}\n`);
    const link = join(dir, "link.env");
    symlinkSync(target, link);
    const result = await scanSources({ roots: [link], git: false, needles, patterns: [], workers: 1 });
    expect(result.hits.map(where)).toEqual([`0@${link}:1:5`]);
    expect(result.stats.files).toBe(1);
    expect(result.stats.skipped.notRegular).toBe(0);
  });

  it("still does not follow a link inside a folder root", async () => {
    const outside = join(dir, "outside");
    mkdirSync(outside);
    writeFileSync(join(outside, "real.env"), `KEY=${KEY_UUID}\n`);
    const root = join(dir, "root");
    mkdirSync(root);
    symlinkSync(join(outside, "real.env"), join(root, "link.env"));
    const result = await scanSources({ roots: [root], git: false, needles, patterns: [], workers: 1 });
    expect(result.hits).toEqual([]);
    expect(result.stats.skipped.notRegular).toBe(1);
  });
});

describe("scan engine: hostile git config", () => {
  it("a repository config including a FIFO fails with SCAN_GIT_FAILED instead of hanging", async () => {
    const repo = join(dir, "repo");
    initRepo(repo);
    const fifo = join(dir, "fifo");
    execFileSync("mkfifo", [fifo]);
    appendFileSync(join(repo, ".git", "config"), `[include]\n\tpath = ${fifo}\n`);
    // A short watchdog (the default is 30 s): the scan fails as soon as it fires.
    const error = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
      gitStallMs: 1000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isKeywardError(error) && error.code).toBe("SCAN_GIT_FAILED");
    expect((error as Error).message).toMatch(/git did not answer for 1 s/);
  }, 15_000);
});
