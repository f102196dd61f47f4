/**
 * The rotation engine: drives every unfinished slot of a run from the step its journal row is at, at
 * most `concurrency` slots at a time (the adapters pace their requests at the exchanges' limits). Apply
 * and resume are the same loop: each step reconciles what a crash may have left half done, so a run
 * killed at ANY point is finished by running it again. The old key is never revoked before the new one
 * is verified, delivered, checked and its grace period over: the journal's order enforces it.
 *
 * Test seam (explicit, for the crash tests only): `deps.crashPoint(point)` is called right after each
 * journal write with the step written (`planned` is written by apply), and with `create-answered` /
 * `revoke-answered` right after the exchange answered and before that is journaled. The CLI kills itself
 * with SIGKILL there when KEYWARD_TEST_CRASH_AFTER names the point (apps/cli/src/env.ts).
 */
import { isKeywardError, KeywardError } from "../errors.js";
import {
  createStep,
  planCreate,
  planRevoke,
  proveDeadStep,
  revokeSelfStep,
  revokeStep,
} from "./api-steps.js";
import { askForKey, askForRevoke, awaitRevoke, receiveKey } from "./assisted-steps.js";
import { checkStep, deliverStep, finishStep, startDelivery, verifyStep, waitGrace } from "./common-steps.js";
import {
  DEFAULT_TIMING,
  oldRecordOf,
  type RotationDeps,
  type SlotContext,
  type StepResult,
} from "./context.js";
import { createAction, finishCreateStep } from "./create-steps.js";
import { CredentialStore } from "./credential-store.js";
import type { RunRow, SlotRow } from "./journal.js";
import { finishResetStep, planReset, resetStep } from "./reset-steps.js";
import { type RunOptions, TERMINAL } from "./schemas.js";

export type SlotOutcome = "finished" | "waiting" | "failed" | "aborted" | "active";

export interface SlotReport {
  slot: number;
  method: "api" | "assisted";
  /** An assisted slot whose old key deletes itself by API (the plan slot's `selfRevoke`). */
  selfRevoke?: true;
  /** The key got a new secret in place (the plan slot's `reset`): no new key, no grace. */
  reset?: true;
  /** A new key that replaces none (the plan slot's `create`: `keyward key create`). */
  create?: true;
  oldKeyId: string;
  label: string;
  newLabel: string;
  newKeyId: string | null;
  step: SlotRow["step"];
  outcome: SlotOutcome;
  error?: { code: string; message: string; hint?: string };
  evidence: string[];
}

export interface RotationReport {
  runId: string;
  state: RunRow["state"];
  slots: SlotReport[];
  summary: {
    total: number;
    finished: number;
    waiting: number;
    failed: number;
    aborted: number;
    active: number;
  };
}

/** Exchange answers worth retrying the step for, in this run (resume retries everything else). */
const TRANSIENT = new Set([
  "EXCHANGE_UNAVAILABLE",
  "EXCHANGE_RATE_LIMITED",
  "CREATE_OUTCOME_UNKNOWN",
  "VAULT_CONFLICT",
]);

export function outcomeOf(row: SlotRow): SlotOutcome {
  if (row.step === "finished") return "finished";
  if (row.step === "aborted") return "aborted";
  if (row.error) return row.error.waiting ? "waiting" : "failed";
  return "active";
}

export function reportOf(run: RunRow, rows: readonly SlotRow[]): RotationReport {
  const slots = rows.map((row): SlotReport => {
    const plan = run.plan.slots[row.slot - 1];
    return {
      slot: row.slot,
      method: row.method,
      ...(plan?.selfRevoke ? { selfRevoke: true as const } : {}),
      ...(plan?.reset ? { reset: true as const } : {}),
      ...(plan?.create ? { create: true as const } : {}),
      oldKeyId: row.oldKeyId,
      label: plan?.old.label ?? row.oldLabel,
      newLabel: row.newLabel,
      newKeyId: row.newKeyId,
      step: row.step,
      outcome: outcomeOf(row),
      ...(row.error
        ? {
            error: {
              code: row.error.code,
              message: row.error.message,
              ...(row.error.hint ? { hint: row.error.hint } : {}),
            },
          }
        : {}),
      evidence: row.evidence,
    };
  });
  const count = (o: SlotOutcome) => slots.filter((s) => s.outcome === o).length;
  return {
    runId: run.id,
    state: run.state,
    slots,
    summary: {
      total: slots.length,
      finished: count("finished"),
      waiting: count("waiting"),
      failed: count("failed"),
      aborted: count("aborted"),
      active: count("active"),
    },
  };
}

