/**
 * `keyward scan` never calls a scan clean that did not read everything: a file over the size cap met in
 * a folder walk, a binary file and an unreadable one are named in the warnings, the JSON report and the
 * SARIF log, and the summary says what was not read and how to read it. A file named on the command line
 * is read whatever its size. Large files are sparse (ftruncate): cheap to make, and only the named one is
 * read.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ScanReportSchema } from "@keyward/core";
import { afterAll, describe, expect, it } from "vitest";
import { desk, KEYS, parseJson, removeTempDirs, shortKey, show, tempDir } from "./helpers.js";
import { sarifValidator } from "./scan-fixtures.js";

afterAll(() => removeTempDirs());

const MIB = 1024 * 1024;

/** A text file with a key id on its first line, then text to 16 KiB, then (sparse) zeros up to `size`. */
function largeFile(path: string, apiKey: string, size: number): void {
  const head = `API_KEY=${apiKey}\n`;
  const text = head + "# log line, nothing secret here\n".repeat(Math.ceil((16 * 1024) / 32));
  const fd = openSync(path, "w");
  try {
    writeSync(fd, text);
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

/** A folder with an ordinary file, a 65 MiB log (the key at its start) and `binaries` small binary files. */
function folder(binaries = 0): string {
  const root = tempDir("tree-");
  mkdirSync(join(root, "src"));
  writeFileSync(join(root, "src", "main.ts"), "export const answer = 42;\n");
  largeFile(join(root, "dump.log"), KEYS.bot1.apiKey, 65 * MIB);
  if (binaries > 0) mkdirSync(join(root, "bin"));
  for (let i = 0; i < binaries; i++) {
    writeFileSync(join(root, "bin", `blob${String(i).padStart(2, "0")}.bin`), Buffer.from([0x7f, 0, 1, 2]));
  }
  return root;
}

describe.concurrent("scan: content not read", () => {
  it("a folder walk skips a 65 MiB file (default cap): exit 0, but the text names it and never says clean", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = folder();
    const r = await home.run(["scan", root]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).not.toContain("No leaked key or secret found.");
    expect(r.stdout).toMatch(
      /No leaked key or secret found in what was read, but 1 file\(s\) or blob\(s\) were NOT/,
    );
    expect(r.stdout).toMatch(/NOT READ: 1 file\(s\) or blob\(s\) \(1 too large\)/);
    expect(r.stdout).toMatch(/raise --max-file-size \(e\.g\. --max-file-size 1G\) or name the file itself\./);
    expect(r.stdout.replace(/\n\s+/g, " ")).toContain(`WARNING: 1 file(s) or blob(s) were not read`);
    expect(r.stdout.replace(/\n\s+/g, " ")).toContain(`${root}/dump.log (too large, 65.0 MB)`);
    for (const line of r.stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(120);
  });

  it("the same file named on the command line is read whatever its size: its key is found", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = folder();
    const r = await home.run(["scan", join(root, "dump.log"), "--max-file-size", "1M"]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toContain(shortKey(KEYS.bot1.apiKey));
    expect(r.stdout).toContain(`${root}/dump.log:1:9`);
    expect(r.stdout).not.toContain("NOT READ");
  });

  it("--json lists what was not read; more than 20 are named in the warning as the first 20 and N more", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = folder(24);
    const r = await home.run(["scan", root, "--json"]);
    expect(r.code, show(r)).toBe(0);
    const report = ScanReportSchema.parse(parseJson(r));
    expect(report.stats.skipped).toMatchObject({ tooLarge: 1, binary: 24 });
    expect(report.stats.skippedSources).toContainEqual({
      path: `${root}/dump.log`,
      reason: "tooLarge",
      bytes: 65 * MIB,
    });
    expect(report.stats.skippedSources).toContainEqual({ path: `${root}/bin/blob00.bin`, reason: "binary" });
    const warning = report.warnings.find((w) => w.includes("were not read"));
    expect(warning).toMatch(/^25 file\(s\) or blob\(s\) were not read/);
    expect(warning).toMatch(/ and 5 more$/);
    expect(r.stderr).toContain("keyward: warning: 25 file(s) or blob(s) were not read");
  });

  it("--sarif: each file not read is a tool execution notification at its place", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = folder(1);
    const r = await home.run(["scan", root, "--sarif"]);
    expect(r.code, show(r)).toBe(0);
    interface Notification {
      level: string;
      message: { text: string };
      locations?: { physicalLocation: { artifactLocation: { uri: string; uriBaseId?: string } } }[];
    }
    const log = parseJson<{ runs: { invocations: { toolExecutionNotifications: Notification[] }[] }[] }>(r);
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    const notes = log.runs[0]?.invocations[0]?.toolExecutionNotifications ?? [];
    const large = notes.find((n) => n.locations?.[0]?.physicalLocation.artifactLocation.uri === "dump.log");
    expect(large, JSON.stringify(notes)).toMatchObject({ level: "warning" });
    expect(large?.message.text).toMatch(/Not read.*larger than the size cap/);
    expect(large?.locations?.[0]?.physicalLocation.artifactLocation.uriBaseId).toBe("ROOT1");
    const bin = notes.find(
      (n) => n.locations?.[0]?.physicalLocation.artifactLocation.uri === "bin/blob00.bin",
    );
    expect(bin?.message.text).toMatch(/looks binary \(keyward scan --binary reads it\)/);
  });
});
