/**
 * The two scan rows, as functions (scan.ts prints them; test/scan-rows.test.ts runs them tiny):
 *
 * - tree: a generated tree of ordinary source files (core's generateLeakCorpus) with planted keys of
 *   every exchange, known (ids from a list of ~10k known ids, written to ids.txt) and unknown (found by
 *   the profiles' patterns alone); `grep -rF -f ids.txt` and Keyward's engine (`scanSources`, default
 *   workers) over the same tree, both after an untimed warm-up read (the page cache holds the tree for
 *   both);
 * - history: a generated repository (core's generateLeakRepo: deleted files, unmerged branches, tags,
 *   the final tree) read by `scanSources({ git: true })` and by `git log --all -p | grep -F -f ids.txt`.
 *
 * Each row judges the engine's hits (scan-rows.ts judgeHits): every planted key found where it was
 * planted, nothing unplanted at medium or above.
 */
import { join } from "node:path";
import { EXCHANGE_PROFILES, scanSources } from "@keyward/core";
import {
  fakeCredentials,
  generateLeakCorpus,
  generateLeakRepo,
  type LeakRepoCredential,
  seededRng,
} from "@keyward/core/testing";
import {
  type EngineResult,
  grepHistory,
  grepTree,
  type Judgement,
  judgeHits,
  mbps,
  type PlantedKey,
  treeFiles,
  warmUp,
  writeIds,
} from "./scan-rows.js";

/** Every exchange whose profile says how its leaks look: the engine's patterns. */
export const leakPatterns = (): Parameters<typeof scanSources>[0]["patterns"] =>
  EXCHANGE_PROFILES.flatMap((p) => (p.leaks ? [{ exchange: p.id, leaks: p.leaks }] : []));

export interface KnownSet {
  /** The known ids, as needles (ref = index) and as ids.txt lines. */
  ids: string[];
  needles: { text: string; ref: number }[];
  /** Credentials (with their secrets) of the first few ids, per exchange, to plant. */
  plantable: { exchange: string; key: string; secret?: string; passphrase?: string }[];
}

/**
 * `count` known key ids, the exchanges in turn, of each exchange's real shape (fakeCredentials). Their
 * stream is not the generators' own (a seed of their own): the corpus's ordinary text holds random ids
 * of key lengths, and from the same seed those would be these very ids.
 */
export function knownSet(count: number, seed: number, plantablePerExchange: number): KnownSet {
  const rng = seededRng((seed ^ 0x4b6e6f77) >>> 0);
  const profiles = leakPatterns().map((p) => EXCHANGE_PROFILES.find((x) => x.id === p.exchange));
  const ids: string[] = [];
  const plantable: KnownSet["plantable"] = [];
  const seen = new Set<string>();
  for (let i = 0; ids.length < count; i++) {
    const profile = profiles[i % profiles.length];
    if (!profile) break;
    const c = fakeCredentials(profile, rng);
    if (seen.has(c.key)) continue;
    seen.add(c.key);
    ids.push(c.key);
    if (plantable.filter((x) => x.exchange === profile.id).length < plantablePerExchange)
      plantable.push({
        exchange: profile.id,
        key: c.key,
        secret: c.secret,
        ...(c.passphrase === undefined ? {} : { passphrase: c.passphrase }),
      });
  }
  return { ids, needles: ids.map((text, ref) => ({ text, ref })), plantable };
}

export interface Contender {
  ms: number;
  mbps: number;
  /** Planted known ids it found (grep) / planted keys found (Keyward). */
  found: number;
}

export interface TreeRowResult {
  files: number;
  bytes: number;
  knownIds: number;
  planted: { known: number; unknown: number };
  grep: Contender;
  keyward: Contender & { workers: number | "default"; stats: EngineResult["stats"] };
  /** Keyward's MB/s over grep's (above 1: Keyward is faster). */
  speedup: number;
  judgement: Judgement;
}

export interface TreeRowOptions {
  /** An empty folder the row may fill (the caller removes it). */
  dir: string;
  files: number;
  bytes: number;
  knownIds: number;
  seed: number;
  workers?: number;
  /** One more file this large (at least 2 MiB), read in chunks: a key sits across a chunk boundary. */
  largeFileBytes?: number;
  log?(line: string): void;
}

