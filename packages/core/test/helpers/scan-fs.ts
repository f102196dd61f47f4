/**
 * Temporary trees and git repositories for the scan tests: one copy of the setup each test file used
 * to carry (a temporary folder, files written under it, git with a fixed identity).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import type { LeakPatterns } from "../../src/scan/scan-types.js";

/** A new empty folder under the system's temporary folder, named `keyward-<name>-…`. */
export const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `keyward-${name}-`));

export const removeDir = (dir: string): void => rmSync(dir, { recursive: true, force: true });

/** Writes `content` at `rel` under `root`, making its folders; returns the file's path. */
export function putFile(root: string, rel: string, content: string | Buffer): string {
  const path = join(root, rel);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
}

export type Git = (...args: string[]) => string;

/**
 * git in `cwd` with a fixed identity (no global config needed), its output trimmed. `dated`: each call
 * gets the next hour from 2026-01-01 on as author and commit date, so commits order for certain.
 */
function gitIn(cwd: string, dated = false): Git {
  let clock = 0;
  return (...args) => {
    clock++;
    const day = String(1 + Math.floor(clock / 24)).padStart(2, "0");
    const date = `2026-01-${day}T${String(clock % 24).padStart(2, "0")}:00:00Z`;
    return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      cwd,
      encoding: "utf8",
      ...(dated ? { env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } } : {}),
    }).trim();
  };
}

/** A new repository (branch main) at `dir`, made if missing; returns git in it. */
export function initRepo(dir: string, dated = false): Git {
  mkdirSync(dir, { recursive: true });
  const git = gitIn(dir, dated);
  git("init", "-q", "-b", "main");
  return git;
}

/** Commits everything in the work tree; returns the commit's hash. */
export function commitAll(git: Git, message: string): string {
  git("add", "-A");
  git("commit", "-q", "-m", message);
  return git("rev-parse", "HEAD");
}

/** A maker of temporary folders (`tempDir(name)`), all removed once the test file's tests are done. */
export function tempDirsForFile(name: string): () => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) removeDir(d);
  });
  return () => {
    const dir = tempDir(name);
    dirs.push(dir);
    return dir;
  };
}

/**
 * A made-up exchange's leak facts, as the engine takes them (data, not code): the engine tests plant its
 * key and secret; the profiles' real facts are tested with the leak corpus.
 */
export const ACME: LeakPatterns = {
  names: ["acmex"],
  key: { pattern: "AKX[0-9A-Z]{20}", minClasses: 2 },
  secret: { pattern: "[0-9a-f]{48}" },
  window: 256,
  pairWithoutName: false,
};
export const ACME_KEY = "AKX7Q2M9Z4K8T1V6B3N5P0R";
export const ACME_SECRET = "3f9a1c7e5b2d8f4a6c0e9b1d3f5a7c9e2b4d6f8a0c1e3b5d";
/** `ACME` as the engine's `patterns` option. */
export const ACME_PATTERNS = [{ exchange: "acmex", leaks: ACME }];
