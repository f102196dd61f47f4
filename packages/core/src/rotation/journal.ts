/**
 * The rotation journal: SQLite tables `rotation_runs` and `rotation_slots` (migration 2). A run is one
 * applied plan; a slot is one key's rotation. Every change of a slot's step is one transaction that also
 * appends the matching `rotation.*` audit entry, so the journal and the audit log never disagree, and a
 * step that cannot be audited is not taken (fail closed). synchronous=FULL makes each commit durable
 * before the caller goes on to touch an exchange or a file: write-ahead.
 *
 * Rows hold identifiers only (key ids, API keys, labels, vault references, target descriptions); the
 * secrets are in the vault. A finished slot keeps the old key's id, API key and label: the "previous"
 * version, as AWS Secrets Manager keeps AWSPREVIOUS.
 */
import { hostname } from "node:os";
import { KeywardError } from "../errors.js";
import type { AuditWriter } from "../revoke/run.js";
import { type StateDatabase, writeOrThrow } from "../store/database.js";
import { type RunDbRow, runFromRow, type SlotDbRow, slotFromRow } from "./journal-rows.js";
import { type PlanSlot, type RotationPlan, type RunOptions, type Step, TERMINAL } from "./schemas.js";

export interface SlotError {
  code: string;
  message: string;
  hint?: string;
  /** The step the slot was at when it stopped. */
  step: Step;
  /** Waiting for a person rather than failed. */
  waiting?: boolean;
}

export interface SlotRow {
  runId: string;
  slot: number;
  method: "api" | "assisted";
  exchange: string;
  account: string;
  subAccount: string | null;
  oldKeyId: string;
  oldApiKey: string;
  oldLabel: string;
  newLabel: string;
  step: Step;
  attempt: number;
  newKeyId: string | null;
  newApiKey: string | null;
  newRef: string | null;
  delivered: string[];
  graceUntil: string | null;
  evidence: string[];
  error: SlotError | null;
  updatedAt: string;
}

export interface RunRow {
  id: string;
  createdAt: string;
  updatedAt: string;
  state: "active" | "finished" | "aborted";
  plan: RotationPlan;
  options: RunOptions;
  lockPid: number | null;
  lockHost: string | null;
}

/** Fields a step change may set. */
export type SlotChange = Partial<
  Pick<SlotRow, "attempt" | "newKeyId" | "newApiKey" | "newRef" | "delivered" | "graceUntil">
> & { evidence?: string };

const MAX_EVIDENCE = 30;

export class RotationJournal {
  readonly #state: StateDatabase;
  readonly #audit: AuditWriter;
  readonly #now: () => Date;

  constructor(state: StateDatabase, audit: AuditWriter, now: () => Date = () => new Date()) {
    this.#state = state;
    this.#audit = audit;
    this.#now = now;
  }

  get path(): string {
    return this.#state.path;
  }

