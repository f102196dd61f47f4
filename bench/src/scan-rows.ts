/**
 * The scan rows' parts (scan.ts runs them; test/scan-rows.test.ts runs them small): build the
 * known-id list and the keys to plant, time the baselines (`grep -rF -f ids.txt` over the tree, `git log
 * --all -p | grep -F -f ids.txt` over the history) and Keyward's engine over the same bytes, and judge
 * what the engine found against what was planted. A row fails if the engine misses a planted key or
 * reports a key nobody planted at confidence medium or above (low is a key-shaped token near a name:
 * reported as a hint, not counted).
 *
 * Nothing here prints a key in full: planted keys are fake, but the bench follows the rule every output
 * of Keyward follows (first and last four characters only).
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { scanSources } from "@keyward/core";

/** What the engine returns (scan-types.ts ScanEngineResult), and one hit (ScanHit), as scanSources types them. */
export type EngineResult = Awaited<ReturnType<typeof scanSources>>;
export type ScanHit = EngineResult["hits"][number];

/** A key the row planted, and where (the corpus's or the repository's manifest). */
export interface PlantedKey {
  exchange: string;
  kind: "known" | "unknown";
  key: string;
  /** The file (tree: under the tree's root; history: the path in the repository). */
  path: string;
  /** History only: the commit that added it. */
  commit?: string;
}

export interface Judgement {
  found: PlantedKey[];
  missed: PlantedKey[];
  /** Pattern hits at medium or above on keys nobody planted, redacted. */
  unplanted: { exchange: string; key: string; confidence: string; path: string }[];
  /** Hits on a planted key at a place other than the manifest's (wrong path or, in history, commit). */
  misplaced: { key: string; expected: string; got: string }[];
}

/** "40c4…fc04": what the bench prints of a key. */
export const shown = (key: string): string => (key.length <= 8 ? "…" : `${key.slice(0, 4)}…${key.slice(-4)}`);

const samePath = (hitPath: string, planted: string) => hitPath === planted || hitPath.endsWith(`/${planted}`);

/**
 * What the engine found of the planted keys. `needleText[ref]` is the text of needle `ref` (the row's
 * known ids, in order). A planted key counts as found where a hit names it (a needle hit on a known id,
 * a pattern hit on an unknown key) at its path (and, in history, at its commit). Known keys may also
 * match their exchange's pattern: such pattern hits are planted, not false positives.
 */
export function judgeHits(
  planted: readonly PlantedKey[],
  hits: readonly ScanHit[],
  needleText: readonly string[],
): Judgement {
  const byKey = new Map(planted.map((p) => [p.key, p]));
  const foundKeys = new Set<string>();
  const unplanted: Judgement["unplanted"] = [];
  const misplaced: Judgement["misplaced"] = [];
  for (const hit of hits) {
    const key = hit.type === "needle" ? needleText[hit.ref] : hit.key;
    const p = key === undefined ? undefined : byKey.get(key);
    if (!p || key === undefined) {
      if (hit.type === "pattern" && hit.confidence !== "low")
        unplanted.push({
          exchange: hit.exchange,
          key: shown(hit.key),
          confidence: hit.confidence,
          path: hit.location.path,
        });
      else if (hit.type === "needle")
        unplanted.push({
          exchange: "?",
          key: shown(key ?? ""),
          confidence: "certain",
          path: hit.location.path,
        });
      continue;
    }
    const where = `${hit.location.path}${hit.location.commit ? `@${hit.location.commit.slice(0, 10)}` : ""}`;
    const expected = `${p.path}${p.commit ? `@${p.commit.slice(0, 10)}` : ""}`;
    if (!samePath(hit.location.path, p.path) || (p.commit && hit.location.commit !== p.commit)) {
      misplaced.push({ key: shown(key), expected, got: where });
      continue;
    }
    // A known key is found by its needle (the exact search); an unknown one by its pattern.
    if ((p.kind === "known") === (hit.type === "needle")) foundKeys.add(key);
  }
  return {
    found: planted.filter((p) => foundKeys.has(p.key)),
    missed: planted.filter((p) => !foundKeys.has(p.key)),
    unplanted,
    misplaced,
  };
}

/** Whether the row passed: every planted key found where planted, nothing unplanted at medium or above. */
export const passed = (j: Judgement): boolean =>
  j.missed.length === 0 && j.unplanted.length === 0 && j.misplaced.length === 0;

/** The failure lines of a judgement (redacted), for the row's loud FAIL. */
export function failures(j: Judgement): string[] {
  return [
    ...j.missed.map((p) => `missed ${p.kind} ${p.exchange} key ${shown(p.key)} in ${p.path}`),
    ...j.unplanted.map((u) => `unplanted ${u.exchange} key ${u.key} (${u.confidence}) reported in ${u.path}`),
    ...j.misplaced.map((m) => `key ${m.key} found at ${m.got}, planted at ${m.expected}`),
  ];
}

/** A judgement as counts and redacted failure lines: what --json prints (no key in full). */
export const judgementSummary = (j: Judgement) => ({
  found: j.found.length,
  missed: j.missed.length,
  unplanted: j.unplanted.length,
  misplaced: j.misplaced.length,
  failures: failures(j),
});

/** Writes the known ids, one a line, as grep's -f reads them. */
export function writeIds(file: string, ids: readonly string[]): void {
  writeFileSync(file, `${ids.join("\n")}\n`);
}

export interface Timed<T> {
  ms: number;
  result: T;
}

/** Runs a command, collecting stdout; rejects on exit codes other than `okCodes`. */
function run(cmd: string, args: string[], okCodes: readonly number[], cwd?: string): Promise<Timed<string>> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // LC_ALL=C: grep's fastest mode (bytes, no multibyte decoding): the baseline at its best.
    const child = spawn(cmd, args, { cwd, env: { ...process.env, LC_ALL: "C" } });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t0;
      if (code === null || !okCodes.includes(code))
        reject(new Error(`${cmd} exited ${code}: ${err.slice(0, 500)}`));
      else resolve({ ms, result: Buffer.concat(out).toString("latin1") });
    });
  });
}

/**
 * `grep -rF -f ids.txt <tree>` (with -o -h so it prints each id it found, not the line: what it found
 * is counted, never printed). Exit 1 is "nothing found", not a failure.
 */
export async function grepTree(idsFile: string, tree: string): Promise<Timed<Set<string>>> {
  const r = await run("grep", ["-rFoh", "-f", idsFile, tree], [0, 1]);
  return { ms: r.ms, result: new Set(r.result.split("\n").filter(Boolean)) };
}

/**
 * The history baseline: `git log --all -p | grep -F -o -f ids.txt`, every commit's patch of every
 * ref (what a person would pipe), the ids it printed.
 */
export async function grepHistory(idsFile: string, repo: string): Promise<Timed<Set<string>>> {
  const r = await run(
    "sh",
    ["-c", 'git -C "$1" log --all -p --no-color --no-ext-diff | grep -F -o -f "$2"', "sh", repo, idsFile],
    [0, 1],
  );
  return { ms: r.ms, result: new Set(r.result.split("\n").filter(Boolean)) };
}

/** Every regular file under `dir` (no symlinks followed), with its size. */
export function treeFiles(dir: string): { path: string; size: number }[] {
  const out: { path: string; size: number }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) out.push({ path, size: statSync(path).size });
    }
  };
  walk(dir);
  return out;
}

/** Reads every file once, untimed, so both contenders start with the tree in the page cache. */
export function warmUp(files: readonly { path: string }[]): void {
  for (const f of files) readFileSync(f.path);
}

/** MB/s (10^6 bytes a second). */
export const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
