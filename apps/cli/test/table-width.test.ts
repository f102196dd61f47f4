/**
 * Every table a person reads fits a 120-column terminal when stdout is not one (pipes, CI, these tests):
 * `keys`, the revoke plan and summary, `account list`/`account check`, `rotate plan`/`status`, `key track`.
 * Long detail (risks with notes, expiry, evidence) goes to a second indented line or to --json.
 * On the demo desk (longer labels, sub-account names and IP lists than the test desk's) every line of
 * stdout fits, prose included, and a row gets a second line only for a detail that says something.
 */
import { chmodSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demoDesk, loadDemoScenario, startSimulator } from "@keyward/simulator";
import { afterAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  credentialsJson,
  desk,
  initHome,
  KEYS,
  OKX_ACCOUNT,
  parseJson,
  type RunResult,
  removeTempDirs,
  show,
} from "./helpers.js";

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

/** Lines of stdout past 120 columns, but for a line that is one unbreakable token (a long id or URL). */
const overWide = (stdout: string): string[] =>
  stdout.split("\n").filter((line) => [...line].length > 120 && /\s/.test(line.trim()));

describe("CLI output on the demo desk fits 120 columns", () => {
  it("keys, account list/check, revoke and rotate plans, key create, rotate status and audit", async ({
    onTestFinished,
  }) => {
    const scenario = loadDemoScenario();
    const sim = await startSimulator({ scenario });
    onTestFinished(() => sim.close());
    const seed = demoDesk(scenario, sim);
    const home = await initHome();
    const runs: [string, RunResult][] = [];
    const run = async (args: string[], codes = [0], input?: string) => {
      const r = await home.run(args, input === undefined ? {} : { input });
      expect(codes, `${args.join(" ")}${show(r)}`).toContain(r.code);
      runs.push([args.join(" "), r]);
      return r;
    };
    for (const a of seed.accounts) {
      await run(
        ["account", "add", a.exchange, a.name, "--endpoint", a.endpoint, "--credentials-stdin"],
        [0],
        JSON.stringify(a.credentials),
      );
    }
    for (const k of seed.tracked) {
      await run(
        ["key", "track", k.account, "--label", k.label, "--credentials-stdin"],
        [0],
        JSON.stringify(k.credentials),
      );
    }
    const dir = mkdtempSync(join(tmpdir(), "kw-demo-width-")); // mode 0700: a private folder
    const keys = await run(["keys"], [0, 1]);
    await run(["account", "list"]);
    await run(["account", "check"], [0, 1]);
    await run(["revoke", "--all", "--dry-run"]);
    await run(["rotate", "plan", "--label", "*-*", "--deliver", `dotenv:${join(dir, "bots.env")}#{label}`]);
    const created = await run([
      "key",
      "create",
      "desk-alpha",
      "--sub",
      "alphaMM01",
      "--label",
      "mm-bot-3",
      "--perm",
      "read,trade",
      "--ip",
      "10.0.1.7",
      "--deliver",
      `dotenv:${join(dir, "mm-bot-3.env")}`,
    ]);
    const status = await run(["rotate", "status"]);
    const audit = await run(["audit", "--limit", "40"]);

    const problems = runs.flatMap(([args, r]) => [
      ...overWide(r.stdout).map((line) => `keyward ${args}: too wide: ${line}`),
      // A detail line under a row that says nothing (a lone "-", or blank but for its indent).
      ...r.stdout
        .split("\n")
        .filter((line) => /^ +-?$/.test(line))
        .map((line) => `keyward ${args}: empty detail line: "${line}"`),
    ]);
    expect(problems, runs.map(([args, r]) => `keyward ${args}${show(r)}`).join("\n")).toEqual([]);

    // keys: one ACCOUNT column as `keyward check` names it; most rows carry their notes on their line.
    const lines = keys.stdout.split("\n");
    expect(lines[0]).toMatch(/^ACCOUNT\s+LABEL\s+API KEY\s+PERMISSIONS\s+IP\s+NOTES$/);
    expect(keys.stdout).toMatch(/^okx desk-alpha\/alphaMM01\s+mm-dashboard\s+\S+\s+read\s+any\s+no-ip,old$/m);
    const second = lines.filter((l) => l.startsWith("    ")).length;
    const rows = lines.filter((l) => /^(okx|bitfinex|bybit|deribit) /.test(l)).length;
    expect(second, keys.stdout).toBeLessThan(rows / 2);

    // A key create reads as a creation, never as a key named "new:…".
    expect(created.stdout).toMatch(/Created .*"mm-bot-3"/);
    expect(status.stdout).toMatch(/^1\s+finished\s+done\s+\(new\) mm-bot-3\s+mm-bot-3 \(\S+\)/m);
    expect(audit.stdout).toContain("(new) mm-bot-3 · desk-alpha/alphaMM01");
    for (const r of [status, audit]) expect(r.stdout).not.toMatch(/new:/);

    // audit: every subject whole, as --json words it (the outcome may be shortened, never the subject).
    const json = parseJson<{ entries: { view: { subject: { text: string } } }[] }>(
      await run(["audit", "--limit", "40", "--json"]),
    );
    for (const e of json.entries) expect(audit.stdout).toContain(e.view.subject.text);
  }, 240_000);

  it("key create's refusal of a target says to run key create again, not to plan a rotation", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const open = mkdtempSync(join(tmpdir(), "kw-open-"));
    chmodSync(open, 0o777);
    const r = await home.run([
      "key",
      "create",
      OKX_ACCOUNT,
      "--sub",
      "deskBots01",
      "--label",
      "made-here",
      "--perm",
      "read",
      "--deliver",
      `dotenv:${join(open, "k.env")}`,
    ]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/is a folder every user can write to/);
    expect(r.stderr).toMatch(/hint: .*then run the same `keyward key create` again with that target\./);
    expect(r.stderr).not.toMatch(/rotate resume|plan again/);
  }, 120_000);
});
