import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isKeywardError, type KeywardError } from "../src/index.js";
import { scanSources } from "../src/scan/engine.js";
import { CHUNK_BYTES } from "../src/scan/file-scan.js";
import type { ScanHit } from "../src/scan/scan-types.js";
import { commitAll, type Git, initRepo, putFile, removeDir, tempDir } from "./helpers/scan-fs.js";

const KEY_DELETED = "0f8c2a9e-51b7-4d3e-9a6c-7b1e2d3f4a5b";
const KEY_BRANCH = "Zp4Rt8Wm2Xq6Kv1Nb9";
const KEY_COPIED = "c0ffee11-2222-4333-8444-555566667777";
const KEY_WORKTREE = "Hs5Jd7Lf9Qa2We4Ry6";
const KEY_BIG = "bead5eed-0000-4111-8222-333344445555";
const needles = [KEY_DELETED, KEY_BRANCH, KEY_COPIED, KEY_WORKTREE, KEY_BIG].map((text, ref) => ({
  text,
  ref,
}));

let dir: string;
let repo: string;
let git: Git;
beforeEach(() => {
  dir = tempDir("scan-git");
  repo = join(dir, "repo");
  // Increasing dates, so the order of commits is certain.
  git = initRepo(repo, true);
});
afterEach(() => removeDir(dir));

const put = (rel: string, content: string | Buffer) => putFile(repo, rel, content);
const commit = (message: string) => commitAll(git, message);

const history = (hits: ScanHit[]) =>
  hits
    .filter((h) => h.location.commit !== undefined)
    .map(
      (h) =>
        `${h.type === "needle" ? h.ref : "p"}@${h.location.path}:${h.location.line}:${h.location.column}@${h.location.commit}`,
    );

async function caught(p: Promise<unknown>): Promise<KeywardError> {
  try {
    await p;
  } catch (e) {
    if (isKeywardError(e)) return e;
    throw e;
  }
  throw new Error("expected a KeywardError");
}

