/**
 * Every table a person reads fits a 120-column terminal when stdout is not one (pipes, CI, these tests):
 * `keys`, the revoke plan and summary, `account list`/`account check`, `rotate plan`/`status`, `key track`.
 * Long detail (risks with notes, expiry, evidence) goes to a second indented line or to --json.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { BFX_ACCOUNT, credentialsJson, desk, KEYS, type RunResult, removeTempDirs, show } from "./helpers.js";

afterAll(() => removeTempDirs());

/**
 * The lines of every table in the output (a header, its rule of dashes, its rows and their detail lines,
 * up to a blank line) that are wider than 120 columns; for `keys`, of the whole output.
 */
function tooWide(r: RunResult, whole: boolean): string[] {
  const lines = `${r.stdout}\n${r.stderr}`.split("\n");
  const inTables = whole
    ? lines
    : lines.filter((_, i) => {
        let start = i;
        while (start > 0 && lines[start] !== "" && !/^-+( +-+)+$/.test(lines[start] ?? "")) start--;
        return /^-+( +-+)+$/.test(lines[start] ?? "") || /^-+( +-+)+$/.test(lines[i + 1] ?? "");
      });
  return inTables.filter((line) => [...line].length > 120);
}

describe("CLI tables fit 120 columns", () => {
  it("keys, revoke, account, rotate and key track on the test desk", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const dir = mkdtempSync(join(tmpdir(), "kw-width-"));
    const plan = join(dir, "plan.json");
    const runs: [string, RunResult][] = [];
    const run = async (args: string[], codes = [0], input?: string) => {
      const r = await home.run(args, input === undefined ? {} : { input });
      expect(codes, `${args.join(" ")}${show(r)}`).toContain(r.code);
      runs.push([args.join(" "), r]);
      return r;
    };
    await run(
      ["key", "track", BFX_ACCOUNT, "--label", KEYS.bfxUntracked.label, "--credentials-stdin"],
      [0],
      credentialsJson(KEYS.bfxUntracked),
    );
    await run(["keys"]);
    await run(["account", "list"]);
    await run(["account", "check"], [0, 1]);
    await run(["revoke", "--all", "--dry-run"]);
    await run([
      "rotate",
      "plan",
      "--label",
      "bot-*",
      "--deliver",
      `dotenv:${join(dir, "bots.env")}#{label}`,
      "-o",
      plan,
    ]);
    await run(["rotate", "plan", "--label", "bot-*", "--deliver", `dotenv:${join(dir, "bots.env")}#{label}`]);
    await run(["rotate", "apply", plan, "--grace", "0s"], [0, 1]);
    await run(["rotate", "status"], [0, 1]);
    await run(["revoke", "--all", "--yes", "--no-wait"], [0, 1, 3]);
    await run(["keys"], [0, 1]);
    const wide = runs.flatMap(([args, r]) =>
      tooWide(r, args.startsWith("keys")).map((line) => `keyward ${args}: ${line}`),
    );
    expect(wide, runs.map(([args, r]) => `keyward ${args}${show(r)}`).join("\n")).toEqual([]);
  }, 120_000);
});
