/**
 * Long work shows progress: `revoke --yes` and `rotate apply` print a line per key as it is revoked,
 * created, verified, delivered and proven dead, on stderr (stdout keeps only the report, exactly the JSON
 * with --json; a script reading --json without a terminal gets no progress lines). When the wait for a
 * person ends with keys left, the output names the command to run next, and that command works.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { desk, KEYS, parseJson, removeTempDirs, shortKey, show, statuses } from "./helpers.js";
import { planBots, rotationDesk, statusOf } from "./rotate-helpers.js";

afterAll(() => removeTempDirs());

/** The index of the first line matching each pattern, failing with the output when one is missing. */
function lineIndexes(text: string, patterns: RegExp[]): number[] {
  const lines = text.split("\n");
  return patterns.map((p) => {
    const i = lines.findIndex((l) => p.test(l));
    if (i < 0) throw new Error(`no line matches ${p} in:\n${text}`);
    return i;
  });
}

const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || x > (xs[i - 1] as number));

describe.concurrent("progress", () => {
  it("revoke --yes: a line per key as it is revoked and proven dead, on stderr; stdout keeps the report", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--label", "bot-*", "--yes"]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stderr).toMatch(/^Revoking 3 key\(s\): 3 by API, 0 by a person/m);
    for (const key of [KEYS.bot1, KEYS.bot2, KEYS.bot3]) {
      const who = `${key.label} \\(okx desk-okx/\\w+, ${shortKey(key.apiKey)}\\)`;
      const [revoked, dead] = lineIndexes(r.stderr, [
        new RegExp(`^  revoked by API: ${who}`),
        new RegExp(`^  proven dead: ${who}$`),
      ]);
      expect(revoked).toBeLessThan(dead as number);
    }
    // The report on stdout, no progress in it.
    expect(r.stdout).toMatch(/^OUTCOME\s+VERIFIED/m);
    expect(r.stdout).not.toMatch(/revoked by API|proven dead/);
  });

  it("revoke --json without a terminal: stdout is exactly the JSON report, stderr has no progress lines", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--label", "bot-1", "--yes", "--json"]);
    expect(r.code, show(r)).toBe(0);
    expect(parseJson<{ summary: { verified: number } }>(r).summary.verified).toBe(1);
    expect(r.stderr).not.toMatch(/Revoking|revoked by API|proven dead/);
  });

  it("when the wait for a person times out, the output names the command that waits again, and it works", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--label", "bfx-mm", "--yes", "--manual-timeout", "1s"]);
    expect(r.code, show(r)).toBe(3);
    const next = /wait until they are, run:\n {2}(keyward revoke \S+ --yes)$/m.exec(r.stdout);
    expect(next, show(r)).not.toBeNull();
    const args = (next?.[1] ?? "").split(" ").slice(1);

    // The named command shows the steps again and waits; the person does them meanwhile.
    const again = home.start([...args, "--json"], { timeoutMs: 50_000 });
    await again.waitFor(new RegExp(`\\[1\\] bitfinex: revoke "bfx-mm" \\(${shortKey(KEYS.bfxMm.apiKey)}\\)`));
    await sim.uiRevoke("bitfinex", KEYS.bfxMm.apiKey);
    const done = await again.done;
    expect(done.code, show(done)).toBe(0);
    const report = parseJson<{ results: { apiKey: string; outcome: string; verified: boolean }[] }>(done);
    expect(report.results).toEqual([
      expect.objectContaining({ apiKey: KEYS.bfxMm.apiKey, outcome: "revoked", verified: true }),
    ]);
    expect(statuses(await sim.state()).get(KEYS.bfxMm.apiKey)).toBe("revoked");
  }, 90_000); // two CLI runs (the second waits for a person) on a loaded machine

  it("rotate apply: a line per step of each key (created, verified, delivered, old key revoked, proven dead)", {
    timeout: 90_000, // two CLI runs, a rotation among them, on a loaded machine
  }, async (context) => {
    const { home, dir } = await rotationDesk(context, 2);
    const envFile = join(dir, "bots.env");
    const planFile = await planBots(home, dir);
    const r = await home.run(["rotate", "apply", planFile, "--grace", "0s"], { timeoutMs: 50_000 });
    expect(r.code, show(r)).toBe(0);
    for (const label of ["rbot-1", "rbot-2"]) {
      const slot = `\\[slot \\d\\] ${label} \\(desk-okx\\)`;
      const order = lineIndexes(r.stderr, [
        new RegExp(`^${slot}: creating the new key "${label}-rot-`),
        new RegExp(`^${slot}: new key created \\(`),
        new RegExp(`^${slot}: new key verified: probe: alive`),
        new RegExp(`^${slot}: delivered to dotenv:${envFile}`),
        new RegExp(`^${slot}: old key revoked`),
        new RegExp(`^${slot}: old key proven dead: list: no longer listed`),
        new RegExp(`^${slot}: finished$`),
      ]);
      expect(ascending(order), r.stderr).toBe(true);
    }
    expect(r.stdout).toMatch(/rotation \S+: finished 2, waiting for a person 0, failed 0/);
    expect(r.stdout).not.toMatch(/\[slot \d\]/);
    expect(readFileSync(envFile, "utf8")).toMatch(/RBOT_1_API_KEY=/);
  });

  it("rotate apply --json: stdout is exactly the JSON report; a rotation left waiting names `rotate resume` on stderr", {
    timeout: 90_000, // two CLI runs, a rotation among them, on a loaded machine
  }, async (context) => {
    const { home, dir } = await rotationDesk(context, 0);
    const planFile = join(dir, "plan.json");
    const plan = await home.run([
      "rotate",
      "plan",
      "--exchange",
      "bitfinex",
      "--label",
      "bfx-mm",
      "--deliver",
      `dotenv:${join(dir, "mm.env")}#MM`,
      "-o",
      planFile,
    ]);
    expect(plan.code, show(plan)).toBe(0);
    // Nobody hands over the new key: the slot is left waiting for a person.
    const r = await home.run(
      ["rotate", "apply", planFile, "--json", "--credentials-stdin", "--manual-timeout", "1s"],
      { input: "" },
    );
    expect(r.code, show(r)).toBe(3);
    const report = parseJson<{ runId: string; summary: { waiting: number } }>(r);
    expect(report.summary.waiting).toBe(1);
    expect(r.stderr).toContain(`Continue with \`keyward rotate resume ${report.runId}\``);
    const [run] = await statusOf(home);
    expect(run?.slots[0]?.step).toBe("awaiting-new-key");
  });
});
