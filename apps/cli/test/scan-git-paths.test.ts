/**
 * `keyward scan --git` on a subfolder of a repository: the whole history is read and its places are paths
 * from the repository's top, in the text (which says so) and in SARIF (under a base for the repository's
 * top, REPO1, whose absolute URI is given). --git on a folder in no repository says so.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { desk, KEYS, parseJson, removeTempDirs, show, tempDir } from "./helpers.js";

afterAll(() => removeTempDirs());

/** A repository whose first commit holds deploy/bot.env (a key id) and app/main.ts; the second deletes the env file. */
function repository(): { top: string; first: string } {
  const top = tempDir("repo-");
  mkdirSync(join(top, "deploy"));
  mkdirSync(join(top, "app"));
  writeFileSync(join(top, "deploy", "bot.env"), `EXCHANGE=okx\nAPI_KEY=${KEYS.bot3.apiKey}\n`);
  writeFileSync(join(top, "app", "main.ts"), "export const answer = 42;\n");
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", top, ...args], {
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@example.com",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@example.com",
      },
    })
      .toString()
      .trim();
  git("init", "-q");
  git("add", "-A");
  git("commit", "-q", "-m", "first");
  const first = git("rev-parse", "HEAD");
  git("rm", "-q", "deploy/bot.env");
  git("commit", "-q", "-m", "remove the key");
  return { top, first };
}

interface SarifLog {
  runs: {
    originalUriBaseIds: Record<string, { uri?: string }>;
    results: {
      locations: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[];
    }[];
    invocations: { toolExecutionNotifications?: { message: { text: string } }[] }[];
  }[];
}

describe.concurrent("scan --git: paths", () => {
  it("a subfolder: history places are from the repository's top, in the text and in SARIF", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const { top, first } = repository();
    const text = await home.run(["scan", join(top, "app"), "--git"]);
    expect(text.code, show(text)).toBe(1);
    expect(text.stdout).toContain(`deploy/bot.env@${first.slice(0, 8)}`);
    expect(text.stdout).toMatch(
      /In git history \(path@commit\), paths are from the top of the repository:\s+(\S+)/,
    );
    expect(text.stdout.replace(/\n\s+/g, " ")).toContain(`paths are from the top of the repository: ${top}`);

    const sarif = await home.run(["scan", join(top, "app"), "--git", "--sarif"]);
    expect(sarif.code, show(sarif)).toBe(1);
    const run = parseJson<SarifLog>(sarif).runs[0];
    const where = run?.results[0]?.locations[0]?.physicalLocation.artifactLocation;
    expect(where).toEqual({ uri: "deploy/bot.env", uriBaseId: "REPO1" });
    expect(run?.originalUriBaseIds.REPO1?.uri).toBe(`${pathToFileURL(top).href}/`);
  });

  it("a folder in no repository: the warning names it; its files are still read", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const plain = tempDir("plain-");
    writeFileSync(join(plain, "bot.env"), `API_KEY=${KEYS.bot3.apiKey}\n`);
    const r = await home.run(["scan", plain, "--git"]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout.replace(/\n\s+/g, " ")).toContain(
      `WARNING: --git: ${plain} is not in a git repository: its files were read, it has no history`,
    );
    expect(r.stdout).toContain(`${plain}/bot.env:1:9`);
  });
});
