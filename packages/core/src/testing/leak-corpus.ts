/**
 * `keyward scan` (task: patterns): a deterministic generator of ORDINARY source trees with planted
 * exchange credentials, for the scan tests and `npm run bench`.
 *
 * The ordinary part is full of what fools secret scanners: UUIDs (request and order ids, next to the
 * exchanges' names in trading code), sha1/sha256/md5 hex, base64 blobs and package-lock integrity
 * hashes, JWT-like tokens, long identifiers, random ids of the lengths keys have (away from any
 * exchange's name: a random id next to a name IS what a leaked key looks like), upper-case hex constants,
 * crypto addresses, `.env` examples with placeholders (`XXXXXXXX…`), CI files that name secrets without
 * holding them, Markdown, and minified JS/JSON on one line. Nothing in it is a credential.
 *
 * The planted part: known credentials (the caller's) and unknown ones (made from the profiles' shapes by
 * `fakeCredentials`), in varied formats, near their exchange's name and not; the manifest says where each
 * is and what pattern detection alone should make of it (`detect`).
 *
 * Exchange facts come only from the profiles given (names, shapes): no exchange is named here.
 * Speed: blocks of ordinary text are made once per run and reused, files are written many at a time, and
 * a large file is streamed, so a 1 GB / 100k-file tree takes tens of seconds, not minutes.
 */
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { EXCHANGE_PROFILES } from "../adapters/registry.js";
import { DEFAULT_LEAK_WINDOW } from "../scan/detect.js";
import {
  credentialSnippet,
  expectedDetect,
  fakeCredentials,
  PLANT_FORMATS,
  type PlantedCredential,
  type PlantedLeak,
  type PlantFormat,
} from "./leak-credentials.js";
import { block, type Ex, KINDS, type Kind, pad, WORDS } from "./leak-ordinary.js";
import { type Rng, seededRng, uuid } from "./leak-random.js";

export {
  credentialSnippet,
  type FakeCredential,
  fakeCredentials,
  PLANT_FORMATS,
  type PlantedCredential,
  type PlantedLeak,
  type PlantFormat,
} from "./leak-credentials.js";
export { type Rng, seededRng } from "./leak-random.js";

// ---------------------------------------------------------------------------------------------------
// The tree (ordinary text: leak-ordinary.ts; credentials and their formats: leak-credentials.ts)
// ---------------------------------------------------------------------------------------------------

export interface LeakCorpusOptions {
  /** The folder to write into (made if missing). */
  root: string;
  seed?: number;
  /** How many files (default 200) and about how many bytes in all (default 2 MB). */
  files?: number;
  totalBytes?: number;
  /** The exchanges (default: every registered profile with `leaks`). */
  exchanges?: readonly Ex[];
  plant?: {
    /** Credentials the caller knows (e.g. keys in a test home's inventory). */
    known?: readonly PlantedCredential[];
    /** Unknown credentials per exchange, made with `fakeCredentials`. */
    unknownPerExchange?: number;
  };
  /** One more file of this many bytes (a log), with a credential whose key spans the 1 MiB boundary. */
  largeFile?: { bytes: number };
}

export interface LeakCorpus {
  root: string;
  files: number;
  bytes: number;
  planted: PlantedLeak[];
}

/** The offset of the 1 MiB boundary that `largeFile` puts a key across (engines read 1 MiB chunks). */
export const LARGE_FILE_BOUNDARY = 1024 * 1024;

const profileExchanges = (): Ex[] =>
  EXCHANGE_PROFILES.flatMap((p) => (p.leaks === undefined ? [] : [{ exchange: p.id, leaks: p.leaks }]));

