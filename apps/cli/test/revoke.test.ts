/**
 * `revoke`: the plan (--dry-run), revoking by label, and `--all` mixing API keys (OKX and Bybit
 * sub-account keys, Bybit's own master key) with keys only a person can revoke (the OKX master key, the
 * Bitfinex keys). The test plays that person through the simulator's control API while the CLI waits.
 * Every outcome is checked in /state.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  API_KEYS,
  auditEntries,
  desk,
  KEYS,
  MANUAL_KEYS,
  parseJson,
  removeTempDirs,
  revokedKeys,
  shortKey,
  show,
  snapshotHome,
  statuses,
} from "./helpers.js";

afterAll(() => removeTempDirs());

interface Report {
  results: {
    id: string;
    apiKey: string;
    label: string;
    method: "api" | "manual";
    outcome: string;
    verified: boolean;
    evidence: string[];
    steps?: { url: string; steps: string[] };
  }[];
  summary: Record<string, number>;
}

interface Plan {
  dryRun: true;
  keys: { order: number; id: string; method: "api" | "manual"; label: string; permissions: string[] }[];
  byApi: number;
  byPerson: number;
}

const sorted = (keys: readonly { apiKey: string }[]) => keys.map((k) => k.apiKey).sort();
const ALL_KNOWN = [...API_KEYS, ...MANUAL_KEYS];

describe.concurrent("revoke", () => {
  it("with nothing selected: exit 2", async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--yes"]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/keyward: nothing selected/);
    expect(await sim.requests()).toEqual([]);
  });

  it("without --yes and without a terminal: exit 2, nothing revoked", async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    const before = { state: await sim.state(), home: snapshotHome(home) };
    const r = await home.run(["revoke", "--label", "bot-*"]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/refusing to revoke without confirmation: no terminal/);
    expect(await sim.state()).toEqual(before.state);
    expect(snapshotHome(home)).toEqual(before.home);
    expect((await sim.requests()).filter((q) => q.method === "POST" && q.exchange === "okx")).toEqual([]);
  });

  it("--dry-run prints the plan and changes nothing", async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    const before = { state: await sim.state(), home: snapshotHome(home) };
    const [text, json] = await Promise.all([
      home.run(["revoke", "--all", "--dry-run"]),
      home.run(["revoke", "--all", "--dry-run", "--json"]),
    ]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toMatch(/^#\s+HOW\s+EXCHANGE\s+ACCOUNT/m);
    for (const k of ALL_KNOWN) expect(text.stdout).toContain(shortKey(k.apiKey));
    expect(text.stdout).toMatch(
      new RegExp(
        `${ALL_KNOWN.length} key\\(s\\): ${API_KEYS.length} by API, ${MANUAL_KEYS.length} by a person`,
      ),
    );

    expect(json.code, show(json)).toBe(0);
    const plan = parseJson<Plan>(json);
    expect(plan).toMatchObject({ dryRun: true, byApi: API_KEYS.length, byPerson: MANUAL_KEYS.length });
    expect(plan.keys.map((k) => k.id.split(":").at(-1)).sort()).toEqual(sorted(ALL_KNOWN));
    // The key that can withdraw goes first.
    expect(plan.keys[0]).toMatchObject({ order: 1, label: "bfx-mm", method: "manual" });
    const methods = Object.fromEntries(plan.keys.map((k) => [k.id.split(":").at(-1), k.method]));
    for (const k of API_KEYS) expect(methods[k.apiKey]).toBe("api");
    for (const k of MANUAL_KEYS) expect(methods[k.apiKey]).toBe("manual");

    expect(await sim.state()).toEqual(before.state);
    expect(snapshotHome(home)).toEqual(before.home); // not even an audit entry
    expect((await sim.requests()).filter((q) => q.method === "POST" && q.exchange === "okx")).toEqual([]);
  });

  it("--label GLOB --yes revokes exactly the matching sub-account keys, each verified", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--label", "bot-*", "--yes", "--json"]);
    expect(r.code, show(r)).toBe(0);
    const report = parseJson<Report>(r);
    expect(report.results.map((x) => x.label).sort()).toEqual(["bot-1", "bot-2", "bot-3"]);
    for (const x of report.results) {
      expect(x, x.label).toMatchObject({ method: "api", outcome: "revoked", verified: true });
    }
    expect(report.summary).toMatchObject({ total: 3, revoked: 3, verified: 3, failed: 0, unverified: 0 });

    // Exactly those three are gone; everything else is untouched.
    expect(revokedKeys(await sim.state())).toEqual(sorted([KEYS.bot1, KEYS.bot2, KEYS.bot3]));
    const deletes = (await sim.requests()).filter((q) => q.path.endsWith("/delete-apikey"));
    expect(deletes.map((q) => q.code)).toEqual(["0", "0", "0"]);

    // The audit log tells the story: requested (before any call), done and verified per key, finished.
    const audit = auditEntries<{ action: string; subject: string; details: { keys?: string[] } }>(
      await home.run(["audit", "--json"]),
    );
    const revokeEntries = audit.filter((e) => e.action.startsWith("revoke."));
    expect(revokeEntries[0]?.action).toBe("revoke.requested");
    expect(revokeEntries[0]?.details.keys?.sort()).toEqual(report.results.map((x) => x.id).sort());
    expect(revokeEntries.filter((e) => e.action === "revoke.done")).toHaveLength(3);
    expect(revokeEntries.filter((e) => e.action === "revoke.verified")).toHaveLength(3);
    expect(revokeEntries.at(-1)?.action).toBe("revoke.finished");
  });

  it("--all --yes: API keys by API; the test does the manual steps while the CLI waits; exit 0", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const child = home.start(["revoke", "--all", "--yes", "--json"], { timeoutMs: 55_000 });
    // As a person would: follow each checklist item as it is printed (on stderr: stdout is the JSON).
    for (const { exchange, apiKey } of MANUAL_KEYS) {
      await child.waitFor(new RegExp(`\\[\\d+\\] ${exchange}: revoke ".*" \\(${shortKey(apiKey)}\\) on `));
      await sim.uiRevoke(exchange, apiKey);
    }
    await child.waitFor(/Waiting for 3 manual revocation\(s\)/);
    const r = await child.done;
    expect(r.code, show(r)).toBe(0);

    const report = parseJson<Report>(r);
    expect(report.summary).toMatchObject({
      total: ALL_KNOWN.length,
      revoked: ALL_KNOWN.length,
      awaitingManual: 0,
      failed: 0,
      verified: ALL_KNOWN.length,
      unverified: 0,
    });
    for (const x of report.results) expect(x, x.label).toMatchObject({ outcome: "revoked", verified: true });
    const methods = Object.fromEntries(report.results.map((x) => [x.apiKey, x.method]));
    for (const k of API_KEYS) expect(methods[k.apiKey]).toBe("api");
    for (const k of MANUAL_KEYS) expect(methods[k.apiKey]).toBe("manual");
    expect(r.stderr).toMatch(/proven dead after the manual step: bfx-mm/);

    // Every key Keyward knows is revoked; the keys it does not know are not.
    const state = statuses(await sim.state());
    for (const k of ALL_KNOWN) expect(state.get(k.apiKey), k.apiKey).toBe("revoked");
    expect(state.get(KEYS.okxLegacy.apiKey)).toBe("active");
    expect(state.get(KEYS.bfxUntracked.apiKey)).toBe("active");
  }, 60_000);

  it("--all --yes --no-wait: exit 3, manual keys awaiting a person, API keys revoked and verified", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--all", "--yes", "--no-wait", "--json"]);
    expect(r.code, show(r)).toBe(3);
    const report = parseJson<Report>(r);
    expect(report.summary).toMatchObject({
      total: ALL_KNOWN.length,
      revoked: API_KEYS.length,
      awaitingManual: MANUAL_KEYS.length,
      failed: 0,
      verified: API_KEYS.length,
    });
    const byKey = new Map(report.results.map((x) => [x.apiKey, x]));
    for (const k of API_KEYS) {
      expect(byKey.get(k.apiKey)).toMatchObject({ method: "api", outcome: "revoked", verified: true });
    }
    for (const k of MANUAL_KEYS) {
      const x = byKey.get(k.apiKey);
      expect(x).toMatchObject({ method: "manual", outcome: "awaiting-manual", verified: false });
      expect(x?.steps?.steps.length).toBeGreaterThan(0);
    }
    expect(revokedKeys(await sim.state())).toEqual(sorted(API_KEYS));
  });

  it("a delete OKX answers 0 while the key lives on: exit 1, --json and the audit log say it is not proven dead", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    await sim.faults({ exchange: "okx", hollowDeletes: 1 });
    const r = await home.run(["revoke", "--label", "bot-1", "--yes", "--json"]);
    expect(r.code, show(r)).toBe(1);
    const report = parseJson<Report>(r);
    expect(report.results).toHaveLength(1);
    const [bot1] = report.results;
    expect(bot1).toMatchObject({ label: "bot-1", method: "api", outcome: "revoked", verified: false });
    expect(bot1?.evidence).toContain("list: STILL LISTED by the exchange");
    expect(report.summary).toMatchObject({ total: 1, revoked: 1, verified: 0, unverified: 1 });
    expect(statuses(await sim.state()).get(KEYS.bot1.apiKey)).toBe("active");

    const audit = auditEntries<{ action: string; subject: string }>(await home.run(["audit", "--json"]));
    const actions = audit.filter((e) => e.subject === bot1?.id).map((e) => e.action);
    expect(actions).toContain("revoke.unverified");
    expect(actions).not.toContain("revoke.verified");
    // With --json and no terminal, stderr carries no progress, only what is left to do.
    expect(r.stderr).toMatch(/NOT proven dead: bot-1/);
    expect(r.stderr).not.toMatch(/revoked by API/);
  });

  it("--manual-timeout passes with nobody acting: exit 3, each manual key says what the last probe saw", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--all", "--yes", "--manual-timeout", "3s", "--json"]);
    expect(r.code, show(r)).toBe(3);
    const report = parseJson<Report>(r);
    expect(report.summary).toMatchObject({
      revoked: API_KEYS.length,
      awaitingManual: MANUAL_KEYS.length,
      failed: 0,
    });
    for (const k of MANUAL_KEYS) {
      const x = report.results.find((y) => y.apiKey === k.apiKey);
      expect(x).toMatchObject({ outcome: "awaiting-manual", verified: false });
      expect(x?.evidence.at(-1) ?? "").toMatch(/deadline passed.*last probe: alive/);
    }
    expect(revokedKeys(await sim.state())).toEqual(sorted(API_KEYS));
  });
});
