/**
 * Files whose size says nothing of their content (attack review): Linux's /proc files report size 0, so
 * a read that stopped at the size fstat gave read only the first chunk of /proc/<pid>/environ and the
 * scan said clean. The engine reads until a read returns nothing.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { statSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { scanSources } from "../src/scan/engine.js";
import { CHUNK_BYTES } from "../src/scan/file-scan.js";
import { ACME_KEY, ACME_PATTERNS, ACME_SECRET } from "./helpers/scan-fs.js";

let child: ChildProcess | undefined;
afterEach(() => {
  if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid);
  child = undefined;
});

describe.runIf(process.platform === "linux")("scan engine: a file whose size is not its length", () => {
  it("finds a key past the first chunk of /proc/<pid>/environ (size 0)", async () => {
    // Over 1 MiB of environment before the planted key: Linux allows 128 KiB per variable, so twelve.
    const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
    for (let i = 0; i < 12; i++) env[`FILLER_${i}`] = "x".repeat(100 * 1024);
    env.ZZ_LEAK = `acmex key ${ACME_KEY} secret ${ACME_SECRET}`;
    // spawn returns once the child has exec'd: its environ is the one given here from then on.
    child = spawn("sleep", ["60"], { env, stdio: "ignore" });
    const environ = `/proc/${child.pid}/environ`;
    expect(statSync(environ).size).toBe(0);

    const { hits, stats } = await scanSources({
      roots: [environ],
      git: false,
      needles: [],
      patterns: ACME_PATTERNS,
      workers: 1,
      binary: true, // the environment's variables are NUL-separated
    });
    expect(stats.bytes).toBeGreaterThan(CHUNK_BYTES);
    expect(hits.map((h) => (h.type === "pattern" ? [h.key, h.secret] : h.ref))).toEqual([
      [ACME_KEY, ACME_SECRET],
    ]);
  });
});
