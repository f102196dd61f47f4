/**
 * Issue 9.8: labels and names come from exchanges and users. Printed raw, ESC sequences, CR, BEL, C1
 * controls or U+202E in a label could repaint the revoke review on screen. Every human-readable output
 * (tables, lines, checklists, error messages) shows them escaped; `--json` keeps them exactly.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  type Desk,
  desk,
  KEYS,
  parseJson,
  type RunResult,
  removeTempDirs,
  scenario,
  show,
} from "./helpers.js";

afterAll(() => removeTempDirs());

/** A sub-account key's label: clear the line, return to column 0, print "ALL CLEAR", ring, C1 CSI, RTL. */
const EVIL_SUB = "bot-1\x1b[2K\rALL CLEAR\x07\u009b31m\u202Eevil\x7f\u200b\nforged-row";
/**
 * The master key (revoked by a person: its label is in the checklist and in the adapter's step text): an
 * OSC 8 hyperlink, a CR, and a newline that would start a forged checklist line.
 */
const EVIL_MASTER = "desk-master\x1b]8;;http://evil.example\x07click\x1b]8;;\x07\r\u202E\nforged-row";

/** Any `\p{C}` character but the newline: what must never reach the terminal raw. */
const RAW_CONTROL = /(?!\n)\p{C}/u;

/** The test desk with the two keys above relabelled on the exchange (the simulator's scenario API). */
async function evilDesk(context: Parameters<typeof desk>[0]): Promise<Desk> {
  const d = await desk(context);
  const world = scenario();
  const relabel = <K extends { apiKey: string; label?: string }>(keys: K[] = []): K[] =>
    keys.map((k) =>
      k.apiKey === KEYS.okxMaster.apiKey
        ? { ...k, label: EVIL_MASTER }
        : k.apiKey === KEYS.bot1.apiKey
          ? { ...k, label: EVIL_SUB }
          : k,
    );
  for (const account of world.okx?.accounts ?? []) {
    account.keys = relabel(account.keys);
    for (const sub of account.subAccounts ?? []) sub.keys = relabel(sub.keys);
  }
  await d.sim.control("POST", "/scenario", world);
  return d;
}

const expectEscaped = (r: RunResult) => {
  const text = r.stdout + r.stderr;
  expect(text, show(r)).not.toMatch(RAW_CONTROL);
  // The label's newline does not start a forged line either.
  expect(text, show(r)).not.toMatch(/^forged-row/m);
};

describe.concurrent("terminal output (issue 9.8)", () => {
  it("keys and the revoke review escape control characters; --json keeps the labels exactly", async ({
    onTestFinished,
  }) => {
    const { home } = await evilDesk({ onTestFinished });

    const table = await home.run(["keys"]);
    expect(table.code, show(table)).toBe(0);
    expectEscaped(table);
    expect(table.stdout).toContain(
      "bot-1\\x1b[2K\\rALL CLEAR\\x07\\x9b31m\\u{202e}evil\\x7f\\u{200b}\\nforged-row",
    );
    expect(table.stdout).toContain(
      "desk-master\\x1b]8;;http://evil.example\\x07click\\x1b]8;;\\x07\\r\\u{202e}\\nforged-row",
    );

    const review = await home.run(["revoke", "--label", "bot-1*", "--dry-run"]);
    expect(review.code, show(review)).toBe(0);
    expectEscaped(review);
    expect(review.stdout).toContain("bot-1\\x1b[2K\\rALL CLEAR");
    expect(review.stdout).toMatch(/^1 key\(s\): 1 by API/m);

    const json = await home.run(["keys", "--json"]);
    expect(json.code, show(json)).toBe(0);
    const labels = parseJson<{ keys: { apiKey: string; label: string }[] }>(json).keys;
    expect(labels.find((k) => k.apiKey === KEYS.bot1.apiKey)?.label).toBe(EVIL_SUB);
    expect(labels.find((k) => k.apiKey === KEYS.okxMaster.apiKey)?.label).toBe(EVIL_MASTER);

    const plan = await home.run(["revoke", "--label", "bot-1*", "--dry-run", "--json"]);
    expect(parseJson<{ keys: { label: string }[] }>(plan).keys.map((k) => k.label)).toEqual([EVIL_SUB]);
  });

  it("the manual checklist and the results table escape the label", async ({ onTestFinished }) => {
    const { home, sim } = await evilDesk({ onTestFinished });
    const r = await home.run(["revoke", "--label", "desk-master*", "--yes", "--no-wait"]);
    expect(r.code, show(r)).toBe(3);
    expectEscaped(r);
    expect(r.stdout).toMatch(/^\[1\] okx: revoke "desk-master\\x1b\]8;;http:\/\/evil\.example\\x07click/m);
    // Nothing was revoked by the run: the master key waits for a person.
    const state = await sim.state();
    const master = state.okx.accounts[0]?.keys.find((k) => k.apiKey === KEYS.okxMaster.apiKey);
    expect(master?.status).toBe("active");

    const json = await home.run(["revoke", "--label", "desk-master*", "--yes", "--no-wait", "--json"]);
    expect(json.code, show(json)).toBe(3);
    const report = parseJson<{ results: { label: string }[] }>(json);
    expect(report.results.map((x) => x.label)).toEqual([EVIL_MASTER]);
    // With --json the checklist goes to stderr, escaped; stdout is the exact JSON.
    expect(json.stderr).not.toMatch(RAW_CONTROL);
    expect(json.stderr).toContain("desk-master\\x1b]8;;");
  });

  it("error messages that echo what was typed are escaped", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const notFound = await home.run(["revoke", "nokey\x1b[31m\rok\u202E", "--dry-run"]);
    expect(notFound.code, show(notFound)).toBe(2);
    expect(notFound.stderr).toContain('no key with id or API key "nokey\\x1b[31m\\rok\\u{202e}"');
    expect(notFound.stderr).not.toMatch(RAW_CONTROL);

    const unknownOption = await home.run(["keys", "--bogus\x1b[2J"]);
    expect(unknownOption.code, show(unknownOption)).toBe(2);
    expect(unknownOption.stderr).toContain("--bogus\\x1b[2J");
    expect(unknownOption.stderr).not.toMatch(RAW_CONTROL);

    const badAccount = await home.run(["keys", "--account", "x\x1b[2Jy"]);
    expect(badAccount.code, show(badAccount)).toBe(2);
    expect(badAccount.stderr).toContain("x\\x1b[2Jy");
    expect(badAccount.stderr).not.toMatch(RAW_CONTROL);
  });
});
