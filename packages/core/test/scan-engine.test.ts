import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isKeywardError, type KeywardError } from "../src/index.js";
import { scanSources } from "../src/scan/engine.js";
import { CHUNK_BYTES } from "../src/scan/file-scan.js";
import type { ScanEngineOptions, ScanHit, ScanProgress } from "../src/scan/scan-types.js";
import { ACME_KEY, ACME_PATTERNS, ACME_SECRET, putFile, removeDir, tempDir } from "./helpers/scan-fs.js";

// Needles as the use case gives them: key ids and (canary) secrets Keyward knows.
const KEY_UUID = "8f14e45f-ceea-467f-a0e6-1c2b3d4e5f60";
const KEY_SHORT = "Qm7xT2vLp9Rk4Wz8Nc";
const SECRET_CANARY = "CANARYSECRET0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a";
const needles = [
  { text: KEY_UUID, ref: 0 },
  { text: KEY_SHORT, ref: 1 },
  { text: SECRET_CANARY, ref: 2 },
];

const patterns = ACME_PATTERNS;

let dir: string;
beforeEach(() => {
  dir = tempDir("scan");
});
afterEach(() => removeDir(dir));

const put = (rel: string, content: string | Buffer) => putFile(dir, rel, content);

/** Ordinary source-like filler of about `bytes` bytes (lines of 40–60 bytes). */
function filler(bytes: number, seed = 1): string {
  let s = seed;
  const words = ["const", "value", "return", "account", "config", "await", "result", "index", "push"];
  const lines: string[] = [];
  let n = 0;
  while (n < bytes) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const line = `  ${words[s % 9]} item${s % 1000} = ${words[(s >> 4) % 9]}(${s % 97}, "${(s % 65536).toString(16)}");`;
    lines.push(line);
    n += line.length + 1;
  }
  return `${lines.join("\n")}\n`;
}

const run = (extra: Partial<ScanEngineOptions> = {}) =>
  scanSources({ roots: [dir], git: false, needles, patterns, workers: 1, ...extra });

const where = (h: ScanHit) => `${h.location.path}:${h.location.line}:${h.location.column}`;
const needleHits = (hits: ScanHit[]) =>
  hits.filter((h) => h.type === "needle").map((h) => `${h.type === "needle" ? h.ref : ""}@${where(h)}`);

async function caught(p: Promise<unknown>): Promise<KeywardError> {
  try {
    await p;
  } catch (e) {
    if (isKeywardError(e)) return e;
    throw e;
  }
  throw new Error("expected a KeywardError");
}