export async function runTreeRow(o: TreeRowOptions): Promise<TreeRowResult> {
  const log = o.log ?? (() => {});
  const known = knownSet(o.knownIds, o.seed, 3);
  const idsFile = join(o.dir, "ids.txt");
  writeIds(idsFile, known.ids);
  const tree = join(o.dir, "tree");
  log(`generating ${o.files} files, ~${(o.bytes / 1e6).toFixed(0)} MB …`);
  // Known keys alternate near their exchange's name and not; unknown ones too where a key + secret pair
  // is reported without a name (pairWithoutName); one more large file (streamed, a key across a chunk
  // boundary) is part of the tree.
  const corpus = await generateLeakCorpus({
    root: tree,
    files: o.files,
    totalBytes: o.bytes,
    seed: o.seed,
    plant: { known: known.plantable, unknownPerExchange: 3 },
    ...(o.largeFileBytes === undefined ? {} : { largeFile: { bytes: o.largeFileBytes } }),
  });
  const planted: PlantedKey[] = corpus.planted.map((p) => ({
    exchange: p.exchange,
    kind: p.known ? "known" : "unknown",
    key: p.key,
    path: p.path,
  }));
  const files = treeFiles(tree);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  log(`warm-up read of ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB …`);
  warmUp(files);

  log("grep -rF -f ids.txt …");
  const grep = await grepTree(idsFile, tree);
  const plantedKnown = planted.filter((p) => p.kind === "known");
  log("keyward scanSources …");
  const t0 = performance.now();
  const result = await scanSources({
    roots: [tree],
    git: false,
    needles: known.needles,
    patterns: leakPatterns(),
    ...(o.workers === undefined ? {} : { workers: o.workers }),
  });
  const ms = performance.now() - t0;
  const judgement = judgeHits(planted, result.hits, known.ids);
  const grepMbps = mbps(bytes, grep.ms);
  const keywardMbps = mbps(bytes, ms);
  return {
    files: files.length,
    bytes,
    knownIds: known.ids.length,
    planted: { known: plantedKnown.length, unknown: planted.length - plantedKnown.length },
    grep: {
      ms: grep.ms,
      mbps: grepMbps,
      found: plantedKnown.filter((p) => grep.result.has(p.key)).length,
    },
    keyward: {
      ms,
      mbps: keywardMbps,
      found: judgement.found.length,
      workers: o.workers ?? "default",
      stats: result.stats,
    },
    speedup: keywardMbps / grepMbps,
    judgement,
  };
}

export interface HistoryRowResult {
  commits: number;
  blobs: number;
  bytes: number;
  planted: { known: number; unknown: number; placements: Record<string, number> };
  baseline: { ms: number; found: number };
  keyward: { ms: number; blobsPerS: number; found: number; stats: EngineResult["stats"] };
  judgement: Judgement;
}

export interface HistoryRowOptions {
  dir: string;
  commits: number;
  knownIds: number;
  seed: number;
  workers?: number;
  log?(line: string): void;
}

/**
 * The credentials the history row buries: per exchange one known id and one unknown key beside its
 * name, and an unknown key without its name for each exchange whose key + secret pair is reported
 * without one (pairWithoutName); the placements (deleted, branch, tag, tree) in turn.
 */
export function historyPlants(known: KnownSet, seed: number): LeakRepoCredential[] {
  const rng = seededRng(seed ^ 0x5eed);
  const plants: LeakRepoCredential[] = [];
  for (const { exchange, leaks } of leakPatterns()) {
    const profile = EXCHANGE_PROFILES.find((p) => p.id === exchange);
    const k = known.plantable.find((p) => p.exchange === exchange);
    if (!profile || !k) continue;
    plants.push({ ...k, kind: "known" });
    const u = fakeCredentials(profile, rng);
    const unknown = {
      exchange,
      kind: "unknown" as const,
      key: u.key,
      secret: u.secret,
      ...(u.passphrase === undefined ? {} : { passphrase: u.passphrase }),
    };
    plants.push(unknown);
    if (leaks.pairWithoutName) {
      const v = fakeCredentials(profile, rng);
      plants.push({
        exchange,
        kind: "unknown",
        key: v.key,
        secret: v.secret,
        nearName: false,
      });
    }
  }
  return plants;
}

export async function runHistoryRow(o: HistoryRowOptions): Promise<HistoryRowResult> {
  const log = o.log ?? (() => {});
  const known = knownSet(o.knownIds, o.seed, 1);
  const idsFile = join(o.dir, "ids.txt");
  writeIds(idsFile, known.ids);
  const repo = join(o.dir, "repo");
  log(`generating a repository of ${o.commits} commits …`);
  const manifest = generateLeakRepo({
    dir: repo,
    commits: o.commits,
    seed: o.seed,
    plant: historyPlants(known, o.seed),
  });
  const planted: PlantedKey[] = manifest.planted.map((p) => ({
    exchange: p.exchange,
    kind: p.kind,
    key: p.key,
    path: p.path,
    commit: p.commit,
  }));
  // Warm-up: the baseline's own read of every object, untimed, so both start with the pack cached.
  await grepHistory(idsFile, repo);
  log("git log --all -p | grep -F -f ids.txt …");
  const baseline = await grepHistory(idsFile, repo);
  log("keyward scanSources --git …");
  const t0 = performance.now();
  const result = await scanSources({
    roots: [repo],
    git: true,
    needles: known.needles,
    patterns: leakPatterns(),
    ...(o.workers === undefined ? {} : { workers: o.workers }),
  });
  const ms = performance.now() - t0;
  const judgement = judgeHits(planted, result.hits, known.ids);
  const placements: Record<string, number> = {};
  for (const p of manifest.planted) placements[p.placement] = (placements[p.placement] ?? 0) + 1;
  const plantedKnown = planted.filter((p) => p.kind === "known");
  return {
    commits: manifest.totalCommits,
    blobs: result.stats.blobs,
    bytes: result.stats.bytes,
    planted: { known: plantedKnown.length, unknown: planted.length - plantedKnown.length, placements },
    baseline: { ms: baseline.ms, found: plantedKnown.filter((p) => baseline.result.has(p.key)).length },
    keyward: {
      ms,
      blobsPerS: result.stats.blobs / (ms / 1000),
      found: judgement.found.length,
      stats: result.stats,
    },
    judgement,
  };
}
