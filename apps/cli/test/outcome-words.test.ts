/**
 * One outcome vocabulary in the CLI: after a revoke where one OKX delete is hollow (the exchange answers
 * "done", the key stays listed: not proven dead), the other API keys are proven dead and the Bitfinex keys
 * wait for a person, the revoke table and `keyward audit` say the same word for each key; the unproven
 * key never reads "verified". (core's test/outcome-words.test.ts covers an inconclusive probe's words.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { API_KEYS, desk, MANUAL_KEYS, removeTempDirs, show } from "./helpers.js";

afterAll(() => removeTempDirs());

interface AuditJson {
  entries: { action: string; subject: string; view: { outcome: { word: string } } }[];
}

describe("outcome words", () => {
  it("the revoke table and the audit log say verified, unverified and waiting for a person alike", {
    timeout: 120_000,
  }, async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    await sim.faults({ exchange: "okx", hollowDeletes: 1 });
    const r = await home.run(["revoke", "--all", "--yes", "--no-wait"]);
    expect(r.code, show(r)).toBe(1);

    // OUTCOME, VERIFIED, EXCHANGE, ACCOUNT, LABEL, API KEY, DETAIL: the first two cells by short key.
    const rows = r.stdout
      .split("\n")
      .map((l) => l.split(/\s{2,}/))
      .filter((c) => c.length >= 6 && c[0] !== "OUTCOME");
    const cells = (apiKey: string) => {
      const row = rows.find((c) => c[5] === `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`);
      expect(row, `${apiKey} in\n${r.stdout}`).toBeDefined();
      return { outcome: row?.[0], verified: row?.[1] };
    };
    const audit = await home.run(["audit", "--action", "revoke", "--json"]);
    expect(audit.code, show(audit)).toBe(0);
    const entries = (JSON.parse(audit.stdout) as AuditJson).entries;
    const word = (apiKey: string, action: RegExp) =>
      entries.find((e) => e.subject.endsWith(`:${apiKey}`) && action.test(e.action))?.view.outcome.word;

    const seen = { verified: 0, unverified: 0, waiting: 0 };
    for (const k of API_KEYS) {
      const c = cells(k.apiKey);
      expect(c.outcome).toBe("revoked");
      const a = word(k.apiKey, /^revoke\.(verified|unverified)$/);
      expect(a, k.apiKey).toBe(c.verified);
      if (c.verified === "verified") seen.verified++;
      else {
        expect(c.verified).toMatch(/^unverified/);
        seen.unverified++;
      }
    }
    for (const k of MANUAL_KEYS) {
      const c = cells(k.apiKey);
      expect(c).toEqual({ outcome: "waiting for a person", verified: "-" });
      expect(word(k.apiKey, /^revoke\.manual-steps$/)).toBe(c.outcome);
      seen.waiting++;
    }
    expect(seen).toEqual({ verified: API_KEYS.length - 1, unverified: 1, waiting: MANUAL_KEYS.length });
    expect(r.stdout).toMatch(
      new RegExp(
        `waiting for a person ${MANUAL_KEYS.length}, failed 0; verified ${API_KEYS.length - 1}, unverified 1$`,
        "m",
      ),
    );
  });
});
