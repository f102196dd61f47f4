/**
 * `keyward scan`'s table lists every place a key was found, one per line under its row (up to 20, then how
 * many more, all of them in --json), within 120 columns; never "+N more" alone.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { desk, KEYS, removeTempDirs, shortKey, show, tempDir } from "./helpers.js";

afterAll(() => removeTempDirs());

/** A folder with the key id in each of `files` files, srv/bot-00.env, srv/bot-01.env, … */
function tree(files: number): string {
  const root = tempDir("tree-");
  mkdirSync(join(root, "srv"));
  for (let i = 0; i < files; i++) {
    writeFileSync(
      join(root, "srv", `bot-${String(i).padStart(2, "0")}.env`),
      `OKX_API_KEY=${KEYS.bot1.apiKey}\n`,
    );
  }
  return root;
}

describe.concurrent("scan: every place in the table", () => {
  it("a key in 3 files: each place on its own line, no blank line, no '+N more'", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = tree(3);
    const r = await home.run(["scan", root]);
    expect(r.code, show(r)).toBe(1);
    const lines = r.stdout.split("\n");
    const row = lines.findIndex((l) => l.includes(shortKey(KEYS.bot1.apiKey)));
    expect(lines.slice(row + 1, row + 4).map((l) => l.trim())).toEqual([
      `${root}/srv/bot-00.env:1:13`,
      `${root}/srv/bot-01.env:1:13`,
      `${root}/srv/bot-02.env:1:13`,
    ]);
    expect(r.stdout).not.toMatch(/\+\d+ more/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
  });

  it("a key in 23 files: the first 20 places, then how many more", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const root = tree(23);
    const r = await home.run(["scan", root]);
    expect(r.code, show(r)).toBe(1);
    for (let i = 0; i < 20; i++)
      expect(r.stdout).toContain(`${root}/srv/bot-${String(i).padStart(2, "0")}.env:1:13`);
    expect(r.stdout).not.toContain(`${root}/srv/bot-20.env`);
    expect(r.stdout).toMatch(/… and 3 more place\(s\) \(--json lists them all\)/);
  });
});
