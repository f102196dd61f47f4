/** The journal's stored records and their mapping to SlotRow / RunRow (JSON fields parsed, plans re-validated). */
import { KeywardError } from "../errors.js";
import type { RunRecord, SlotRecord } from "../store/state-store.js";
import type { RunRow, SlotError, SlotRow } from "./journal.js";
import { RotationPlanSchema, RunOptionsSchema, type Step } from "./schemas.js";

const parseJson = <T>(text: string | null, fallback: T): T => {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

export function slotFromRow(r: SlotRecord): SlotRow {
  return {
    runId: r.runId,
    slot: r.slot,
    method: r.method,
    exchange: r.exchange,
    account: r.account,
    subAccount: r.subAccount,
    oldKeyId: r.oldKeyId,
    oldApiKey: r.oldApiKey,
    oldLabel: r.oldLabel,
    newLabel: r.newLabel,
    step: r.step as Step,
    attempt: r.attempt,
    newKeyId: r.newKeyId,
    newApiKey: r.newApiKey,
    newRef: r.newRef,
    delivered: parseJson<string[]>(r.delivered, []),
    graceUntil: r.graceUntil,
    evidence: parseJson<string[]>(r.evidence, []),
    error: parseJson<SlotError | null>(r.error, null),
    updatedAt: r.updatedAt,
  };
}

export function runFromRow(r: RunRecord): RunRow {
  const plan = RotationPlanSchema.safeParse(parseJson(r.plan, null));
  const options = RunOptionsSchema.safeParse(parseJson(r.options, null));
  if (!plan.success || !options.success) {
    throw new KeywardError("STATE_UNAVAILABLE", `rotation ${r.id}: its journal row is not readable`, {
      hint: "The state database was changed by hand or by a newer Keyward; keep a copy and report it.",
    });
  }
  return {
    id: r.id,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    state: r.state,
    plan: plan.data,
    options: options.data,
    lockPid: r.lockPid,
    lockHost: r.lockHost,
  };
}
