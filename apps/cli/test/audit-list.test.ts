/**
 * `keyward audit` as an operator reads it, over the simulator: after a revoke, the entries filtered by
 * account and area, newest first, a page at a time, subjects as label · account/sub · short key, the
 * footer naming the command for the older page; --json with total and next; bad flags exit 2 naming
 * the flag; every line fits 120 columns; no secret anywhere.
 */
import { afterAll, describe, expect, it } from "vitest";
import { CANARIES, desk, KEYS, OKX_ACCOUNT, parseJson, removeTempDirs, shortKey, show } from "./helpers.js";

afterAll(() => removeTempDirs());

interface AuditJson {
  entries: {
    seq: number;
    action: string;
    subject: string;
    view: { subject: { text: string }; outcome: { word: string } };
  }[];
  total: number;
  next: number | null;
}

const BUDGET = 180_000;

describe("keyward audit", () => {
  it("filters a revoke's entries by account and area, pages them newest first, in words", {
    timeout: BUDGET,
  }, async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const revoke = await home.run(["revoke", "--label", "bot-*", "--yes", "--json"]);
    expect(revoke.code, show(revoke)).toBe(0);

    const filter = ["--account", OKX_ACCOUNT, "--action", "revoke"];
    const [first, json] = await Promise.all([
      home.run(["audit", ...filter, "--limit", "2"]),
      home.run(["audit", ...filter, "--json"]),
    ]);
    expect(first.code, show(first)).toBe(0);
    expect(json.code, show(json)).toBe(0);
    const all = parseJson<AuditJson>(json);
    // done and verified per key, and the run's request, which names the account's keys (the run's
    // `revoke.finished` holds only counts: it is found by --action, not by account).
    expect(all.entries.map((e) => e.action)).toEqual([
      ...Array(6).fill(expect.stringMatching(/^revoke\.(done|verified)$/)),
      "revoke.requested",
    ]);
    expect(all.total).toBe(7);
    expect(all.next).toBeNull();
    const seqs = all.entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const bot1 = all.entries.find((e) => e.subject.endsWith(`:${KEYS.bot1.apiKey}`));
    expect(bot1?.view.subject.text).toMatch(
      new RegExp(`^bot-1 · ${OKX_ACCOUNT}/\\S+ · ${shortKey(KEYS.bot1.apiKey)}$`),
    );

    // The table: two rows, readable subjects, no raw key id, and a footer repeating the filters.
    const lines = first.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^SEQ\s+TIME\s+ACTION\s+SUBJECT\s+OUTCOME$/);
    expect(lines.slice(2, 4).map((l) => l.split(/\s{2,}/)[2])).toEqual([
      all.entries[0]?.action,
      all.entries[1]?.action,
    ]);
    expect(first.stdout).toContain(all.entries[1]?.view.subject.text);
    expect(first.stdout).not.toContain(`okx:${OKX_ACCOUNT}:`);
    const older = all.entries[1]?.seq;
    expect(lines.at(-1)).toBe(
      `showing 2 of 7 matching; older: keyward audit --before ${older} --action revoke --account ${OKX_ACCOUNT} --limit 2`,
    );
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(120);

    // Following the footer gives the next page; its details are under each row with --details.
    const second = await home.run([
      "audit",
      ...filter,
      "--limit",
      "2",
      "--before",
      String(older),
      "--details",
    ]);
    expect(second.code, show(second)).toBe(0);
    expect(second.stdout).toContain(`\n${all.entries[2]?.seq}  `);
    expect(second.stdout).toMatch(/^ {4}evidence: /m);
    expect(second.stdout).not.toContain(`\n${all.entries[1]?.seq}  `);

    for (const r of [revoke, first, json, second]) {
      for (const canary of CANARIES) expect(r.stdout + r.stderr).not.toContain(canary);
    }
  });

  it("--search finds a revoked key's entries by the label they are shown with", {
    timeout: BUDGET,
  }, async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const revoke = await home.run(["revoke", "--label", "bot-1", "--yes", "--json"]);
    expect(revoke.code, show(revoke)).toBe(0);
    const [json, table] = await Promise.all([
      home.run(["audit", "--search", "bot-1", "--json"]),
      home.run(["audit", "--search", "bot-1"]),
    ]);
    expect(json.code, show(json)).toBe(0);
    expect(table.code, show(table)).toBe(0);
    const found = parseJson<AuditJson>(json);
    const ofBot1 = found.entries.filter((e) => e.subject.endsWith(`:${KEYS.bot1.apiKey}`));
    // revoke.done and revoke.verified name the key by id alone: found by its label, as they are shown.
    expect(ofBot1.map((e) => e.action).sort()).toEqual(["revoke.done", "revoke.verified"]);
    for (const e of ofBot1) expect(e.view.subject.text).toMatch(/^bot-1 · /);
    expect(found.entries.map((e) => e.action)).toContain("revoke.requested");
    expect(found.total).toBe(found.entries.length);
    for (const e of ofBot1)
      expect(table.stdout).toMatch(new RegExp(`^${e.seq}  .*${e.action.replace(".", "\\.")}`, "m"));
    for (const r of [revoke, json, table]) {
      for (const canary of CANARIES) expect(r.stdout + r.stderr).not.toContain(canary);
    }
  });

  it("a time, exchange or number that is not one exits 2 naming its flag", {
    timeout: BUDGET,
  }, async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const [since, exchange, limit, area] = await Promise.all([
      home.run(["audit", "--since", "last tuesday"]),
      home.run(["audit", "--exchange", "mtgox"]),
      home.run(["audit", "--limit", "0"]),
      home.run(["audit", "--since", "7d", "--action", "account"]),
    ]);
    expect(since.code, show(since)).toBe(2);
    expect(since.stderr).toMatch(/--since: "last tuesday" is not a time/);
    expect(exchange.code, show(exchange)).toBe(2);
    expect(exchange.stderr).toMatch(/--exchange "mtgox" is not an exchange/);
    expect(limit.code, show(limit)).toBe(2);
    expect(limit.stderr).toMatch(/--limit "0"/);
    expect(area.code, show(area)).toBe(0);
    expect(area.stdout).toMatch(/account added/);
    expect(area.stdout).toMatch(/showing 3 of 3 matching$/m);
  });
});
