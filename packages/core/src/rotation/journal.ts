/**
 * The rotation journal: runs and slots in the state store (store/state-store.ts; in SQLite the tables
 * `rotation_runs` and `rotation_slots`, migration 2). A run is one applied plan; a slot is one key's
 * rotation. Every change of a slot's step is one transaction that also
 * appends the matching `rotation.*` audit entry, so the journal and the audit log never disagree, and a
 * step that cannot be audited is not taken (fail closed). The store makes each commit durable before it
 * resolves (SQLite: synchronous=FULL), before the caller goes on to touch an exchange or a file:
 * write-ahead.
 *
 * Rows hold identifiers only (key ids, API keys, labels, vault references, target descriptions); the
 * secrets are in the vault. A finished slot keeps the old key's id, API key and label: the "previous"
 * version, as AWS Secrets Manager keeps AWSPREVIOUS.
 *
 * AUTHENTICATED: resume and abort act on what these rows say (where each new secret is delivered, the
 * check command, the age recipient, which vault entry is the new key's secret, which label marks a key
 * as ours to delete). Whoever can write state.db without the vault's passphrase must not be able to
 * choose any of that. So each run row carries a MAC (`keyward-rotation-run-v1`) over the canonical JSON
 * of its id, plan and options, made when the run is journaled, and each slot row one
 * (`keyward-rotation-slot-v1`) over every field a step acts on, remade by each step; both are HMAC-SHA256
 * under the audit log's key (vault). `lock()` (every resume, abort and apply) and `slot()` refuse rows
 * whose MAC does not verify (JOURNAL_TAMPERED), as well as runs journaled before MACs existed (no way
 * to tell them from forged ones). Not covered, as they choose nothing: the run's state and lock, a
 * slot's evidence and last error, the timestamps. Reading (status, the web's views) needs no key.
 */
import { hostname } from "node:os";
import type { RecordAuthenticator } from "../audit/audit-log.js";
import { canonicalJson } from "../audit/canonical-json.js";
import { isKeywardError, KeywardError } from "../errors.js";
import type { AuditWriter } from "../revoke/run.js";
import type { SlotRecord, StateStore } from "../store/state-store.js";
import { runFromRow, slotFromRow } from "./journal-rows.js";
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

/** Domain-separation labels of the journal's MACs (see the top of this file). */
export const RUN_MAC_LABEL = "keyward-rotation-run-v1";
export const SLOT_MAC_LABEL = "keyward-rotation-slot-v1";

/**
 * The audit writer the journal appends with; `home.audit()` also authenticates records (the audit key).
 * A journal without that can read, but not journal a run nor claim one (status's read-only journal).
 */
export type JournalAudit = AuditWriter & Partial<RecordAuthenticator>;

/**
 * A run's own audit action: `rotation.requested`, `rotation.run-finished`, …; for a key create's run (every
 * slot a `create`) `key.create-requested`, `key.create-finished`, …, so the log says a key was created.
 */
export function runAction(plan: Pick<RotationPlan, "slots">, what: string): string {
  const create = plan.slots.length > 0 && plan.slots.every((s) => s.create);
  if (create) return `key.create-${what}`;
  return what === "requested" || what === "resumed" ? `rotation.${what}` : `rotation.run-${what}`;
}

export class RotationJournal {
  readonly #state: StateStore;
  readonly #audit: JournalAudit;
  readonly #now: () => Date;

  constructor(state: StateStore, audit: JournalAudit, now: () => Date = () => new Date()) {
    this.#state = state;
    this.#audit = audit;
    this.#now = now;
  }

  get path(): string {
    return this.#state.location;
  }

  /**
   * Records the run and every slot at `planned`, with `rotation.requested` (a key create's run:
   * `key.create-requested`), in one transaction.
   */
  async createRun(plan: RotationPlan, options: RunOptions): Promise<void> {
    const at = this.#now().toISOString();
    await this.#write("record the rotation", async () => {
      if (await this.run(plan.id)) {
        throw new KeywardError("ROTATION_CONFLICT", `rotation ${plan.id} was already applied`, {
          hint: `See it with \`keyward rotate status\`; continue it with \`keyward rotate resume ${plan.id}\`, or make a new plan.`,
        });
      }
      const planText = JSON.stringify(plan);
      const optionsText = JSON.stringify(options);
      const slots: SlotRecord[] = [];
      for (const s of plan.slots) {
        const first: SlotRow = {
          runId: plan.id,
          slot: s.slot,
          method: s.method,
          exchange: s.old.exchange,
          account: s.old.account,
          subAccount: s.old.subAccount,
          oldKeyId: s.old.id,
          oldApiKey: s.old.apiKey,
          oldLabel: s.old.label,
          newLabel: s.new.label,
          step: "planned",
          attempt: 0,
          newKeyId: null,
          newApiKey: null,
          newRef: null,
          delivered: [],
          graceUntil: null,
          evidence: [],
          error: null,
          updatedAt: at,
        };
        slots.push({ ...slotRecordOf(first), mac: this.#slotMac(first) });
      }
      await this.#state.insertRun(
        {
          id: plan.id,
          createdAt: at,
          updatedAt: at,
          state: "active",
          plan: planText,
          options: optionsText,
          lockPid: null,
          lockHost: null,
          mac: this.#auth().recordMac(RUN_MAC_LABEL, runMacText(plan.id, planText, optionsText)),
        },
        slots,
      );
      await this.#audit.append(runAction(plan, "requested"), plan.id, {
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

  async run(id: string): Promise<RunRow | undefined> {
    const row = await this.#state.run(id);
    return row ? runFromRow(row) : undefined;
  }

  /** Newest first. */
  async runs(filter: { active?: boolean; limit?: number } = {}): Promise<RunRow[]> {
    const rows = await this.#state.runs({
      ...(filter.active ? { active: true } : {}),
      limit: filter.limit ?? 1000,
    });
    return rows.map(runFromRow);
  }

