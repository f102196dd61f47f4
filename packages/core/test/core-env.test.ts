/**
 * Core reads no environment variable: each app reads its environment in one module and passes what
 * it found as options (the scan's test knobs were `KEYWARD_SCAN_*` variables read deep in the engine;
 * they are ScanEngineOptions now). Handing the whole environment on to a child process (git, a
 * rotation target's command) is not reading it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) ? [path] : [];
  });
}

describe("core and the environment", () => {
  it("no source in packages/core/src reads a variable of process.env", () => {
    const read = /process\.env\s*[.[]|\}\s*=\s*process\.env\b/;
    const found: string[] = [];
    const files = sources(join(ROOT, "src"));
    for (const file of files) {
      readFileSync(file, "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (read.test(line)) found.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(files.length).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });
});
