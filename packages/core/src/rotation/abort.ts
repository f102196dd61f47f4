/**
 * `rotate abort`: undoes what can be undone, slot by slot. Before the old key's revoke (step 6) the old
 * key still works, so the old secret goes back to every target that may hold the new one, then the new
 * key is deleted (API) or a person is told to revoke it (assisted), its secret leaves the vault, and only
 * then is Keyward's own account key switched back to the old one. That order keeps the vault and the
 * journal agreeing when the delete fails (e.g. Deribit asks for a second-factor code and none is given):
 * the new key is still the account's key, as the journal says, and a retry deletes it with that key. From the revoke on, nothing can bring the old key back:
 * abort says so and leaves the slot for `rotate resume` to finish.
 *
 * Re-delivering needs the old secret. Keyward holds it for keys it made or was given (its own account
 * keys, tracked keys, keys from an earlier rotation); for a key it never held, abort leaves the new key
 * in place and says so, rather than leave the targets holding a dead key.
 */
import type { Credentials } from "../domain/credentials.js";
import { type ManualSteps, shortKey } from "../domain/schemas.js";
import { keyRef } from "../home/home.js";
import { notOurOrphan } from "./api-steps.js";
import type { RotationDeps, SlotContext } from "./context.js";
import { CredentialStore } from "./credential-store.js";
import { slotContext } from "./engine.js";
import type { RunRow, SlotRow } from "./journal.js";
import { PAST_REVOKE } from "./schemas.js";
import { deliver, describeTarget, targetOptionsOf } from "./targets/index.js";
import { listedNewLabel, oldKeyDead, subAccountKeys } from "./verify.js";

export interface AbortSlotResult {
  slot: number;
  label: string;
  /** The slot is a key create's (`keyward key create`): `label` names the key being made. */
  create?: true;
  step: SlotRow["step"];
  result: "aborted" | "not-undone" | "already-done";
  explanation: string;
  /** Assisted: what the person must revoke (the new key) on the exchange's site. */
  steps?: ManualSteps;
}

export interface AbortReport {
  runId: string;
  state: RunRow["state"];
  slots: AbortSlotResult[];
}

export async function abortRotation(runId: string, deps: RotationDeps): Promise<AbortReport> {
  const { journal } = deps;
  // Authenticated (JOURNAL_TAMPERED otherwise): abort re-delivers to the plan's targets.
  const run = await journal.lock(runId);
  try {
    await deps.audit.append("rotation.abort-requested", runId, { state: run.state });
    const store = new CredentialStore(deps.home);
    const results: AbortSlotResult[] = [];
    for (const row of await journal.slots(runId)) {
      const ctx = slotContext(run, row.slot, deps, store);
      const label = ctx.plan.old.label;
      // A key create's slot: its label is the key being created, not an old key (views say "(new)").
      const create = ctx.plan.create ? { create: true as const } : {};
      try {
        results.push({ slot: row.slot, label, ...create, step: row.step, ...(await abortSlot(ctx, row)) });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await deps.audit.append("rotation.abort-failed", ctx.plan.old.id, {
          run: runId,
          slot: row.slot,
          message,
        });
        results.push({
          slot: row.slot,
          label,
          ...create,
          step: row.step,
          result: "not-undone",
          explanation: `abort failed: ${message}; run \`keyward rotate abort ${runId}\` again`,
        });
      }
    }
    const slots = await journal.slots(runId);
    const state = slots.every((s) => s.step === "aborted" || s.step === "finished")
      ? await journal.settle(runId, slots.some((s) => s.step === "aborted") ? "aborted" : undefined)
      : "active";
    return { runId, state, slots: results };
  } finally {
    await journal.unlock(runId);
  }
}

type Outcome = Omit<AbortSlotResult, "slot" | "label" | "step">;

