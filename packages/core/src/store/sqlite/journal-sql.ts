/**
 * The rotation journal's SQL (see StateStore in ../state-store.ts): runs (`rotation_runs`: state,
 * claim) and their slots (`rotation_slots`: the step each has reached). The MACs and the steps' meaning
 * are rotation/journal.ts's.
 */
import type { RunRecord, RunState, SlotRecord, SlotStepUpdate } from "../state-store.js";
import type { SqliteConnection } from "./connection.js";

interface RunDbRow {
  id: string;
  created_at: string;
  updated_at: string;
  state: RunState;
  plan: string;
  options: string;
  lock_pid: number | null;
  lock_host: string | null;
  mac: string | null;
}

interface SlotDbRow {
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
  step: string;
  attempt: number;
  new_key_id: string | null;
  new_api_key: string | null;
  new_ref: string | null;
  delivered: string;
  grace_until: string | null;
  evidence: string;
  error: string | null;
  updated_at: string;
  mac: string | null;
}

export function insertRun(c: SqliteConnection, run: RunRecord, slots: readonly SlotRecord[]): Promise<void> {
  return c.write("record the rotation", () => {
    c.db
      .transaction(() => {
        c.db
          .prepare(
            `INSERT INTO rotation_runs (id, created_at, updated_at, state, plan, options, lock_pid, lock_host, mac)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            run.id,
            run.createdAt,
            run.updatedAt,
            run.state,
            run.plan,
            run.options,
            run.lockPid,
            run.lockHost,
            run.mac,
          );
        const insert = c.db.prepare(
          `INSERT INTO rotation_slots (run_id, slot, method, exchange, account, sub_account, old_key_id, old_api_key,
             old_label, new_label, step, attempt, new_key_id, new_api_key, new_ref, delivered, grace_until, evidence,
             error, updated_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        for (const s of slots) {
          insert.run(
            s.runId,
            s.slot,
            s.method,
            s.exchange,
            s.account,
            s.subAccount,
            s.oldKeyId,
            s.oldApiKey,
            s.oldLabel,
            s.newLabel,
            s.step,
            s.attempt,
            s.newKeyId,
            s.newApiKey,
            s.newRef,
            s.delivered,
            s.graceUntil,
            s.evidence,
            s.error,
            s.updatedAt,
            s.mac,
          );
        }
      })
      .immediate();
  });
}

export function run(c: SqliteConnection, id: string): Promise<RunRecord | undefined> {
  return c.read(() => {
    const row = c.db.prepare<[string], RunDbRow>("SELECT * FROM rotation_runs WHERE id = ?").get(id);
    return row === undefined ? undefined : runRecord(row);
  });
}

export function runs(c: SqliteConnection, filter: { active?: boolean; limit: number }): Promise<RunRecord[]> {
  const where = filter.active ? "WHERE state = 'active'" : "";
  return c.read(() =>
    c.db
      .prepare<[number], RunDbRow>(
        `SELECT * FROM rotation_runs ${where} ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(filter.limit)
      .map(runRecord),
  );
}

export function slots(c: SqliteConnection, runId: string): Promise<SlotRecord[]> {
  return c.read(() =>
    c.db
      .prepare<[string], SlotDbRow>("SELECT * FROM rotation_slots WHERE run_id = ? ORDER BY slot")
      .all(runId)
      .map(slotRecord),
  );
}

export function slot(c: SqliteConnection, runId: string, slot: number): Promise<SlotRecord | undefined> {
  return c.read(() => {
    const row = c.db
      .prepare<[string, number], SlotDbRow>("SELECT * FROM rotation_slots WHERE run_id = ? AND slot = ?")
      .get(runId, slot);
    return row === undefined ? undefined : slotRecord(row);
  });
}

export function unfinishedSlotKeys(
  c: SqliteConnection,
  terminalSteps: readonly string[],
): Promise<{ runId: string; oldKeyId: string; newKeyId: string | null }[]> {
  const marks = terminalSteps.map(() => "?").join(", ") || "NULL";
  return c.read(() =>
    c.db
      .prepare<string[], { old_key_id: string; new_key_id: string | null; run_id: string }>(
        `SELECT s.old_key_id, s.new_key_id, s.run_id FROM rotation_slots s JOIN rotation_runs r ON r.id = s.run_id
         WHERE r.state = 'active' AND s.step NOT IN (${marks})`,
      )
      .all(...terminalSteps)
      .map((r) => ({ runId: r.run_id, oldKeyId: r.old_key_id, newKeyId: r.new_key_id })),
  );
}

export function updateSlotStep(c: SqliteConnection, u: SlotStepUpdate): Promise<void> {
  return c.write(`journal step ${u.step} of ${u.runId}/${u.slot}`, () => {
    c.db
      .prepare(
        `UPDATE rotation_slots SET step = ?, attempt = ?, new_key_id = ?, new_api_key = ?, new_ref = ?, delivered = ?,
           grace_until = ?, evidence = ?, error = ?, updated_at = ?, mac = ? WHERE run_id = ? AND slot = ?`,
      )
      .run(
        u.step,
        u.attempt,
        u.newKeyId,
        u.newApiKey,
        u.newRef,
        u.delivered,
        u.graceUntil,
        u.evidence,
        u.error,
        u.updatedAt,
        u.mac,
        u.runId,
        u.slot,
      );
  });
}

export function setSlotError(
  c: SqliteConnection,
  runId: string,
  slot: number,
  error: string,
  updatedAt: string,
): Promise<void> {
  return c.write(`journal the stop of ${runId}/${slot}`, () => {
    c.db
      .prepare("UPDATE rotation_slots SET error = ?, updated_at = ? WHERE run_id = ? AND slot = ?")
      .run(error, updatedAt, runId, slot);
  });
}

export function setRunState(
  c: SqliteConnection,
  runId: string,
  state: RunState,
  updatedAt: string,
): Promise<void> {
  return c.write(`settle rotation ${runId}`, () => {
    c.db
      .prepare("UPDATE rotation_runs SET state = ?, updated_at = ? WHERE id = ?")
      .run(state, updatedAt, runId);
  });
}

export function touchRun(c: SqliteConnection, runId: string, updatedAt: string): Promise<void> {
  return c.write(`update rotation ${runId}`, () => {
    c.db.prepare("UPDATE rotation_runs SET updated_at = ? WHERE id = ?").run(updatedAt, runId);
  });
}

export function lockRun(c: SqliteConnection, runId: string, pid: number, host: string): Promise<void> {
  return c.write(`claim rotation ${runId}`, () => {
    c.db.prepare("UPDATE rotation_runs SET lock_pid = ?, lock_host = ? WHERE id = ?").run(pid, host, runId);
  });
}

export function unlockRun(c: SqliteConnection, runId: string, pid: number): Promise<void> {
  return c.write(`release rotation ${runId}`, () => {
    c.db
      .prepare("UPDATE rotation_runs SET lock_pid = NULL, lock_host = NULL WHERE id = ? AND lock_pid = ?")
      .run(runId, pid);
  });
}

function runRecord(r: RunDbRow): RunRecord {
  return {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    state: r.state,
    plan: r.plan,
    options: r.options,
    lockPid: r.lock_pid,
    lockHost: r.lock_host,
    mac: r.mac,
  };
}

function slotRecord(r: SlotDbRow): SlotRecord {
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
    delivered: r.delivered,
    graceUntil: r.grace_until,
    evidence: r.evidence,
    error: r.error,
    updatedAt: r.updated_at,
    mac: r.mac,
  };
}