/** Writes the tree and returns what was planted where. */
export async function generateLeakCorpus(options: LeakCorpusOptions): Promise<LeakCorpus> {
  // Mixed with a constant: a caller that makes its known credentials with seededRng(seed) must not find
  // them among the tree's ordinary random ids.
  const rng = seededRng((options.seed ?? 1) ^ 0x6c65616b);
  const exs = options.exchanges ?? profileExchanges();
  const fileCount = options.files ?? 200;
  const totalBytes = options.totalBytes ?? 2_000_000;
  const perFile = Math.max(200, Math.floor(totalBytes / Math.max(1, fileCount)));
  const byId = new Map(exs.map((e) => [e.exchange, e]));
  const padBytes = Math.max(...exs.map((e) => e.leaks.window ?? DEFAULT_LEAK_WINDOW), 0) + 64;

  // Blocks of ordinary text, made once and reused (what makes a large tree quick to write).
  const POOL = 400;
  const pools = new Map<Kind, Buffer[]>();
  for (const k of KINDS) {
    pools.set(
      k.kind,
      Array.from({ length: POOL }, () => Buffer.from(block(k.kind, rng, exs), "latin1")),
    );
  }
  const weighted = KINDS.flatMap((k) => Array.from({ length: k.weight }, () => k));

  // The plants: known ones first, then unknown ones per exchange; alternately near the name and not
  // (not: only where detection or an exact match can find them).
  const plants: { cred: PlantedCredential; known: boolean; nearName: boolean; format: PlantFormat }[] = [];
  let f = 0;
  (options.plant?.known ?? []).forEach((cred, i) => {
    plants.push({
      cred,
      known: true,
      nearName: i % 2 === 0,
      format: PLANT_FORMATS[f++ % PLANT_FORMATS.length] ?? "env",
    });
  });
  for (const e of exs) {
    for (let i = 0; i < (options.plant?.unknownPerExchange ?? 0); i++) {
      const nearName = !e.leaks.pairWithoutName || i % 2 === 0;
      const cred: PlantedCredential = {
        exchange: e.exchange,
        ...fakeCredentials({ id: e.exchange, leaks: e.leaks }, rng),
      };
      if (i % 4 === 1) delete cred.passphrase; // a pair without its passphrase too
      plants.push({
        cred,
        known: false,
        nearName,
        format: PLANT_FORMATS[f++ % PLANT_FORMATS.length] ?? "env",
      });
    }
  }
  if (plants.length > fileCount)
    throw new Error(`${plants.length} credentials to plant in ${fileCount} files`);
  // One plant per file, in files spread over the tree.
  const plantAt = new Map<number, (typeof plants)[number]>();
  const step = Math.max(1, Math.floor(fileCount / Math.max(1, plants.length)));
  plants.forEach((p, i) => {
    plantAt.set((i * step + rng.int(step)) % fileCount, p);
  });

  const planted: PlantedLeak[] = [];
  let bytes = 0;
  const jobs: Promise<void>[] = [];
  const madeDirs = new Set<string>();
  const flush = async (): Promise<void> => {
    await Promise.all(jobs.splice(0));
  };
  for (let i = 0; i < fileCount; i++) {
    const plant = plantAt.get(i);
    const cred = plant?.cred;
    const e = cred === undefined ? undefined : byId.get(cred.exchange);
    // A plant without its name goes into a file that names no exchange; a minified-JSON plant into one.
    let kind = rng.pick(weighted);
    const tsKind = KINDS.find((k) => k.kind === "ts") ?? kind;
    if (plant !== undefined) {
      if (plant.format === "minified-json") kind = KINDS.find((k) => k.kind === "minjson") ?? kind;
      else if (kind.kind === "minjs" || kind.kind === "minjson" || (!plant.nearName && kind.names))
        kind = tsKind;
    }
    const oneLine = kind.kind === "minjs" || kind.kind === "minjson";
    const pool = pools.get(kind.kind) ?? [];
    const parts: Buffer[] = [];
    let size = 0;
    const target = perFile / 2 + rng.int(perFile);
    while (size < target) {
      const b = pool[rng.int(pool.length)] ?? EMPTY;
      parts.push(b);
      size += b.length;
    }
    if (kind.kind === "minjson") {
      parts.unshift(JSON_OPEN);
      parts.push(JSON_CLOSE);
    } else if (kind.kind === "lock") {
      parts.unshift(LOCK_OPEN);
      parts.push(LOCK_CLOSE);
    } else if (oneLine) parts.push(NEWLINE);
    let data: Buffer;
    if (plant !== undefined && cred !== undefined) {
      const name = plant.nearName && e !== undefined ? rng.pick(e.leaks.names) : null;
      const sn = credentialSnippet(plant.format, cred, name, rng);
      // Into the middle of the file, at a block boundary (one line in a one-line file).
      const at = 1 + rng.int(Math.max(1, parts.length - 2));
      // Plain words either side, a window wide: what else the file holds (random ids, other exchanges'
      // names) stays out of the credential's window, so the manifest says what detection should find.
      const padding = pad(kind.kind, rng, padBytes);
      let head = Buffer.concat(parts.slice(0, at)).toString("latin1") + padding;
      if (!oneLine && !head.endsWith("\n")) head += "\n";
      data = Buffer.concat([Buffer.from(head + sn.text + padding, "latin1"), ...parts.slice(at)]);
      const leaks = e?.leaks;
      planted.push({
        ...cred,
        path: filePath(i, kind.ext),
        line: oneLine ? 1 : countLines(head) + 1 + sn.keyLine,
        nearName: plant.nearName,
        format: plant.format,
        known: plant.known,
        detect: leaks === undefined ? null : expectedDetect(cred, leaks, plant.nearName),
      });
    } else data = Buffer.concat(parts);
    const path = join(options.root, filePath(i, kind.ext));
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      madeDirs.add(dir);
    }
    bytes += data.length;
    jobs.push(writeFile(path, data));
    if (jobs.length >= 64) await flush();
  }
  await flush();
  let files = fileCount;

  if (options.largeFile !== undefined) {
    const e = exs[0];
    if (e === undefined) throw new Error("largeFile needs an exchange to plant");
    const cred = { exchange: e.exchange, ...fakeCredentials({ id: e.exchange, leaks: e.leaks }, rng) };
    const written = await writeLargeFile(
      options.root,
      options.largeFile.bytes,
      cred,
      rng.pick(e.leaks.names),
      rng,
    );
    planted.push({
      ...cred,
      path: LARGE_FILE_PATH,
      line: written.line,
      nearName: true,
      format: "log",
      known: false,
      detect: expectedDetect(cred, e.leaks, true),
    });
    bytes += written.bytes;
    files++;
  }
  return { root: options.root, files, bytes, planted };
}

