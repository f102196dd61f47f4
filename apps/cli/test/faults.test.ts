/**
 * Revoking through a bad network: OKX applies some deletes and then cuts the connection before the answer
 * (`dropResponses`), and answers 5xx to a share of all requests without applying them (`errorRate`,
 * seeded). `revoke --all` must still end with every API-revocable key revoked and verified.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  API_KEYS,
  desk,
  MANUAL_KEYS,
  parseJson,
  type RequestLogEntry,
  removeTempDirs,
  type Sim,
  shortKey,
  show,
  statuses,
} from "./helpers.js";

afterAll(() => removeTempDirs());

interface Report {
  results: { apiKey: string; label: string; method: string; outcome: string; verified: boolean }[];
  summary: Record<string, number>;
}

const FAULTS = { exchange: "okx", dropResponses: 3, errorRate: 0.3, errorStatus: 503, seed: 20261127 };

/** The faults really happened: three deletes applied with their answers dropped, and some 5xx. */
async function expectFaultsFired(sim: Sim): Promise<RequestLogEntry[]> {
  const requests = await sim.requests();
  const deletes = requests.filter((q) => q.path.endsWith("/delete-apikey"));
  expect(deletes.filter((q) => q.fault === "drop")).toHaveLength(3);
  expect(requests.filter((q) => q.fault === "error").length).toBeGreaterThan(0);
  return requests;
}

/** Every key revoked by API (the OKX ones under faults) is revoked, and only those (plus `alsoRevoked`). */
async function expectRevoked(sim: Sim, alsoRevoked: string[]): Promise<void> {
  const state = statuses(await sim.state());
  for (const k of API_KEYS) expect(state.get(k.apiKey), k.apiKey).toBe("revoked");
  const revoked = [...state].filter(([, s]) => s === "revoked").map(([k]) => k);
  expect(revoked.sort()).toEqual([...API_KEYS.map((k) => k.apiKey), ...alsoRevoked].sort());
}

function expectApiKeysVerified(report: Report): void {
  const byKey = new Map(report.results.map((r) => [r.apiKey, r]));
  for (const k of API_KEYS) {
    expect(byKey.get(k.apiKey), k.apiKey).toMatchObject({
      method: "api",
      outcome: "revoked",
      verified: true,
    });
  }
}

describe.concurrent("revoke --all under injected OKX faults", () => {
  it("--no-wait: every API key revoked and verified; the manual ones left to a person (exit 3)", async ({
    onTestFinished,
  }) => {
    const { sim, home } = await desk({ onTestFinished });
    await sim.faults(FAULTS);
    const r = await home.run(["revoke", "--all", "--yes", "--no-wait", "--json"], { timeoutMs: 55_000 });
    expect(r.code, show(r)).toBe(3);
    const report = parseJson<Report>(r);
    expectApiKeysVerified(report);
    expect(report.summary).toMatchObject({
      revoked: API_KEYS.length,
      verified: API_KEYS.length,
      awaitingManual: MANUAL_KEYS.length,
      failed: 0,
      unverified: 0,
    });
    await expectFaultsFired(sim);
    await expectRevoked(sim, []);
  }, 60_000);

  it("with the manual steps done while it waits: every key revoked and verified (exit 0)", async ({
    onTestFinished,
  }) => {
    const { sim, home } = await desk({ onTestFinished });
    await sim.faults(FAULTS);
    const child = home.start(["revoke", "--all", "--yes", "--json"], { timeoutMs: 55_000 });
    for (const { exchange, apiKey } of MANUAL_KEYS) {
      await child.waitFor(new RegExp(`revoke ".*" \\(${shortKey(apiKey)}\\)`));
      await sim.uiRevoke(exchange, apiKey);
    }
    const r = await child.done;
    expect(r.code, show(r)).toBe(0);
    const report = parseJson<Report>(r);
    expectApiKeysVerified(report);
    const total = API_KEYS.length + MANUAL_KEYS.length;
    expect(report.summary).toMatchObject({
      total,
      revoked: total,
      verified: total,
      failed: 0,
      unverified: 0,
    });
    await expectFaultsFired(sim);
    await expectRevoked(
      sim,
      MANUAL_KEYS.map((k) => k.apiKey),
    );
  }, 60_000);
});