/** Runs (or resumes) a run until every slot is finished, waiting for a person, or stopped by a failure. */
export async function runRotation(
  runId: string,
  deps: RotationDeps,
  overrides: Partial<Pick<RunOptions, "concurrency" | "manualTimeoutMs">> = {},
): Promise<RotationReport> {
  const { journal } = deps;
  // Authenticated (JOURNAL_TAMPERED otherwise): the plan and options the steps act on are these.
  const stored = await journal.lock(runId);
  try {
    const run: RunRow = { ...stored, options: { ...stored.options, ...overrides } };
    if (run.state !== "active") return reportOf(run, await journal.slots(runId));
    const store = new CredentialStore(deps.home);
    // (Assisted slots keep the plan's order: a person is asked for their keys one by one.)
    const ownKey = (row: SlotRow) => {
      const plan = run.plan.slots[row.slot - 1];
      return plan?.method === "api" && plan.old.accountKey;
    };
    // An account's own key goes after the account's other keys (as a revoke does it): by the time it is
    // taken up, every other slot of the run has been, and its old key is deleted only once they settle.
    const pending = (await journal.slots(runId))
      .filter((s) => !TERMINAL.includes(s.step))
      .sort((a, b) => Number(ownKey(a)) - Number(ownKey(b)));
    const others = new AccountSlots();
    let next = 0;
    const worker = async () => {
      while (next < pending.length && !deps.signal?.aborted) {
        const row = pending[next++] as SlotRow;
        const own = ownKey(row);
        if (!own) others.start(row.account);
        try {
          await driveSlot(run, row, deps, store, others);
        } finally {
          if (!own) others.end(row.account);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(run.options.concurrency, pending.length) }, worker));
    await journal.settle(runId);
    return reportOf((await journal.run(runId)) as RunRow, await journal.slots(runId));
  } finally {
    await journal.unlock(runId);
  }
}

/** The per-slot context the step functions share (also used by abort). */
export function slotContext(
  run: RunRow,
  slot: number,
  deps: RotationDeps,
  store: CredentialStore,
): SlotContext {
  const plan = run.plan.slots[slot - 1];
  if (!plan) throw new KeywardError("INTERNAL", `rotation ${run.id} has no plan for slot ${slot}`);
  const timing = { ...DEFAULT_TIMING, ...deps.timing };
  return {
    run,
    plan,
    deps,
    store,
    timing,
    now: deps.now ?? Date.now,
    freshCreate: false,
    async advance(row, step, change, action, details) {
      const next = await deps.journal.advance(row.runId, row.slot, step, change, {
        action: plan.create ? createAction(action) : action,
        subject: plan.old.id,
        ...(details ? { details } : {}),
      });
      deps.crashPoint?.(step);
      deps.onEvent?.({ type: "step", slot: next });
      return next;
    },
    adapter: () => deps.adapterFor(plan.old.account),
    oldRecord: () => oldRecordOf(plan),
    sleep: (ms) => sleep(ms, deps.signal),
  };
}

/**
 * The slots of each account this process is driving, other than the account's own key: the old account
 * key is deleted by API (or reset in place) only when none is left (a step that began with the old key, e.g. a create or a
 * listing, must not meet it deleted). A slot that stops (waiting, failed) counts as settled: its next
 * steps, at resume, use whatever key the vault holds by then.
 */
