/**
 * What a revoke reports: each key's result and outcome, the events a run emits, the summary; and the
 * small helpers that start, describe and count results (shared by the engine, its kill-switch pass and
 * the use cases).
 */
import type { ManualSteps, ProbeResult } from "../domain/schemas.js";
import { isKeywardError } from "../errors.js";
import type { RevokePlanItem } from "./plan.js";

/**
 * "disabled": switched off by the exchange's kill switch (by this run, or listed so already), but its
 * removal failed (or was stopped): it fails authentication now, yet comes back if enabled; the next run
 * removes it.
 */
export type RevokeOutcome = "revoked" | "already-revoked" | "awaiting-manual" | "disabled" | "failed";

export interface RevokeKeyResult {
  id: string;
  exchange: string;
  account: string;
  subAccount: string | null;
  label: string;
  apiKey: string;
  method: "api" | "manual";
  outcome: RevokeOutcome;
  verified: boolean;
  evidence: string[];
  error?: { code: string; message: string; hint?: string };
  steps?: ManualSteps;
  /** The key was not listed by the exchange when planned: known from the inventory fetched then. */
  stale?: { fetchedAt: string };
  /** The key Keyward uses to reach the account: revoked after every other key of that account. */
  accountKey?: true;
  /** The exchange's kill switch took effect on it (or it was already off) before its removal was asked. */
  disabledFirst?: true;
}

export interface RevokeSummary {
  total: number;
  revoked: number;
  alreadyRevoked: number;
  awaitingManual: number;
  failed: number;
  verified: number;
  unverified: number;
  /**
   * Keys left switched off but not removed (outcome "disabled"). Present only when some key was switched
   * off (by this run's kill switch, or listed disabled already), so other revokes' summaries keep their shape.
   */
  disabled?: number;
}

export interface RevokeReport {
  results: RevokeKeyResult[];
  summary: RevokeSummary;
  startedAt: string;
  finishedAt: string;
}

export type RevokeEvent =
  | { type: "started"; total: number; byApi: number; byPerson: number }
  /** The kill switch took effect (the key fails authentication now); its removal comes next. */
  | { type: "disabled"; result: RevokeKeyResult }
  | { type: "revoked"; result: RevokeKeyResult }
  | { type: "failed"; result: RevokeKeyResult }
  | { type: "verified"; result: RevokeKeyResult }
  | { type: "manual-steps"; result: RevokeKeyResult; steps: ManualSteps }
  | { type: "manual-waiting"; pending: number; deadline: number }
  | { type: "manual-done"; result: RevokeKeyResult };

/** A key's result before the engine has done anything with it: failed, unverified, no evidence yet. */
export function unfinishedResult({ key, method, accountKey }: RevokePlanItem): RevokeKeyResult {
  return {
    id: key.id,
    exchange: key.exchange,
    account: key.account,
    subAccount: key.subAccount,
    label: key.label,
    apiKey: key.apiKey,
    method,
    outcome: "failed",
    verified: false,
    evidence: [],
    ...(key.stale ? { stale: key.stale } : {}),
    ...(accountKey ? { accountKey } : {}),
  };
}

/** Evidence for a key revoked by API whose secret Keyward does not hold. */
export const NO_PROBE = "probe: none, Keyward holds no secret for this key (the listing is the only proof)";

export const describeProbe = (p: ProbeResult): string =>
  p.status === "alive"
    ? `probe: alive (${p.evidence})`
    : p.status === "dead"
      ? `probe: dead (${p.evidence})`
      : `probe: inconclusive, ${p.reason} (${p.evidence})`;

export function errorOf(error: unknown): NonNullable<RevokeKeyResult["error"]> {
  if (isKeywardError(error))
    return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  return { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };
}

export function summarise(results: readonly RevokeKeyResult[]): RevokeSummary {
  const count = (o: RevokeOutcome) => results.filter((r) => r.outcome === o).length;
  const done = results.filter((r) => r.outcome === "revoked" || r.outcome === "already-revoked");
  return {
    total: results.length,
    revoked: count("revoked"),
    alreadyRevoked: count("already-revoked"),
    awaitingManual: count("awaiting-manual"),
    failed: count("failed"),
    verified: done.filter((r) => r.verified).length,
    unverified: done.filter((r) => !r.verified).length,
    ...(results.some((r) => r.disabledFirst || r.outcome === "disabled")
      ? { disabled: count("disabled") }
      : {}),
  };
}
