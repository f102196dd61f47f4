/** The journal's SQLite rows and their mapping to SlotRow / RunRow (JSON columns parsed, plans re-validated). */
import { KeywardError } from "../errors.js";
import type { RunRow, SlotError, SlotRow } from "./journal.js";
import { RotationPlanSchema, RunOptionsSchema, type Step } from "./schemas.js";

export interface SlotDbRow {
  run_id: string;
  slot: number;
  method: "api" | "assisted";
  exchange: string;
  account: string;
  sub_account: string | null;
  old_key_id: string;
  old_api_key: string;
  old_label: string;
  new_label: string;
  step: Step;
  attempt: number;
  new_key_id: string | null;
  new_api_key: string | null;
  new_ref: string | null;
  delivered: string;
  grace_until: string | null;
  evidence: string;
  error: string | null;
  updated_at: string;
  /** See journal.ts: HMAC under the audit key; NULL on rows journaled before MACs. */
  mac: string | null;
}

export interface RunDbRow {
  id: string;
  created_at: string;
  updated_at: string;
  state: RunRow["state"];
  plan: string;
  options: string;
  lock_pid: number | null;
  lock_host: string | null;
  mac: string | null;
}

const parseJson = <T>(text: string | null, fallback: T): T => {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

export function slotFromRow(r: SlotDbRow): SlotRow {
  return {
    runId: r.run_id,
    slot: r.slot,
    method: r.method,
    exchange: r.exchange,
    account: r.account,
    subAccount: r.sub_account,
    oldKeyId: r.old_key_id,
    oldApiKey: r.old_api_key,
    oldLabel: r.old_label,
    newLabel: r.new_label,
    step: r.step,
    attempt: r.attempt,
    newKeyId: r.new_key_id,
    newApiKey: r.new_api_key,
    newRef: r.new_ref,
    delivered: parseJson<string[]>(r.delivered, []),
    graceUntil: r.grace_until,
    evidence: parseJson<string[]>(r.evidence, []),
    error: parseJson<SlotError | null>(r.error, null),
    updatedAt: r.updated_at,
  };
}

export function runFromRow(r: RunDbRow): RunRow {
  const plan = RotationPlanSchema.safeParse(parseJson(r.plan, null));
  const options = RunOptionsSchema.safeParse(parseJson(r.options, null));
  if (!plan.success || !options.success) {
    throw new KeywardError("STATE_UNAVAILABLE", `rotation ${r.id}: its journal row is not readable`, {
      hint: "The state database was changed by hand or by a newer Keyward; keep a copy and report it.",
    });
  }
  return {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    state: r.state,
    plan: plan.data,
    options: options.data,
    lockPid: r.lock_pid,
    lockHost: r.lock_host,
  };
}