  async slots(runId: string): Promise<SlotRow[]> {
    return (await this.#state.slots(runId)).map(slotFromRow);
  }

  /**
   * One slot, as the engine reads it before each step: authenticated (JOURNAL_TAMPERED otherwise) when
   * the journal can check MACs, i.e. always when it acts.
   */
  async slot(runId: string, slot: number): Promise<SlotRow> {
    const row = await this.#state.slot(runId, slot);
    if (!row) throw new KeywardError("INTERNAL", `rotation ${runId} has no slot ${slot}`);
    const parsed = slotFromRow(row);
    if (this.#audit.recordMacMatches) this.#checkSlot(parsed, row.mac);
    return parsed;
  }

  /**
   * The run, authenticated: its plan and options, and every slot (JOURNAL_TAMPERED if any MAC does not
   * verify, or the run has none). What resume and abort act on; `lock()` checks it too.
   */
  async verifiedRun(runId: string): Promise<RunRow> {
    const row = await this.#state.run(runId);
    if (!row) throw new KeywardError("KEY_NOT_FOUND", `no rotation ${runId}`);
    const auth = this.#auth();
    if (row.mac === null) {
      throw tampered(
        runId,
        "it has no MAC (journaled by a Keyward from before runs were authenticated, or its MAC was removed)",
      );
    }
    let text: string;
    try {
      text = runMacText(runId, row.plan, row.options);
    } catch {
      throw tampered(runId, "its plan or options are not JSON");
    }
    if (!auth.recordMacMatches(RUN_MAC_LABEL, text, row.mac)) {
      throw tampered(runId, "its plan or options (delivery targets, check command, recipient) were changed");
    }
    const run = runFromRow(row);
    const slots = await this.#state.slots(runId);
    if (slots.length !== run.plan.slots.length || slots.some((s, i) => s.slot !== i + 1)) {
      throw tampered(runId, "slots were added or removed");
    }
    for (const s of slots) this.#checkSlot(slotFromRow(s), s.mac);
    return run;
  }

  /** Unfinished slots of active runs rotating any of these keys (a key is rotated by one run at a time). */
  async busyKeys(keyIds: readonly string[]): Promise<{ keyId: string; runId: string }[]> {
    if (keyIds.length === 0) return [];
    const rows = await this.#state.unfinishedSlotKeys(["finished", "aborted"]);
    const wanted = new Set(keyIds);
    return rows.flatMap((r) =>
      [r.oldKeyId, r.newKeyId]
        .filter((k): k is string => k !== null && wanted.has(k))
        .map((keyId) => ({
          keyId,
          runId: r.runId,
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
  ): Promise<SlotRow> {
    return this.#write(`journal step ${step} of ${runId}/${slot}`, async () => {
      const current = await this.slot(runId, slot);
      // A slot that has ended (aborted, finished) or a run that has is never moved on: an engine still
      // holding an older read of it (another session of this process, say) must stop, not undo the end.
      const run = await this.run(runId);
      if (run?.state !== "active" || (TERMINAL.includes(current.step) && step !== current.step)) {
        throw new KeywardError(
          "ROTATION_CONFLICT",
          `rotation ${runId} slot ${slot} is ${run?.state !== "active" ? `in a run that is ${run?.state ?? "gone"}` : current.step}: not moved to ${step}`,
          { hint: "Another action ended it while this one ran; see `keyward rotate status`." },
        );
      }
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
      const record = slotRecordOf(next);
      await this.#state.updateSlotStep({
        runId,
        slot,
        step: record.step,
        attempt: record.attempt,
        newKeyId: record.newKeyId,
        newApiKey: record.newApiKey,
        newRef: record.newRef,
        delivered: record.delivered,
        graceUntil: record.graceUntil,
        evidence: record.evidence,
        error: null,
        updatedAt: record.updatedAt,
        mac: this.#slotMac(next),
      });
      await this.#state.touchRun(runId, next.updatedAt);
      await this.#audit.append(audit.action, audit.subject, { run: runId, slot, step, ...audit.details });
      return next;
    });
  }

  /** Records why a slot stopped (failed, or waits for a person); its step stays for resume. */
  stop(runId: string, slot: number, error: SlotError, subject: string): Promise<SlotRow> {
    return this.#write(`journal the stop of ${runId}/${slot}`, async () => {
      const at = this.#now().toISOString();
      await this.#state.setSlotError(runId, slot, JSON.stringify(error), at);
      await this.#state.touchRun(runId, at);
      await this.#audit.append(error.waiting ? "rotation.waiting" : "rotation.failed", subject, {
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
  settle(runId: string, state?: "aborted"): Promise<RunRow["state"]> {
    return this.#write(`settle rotation ${runId}`, async () => {
      const slots = await this.slots(runId);
      const next =
        state ??
        (slots.every((s) => TERMINAL.includes(s.step))
          ? slots.some((s) => s.step === "finished") || slots.length === 0
            ? "finished"
            : "aborted"
          : "active");
      const run = await this.run(runId);
      if (run && run.state !== next) {
        await this.#state.setRunState(runId, next, this.#now().toISOString());
        await this.#audit.append(runAction(run.plan, next), runId, {
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
  lock(runId: string): Promise<RunRow> {
    return this.#write(`claim rotation ${runId}`, async () => {
      // What the caller goes on to act on: authenticated, under the write lock.
      const run = await this.verifiedRun(runId);
      if (run.lockPid !== null && run.lockPid !== process.pid && isAlive(run.lockPid, run.lockHost)) {
        throw new KeywardError(
          "ROTATION_CONFLICT",
          `rotation ${runId} is being run by process ${run.lockPid} on ${run.lockHost}`,
          { hint: "Wait for it to end (or stop it), then run `keyward rotate resume`." },
        );
      }
      await this.#state.lockRun(runId, process.pid, hostname());
      return run;
    });
  }

  async unlock(runId: string): Promise<void> {
    if (!(await this.#state.isWritable())) return;
    await this.#state.unlockRun(runId, process.pid);
  }

  /** One transaction; refused up front (STATE_UNAVAILABLE, naming `what`) on a read-only store. */
  async #write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (!(await this.#state.isWritable())) {
      throw new KeywardError(
        "STATE_UNAVAILABLE",
        `Cannot ${what}: the state database at ${this.#state.location} is read-only.`,
        { hint: "Restore its write permission (it was opened read-only, or its file has no write bit)." },
      );
    }
    return this.#state.transaction(fn);
  }

  #auth(): RecordAuthenticator {
    const { recordMac, recordMacMatches } = this.#audit;
    if (!recordMac || !recordMacMatches) {
      throw new KeywardError("INTERNAL", "this rotation journal cannot authenticate runs (read-only use)");
    }
    return { recordMac, recordMacMatches };
  }

  #slotMac(row: SlotRow): string {
    return this.#auth().recordMac(SLOT_MAC_LABEL, slotMacText(row));
  }

  #checkSlot(row: SlotRow, mac: string | null): void {
    let ok: boolean;
    try {
      ok = mac !== null && this.#auth().recordMacMatches(SLOT_MAC_LABEL, slotMacText(row), mac);
    } catch (error) {
      if (isKeywardError(error)) throw error;
      ok = false;
    }
    if (!ok) {
      throw tampered(
        row.runId,
        `slot ${row.slot} was changed outside Keyward (its step, new key, vault reference or delivered targets)`,
      );
    }
  }
}

