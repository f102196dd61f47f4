/**
 * The steps only an API rotation has (keys the profile says are created by API): create the new key (2), revoke the old key
 * (6) and prove it dead (7).
 *
 * Creating is the one step that cannot simply be repeated: the create's answer is the only place the
 * secret appears. So `creating` (with the label, the idempotency token) is journaled first, and a slot
 * found at `creating` is reconciled before any new create: a key with the label whose secret the vault
 * holds is adopted (the crash fell between saving the secret and journaling `created`); any other key
 * with the label is an orphan nobody can use, and is deleted and proven gone; then `creating` is
 * journaled again (the next attempt) and the key created anew.
 */
import { keyId } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { keyRef } from "../home/home.js";
import type { SlotContext, StepResult } from "./context.js";
import type { SlotRow } from "./journal.js";
import { listedNewLabel, oldKeyDead, subAccountKeys } from "./verify.js";

export async function planCreate(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  await ctx.advance(row, "creating", { attempt: row.attempt + 1 }, "rotation.creating", {
    label: row.newLabel,
    attempt: row.attempt + 1,
  });
  ctx.freshCreate = true;
  return "next";
}

export async function createStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const adapter = await ctx.adapter();
  // null: the account itself (its own keys, where the profile says they are created by API).
  const sub = ctx.plan.new.subAccount;
  if (!adapter.createKey) {
    throw new KeywardError("NOT_SUPPORTED", `${ctx.plan.old.exchange} cannot create this key by API`, {
      hint: "Make a new plan: Keyward will plan it as an assisted rotation.",
    });
  }
  let current = row;
  if (!ctx.freshCreate) {
    const adopted = await reconcile(ctx, row);
    if (adopted) return "next";
    current = await ctx.advance(row, "creating", { attempt: row.attempt + 1 }, "rotation.creating", {
      label: row.newLabel,
      attempt: row.attempt + 1,
    });
  }
  ctx.freshCreate = false;
  const created = await adapter.createKey({
    subAccount: sub,
    label: current.newLabel,
    permissions: ctx.plan.new.permissions,
    ip: ctx.plan.new.ip ?? [],
    rawPermissions: ctx.plan.new.rawPermissions,
  });
  ctx.deps.crashPoint?.("create-answered");
  const ref = keyRef(created.record.id);
  try {
    await ctx.store.put({ [ref]: created.credentials });
  } catch (error) {
    // The secret cannot be kept: the key must not live on without it. Delete it now (resume would too).
    await adapter.revokeKey(created.record).catch(() => undefined);
    throw error;
  }
  await ctx.advance(
    current,
    "created",
    {
      newKeyId: created.record.id,
      newApiKey: created.record.apiKey,
      newRef: ref,
      evidence: `created ${created.record.id}`,
    },
    "rotation.new-key-created",
    { newKey: created.record.id, label: current.newLabel },
  );
  return "next";
}

/** After a crash at `creating`: adopt our key if its secret was saved, else delete every orphan. */
async function reconcile(ctx: SlotContext, row: SlotRow): Promise<boolean> {
  const adapter = await ctx.adapter();
  const sub = ctx.plan.new.subAccount;
  const found = (await subAccountKeys(adapter, sub)).filter(
    (k) => k.label === listedNewLabel(ctx, row.newLabel),
  );
  for (const key of found) {
    const id = keyId(ctx.plan.old.exchange, ctx.plan.old.account, sub, key.apiKey);
    const saved = await ctx.store.get(keyRef(id));
    if (saved && saved.apiKey === key.apiKey) {
      await ctx.advance(
        row,
        "created",
        {
          newKeyId: id,
          newApiKey: key.apiKey,
          newRef: keyRef(id),
          evidence: `adopted ${id}: its secret was saved before the crash`,
        },
        "rotation.new-key-created",
        { newKey: id, label: row.newLabel, adopted: true },
      );
      return true;
    }
  }
  for (const key of found) {
    const result = await adapter.revokeKey(key);
    await ctx.deps.audit.append("rotation.orphan-deleted", key.id, {
      run: row.runId,
      slot: row.slot,
      label: row.newLabel,
      outcome: result.outcome,
    });
  }
  if (found.length > 0) {
    const left = (await subAccountKeys(adapter, sub)).filter(
      (k) => k.label === listedNewLabel(ctx, row.newLabel),
    );
    if (left.length > 0) {
      throw new KeywardError(
        "EXCHANGE_UNAVAILABLE",
        `an orphan key labelled "${row.newLabel}" is still listed after its delete`,
        {
          hint: "Run `keyward rotate resume` again in a moment.",
        },
      );
    }
  }
  return false;
}

export async function planRevoke(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  await ctx.advance(row, "revoking", {}, "rotation.revoking", { newKey: row.newKeyId });
  return "next";
}

