/**
 * `npm run bench` (scan part; alone: `npm run bench:scan -w @keyward/bench`): `keyward scan`'s engine
 * against grep (scan-run.ts has the rows):
 *
 * - tree: ~1 GB in 100,000 generated source files with planted keys of every exchange, known (from
 *   10,000 known ids, ids.txt) and unknown; MB/s of `grep -rF -f ids.txt` (LC_ALL=C, its fastest mode)
 *   and of Keyward's engine (default workers: one per core, at most 4) over the same tree, page cache
 *   warm for both (an untimed read of every file first), and what each found: grep only the known ids,
 *   Keyward every planted key;
 * - history: a generated repository of 10,000 commits (deleted files, unmerged branches, tags, the final
 *   tree) read by `scanSources({ git: true })` and by `git log --all -p | grep -F -f ids.txt`.
 *
 * A row FAILS (exit 1) if Keyward misses a planted key or reports one nobody planted at medium or above.
 * Size: --quick (a tenth: 100 MB / 10,000 files, 1,000 commits), or KEYWARD_BENCH_SCAN_SCALE=0.01 (any
 * fraction of the full size). Flags: --json. The generated tree and repository live in a temp folder,
 * removed afterwards.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { failures, judgementSummary, passed } from "./scan-rows.js";
import { runHistoryRow, runTreeRow } from "./scan-run.js";

const FULL = { files: 100_000, bytes: 1e9, knownIds: 10_000, commits: 10_000 };

const { values } = parseArgs({ options: { quick: { type: "boolean" }, json: { type: "boolean" } } });
const envScale = Number(process.env.KEYWARD_BENCH_SCAN_SCALE ?? Number.NaN);
const scale = Number.isFinite(envScale) && envScale > 0 ? envScale : values.quick ? 0.1 : 1;
const size = {
  files: Math.max(50, Math.round(FULL.files * scale)),
  bytes: Math.max(200_000, Math.round(FULL.bytes * scale)),
  knownIds: FULL.knownIds,
  commits: Math.max(40, Math.round(FULL.commits * scale)),
  // One large file besides (a log read in chunks, a key across a chunk boundary): 32 MB at full size.
  largeFileBytes: Math.max(2 * 1024 * 1024, Math.round(32e6 * scale)),
};
const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

const dir = mkdtempSync(join(tmpdir(), "keyward-bench-scan-"));
let failed = false;
try {
  log(
    `Keyward scan bench: ${size.files} files / ~${(size.bytes / 1e6).toFixed(0)} MB, ${size.knownIds} known ids, ` +
      `a ${size.commits}-commit history (scale ${scale}); ${availableParallelism()} cores`,
  );
  mkdirSync(join(dir, "t"));
  const tree = await runTreeRow({ dir: join(dir, "t"), seed: 15, log, ...size });
  rmSync(join(dir, "t"), { recursive: true, force: true });
  mkdirSync(join(dir, "h"));
  const history = await runHistoryRow({ dir: join(dir, "h"), seed: 15, log, ...size });
  const treeOk = passed(tree.judgement);
  const historyOk = passed(history.judgement);
  failed = !treeOk || !historyOk;
  if (values.json) {
    const json = {
      scale,
      tree: { ...tree, judgement: judgementSummary(tree.judgement) },
      history: { ...history, judgement: judgementSummary(history.judgement) },
      ok: !failed,
    };
    process.stdout.write(`${JSON.stringify({ scan: json }, null, 2)}\n`);
  } else {
    const mb = (tree.bytes / 1e6).toFixed(0);
    const plantedAll = tree.planted.known + tree.planted.unknown;
    const hPlanted = history.planted.known + history.planted.unknown;
    const lines = [
      "",
      `tree: ${tree.files} files, ${mb} MB, ${tree.knownIds} known ids; planted ${tree.planted.known} known + ${tree.planted.unknown} unknown keys (page cache warm for both)`,
      `${"".padEnd(38)}     time       MB/s  found`,
      `${"grep -rF -f ids.txt (LC_ALL=C)".padEnd(38)} ${(tree.grep.ms / 1000).toFixed(2).padStart(7)} s ${tree.grep.mbps.toFixed(1).padStart(8)}  ${tree.grep.found}/${tree.planted.known} known (no pattern search)`,
      `${`keyward scanSources (workers: ${tree.keyward.workers})`.padEnd(38)} ${(tree.keyward.ms / 1000).toFixed(2).padStart(7)} s ${tree.keyward.mbps.toFixed(1).padStart(8)}  ${tree.keyward.found}/${plantedAll} known + unknown`,
      `keyward vs grep: ${tree.speedup.toFixed(2)}x the throughput${tree.speedup >= 1 ? "" : " (SLOWER than grep)"}; ${treeOk ? "every planted key found, nothing unplanted at medium or above" : "FAIL"}`,
      "",
      `history: ${history.commits} commits, ${history.blobs} blobs, ${(history.bytes / 1e6).toFixed(1)} MB; planted ${history.planted.known} known + ${history.planted.unknown} unknown (${Object.entries(
        history.planted.placements,
      )
        .map(([k, n]) => `${n} ${k}`)
        .join(", ")})`,
      `${"git log --all -p | grep -F -f ids.txt".padEnd(38)} ${(history.baseline.ms / 1000).toFixed(2).padStart(7)} s ${"".padStart(8)}  ${history.baseline.found}/${history.planted.known} known`,
      `${"keyward scanSources({ git: true })".padEnd(38)} ${(history.keyward.ms / 1000).toFixed(2).padStart(7)} s ${`${history.keyward.blobsPerS.toFixed(0)} blobs/s`.padStart(8)}  ${history.keyward.found}/${hPlanted} known + unknown, each at its first commit`,
      `history: ${historyOk ? "every planted key found (deleted files, branches, tags, the final tree), nothing unplanted at medium or above" : "FAIL"}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  for (const [name, j] of [
    ["tree", tree.judgement],
    ["history", history.judgement],
  ] as const) {
    for (const f of failures(j)) process.stderr.write(`FAIL (${name}): ${f}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
