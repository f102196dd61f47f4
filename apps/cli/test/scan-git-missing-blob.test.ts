/**
 * `keyward scan --git` on a repository missing a blob's object (corrupt, or a partial clone's): the blob
 * could not be read, so the scan must not call the history clean. It is counted as unreadable and named
 * at its first commit and path, in the text and in `--json` (attack review: it was passed over, "No
 * leaked key found", exit 0).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ScanReportSchema } from "@keyward/core";
import { afterAll, describe, expect, it } from "vitest";
import { desk, KEYS, parseJson, removeTempDirs, show, tempDir } from "./helpers.js";

afterAll(() => removeTempDirs());

/** A repository whose first commit held deploy/bot.env (a key id), deleted since, its blob's object gone. */
function corruptRepository(): { top: string; first: string } {
  const top = tempDir("repo-");
  mkdirSync(join(top, "deploy"));
  writeFileSync(join(top, "deploy", "bot.env"), `EXCHANGE=okx\nAPI_KEY=${KEYS.bot3.apiKey}\n`);
  writeFileSync(join(top, "README.md"), "hello\n");
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", top, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args])
      .toString()
      .trim();
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "first");
  const first = git("rev-parse", "HEAD");
  const blob = git("rev-parse", "HEAD:deploy/bot.env");
  git("rm", "-q", "deploy/bot.env");
  git("commit", "-q", "-m", "remove the key");
  rmSync(join(top, ".git", "objects", blob.slice(0, 2), blob.slice(2)));
  return { top, first };
}

describe.concurrent("scan --git: a blob git cannot give", () => {
  it("is NOT READ, named at its first commit and path; never 'No leaked key found'", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const { top, first } = corruptRepository();
    const text = await home.run(["scan", top, "--git"]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).not.toContain("No leaked key or secret found.");
    expect(text.stdout).toMatch(/NOT READ: 1 file\(s\) or blob\(s\) \(1 unreadable\)/);
    expect(text.stdout.replace(/\n\s+/g, " ")).toContain("deploy/bot.env");

    const json = await home.run(["scan", top, "--git", "--json"]);
    expect(json.code, show(json)).toBe(0);
    const report = ScanReportSchema.parse(parseJson(json));
    expect(report.stats.skipped.unreadable).toBe(1);
    expect(report.stats.skippedSources).toEqual([
      { path: "deploy/bot.env", reason: "unreadable", commit: first, repository: top },
    ]);
  });
});
