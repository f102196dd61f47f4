/**
 * One vocabulary for how a revoke or a rotation ended, used by every view that shows one: the CLI's
 * revoke progress, table and summary, the web's revoke-job page, the rotation views, and both audit
 * views. Words that differ between two screens make people wonder whether they mean different things;
 * worse, an "inconclusive" probe must never read as "verified" anywhere. Plain data and pure functions
 * only: the browser entry exports this file (test/browser-entry.test.ts keeps it free of node imports).
 */
import type { RevokeOutcome } from "../revoke/report.js";

/** Whoever must act next is a person (a manual revoke, an assisted rotation slot). */
export const WAITING_WORDS = "waiting for a person";

/** A revoke's per-key outcome in words: the CLI table and summary, the web job page, the audit log. */
export const REVOKE_OUTCOME_WORDS: Readonly<Record<RevokeOutcome, string>> = {
  revoked: "revoked",
  "already-revoked": "already revoked",
  "awaiting-manual": WAITING_WORDS,
  disabled: "disabled but not removed",
  failed: "failed",
};

/** Whether a revoked key was proven dead, as one word ("verified 2, unverified 1"). */
export const VERIFIED_WORDS = { yes: "verified", no: "unverified" } as const;

/** The same, as a phrase for progress lines and checklists ("proven dead: bot-1"). */
export const PROVEN_WORDS = { yes: "proven dead", no: "NOT proven dead" } as const;

/** A rotation slot's outcome in words (the CLI summary, the web run page and its title). */
export const ROTATION_OUTCOME_WORDS = {
  finished: "finished",
  waiting: WAITING_WORDS,
  failed: "failed",
  aborted: "aborted",
} as const;

/**
 * Why a key is not proven dead, from its last evidence line (`probe: inconclusive, …`): "probe
 * inconclusive", "probe: still alive", "no probe"; undefined when the evidence does not say.
 */
export function unprovenReason(evidence: readonly string[]): string | undefined {
  const why = /^(before: )?probe: (inconclusive|alive|none)/.exec(evidence.at(-1) ?? "")?.[2];
  return why === "inconclusive"
    ? "probe inconclusive"
    : why === "alive"
      ? "probe: still alive"
      : why === "none"
        ? "no probe"
        : undefined;
}

/** "verified", or "unverified (probe inconclusive)": never "verified" for a key not proven dead. */
export function verifiedWord(r: { verified: boolean; evidence: readonly string[] }): string {
  if (r.verified) return VERIFIED_WORDS.yes;
  const reason = unprovenReason(r.evidence);
  return reason ? `${VERIFIED_WORDS.no} (${reason})` : VERIFIED_WORDS.no;
}

/**
 * A revoked key's outcome and proof in one cell: "revoked, verified", "revoked, unverified (probe
 * inconclusive)", "waiting for a person". Only revoked keys carry a proof word: a key waiting for a
 * person or failed is not "unverified", it is not revoked yet.
 */
export function revokeResultWords(r: {
  outcome: RevokeOutcome;
  verified: boolean;
  evidence: readonly string[];
}): string {
  const word = REVOKE_OUTCOME_WORDS[r.outcome];
  if (r.outcome !== "revoked" && r.outcome !== "already-revoked") return word;
  return `${word}, ${verifiedWord(r)}`;
}

/** The counts a revoke summary carries (RevokeSummary, or an audit entry's `revoke.finished` details). */
export interface RevokeCountsIn {
  revoked: number;
  alreadyRevoked: number;
  awaitingManual: number;
  failed: number;
  verified: number;
  unverified: number;
  disabled?: number;
}

/** "revoked 2, already revoked 0, waiting for a person 1, failed 0; verified 1, unverified 1". */
export function revokeSummaryWords(s: RevokeCountsIn): string {
  const w = REVOKE_OUTCOME_WORDS;
  return (
    `${w.revoked} ${s.revoked}, ${w["already-revoked"]} ${s.alreadyRevoked}, ${w["awaiting-manual"]} ${s.awaitingManual}, ` +
    `${s.disabled === undefined ? "" : `${w.disabled} ${s.disabled}, `}${w.failed} ${s.failed}; ` +
    `${VERIFIED_WORDS.yes} ${s.verified}, ${VERIFIED_WORDS.no} ${s.unverified}`
  );
}