describe("scan engine: files and folders", () => {
  it("finds known needles with path, line and column, at token boundaries only", async () => {
    put("src/config.ts", `${filler(2000)}export const key = "${KEY_UUID}";\n// ${KEY_SHORT}\n`);
    put("notes/a.md", `no: x${KEY_SHORT}\nno: ${KEY_SHORT}9\nyes: (${KEY_SHORT})\n`);
    const { hits, stats } = await run();
    const lines = filler(2000).split("\n").length; // the filler's lines, plus the one after it
    expect(needleHits(hits)).toEqual([
      `1@${dir}/notes/a.md:3:7`,
      `0@${dir}/src/config.ts:${lines}:21`,
      `1@${dir}/src/config.ts:${lines + 1}:4`,
    ]);
    expect(stats.files).toBe(2);
    expect(stats.bytes).toBeGreaterThan(2000);
  });

  it("finds a needle and a credential that straddle a chunk boundary, each once", async () => {
    // The needle starts 10 bytes before the first 1 MiB chunk ends; the credential's key ends just
    // before the second chunk ends and its secret follows in the third.
    const first = "x".repeat(CHUNK_BYTES - 10 - 1);
    const middle = filler(CHUNK_BYTES - 40 - KEY_UUID.length - 2, 3);
    const cred = `acmex key ${ACME_KEY} secret ${ACME_SECRET}\n`;
    const body = `${first} ${KEY_UUID}\n${middle}${cred}${filler(3000, 4)}`;
    const path = put("big.log", body);
    const { hits } = await run();
    const needle = hits.filter((h) => h.type === "needle");
    expect(needle.map(where)).toEqual([`${path}:1:${CHUNK_BYTES - 10 + 1}`]);
    const found = hits.filter((h) => h.type === "pattern");
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      type: "pattern",
      exchange: "acmex",
      confidence: "high",
      key: ACME_KEY,
      secret: ACME_SECRET,
    });
    const keyAt = body.indexOf(ACME_KEY);
    const line = body.slice(0, keyAt).split("\n").length;
    const column = keyAt - body.lastIndexOf("\n", keyAt - 1);
    expect(where(found[0] as ScanHit)).toBe(`${path}:${line}:${column}`);
  });

  it("finds needles in a minified JSON of one long line, column in bytes", async () => {
    const items = Array.from({ length: 30_000 }, (_, i) => `{"id":${i},"name":"item-${i}","tags":["a","b"]}`);
    items.splice(25_000, 0, `{"apiKey":"${KEY_UUID}","secret":"${SECRET_CANARY}"}`);
    const json = `{"items":[${items.join(",")}]}`;
    const path = put("dist/config.min.json", json);
    expect(json.length).toBeGreaterThan(CHUNK_BYTES);
    const { hits } = await run();
    expect(needleHits(hits)).toEqual([
      `0@${path}:1:${json.indexOf(KEY_UUID) + 1}`,
      `2@${path}:1:${json.indexOf(SECRET_CANARY) + 1}`,
    ]);
  });

  it("drops pattern finds below minConfidence (default medium) where they are found", async () => {
    put("a.env", `${filler(500)}ACMEX_KEY=${ACME_KEY}\n${filler(500, 2)}`);
    const byDefault = await run();
    expect(byDefault.hits.filter((h) => h.type === "pattern")).toEqual([]);
    const low = await run({ minConfidence: "low" });
    expect(low.hits.filter((h) => h.type === "pattern")).toMatchObject([
      { exchange: "acmex", confidence: "low", key: ACME_KEY },
    ]);
    const high = await run({ minConfidence: "high" });
    expect(high.hits.filter((h) => h.type === "pattern")).toEqual([]);
  });

  it("skips binaries (unless asked), files over the cap, .git folders and excluded paths, and counts them", async () => {
    put("bin/app", Buffer.concat([Buffer.from("ELF\0\0\0"), Buffer.from(` ${KEY_UUID} `)]));
    put("large.txt", `${"y ".repeat(600)}${KEY_UUID}\n`);
    put(".git/config", `${KEY_UUID}\n`);
    put("sub/.git/objects/x", `${KEY_UUID}\n`);
    put("build/out.js", `${KEY_UUID}\n`);
    put("logs/run.log", `${KEY_UUID}\n`);
    put("keep.log.txt", `${KEY_SHORT}\n`);
    const options = { maxFileBytes: 1000, exclude: ["build/", "*.log"] };
    const { hits, stats } = await run(options);
    expect(needleHits(hits)).toEqual([`1@${dir}/keep.log.txt:1:1`]);
    expect(stats.skipped).toEqual({ tooLarge: 1, binary: 1, unreadable: 0, notRegular: 0, excluded: 2 });
    expect(stats.files).toBe(1);
    const withBinary = await run({ ...options, binary: true });
    expect(needleHits(withBinary.hits)).toEqual([`0@${dir}/bin/app:1:8`, `1@${dir}/keep.log.txt:1:1`]);
  });

  it("never follows a symbolic link and never opens a FIFO (counted as not regular)", async () => {
    const outside = tempDir("scan-outside");
    try {
      writeFileSync(join(outside, "secret.txt"), `${KEY_UUID}\n`);
      mkdirSync(join(dir, "in"));
      symlinkSync(join(outside, "secret.txt"), join(dir, "in", "link.txt"));
      symlinkSync(outside, join(dir, "in", "linkdir"));
      const fifo = spawnSync("mkfifo", [join(dir, "in", "pipe")]);
      expect(fifo.status).toBe(0);
      put("in/plain.txt", `${KEY_SHORT}\n`);
      const { hits, stats } = await run();
      expect(needleHits(hits)).toEqual([`1@${dir}/in/plain.txt:1:1`]);
      expect(stats.skipped.notRegular).toBe(3);
    } finally {
      removeDir(outside);
    }
  });

  it("counts an unreadable file and folder and goes on", async (ctx) => {
    const locked = put("locked.txt", `${KEY_UUID}\n`);
    put("shut/inner.txt", `${KEY_UUID}\n`);
    put("open.txt", `${KEY_SHORT}\n`);
    chmodSync(locked, 0o000);
    chmodSync(join(dir, "shut"), 0o000);
    if (process.getuid?.() !== 0) {
      try {
        const { hits, stats } = await run();
        expect(needleHits(hits)).toEqual([`1@${dir}/open.txt:1:1`]);
        expect(stats.skipped.unreadable).toBe(2);
      } finally {
        // Readable again, so the temp folder can be removed by a user who is not root.
        chmodSync(join(dir, "shut"), 0o755);
        chmodSync(locked, 0o644);
      }
      return;
    }
    // Root reads everything: run the built engine as `nobody` in a child process (the test task builds
    // first), where the folders up to this one and dist are readable by others.
    chmodSync(dir, 0o755);
    const engine = fileURLToPath(new URL("../dist/scan/engine.js", import.meta.url));
    const script = `const { scanSources } = await import(${JSON.stringify(engine)});
      const r = await scanSources({ roots: [${JSON.stringify(dir)}], git: false, needles: ${JSON.stringify(needles)}, patterns: [], workers: 1 });
      process.stdout.write(JSON.stringify({ hits: r.hits.map((h) => h.location.path), skipped: r.stats.skipped }));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      uid: 65534,
      gid: 65534,
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.status !== 0 && /EACCES|ERR_MODULE_NOT_FOUND|permission denied/i.test(r.stderr)) {
      ctx.skip(); // this checkout is not readable by another user
    }
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { hits: string[]; skipped: { unreadable: number } };
    expect(out.hits).toEqual([`${dir}/open.txt`]);
    expect(out.skipped.unreadable).toBe(2);
  });

  it("refuses a named file it cannot read before reading anything (a scan of nothing is not clean)", async (ctx) => {
    const locked = put("named-locked.env", `${KEY_UUID}\n`);
    chmodSync(locked, 0o000);
    const engine = fileURLToPath(new URL("../dist/scan/engine.js", import.meta.url));
    const script = `const { scanSources } = await import(${JSON.stringify(engine)});
      try { await scanSources({ roots: [${JSON.stringify(locked)}], git: false, needles: [], patterns: [], workers: 1 });
        process.stdout.write("read"); } catch (e) { process.stdout.write(e.code + ": " + e.message); }`;
    try {
      // Root reads everything: as root, run the built engine as `nobody` (as the test above does).
      chmodSync(dir, 0o755);
      const asRoot = process.getuid?.() === 0;
      const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
        encoding: "utf8",
        timeout: 60_000,
      });
      if (r.status !== 0 && /ERR_MODULE_NOT_FOUND|permission denied/i.test(r.stderr)) ctx.skip();
      expect(r.stdout).toBe(`SCAN_PATH_INVALID: ${locked} cannot be read (EACCES)`);
    } finally {
      chmodSync(locked, 0o644);
    }
  });

  it("scans a file given as a root, shown as given", async () => {
    const file = put("one.env", `KEY=${KEY_SHORT}\n`);
    const { hits } = await scanSources({ roots: [file], git: false, needles, patterns: [], workers: 1 });
    expect(needleHits(hits)).toEqual([`1@${file}:1:5`]);
    const slash = await scanSources({ roots: [`${dir}/`], git: false, needles, patterns: [], workers: 1 });
    expect(needleHits(slash.hits)).toEqual([`1@${dir}/one.env:1:5`]);
  });

  it("rejects a root that does not exist before reading anything, naming it", async () => {
    put("a.txt", `${KEY_UUID}\n`);
    const progress: ScanProgress[] = [];
    const missing = join(dir, "no-such-folder");
    const e = await caught(run({ roots: [dir, missing], onProgress: (p) => progress.push(p) }));
    expect(e.code).toBe("SCAN_PATH_INVALID");
    expect(e.message).toContain(missing);
    expect(e.hint).toBeTruthy();
    expect(progress).toEqual([]);
  });

  it("stops when aborted, with SCAN_ABORTED, and reports progress at most about ten times a second", async () => {
    for (let i = 0; i < 40; i++) put(`f/${i}.ts`, filler(100_000, i));
    const already = new AbortController();
    already.abort();
    expect((await caught(run({ signal: already.signal }))).code).toBe("SCAN_ABORTED");

    const progress: { at: number; p: ScanProgress }[] = [];
    const t0 = performance.now();
    const full = await run({ onProgress: (p) => progress.push({ at: performance.now() - t0, p }) });
    const elapsed = performance.now() - t0;
    expect(full.stats.files).toBe(40);
    expect(progress.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    for (let i = 1; i < progress.length; i++) {
      expect((progress[i]?.at ?? 0) - (progress[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(95);
    }

    const controller = new AbortController();
    let filesWhenStopped = -1;
    const e = await caught(
      run({
        signal: controller.signal,
        onProgress: (p) => {
          if (filesWhenStopped === -1) filesWhenStopped = p.files;
          controller.abort();
        },
      }),
    );
    expect(e.code).toBe("SCAN_ABORTED");
    expect(filesWhenStopped).toBeLessThan(40);
  });

  it("never puts a needle's text in an error or in progress", async () => {
    put(`dir-${KEY_SHORT.slice(0, 3)}/x.txt`, `${SECRET_CANARY}\n`);
    const seen: string[] = [];
    const { hits } = await run({ onProgress: (p) => seen.push(JSON.stringify(p)) });
    expect(needleHits(hits)).toHaveLength(1);
    expect(seen.join("\n")).not.toContain(SECRET_CANARY);
    const e = await caught(run({ roots: [join(dir, "missing")] }));
    expect(JSON.stringify(e)).not.toContain(SECRET_CANARY);
  });
});