const LARGE_FILE_PATH = "var/log/bot.log";
const EMPTY = Buffer.alloc(0);
const NEWLINE = Buffer.from("\n");
const JSON_OPEN = Buffer.from("[");
const JSON_CLOSE = Buffer.from('{"end":true}]\n');
const LOCK_OPEN = Buffer.from('{\n  "name": "app",\n  "lockfileVersion": 3,\n  "packages": {\n');
const LOCK_CLOSE = Buffer.from('    "": {}\n  }\n}\n');

const countLines = (s: string): number => {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
};

/** 100 files a folder, in folders that look like a monorepo's. */
function filePath(i: number, ext: string): string {
  const top = ["src", "lib", "services", "packages", "scripts", "docs"][Math.floor(i / 100) % 6] ?? "src";
  return `${top}/m${Math.floor(i / 100)}/${WORDS[i % WORDS.length]}-${i}.${ext}`;
}

/** Streams a log of `bytes` with the credential's key across LARGE_FILE_BOUNDARY. */
async function writeLargeFile(
  root: string,
  bytes: number,
  cred: PlantedCredential,
  name: string,
  rng: Rng,
): Promise<{ bytes: number; line: number }> {
  if (bytes < 2 * LARGE_FILE_BOUNDARY) throw new Error("largeFile: at least 2 MiB");
  const path = join(root, LARGE_FILE_PATH);
  await mkdir(dirname(path), { recursive: true });
  const out = createWriteStream(path, { encoding: "latin1" });
  const lines = Array.from(
    { length: 200 },
    () =>
      `2025-11-20T10:${rng.int(60)}:00.000Z INFO ${rng.pick(WORDS)} ${rng.pick(WORDS)} request=${uuid(rng)} took=${rng.int(900)}ms\n`,
  );
  let written = 0;
  let line = 1;
  const write = (s: string): Promise<void> =>
    new Promise((resolve) => {
      written += s.length;
      line += countLines(s);
      if (out.write(s)) resolve();
      else out.once("drain", resolve);
    });
  const prefix = `2025-11-20T11:00:00.000Z INFO connect ${name} apiKey=`;
  const keyAt = LARGE_FILE_BOUNDARY - Math.floor(cred.key.length / 2);
  // Ordinary lines up to the credential's line, padded so the key starts at keyAt.
  while (written + 200 < keyAt - prefix.length) await write(lines[rng.int(lines.length)] ?? "\n");
  await write(`${" ".repeat(keyAt - prefix.length - written - 1)}\n`);
  const keyLine = line;
  await write(
    `${prefix}${cred.key} secret=${cred.secret ?? ""}${cred.passphrase ? ` passphrase=${cred.passphrase}` : ""}\n`,
  );
  while (written < bytes) await write(lines[rng.int(lines.length)] ?? "\n");
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  return { bytes: written, line: keyLine };
}