/** A slot as the store keeps it (its JSON fields as text), without its MAC. */
function slotRecordOf(row: SlotRow): Omit<SlotRecord, "mac"> {
  return {
    ...row,
    delivered: JSON.stringify(row.delivered),
    evidence: JSON.stringify(row.evidence),
    error: row.error === null ? null : JSON.stringify(row.error),
  };
}

/** What a run's MAC covers: its id, plan and options, as canonical JSON of the stored text. */
function runMacText(id: string, planText: string, optionsText: string): string {
  return canonicalJson({ id, plan: JSON.parse(planText), options: JSON.parse(optionsText) });
}

/**
 * What a slot's MAC covers: every field a step acts on. Left out, as they decide nothing: evidence, the
 * last error (a stop writes only that), the timestamp.
 */
function slotMacText(row: SlotRow): string {
  return canonicalJson({
    runId: row.runId,
    slot: row.slot,
    method: row.method,
    exchange: row.exchange,
    account: row.account,
    subAccount: row.subAccount,
    oldKeyId: row.oldKeyId,
    oldApiKey: row.oldApiKey,
    oldLabel: row.oldLabel,
    newLabel: row.newLabel,
    step: row.step,
    attempt: row.attempt,
    newKeyId: row.newKeyId,
    newApiKey: row.newApiKey,
    newRef: row.newRef,
    delivered: row.delivered,
    graceUntil: row.graceUntil,
  });
}

const tampered = (runId: string, why: string) =>
  new KeywardError("JOURNAL_TAMPERED", `rotation ${runId} cannot be trusted: ${why}`, {
    hint: "Keyward will not resume or abort it (it could deliver a secret or run a program someone else chose). Revoke or rotate its keys by hand on the exchange's site (or `keyward revoke`), check the delivery targets, and run `keyward audit verify`: state.db was changed without the vault's key.",
  });

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
