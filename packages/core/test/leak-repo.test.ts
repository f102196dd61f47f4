/**
 * The history generator for `keyward scan --git`'s tests and bench (src/testing/leak-repo.ts), checked
 * with git itself, independent of the scan engine: the commits are there, each planted key is in the
 * blob the manifest names, at the path and commit it names, reachable only the way its placement says.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXCHANGE_PROFILES } from "../src/index.js";
import {
  fakeCredentials,
  generateLeakRepo,
  type LeakRepoCredential,
  seededRng,
} from "../src/testing/index.js";
import { tempDirsForFile } from "./helpers/scan-fs.js";

const root = tempDirsForFile("leak-repo")();

const git = (dir: string, ...args: string[]) => {
  const r = spawnSync("git", args, { cwd: dir, encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout.trim() };
};

/** Two credentials per exchange (one known, one unknown), realistic (fakeCredentials), each placement at least once. */
const rng = seededRng(1515);
const plant: LeakRepoCredential[] = EXCHANGE_PROFILES.filter((p) => p.leaks).flatMap((profile, e) =>
  (["known", "unknown"] as const).map((kind, k) => ({
    exchange: profile.id,
    kind,
    ...fakeCredentials(profile, rng),
    nearName: (e + k) % 2 === 0,
  })),
);

describe("generateLeakRepo", () => {
  const dir = join(root, "repo");
  // How fast it builds is the scan bench's to measure (bench/src/scan.ts): a wall-clock budget here failed
  // whenever other work loaded the machine.
  const manifest = generateLeakRepo({ dir, commits: 200, seed: 15, plant });

  it("builds main's commits, one more per side-branch or tagged credential, and git finds the repository sound", () => {
    expect(git(dir, "rev-list", "--count", "refs/heads/main").out).toBe("200");
    const sides = manifest.planted.filter((p) => p.placement === "branch" || p.placement === "tag").length;
    expect(manifest.totalCommits).toBe(200 + sides);
    expect(git(dir, "rev-list", "--count", "--all").out).toBe(String(200 + sides));
    expect(git(dir, "rev-parse", "refs/heads/main").out).toBe(manifest.head);
    expect(git(dir, "fsck", "--no-progress").ok).toBe(true);
  });

  it("puts each planted key in the blob, commit and path the manifest names", () => {
    expect(plant.length).toBeGreaterThanOrEqual(8);
    expect(manifest.planted).toHaveLength(plant.length);
    expect(new Set(manifest.planted.map((p) => p.placement))).toEqual(
      new Set(["deleted", "branch", "tag", "tree"]),
    );
    for (const p of manifest.planted) {
      const blob = git(dir, "cat-file", "blob", p.blob);
      expect(blob.ok).toBe(true);
      expect(blob.out).toContain(p.key);
      // The commit that added it holds that blob at that path; its parent does not have the path.
      expect(git(dir, "rev-parse", `${p.commit}:${p.path}`).out).toBe(p.blob);
      expect(git(dir, "cat-file", "-e", `${p.commit}~1:${p.path}`).ok).toBe(false);
      expect(git(dir, "merge-base", "--is-ancestor", p.commit, p.ref).ok).toBe(true);
    }
  });

  it("reaches each placement only the way it says: deleted files only from history, branches and tags off main", () => {
    const refs = manifest.refs;
    for (const p of manifest.planted) {
      const inHead = git(dir, "cat-file", "-e", `refs/heads/main:${p.path}`).ok;
      const onMain = git(dir, "merge-base", "--is-ancestor", p.commit, "refs/heads/main").ok;
      if (p.placement === "tree") expect([inHead, onMain, p.ref]).toEqual([true, true, "refs/heads/main"]);
      if (p.placement === "deleted") {
        expect([inHead, onMain]).toEqual([false, true]);
        expect(git(dir, "cat-file", "-e", `${p.deletedIn}:${p.path}`).ok).toBe(false);
        expect(git(dir, "cat-file", "-e", `${p.deletedIn}~1:${p.path}`).ok).toBe(true);
      }
      if (p.placement === "branch") {
        expect([inHead, onMain]).toEqual([false, false]);
        expect(p.ref).toMatch(/^refs\/heads\/experiment\//);
      }
      if (p.placement === "tag") {
        expect([inHead, onMain]).toEqual([false, false]);
        expect(p.ref).toMatch(/^refs\/tags\/v/);
        expect(git(dir, "cat-file", "-t", p.ref).out).toBe("tag");
        // No branch reaches a tagged credential: only the tag does.
        expect(git(dir, "branch", "--contains", p.commit).out).toBe("");
      }
      expect(refs).toContain(p.ref);
    }
  });

  it("writes the exchange's name next to a credential only where asked", () => {
    for (const p of manifest.planted) {
      const c = plant.find((x) => x.key === p.key);
      // The text around the credential, without the credential's own random tokens.
      let text = git(dir, "cat-file", "blob", p.blob).out;
      for (const token of [c?.key, c?.secret, c?.passphrase]) if (token) text = text.replaceAll(token, "");
      const names = EXCHANGE_PROFILES.find((x) => x.id === p.exchange)?.leaks?.names ?? [];
      expect(names.length).toBeGreaterThan(0);
      const named = names.some((n) => text.toLowerCase().includes(n));
      expect([p.key, named]).toEqual([p.key, p.nearName]);
    }
  });

  it("is deterministic: the same options give the same commits", () => {
    const again = generateLeakRepo({ dir: join(root, "again"), commits: 200, seed: 15, plant });
    expect(again.head).toBe(manifest.head);
    expect(again.planted).toEqual(manifest.planted.map((p) => ({ ...p })));
    const other = generateLeakRepo({ dir: join(root, "other"), commits: 200, seed: 16, plant });
    expect(other.head).not.toBe(manifest.head);
  });

  it("refuses a folder that is not empty", () => {
    expect(() => generateLeakRepo({ dir, commits: 20, seed: 1, plant: [] })).toThrow(/not empty/);
  });
});