class AccountSlots {
  readonly #count = new Map<string, number>();
  readonly #waiters = new Map<string, (() => void)[]>();
  start(account: string): void {
    this.#count.set(account, (this.#count.get(account) ?? 0) + 1);
  }
  end(account: string): void {
    const left = (this.#count.get(account) ?? 1) - 1;
    this.#count.set(account, left);
    if (left > 0) return;
    for (const wake of this.#waiters.get(account) ?? []) wake();
    this.#waiters.delete(account);
  }
  settled(account: string): Promise<void> {
    if ((this.#count.get(account) ?? 0) === 0) return Promise.resolve();
    return new Promise((resolve) =>
      this.#waiters.set(account, [...(this.#waiters.get(account) ?? []), resolve]),
    );
  }
}

async function driveSlot(
  run: RunRow,
  first: SlotRow,
  deps: RotationDeps,
  store: CredentialStore,
  others: AccountSlots,
): Promise<void> {
  const ctx = slotContext(run, first.slot, deps, store);
  const { plan, timing } = ctx;
  let retries = 0;
  let announcedRevoke = false;
  for (;;) {
    const row = await deps.journal.slot(first.runId, first.slot);
    if (TERMINAL.includes(row.step)) return;
    if (deps.signal?.aborted) return;
    try {
      const result = await step(ctx, row, !announcedRevoke, others);
      // askForRevoke (from `checked`) shows the revoke steps; a resumed slot shows them once itself.
      if (row.step === "checked" || row.step === "awaiting-revoke") announcedRevoke = true;
      if (result !== "next") {
        const stopped = await deps.journal.stop(
          row.runId,
          row.slot,
          { code: "WAITING", message: result.wait, step: row.step, waiting: true },
          plan.old.id,
        );
        deps.onEvent?.({ type: "waiting", slot: stopped, reason: result.wait });
        return;
      }
      retries = 0;
    } catch (error) {
      const code = isKeywardError(error) ? error.code : "INTERNAL";
      if (TRANSIENT.has(code) && retries < timing.stepRetries && !deps.signal?.aborted) {
        retries++;
        await ctx.sleep(timing.stepBackoffMs * 2 ** (retries - 1));
        continue;
      }
      const message = error instanceof Error ? error.message : String(error);
      const hint = isKeywardError(error)
        ? error.hint
        : "This is a Keyward bug; `keyward rotate resume` retries the step.";
      const stopped = await deps.journal.stop(
        row.runId,
        row.slot,
        { code, message, ...(hint ? { hint } : {}), step: row.step },
        plan.old.id,
      );
      deps.onEvent?.({ type: "failed", slot: stopped });
      return;
    }
  }
}

/** One step from wherever the journal says the slot is. */
async function step(
  ctx: SlotContext,
  row: SlotRow,
  announce: boolean,
  others: AccountSlots,
): Promise<StepResult> {
  const api = ctx.plan.method === "api";
  // An assisted slot whose old key deletes itself by API goes `revoking → revoked` as an API slot does.
  const selfRevoke = !api && ctx.plan.selfRevoke === true;
  const reset = ctx.plan.reset === true;
  switch (row.step) {
    case "planned":
      if (reset && ctx.plan.old.accountKey) {
        // Resetting Keyward's own key kills the secret every other slot of the account is using: after them.
        await others.settled(ctx.plan.old.account);
        if (ctx.deps.signal?.aborted) return "next";
      }
      return reset ? planReset(ctx, row) : api ? planCreate(ctx, row) : askForKey(ctx, row);
    case "creating":
      return createStep(ctx, row);
    case "resetting":
      return resetStep(ctx, row);
    case "awaiting-new-key":
      return receiveKey(ctx, row);
    case "created":
      return verifyStep(ctx, row);
    case "verified":
      return startDelivery(ctx, row);
    case "delivering":
      return deliverStep(ctx, row);
    case "delivered":
      // A key create replaces no key: no check, no grace, no revoke.
      return ctx.plan.create ? finishCreateStep(ctx, row) : checkStep(ctx, row);
    case "checked":
      // No grace and no revoke: the old secret died at the reset; prove it and finish.
      if (reset) return finishResetStep(ctx, row);
      if (!(await waitGrace(ctx, row))) return "next";
      if (api && ctx.plan.old.accountKey) {
        await others.settled(ctx.plan.old.account);
        if (ctx.deps.signal?.aborted) return "next";
      }
      return api || selfRevoke ? planRevoke(ctx, row) : askForRevoke(ctx, row);
    case "revoking":
      return selfRevoke ? revokeSelfStep(ctx, row) : revokeStep(ctx, row);
    case "awaiting-revoke":
      return awaitRevoke(ctx, row, announce);
    case "revoked":
      return proveDeadStep(ctx, row);
    case "dead":
      return finishStep(ctx, row);
    case "finished":
    case "aborted":
      return "next";
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