  /** Records the run and every slot at `planned`, with `rotation.requested`, in one transaction. */
  createRun(plan: RotationPlan, options: RunOptions): void {
    const at = this.#now().toISOString();
    this.#write("record the rotation", () => {
      if (this.run(plan.id)) {
        throw new KeywardError("ROTATION_CONFLICT", `rotation ${plan.id} was already applied`, {
          hint: `See it with \`keyward rotate status\`; continue it with \`keyward rotate resume ${plan.id}\`, or make a new plan.`,
        });
      }
      this.#state.db
        .prepare(
          "INSERT INTO rotation_runs (id, created_at, updated_at, state, plan, options) VALUES (?, ?, ?, 'active', ?, ?)",
        )
        .run(plan.id, at, at, JSON.stringify(plan), JSON.stringify(options));
      const insert = this.#state.db.prepare(
        `INSERT INTO rotation_slots (run_id, slot, method, exchange, account, sub_account, old_key_id, old_api_key,
           old_label, new_label, step, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'planned', ?)`,
      );
      for (const s of plan.slots) {
        insert.run(
          plan.id,
          s.slot,
          s.method,
          s.old.exchange,
          s.old.account,
          s.old.subAccount,
          s.old.id,
          s.old.apiKey,
          s.old.label,
          s.new.label,
          at,
        );
      }
      this.#audit.append("rotation.requested", plan.id, {
        keys: plan.slots.map((s) => ({
          slot: s.slot,
          key: s.old.id,
          method: s.method,
          newLabel: s.new.label,
        })),
        refused: plan.refused.map((r) => r.id),
        options: { ...options },
      });
    });
  }

  run(id: string): RunRow | undefined {
    const row = this.#state.db
      .prepare<[string], RunDbRow>("SELECT * FROM rotation_runs WHERE id = ?")
      .get(id);
    return row ? runFromRow(row) : undefined;
  }

  /** Newest first. */
  runs(filter: { active?: boolean; limit?: number } = {}): RunRow[] {
    const where = filter.active ? "WHERE state = 'active'" : "";
    return this.#state.db
      .prepare<[number], RunDbRow>(
        `SELECT * FROM rotation_runs ${where} ORDER BY created_at DESC, id DESC LIMIT ?`,
      )
      .all(filter.limit ?? 1000)
      .map(runFromRow);
  }

  slots(runId: string): SlotRow[] {
    return this.#state.db
      .prepare<[string], SlotDbRow>("SELECT * FROM rotation_slots WHERE run_id = ? ORDER BY slot")
      .all(runId)
      .map(slotFromRow);
  }

  slot(runId: string, slot: number): SlotRow {
    const row = this.#state.db
      .prepare<[string, number], SlotDbRow>("SELECT * FROM rotation_slots WHERE run_id = ? AND slot = ?")
      .get(runId, slot);
    if (!row) throw new KeywardError("INTERNAL", `rotation ${runId} has no slot ${slot}`);
    return slotFromRow(row);
  }

  /** Unfinished slots of active runs rotating any of these keys (a key is rotated by one run at a time). */
  busyKeys(keyIds: readonly string[]): { keyId: string; runId: string }[] {
    if (keyIds.length === 0) return [];
    const rows = this.#state.db
      .prepare<string[], { old_key_id: string; new_key_id: string | null; run_id: string }>(
        `SELECT s.old_key_id, s.new_key_id, s.run_id FROM rotation_slots s JOIN rotation_runs r ON r.id = s.run_id
         WHERE r.state = 'active' AND s.step NOT IN ('finished', 'aborted')`,
      )
      .all();
    const wanted = new Set(keyIds);
    return rows.flatMap((r) =>
      [r.old_key_id, r.new_key_id]
        .filter((k): k is string => k !== null && wanted.has(k))
        .map((keyId) => ({
          keyId,
          runId: r.run_id,
        })),
    );
  }

  /**
   * Moves a slot to `step` (with its fields) and appends the audit entry, in one transaction. The error
   * of an earlier stop is cleared: the slot moved on.
   */
  advance(
    runId: string,
    slot: number,
    step: Step,
    change: SlotChange,
    audit: { action: string; subject: string; details?: Record<string, unknown> },
  ): SlotRow {
    return this.#write(`journal step ${step} of ${runId}/${slot}`, () => {
      const current = this.slot(runId, slot);
      const evidence = change.evidence
        ? [...current.evidence, change.evidence].slice(-MAX_EVIDENCE)
        : current.evidence;
      const next: SlotRow = {
        ...current,
        ...withoutEvidence(change),
        step,
        evidence,
        error: null,
        updatedAt: this.#now().toISOString(),
      };
      this.#state.db
        .prepare(
          `UPDATE rotation_slots SET step = ?, attempt = ?, new_key_id = ?, new_api_key = ?, new_ref = ?, delivered = ?,
             grace_until = ?, evidence = ?, error = NULL, updated_at = ? WHERE run_id = ? AND slot = ?`,
        )
        .run(
          next.step,
          next.attempt,
          next.newKeyId,
          next.newApiKey,
          next.newRef,
          JSON.stringify(next.delivered),
          next.graceUntil,
          JSON.stringify(next.evidence),
          next.updatedAt,
          runId,
          slot,
        );
      this.#touchRun(runId, next.updatedAt);
      this.#audit.append(audit.action, audit.subject, { run: runId, slot, step, ...audit.details });
      return next;
    });
  }

  /** Records why a slot stopped (failed, or waits for a person); its step stays for resume. */
  stop(runId: string, slot: number, error: SlotError, subject: string): SlotRow {
    return this.#write(`journal the stop of ${runId}/${slot}`, () => {
      const at = this.#now().toISOString();
      this.#state.db
        .prepare("UPDATE rotation_slots SET error = ?, updated_at = ? WHERE run_id = ? AND slot = ?")
        .run(JSON.stringify(error), at, runId, slot);
      this.#touchRun(runId, at);
      this.#audit.append(error.waiting ? "rotation.waiting" : "rotation.failed", subject, {
        run: runId,
        slot,
        step: error.step,
        code: error.code,
        message: error.message,
      });
      return this.slot(runId, slot);
    });
  }

  /** Marks the run finished (every slot finished), aborted, or keeps it active. */
  settle(runId: string, state?: "aborted"): RunRow["state"] {
    return this.#write(`settle rotation ${runId}`, () => {
      const slots = this.slots(runId);
      const next =
        state ??
        (slots.every((s) => TERMINAL.includes(s.step))
          ? slots.some((s) => s.step === "finished") || slots.length === 0
            ? "finished"
            : "aborted"
          : "active");
      const run = this.run(runId);
      if (run && run.state !== next) {
        this.#state.db
          .prepare("UPDATE rotation_runs SET state = ?, updated_at = ? WHERE id = ?")
          .run(next, this.#now().toISOString(), runId);
        this.#audit.append(`rotation.run-${next}`, runId, {
          finished: slots.filter((s) => s.step === "finished").length,
          aborted: slots.filter((s) => s.step === "aborted").length,
        });
      }
      return next;
    });
  }

  /**
   * Claims the run for this process. A claim by a live process on this host is refused; one left by a
   * process that died (SIGKILL, power cut) is taken over: that is what resume is for.
   */
  lock(runId: string): void {
    this.#write(`claim rotation ${runId}`, () => {
      const run = this.run(runId);
      if (!run) throw new KeywardError("KEY_NOT_FOUND", `no rotation ${runId}`);
      if (run.lockPid !== null && run.lockPid !== process.pid && isAlive(run.lockPid, run.lockHost)) {
        throw new KeywardError(
          "ROTATION_CONFLICT",
          `rotation ${runId} is being run by process ${run.lockPid} on ${run.lockHost}`,
          { hint: "Wait for it to end (or stop it), then run `keyward rotate resume`." },
        );
      }
      this.#state.db
        .prepare("UPDATE rotation_runs SET lock_pid = ?, lock_host = ? WHERE id = ?")
        .run(process.pid, hostname(), runId);
    });
  }

  unlock(runId: string): void {
    if (!this.#state.isWritable()) return;
    this.#state.db
      .prepare("UPDATE rotation_runs SET lock_pid = NULL, lock_host = NULL WHERE id = ? AND lock_pid = ?")
      .run(runId, process.pid);
  }

  #touchRun(runId: string, at: string): void {
    this.#state.db.prepare("UPDATE rotation_runs SET updated_at = ? WHERE id = ?").run(at, runId);
  }

  #write<T>(what: string, fn: () => T): T {
    return writeOrThrow(this.#state, what, () => this.#state.transaction(fn));
  }
}

function withoutEvidence(change: SlotChange): Omit<SlotChange, "evidence"> {
  const { evidence: _evidence, ...rest } = change;
  return rest;
}

/** A process on another host cannot be checked: its claim is taken as live. */
function isAlive(pid: number, host: string | null): boolean {
  if (host !== null && host !== hostname()) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export type { PlanSlot };
