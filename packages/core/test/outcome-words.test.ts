/**
 * One outcome vocabulary: a revoke with one key verified, one unverified (its last probe inconclusive)
 * and one waiting for a person reads the same in the revoke views (revokeResultWords, used by the CLI
 * table and the web job page) and the audit views (auditOutcome, used by `keyward audit` and the web
 * audit page); an unverified key never reads as "verified"; and the browser entry carries the same table.
 */
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../src/audit/audit-log.js";
import { auditOutcome } from "../src/audit/audit-present.js";
import * as browser from "../src/browser.js";
import {
  REVOKE_OUTCOME_WORDS,
  revokeResultWords,
  revokeSummaryWords,
  VERIFIED_WORDS,
  verifiedWord,
  WAITING_WORDS,
} from "../src/domain/outcome-words.js";
import { summarise } from "../src/revoke/report.js";
import type { RevokeKeyResult } from "../src/revoke/run.js";

const INCONCLUSIVE = ["list: no longer listed", "probe: inconclusive, timeout (no answer in 5 s)"];

const result = (over: Partial<RevokeKeyResult>): RevokeKeyResult => ({
  id: `okx:desk:-:${over.label}`,
  exchange: "okx",
  account: "desk",
  subAccount: null,
  label: "x",
  apiKey: "k",
  method: "api",
  outcome: "revoked",
  verified: false,
  evidence: [],
  ...over,
});

const entry = (action: string, details: Record<string, unknown>): AuditEntry =>
  ({
    seq: 1,
    at: "2026-01-01T00:00:00.000Z",
    action,
    actor: "cli:test",
    subject: "s",
    details,
  }) as unknown as AuditEntry;

describe("outcome words", () => {
  const verified = result({ label: "a", verified: true, evidence: ["probe: dead (401)"] });
  const unverified = result({ label: "b", evidence: INCONCLUSIVE });
  const waiting = result({ label: "c", method: "manual", outcome: "awaiting-manual" });

  it("a verified, an inconclusive and a waiting key read the same in the revoke and the audit views", () => {
    expect(revokeResultWords(verified)).toBe("revoked, verified");
    expect(revokeResultWords(unverified)).toBe("revoked, unverified (probe inconclusive)");
    expect(revokeResultWords(waiting)).toBe("waiting for a person");

    expect(auditOutcome(entry("revoke.verified", { evidence: verified.evidence })).word).toBe(
      verifiedWord(verified),
    );
    expect(auditOutcome(entry("revoke.unverified", { evidence: INCONCLUSIVE })).word).toBe(
      verifiedWord(unverified),
    );
    expect(auditOutcome(entry("revoke.manual-steps", {})).word).toBe(revokeResultWords(waiting));
    expect(auditOutcome(entry("rotation.waiting", {})).word).toBe(WAITING_WORDS);
  });

  it("nothing unproven reads as verified", () => {
    for (const r of [unverified, waiting, result({ label: "d", evidence: ["list: STILL LISTED"] })]) {
      expect(revokeResultWords(r)).not.toMatch(/(^|[ ,])verified/);
      expect(verifiedWord(r).startsWith(VERIFIED_WORDS.no)).toBe(true);
    }
    const word = auditOutcome(entry("revoke.unverified", { evidence: ["probe: alive (200)"] })).word;
    expect(word).toBe("unverified (probe: still alive)");
  });

  it("the summary line is the CLI's and the audit log's revoke.finished line", () => {
    const s = summarise([verified, unverified, waiting]);
    expect(revokeSummaryWords(s)).toBe(
      "revoked 2, already revoked 0, waiting for a person 1, failed 0; verified 1, unverified 1",
    );
  });

  it("the browser entry exports the same table", () => {
    expect(browser.REVOKE_OUTCOME_WORDS).toBe(REVOKE_OUTCOME_WORDS);
    expect(browser.revokeResultWords(unverified)).toBe(revokeResultWords(unverified));
  });
});