async function abortSlot(ctx: SlotContext, row: SlotRow): Promise<Outcome> {
  if (row.step === "aborted") return { result: "already-done", explanation: "already aborted" };
  if (row.step === "finished") {
    return {
      result: "already-done",
      explanation: "finished: the old key is dead and cannot be brought back",
    };
  }
  if (PAST_REVOKE.includes(row.step))
    return cannotUndo(ctx, row, "the old key was (or may have been) revoked already");
  // An in-place reset killed the old secret the moment the exchange made the new one.
  if (ctx.plan.reset && row.step !== "planned")
    return cannotUndo(ctx, row, "the key was (or may have been) reset in place: its old secret is dead");
  if (row.step === "awaiting-revoke") {
    const old = await ctx.store.oldCredentials(ctx.plan.old);
    const { dead } = await oldKeyDead(ctx, old, true);
    if (dead) return cannotUndo(ctx, row, "the old key has been revoked on the exchange's site");
  }
  const hasNew = row.newKeyId !== null;
  const delivered = ["delivering", "delivered", "checked", "awaiting-revoke"].includes(row.step);
  if (delivered) {
    const old = await ctx.store.oldCredentials(ctx.plan.old);
    if (!old) {
      return cannotUndo(
        ctx,
        row,
        "Keyward does not hold the old key's secret, so it cannot put it back in the targets; the new key stays in place and the old key alive",
      );
    }
    await restoreTargets(ctx, row, old);
  }
  let explanation = "nothing had been created";
  let steps: ManualSteps | undefined;
  if (row.step === "creating") explanation = await deleteOrphans(ctx, row);
  else if (row.step === "awaiting-new-key") {
    explanation = `nothing was received; if you made a key labelled "${row.newLabel}", revoke it on the exchange's site`;
  } else if (hasNew) {
    const adapter = await ctx.adapter();
    const record = {
      ...ctx.oldRecord(),
      id: row.newKeyId as string,
      apiKey: row.newApiKey as string,
      label: row.newLabel,
    };
    if (ctx.plan.method === "api") {
      // The new key as the exchange lists it (its own adapter facts), never the old key's record with the
      // new key's id: an adapter that identifies keys by a fact in meta would delete the OLD key.
      const listed = (await subAccountKeys(adapter, ctx.plan.new.subAccount)).find(
        (k) => k.apiKey === row.newApiKey,
      );
      const result = listed
        ? await adapter.revokeKey(listed)
        : { outcome: "already-revoked" as const, evidence: "no longer listed by the exchange" };
      explanation = `${delivered ? "the old secret is back in every target; " : ""}the new key was deleted (${result.outcome === "manual" ? "by a person" : result.evidence})`;
    } else {
      steps = adapter.manualSteps(record, "revoke");
      explanation = `${delivered ? "the old secret is back in every target; " : ""}revoke the new key "${row.newLabel}" on ${steps.url} (Keyward cannot)`;
    }
    await ctx.store.put({ [row.newRef ?? keyRef(row.newKeyId as string)]: null });
  }
  // Keyward's account key goes back to the old one only now, once the new key is deleted (or a person
  // was told to): a delete the exchange refused (no second-factor code) leaves the vault as the journal
  // says, the new key still Keyward's, and a retry deletes it with that key; restoring first would hand
  // the account back to the old key while the journal still says the new one.
  if (delivered && ctx.plan.old.accountKey) await restoreAccountKey(ctx, row);
  await ctx.advance(row, "aborted", { evidence: explanation }, "rotation.aborted", {
    newKey: row.newKeyId,
    explanation,
  });
  return { result: "aborted", explanation, ...(steps ? { steps } : {}) };
}

async function cannotUndo(ctx: SlotContext, row: SlotRow, why: string): Promise<Outcome> {
  const explanation = `cannot be undone: ${why}. Run \`keyward rotate resume\` to finish this key's rotation.`;
  await ctx.deps.audit.append("rotation.abort-refused", ctx.plan.old.id, {
    run: row.runId,
    slot: row.slot,
    step: row.step,
    why,
  });
  return { result: "not-undone", explanation };
}

/** Keyward's account key back to the old one (its secret, and the seed the vault keeps with it). */
async function restoreAccountKey(ctx: SlotContext, row: SlotRow): Promise<void> {
  const old = await ctx.store.oldCredentials(ctx.plan.old);
  if (!old) throw new Error(`the old key's secret for slot ${row.slot} is no longer in the vault`);
  const account = ctx.deps.home.account(ctx.plan.old.account);
  await ctx.store.put({ [account.credentialsRef]: old });
}

/**
 * The old secret back into every target (Keyward's own account key is switched back separately, after
 * the new key is deleted: restoreAccountKey). Safe to repeat: a retry delivers the same old secret.
 */
async function restoreTargets(ctx: SlotContext, row: SlotRow, old: Credentials): Promise<void> {
  for (const target of ctx.plan.deliver) {
    await deliver(
      target,
      {
        credentials: old,
        keyId: ctx.plan.old.id,
        exchange: ctx.plan.old.exchange,
        account: ctx.plan.old.account,
        subAccount: ctx.plan.old.subAccount,
        label: ctx.plan.old.label,
        rotationId: row.runId,
        slot: row.slot,
        replacesKeyId: row.newKeyId ?? ctx.plan.old.id,
      },
      {
        home: ctx.deps.home.paths.dir,
        ...targetOptionsOf(ctx.run.plan),
        env: ctx.deps.childEnv,
        timeoutMs: ctx.timing.commandTimeoutMs,
      },
    );
    await ctx.deps.audit.append("rotation.target-restored", ctx.plan.old.id, {
      run: row.runId,
      slot: row.slot,
      target: describeTarget(target),
    });
  }
}

/**
 * A crash at `creating` may have left a key with the label: delete it (its secret was never kept), but
 * only a key provably made by this slot's create (api-steps.ts's rule, `notOurOrphan`); any other key
 * with the label (a colleague's, say) is left alone and named in the evidence.
 */
async function deleteOrphans(ctx: SlotContext, row: SlotRow): Promise<string> {
  const sub = ctx.plan.new.subAccount;
  const adapter = await ctx.adapter();
  const found = (await subAccountKeys(adapter, sub)).filter(
    (k) => k.label === listedNewLabel(ctx, row.newLabel),
  );
  const kept: string[] = [];
  let deleted = 0;
  for (const key of found) {
    const why = notOurOrphan(ctx, row, key);
    if (why !== undefined) {
      kept.push(`${shortKey(key.apiKey)}: ${why}`);
      continue;
    }
    await adapter.revokeKey(key);
    deleted++;
    await ctx.deps.audit.append("rotation.orphan-deleted", key.id, {
      run: row.runId,
      slot: row.slot,
      label: row.newLabel,
    });
  }
  const done = deleted ? `deleted ${deleted} key(s) a lost create had left` : "no key had been created";
  return kept.length ? `${done}; left alone, as Keyward cannot prove it made them: ${kept.join("; ")}` : done;
}
