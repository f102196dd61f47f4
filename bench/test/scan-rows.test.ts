/**
 * The scan rows' honesty: the judge (found / missed / unplanted / misplaced) on hand-made hits, the
 * baselines on a hand-made tree and repository, and both rows end to end at a tiny size (seconds), with
 * the engine and generators the full-size bench uses.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  failures,
  grepHistory,
  grepTree,
  judgeHits,
  type PlantedKey,
  passed,
  type ScanHit,
  shown,
  writeIds,
} from "../src/scan-rows.js";
import { leakPatterns, runHistoryRow, runTreeRow } from "../src/scan-run.js";

const root = mkdtempSync(join(tmpdir(), "keyward-bench-scan-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const KNOWN = "AAAAknownKEY0001xyz";
const UNKNOWN = "BBBBunknownKEY0002q";
const planted: PlantedKey[] = [
  { exchange: "ex1", kind: "known", key: KNOWN, path: "src/a.env" },
  { exchange: "ex2", kind: "unknown", key: UNKNOWN, path: "cfg/b.json" },
];
const at = (path: string, commit?: string) => ({ path, line: 1, column: 1, ...(commit ? { commit } : {}) });
const needleHit = (ref: number, path: string): ScanHit => ({ type: "needle", ref, location: at(path) });
const patternHit = (key: string, path: string, confidence: "high" | "medium" | "low" = "high"): ScanHit => ({
  type: "pattern",
  exchange: "ex2",
  confidence,
  key,
  location: at(path),
});

describe("judgeHits", () => {
  const ids = ["someOtherId", KNOWN];

  it("passes when every planted key is found where planted (root-prefixed paths count)", () => {
    const j = judgeHits(
      planted,
      [needleHit(1, "/tmp/tree/src/a.env"), patternHit(UNKNOWN, "/tmp/tree/cfg/b.json")],
      ids,
    );
    expect(j.found.map((p) => p.key)).toEqual([KNOWN, UNKNOWN]);
    expect(passed(j)).toBe(true);
  });

  it("fails on a missed key, and a known key found only by pattern is still missed (the exact search must find it)", () => {
    const j = judgeHits(planted, [patternHit(KNOWN, "src/a.env"), patternHit(UNKNOWN, "cfg/b.json")], ids);
    expect(j.missed.map((p) => p.key)).toEqual([KNOWN]);
    expect(passed(j)).toBe(false);
    expect(failures(j)).toEqual([`missed known ex1 key ${shown(KNOWN)} in src/a.env`]);
  });

  it("fails on an unplanted key at medium or above, not at low; and never prints a key in full", () => {
    const base = [needleHit(1, "src/a.env"), patternHit(UNKNOWN, "cfg/b.json")];
    const stray = "CCCCstrayKEY000003z";
    expect(passed(judgeHits(planted, [...base, patternHit(stray, "x.ts", "low")], ids))).toBe(true);
    const j = judgeHits(planted, [...base, patternHit(stray, "x.ts", "medium")], ids);
    expect(passed(j)).toBe(false);
    expect(failures(j).join("\n")).not.toContain(stray);
    expect(failures(j)).toEqual(["unplanted ex2 key CCCC…003z (medium) reported in x.ts"]);
  });

  it("fails on a planted key found at another path, or in history at another commit", () => {
    expect(
      passed(judgeHits(planted, [needleHit(1, "src/other.env"), patternHit(UNKNOWN, "cfg/b.json")], ids)),
    ).toBe(false);
    const inHistory: PlantedKey[] = [{ ...planted[0], commit: "a".repeat(40) } as PlantedKey];
    const hit = (commit: string): ScanHit => ({ type: "needle", ref: 1, location: at("src/a.env", commit) });
    expect(passed(judgeHits(inHistory, [hit("a".repeat(40))], ids))).toBe(true);
    expect(judgeHits(inHistory, [hit("b".repeat(40))], ids).misplaced).toHaveLength(1);
  });
});

describe("the baselines", () => {
  it("grep -rF -f ids.txt finds exactly the known ids in a tree (exit 1, nothing found, is no error)", async () => {
    const tree = join(root, "tree");
    mkdirSync(join(tree, "sub"), { recursive: true });
    writeFileSync(join(tree, "a.txt"), `x ${KNOWN} y\n`);
    writeFileSync(join(tree, "sub", "b.txt"), `nothing ${UNKNOWN}\n`);
    writeIds(join(root, "ids.txt"), ["notThere123", KNOWN]);
    expect([...(await grepTree(join(root, "ids.txt"), tree)).result]).toEqual([KNOWN]);
    writeIds(join(root, "none.txt"), ["notThere123"]);
    expect((await grepTree(join(root, "none.txt"), tree)).result.size).toBe(0);
  });

  it("the history baseline finds an id in a file deleted since", async () => {
    const repo = join(root, "repo");
    mkdirSync(repo);
    const git = (...args: string[]) =>
      spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], { cwd: repo });
    git("init", "-q", "-b", "main");
    writeFileSync(join(repo, "k.env"), `KEY=${KNOWN}\n`);
    git("add", ".");
    git("commit", "-qm", "add");
    git("rm", "-q", "k.env");
    git("commit", "-qm", "remove");
    expect([...(await grepHistory(join(root, "ids.txt"), repo)).result]).toEqual([KNOWN]);
  });
});

describe("the rows, tiny (the full-size bench's code: generators, engine, judge)", () => {
  it("tree: Keyward finds every planted key, known and unknown, and grep exactly the known ones", async () => {
    mkdirSync(join(root, "tree-row"));
    const r = await runTreeRow({
      dir: join(root, "tree-row"),
      files: 120,
      bytes: 600_000,
      knownIds: 500,
      seed: 15,
      largeFileBytes: 2 * 1024 * 1024 + 4096,
    });
    expect(failures(r.judgement)).toEqual([]);
    expect(r.planted.known).toBeGreaterThanOrEqual(leakPatterns().length * 3);
    expect(r.planted.unknown).toBeGreaterThanOrEqual(leakPatterns().length * 3);
    expect(r.keyward.found).toBe(r.planted.known + r.planted.unknown);
    expect(r.grep.found).toBe(r.planted.known);
    expect(r.keyward.stats.files).toBe(r.files);
    expect(r.knownIds).toBe(500);
  });

  it("history: every planted key, in every placement, found at the commit that added it", async () => {
    mkdirSync(join(root, "history-row"));
    const r = await runHistoryRow({ dir: join(root, "history-row"), commits: 60, knownIds: 500, seed: 15 });
    expect(failures(r.judgement)).toEqual([]);
    expect(Object.keys(r.planted.placements).sort()).toEqual(["branch", "deleted", "tag", "tree"]);
    expect(r.keyward.found).toBe(r.planted.known + r.planted.unknown);
    expect(r.baseline.found).toBe(r.planted.known);
    expect(r.commits).toBeGreaterThan(60);
    expect(r.keyward.stats.blobs).toBeGreaterThan(60);
  });
});