describe("scan engine: git history", () => {
  it("finds keys only history holds, with the first commit, on every ref, once per path; and the work tree too", async () => {
    put("README.md", "hello\n");
    put("config/secret.env", `# bot\nAPI_KEY=${KEY_DELETED}\n`);
    const added = commit("add config");
    put("config/secret.env", "# moved to the vault\n");
    commit("remove key");
    put("a/keys.txt", `copied ${KEY_COPIED}\n`);
    const copiedFirst = commit("a");
    put("b/keys.txt", `copied ${KEY_COPIED}\n`); // the same blob at a second path, later
    const copiedSecond = commit("b");
    git("checkout", "-q", "-b", "side");
    put("side.txt", `\n\n  ${KEY_BRANCH}\n`);
    const onSide = commit("side only");
    git("checkout", "-q", "main");
    put("work.txt", `${KEY_WORKTREE}\n`); // not committed: only the work tree has it

    const { hits, stats } = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
    });
    expect(history(hits).sort()).toEqual(
      [
        `0@config/secret.env:2:9@${added}`,
        `1@side.txt:3:3@${onSide}`,
        `2@a/keys.txt:1:8@${copiedFirst}`,
        `2@b/keys.txt:1:8@${copiedSecond}`,
      ].sort(),
    );
    const deleted = hits.find((h) => h.location.commit === added);
    expect(deleted?.location.repository).toBe(repo);
    expect(deleted?.location.commitDate).toMatch(/^2026-01-0\dT/);
    // The work tree: read as files (the key in work.txt, the copies on main's checkout).
    const files = hits.filter((h) => h.location.commit === undefined).map((h) => h.location.path);
    expect(files).toEqual([`${repo}/a/keys.txt`, `${repo}/b/keys.txt`, `${repo}/work.txt`]);
    expect(stats.commits).toBe(5);
    expect(stats.blobs).toBeGreaterThanOrEqual(5);
  });

  it("streams large and many blobs: a needle across a 1 MiB boundary inside a blob, binaries and the size cap apply", async () => {
    const big = `${"z".repeat(CHUNK_BYTES - 5)} ${KEY_BIG}\n${"w\n".repeat(300_000)}`;
    put("big.txt", big);
    put("blob.bin", Buffer.concat([Buffer.from([0, 1, 2]), Buffer.from(` ${KEY_BIG} `)]));
    for (let i = 0; i < 200; i++) put(`many/${i}.txt`, `file ${i}\n${"v".repeat(i * 10)}\n`);
    const c = commit("big");
    git("rm", "-q", "big.txt", "blob.bin");
    commit("gone");
    const { hits, stats } = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
    });
    expect(history(hits)).toEqual([`4@big.txt:1:${CHUNK_BYTES - 3}@${c}`]);
    expect(stats.skipped.binary).toBe(1);
    const capped = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
      maxFileBytes: CHUNK_BYTES,
    });
    expect(history(capped.hits)).toEqual([]);
    expect(capped.stats.skipped.tooLarge).toBe(1);
  });

  it("counts and names a blob whose object is gone (a corrupt repository) as not read, at its first commit", async () => {
    put("README.md", "hello\n");
    put("config/secret.env", `API_KEY=${KEY_DELETED}\n`);
    const added = commit("add config");
    const blob = git("rev-parse", `${added}:config/secret.env`);
    git("rm", "-q", "config/secret.env");
    commit("remove it");
    // The loose object file deleted: git still lists the blob in history, but cannot give its content.
    rmSync(join(repo, ".git", "objects", blob.slice(0, 2), blob.slice(2)));
    const { hits, stats } = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
    });
    expect(history(hits)).toEqual([]);
    expect(stats.skipped.unreadable).toBe(1);
    expect(stats.skippedSources).toEqual([
      { path: "config/secret.env", reason: "unreadable", commit: added, repository: repo },
    ]);
  });

  it("stops reading history when aborted, with SCAN_ABORTED", async () => {
    for (let i = 0; i < 3; i++) {
      put(`f${i}.txt`, `${"line of text\n".repeat(2000)}${i}\n`);
      commit(`c${i}`);
    }
    const controller = new AbortController();
    let phase = "";
    const run = scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === "history") {
          phase = p.phase;
          controller.abort();
        }
      },
    });
    await expect(run).rejects.toMatchObject({ code: "SCAN_ABORTED" });
    expect(phase).toBe("history");
  });

  it("applies exclude to the paths in history too", async () => {
    put("vendor/lib/k.txt", `${KEY_DELETED}\n`);
    put("src/k.txt", `${KEY_COPIED}\n`);
    const c = commit("two");
    git("rm", "-q", "-r", "vendor", "src");
    commit("gone");
    const { hits, stats } = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
      exclude: ["vendor/"],
    });
    expect(history(hits)).toEqual([`2@src/k.txt:1:1@${c}`]);
    expect(stats.skipped.excluded).toBe(1);
  });

  it("uses the top level of a repository a root is inside, and leaves a folder in none alone", async () => {
    put("deep/er/x.txt", `${KEY_DELETED}\n`);
    const c = commit("x");
    rmSync(join(repo, "deep/er/x.txt"));
    const inside = await scanSources({
      roots: [join(repo, "deep")],
      git: true,
      needles,
      patterns: [],
      workers: 1,
    });
    expect(history(inside.hits)).toEqual([`0@deep/er/x.txt:1:1@${c}`]);
    const plain = tempDir("scan-plain");
    try {
      writeFileSync(join(plain, "y.txt"), `${KEY_DELETED}\n`);
      const none = await scanSources({ roots: [plain], git: true, needles, patterns: [], workers: 1 });
      expect(none.hits.map((h) => h.location.path)).toEqual([`${plain}/y.txt`]);
      expect(none.stats.commits).toBe(0);
    } finally {
      removeDir(plain);
    }
  });

  it("reads a bare repository's history (a mirror of the leaked one)", async () => {
    put("k.txt", `${KEY_DELETED}\n`);
    const c = commit("k");
    rmSync(join(repo, "k.txt"));
    commit("gone");
    const bare = join(dir, "mirror.git");
    execFileSync("git", ["clone", "-q", "--mirror", repo, bare]);
    const { hits } = await scanSources({ roots: [bare], git: true, needles, patterns: [], workers: 1 });
    expect(history(hits)).toEqual([`0@k.txt:1:1@${c}`]);
    expect(hits.find((h) => h.location.commit)?.location.repository).toBe(bare);
  });

  it("an empty repository has no history and is no error", async () => {
    const { hits, stats } = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
    });
    expect(hits).toEqual([]);
    expect(stats.commits).toBe(0);
  });

  it("runs nothing a scanned repository's config names (signature program, pager, fsmonitor, hooks, diff drivers)", async () => {
    const marker = join(dir, "pwned");
    const evil = join(dir, "evil.sh");
    writeFileSync(evil, `#!/bin/sh\ntouch ${marker}\n`);
    chmodSync(evil, 0o755);
    put("k.txt", `${KEY_DELETED}\n`);
    const first = commit("k");
    // A commit carrying a (fake) signature: with log.showSignature, `git log` runs gpg.program on it.
    const tree = git("rev-parse", "HEAD^{tree}");
    const signedText =
      `tree ${tree}\nparent ${first}\nauthor t <t@example.com> 1767225600 +0000\n` +
      "committer t <t@example.com> 1767225600 +0000\n" +
      "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nsigned\n";
    writeFileSync(join(dir, "commit.txt"), signedText);
    const signed = git("hash-object", "-t", "commit", "-w", join(dir, "commit.txt"));
    git("update-ref", "refs/heads/signed", signed);
    for (const [k, v] of [
      ["log.showSignature", "true"],
      ["gpg.program", evil],
      ["core.pager", evil],
      ["pager.log", evil],
      ["core.fsmonitor", evil],
      ["core.hooksPath", dir],
      ["diff.external", evil],
      ["diff.evil.textconv", evil],
      ["core.sshCommand", evil],
      ["credential.helper", `!${evil}`],
    ] as const) {
      git("config", k, v);
    }
    put(".git/info/attributes", "* diff=evil\n");
    // The trap is live: a plain `git log` of this repository runs the program.
    execFileSync("git", ["log", "--all", "--raw"], { cwd: repo, stdio: "ignore" });
    expect(existsSync(marker)).toBe(true);
    rmSync(marker);
    const { hits, stats } = await scanSources({
      roots: [repo],
      git: true,
      needles,
      patterns: [],
      workers: 1,
    });
    expect(history(hits)).toEqual([`0@k.txt:1:1@${first}`]);
    expect(stats.commits).toBe(2);
    expect(existsSync(marker)).toBe(false);
  });

  it("explains git's refusal of a repository owned by another user", async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    put("x.txt", "x\n");
    commit("x");
    const chown = spawnSync("chown", ["-R", "12345:12345", repo]);
    expect(chown.status).toBe(0);
    const e = await caught(scanSources({ roots: [repo], git: true, needles, patterns: [], workers: 1 }));
    expect(e.code).toBe("SCAN_GIT_FAILED");
    expect(e.message).toContain("owned by another user");
    expect(e.hint).toContain("Scan as that user");
  });

  it("says so when git is missing", async () => {
    put("x.txt", "x\n");
    commit("x");
    const path = process.env.PATH;
    process.env.PATH = join(dir, "no-bin");
    try {
      const e = await caught(scanSources({ roots: [repo], git: true, needles, patterns: [], workers: 1 }));
      expect(e.code).toBe("SCAN_GIT_FAILED");
      expect(e.message).toContain("git is not installed");
    } finally {
      process.env.PATH = path;
    }
  });
});
