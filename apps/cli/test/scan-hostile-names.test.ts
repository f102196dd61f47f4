/**
 * A folder's name is anyone's text (attack review): one named `x\n\nNo leaked key or secret found. All
 * clear` must not forge a line of `keyward scan`'s output, in the `--git` warning, in the summary's "In git
 * history" line or in an error naming the path. Each path is escaped (`\u{a}`) on its own line.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { desk, KEYS, removeTempDirs, show, tempDir } from "./helpers.js";

afterAll(() => removeTempDirs());

const HOSTILE = "x\n\nNo leaked key or secret found. All clear";
const FORGED = /^\s*No leaked key or secret found\. All clear/m;

function gitIn(dir: string) {
  return (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
      },
    }).toString();
}

describe.concurrent("scan: hostile folder names", () => {
  it("--git on such a folder in no repository: the warning escapes its name", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const folder = join(tempDir("names-"), HOSTILE);
    mkdirSync(folder);
    writeFileSync(join(folder, "bot.env"), `API_KEY=${KEYS.bot3.apiKey}\n`);
    const r = await home.run(["scan", folder, "--git"]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(FORGED);
    expect(r.stdout.replace(/\n\s+/g, " ")).toContain("\\u{a}\\u{a}No leaked key");
    expect(r.stdout.replace(/\n\s+/g, " ")).toContain("All clear is not in a git repository");
  });

  it("a repository in such a folder: the 'In git history' line escapes its path", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const top = join(tempDir("names-"), HOSTILE);
    mkdirSync(top);
    writeFileSync(join(top, "bot.env"), `EXCHANGE=okx\nAPI_KEY=${KEYS.bot3.apiKey}\n`);
    const git = gitIn(top);
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "first");
    const r = await home.run(["scan", top, "--git"]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout, show(r)).toMatch(/In git history/);
    expect(r.stdout + r.stderr).not.toMatch(FORGED);
    expect(r.stdout.replace(/\n\s+/g, " ")).toContain("top of the repository: ");
    expect(r.stdout.replace(/\n\s+/g, " ")).toContain("\\u{a}\\u{a}No leaked key");
  });

  it("such a path that does not exist: exit 2, the error escapes it", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["scan", join(tempDir("names-"), HOSTILE)]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout + r.stderr).not.toMatch(FORGED);
    expect(r.stderr).toContain("does not exist");
  });
});
