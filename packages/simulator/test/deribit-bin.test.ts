/**
 * `keyward-sim` (as built, dist/bin.js) with a Deribit section: the ready line gains `"deribit": URL`
 * (after Bybit's, before the control API), `--deribit-port` is a flag, and the listener answers.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DR_ADMIN, deribitCall, deribitScenario, resultOf } from "./deribit-helpers.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "deribit-bin-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the binary until its first stdout line (the ready line), then stops it. */
function readyLine(args: string[]): Promise<{ line: string; stop: () => void }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString("utf8");
    });
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const nl = out.indexOf("\n");
      if (nl !== -1) resolve({ line: out.slice(0, nl), stop: () => child.kill("SIGTERM") });
    });
    child.on("exit", (code) => reject(new Error(`exited ${code} before ready: ${err}`)));
  });
}

describe("keyward-sim with Deribit", () => {
  it('prints "deribit": URL in the ready line, in registry order, and the listener answers', async () => {
    const file = join(dir, "scenario.json");
    writeFileSync(file, JSON.stringify(deribitScenario()));
    const { line, stop } = await readyLine(["--scenario", file, "--deribit-port", "0"]);
    try {
      const urls = JSON.parse(line) as Record<string, unknown>;
      expect(Object.keys(urls)).toEqual(["okx", "bitfinex", "bybit", "deribit", "control", "okxRegions"]);
      expect(urls.deribit).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const r = await deribitCall(urls.deribit as string, "private/get_account_summary", DR_ADMIN, {
        params: { currency: "BTC" },
      });
      expect(resultOf(r)).toMatchObject({ username: "desk_delta" });
    } finally {
      stop();
    }
  });

  it("--help names the --deribit-port flag and Deribit v2", async () => {
    const child = spawn(process.execPath, [BIN, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString("utf8");
    });
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(out).toContain("--deribit-port N");
    expect(out).toContain("Deribit v2");
    expect(out).toContain('"deribit":URL');
  });
});