/** Step 6. Repeating it is safe: a key already gone is confirmed gone (the adapter re-lists on 59506). */
export async function revokeStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  if (!row.newKeyId || (!row.delivered.length && ctx.plan.deliver.length > 0)) {
    // The invariant the whole protocol exists for; a journal that says otherwise was tampered with.
    throw new KeywardError(
      "INTERNAL",
      `refusing to revoke ${ctx.plan.old.id}: its replacement was not delivered`,
    );
  }
  if (ctx.plan.old.accountKey) await usesNewKey(ctx, row);
  // For the account's own key this adapter is the NEW key's (the vault switched at delivery): the new
  // key deletes the old one.
  const adapter = await ctx.adapter();
  const result = await adapter.revokeKey(ctx.oldRecord());
  ctx.deps.crashPoint?.("revoke-answered");
  if (result.outcome === "manual") {
    throw new KeywardError(
      "NOT_SUPPORTED",
      `${ctx.plan.old.exchange} wants a person to revoke ${ctx.plan.old.id}`,
      {
        hint: "Make a new plan: Keyward will plan it as an assisted rotation.",
      },
    );
  }
  await ctx.advance(row, "revoked", { evidence: result.evidence }, "rotation.old-key-revoked", {
    outcome: result.outcome,
    evidence: result.evidence,
  });
  return "next";
}

/**
 * Step 6 of a `selfRevoke` slot (an account's own key a person created anew): the OLD key deletes itself
 * by API with its own credentials, which Keyward kept under the old key's id when it switched the account
 * to the new key at delivery. Never with the account's credentials: those are the new key's by now.
 * Repeating it is safe: after a lost answer or a crash, the old key's "invalid key" means it is gone, and
 * the next step proves it by probing.
 */
export async function revokeSelfStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  if (!row.newKeyId || !row.newApiKey || (!row.delivered.length && ctx.plan.deliver.length > 0)) {
    throw new KeywardError(
      "INTERNAL",
      `refusing to revoke ${ctx.plan.old.id}: its replacement was not delivered`,
    );
  }
  await usesNewKey(ctx, row);
  const oldCredentials = await ctx.store.oldCredentials(ctx.plan.old);
  if (!oldCredentials || oldCredentials.apiKey === row.newApiKey) {
    throw new KeywardError(
      "VERIFICATION_FAILED",
      `Keyward no longer holds the secret of ${ctx.plan.old.id}, so the key cannot delete itself`,
      {
        hint: "Revoke the old key on the exchange's site; `keyward rotate resume` then cannot prove it dead either: check it is gone there.",
      },
    );
  }
  const adapter = await ctx.adapter();
  if (!adapter.revokeSelf) {
    throw new KeywardError(
      "NOT_SUPPORTED",
      `${ctx.plan.old.exchange} cannot delete ${ctx.plan.old.id} by API`,
      { hint: "Revoke the old key on the exchange's site, then run `keyward rotate resume`." },
    );
  }
  const result = await adapter.revokeSelf(oldCredentials);
  ctx.deps.crashPoint?.("revoke-answered");
  if (result.outcome === "manual") {
    throw new KeywardError(
      "NOT_SUPPORTED",
      `${ctx.plan.old.exchange} wants a person to revoke ${ctx.plan.old.id}`,
      { hint: "Revoke the old key on the exchange's site, then run `keyward rotate resume`." },
    );
  }
  await ctx.advance(row, "revoked", { evidence: result.evidence }, "rotation.old-key-revoked", {
    outcome: result.outcome,
    evidence: result.evidence,
    by: "itself",
  });
  return "next";
}

/** Before the account's own old key is deleted: Keyward must already use its replacement. */
async function usesNewKey(ctx: SlotContext, row: SlotRow): Promise<void> {
  const { home } = ctx.deps;
  const account = home.account(ctx.plan.old.account);
  const current = (await home.vault()).get(account.credentialsRef);
  if (current?.apiKey !== row.newApiKey) {
    // Keyward would be left holding a dead key (or would delete the one it uses): the switch at delivery
    // is not in the vault (an older copy was put back?). Nothing is deleted.
    throw new KeywardError(
      "VAULT_CORRUPT",
      `refusing to delete ${ctx.plan.old.id}: Keyward does not use its replacement for account ${ctx.plan.old.account}`,
      {
        hint: "The vault does not hold the switch to the new key made at delivery. Abort this rotation (`keyward rotate abort`) and rotate again.",
      },
    );
  }
}

/** Step 7: not listed any more and (where Keyward holds its secret) a probe says dead. */
export async function proveDeadStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const oldCredentials = await ctx.store.oldCredentials(ctx.plan.old);
  const deadline = ctx.now() + ctx.timing.verifyDeadlineMs;
  for (;;) {
    const { dead, evidence } = await oldKeyDead(ctx, oldCredentials, true);
    if (dead) {
      await ctx.advance(row, "dead", { evidence: evidence.join("; ") }, "rotation.old-key-dead", {
        evidence,
      });
      return "next";
    }
    if (ctx.now() >= deadline) {
      throw new KeywardError(
        "VERIFICATION_FAILED",
        `the old key ${ctx.plan.old.id} could not be proven dead: ${evidence.join("; ")}`,
        {
          hint: "Run `keyward rotate resume` to check again; if it stays alive, revoke it on the exchange's site.",
        },
      );
    }
    await ctx.sleep(ctx.timing.pollMs);
  }
}
