/**
 * Without Chromium the browser tests are skipped; the run must say so in one clear line (with how to
 * enable them), so a green run without them is never mistaken for one with them. The browser suite is
 * run here by vitest itself, pointed at a Chromium that does not exist.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const WEB = fileURLToPath(new URL("..", import.meta.url));
const VITEST = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs");

describe("without Chromium", () => {
  it("the browser tests are skipped with one line saying so and how to enable them", () => {
    const missing = "/nonexistent/keyward-test/chromium";
    const r = spawnSync(
      process.execPath,
      // Only the default reporter: the JSON report CI sums belongs to the outer run.
      [VITEST, "run", "test/e2e.test.ts", "--reporter=default", "--color=false"],
      {
        cwd: WEB,
        env: { ...process.env, KEYWARD_TEST_CHROMIUM: missing, CI: "true" },
        encoding: "utf8",
        timeout: 120_000,
      },
    );
    const out = `${r.stdout}\n${r.stderr}`;
    expect(r.status, out).toBe(0);
    const notes = out.split("\n").filter((l) => l.includes("Browser tests SKIPPED"));
    expect(notes, out).toHaveLength(1);
    expect(notes[0]).toContain(missing);
    expect(notes[0]).toContain("apt-get install chromium");
    expect(out).toMatch(/skipped/);
  });
});
