/**
 * The steps only an API rotation has (keys the profile says are created by API): create the new key (2), revoke the old key
 * (6) and prove it dead (7).
 *
 * Creating is the one step that cannot simply be repeated: the create's answer is the only place the
 * secret appears. So `creating` (with the label, the idempotency token) is journaled first, and a slot
 * found at `creating` is reconciled before any new create: a key with the label whose secret the vault
 * holds is adopted (the crash fell between saving the secret and journaling `created`); then `creating`
 * is journaled again (the next attempt) and the key created anew.
 *
 * A listed key with the label whose secret the vault does not hold is deleted as this run's orphan (nobody
 * can use it) ONLY when it is provably the one an earlier attempt of this slot made (`isOurOrphan`):
 *  - its permissions are exactly the plan's new key's (raw ones where the profile compares those) and its
 *    IP whitelist is exactly the plan's (empty: no binding), and
 *  - where the exchange reports a creation time, it was created at or after the slot's `creating` record
 *    was journaled, less ORPHAN_CLOCK_SKEW_MS (the exchange's clock against this machine's). The time is
 *    the slot row's `updatedAt`: the `creating` write itself, or a later stop recorded at that step (a
 *    later time only makes the rule stricter), never earlier.
 * The label alone proves nothing: for `keyward key create` it is a person's own label, and a colleague may
 * make a key with it while a run is stopped. Any other key with the label is NOT touched: the slot stops
 * (ROTATION_CONFLICT, audited as `rotation.failed`, still at `creating`, resumable) naming the key, its
 * label and why it is not taken for ours; the person revokes it (if it is an orphan after all) and resumes,
 * or makes the create with another label.
 */
import { exchangeProfile } from "../adapters/registry.js";
import { type KeyRecord, keyId, shortKey } from "../domain/schemas.js";
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

/**
 * How far the exchange's clock may be behind this machine's when the creation time of a key an attempt
 * made is compared with the time its `creating` record was journaled (see the top of this file).
 */
export const ORPHAN_CLOCK_SKEW_MS = 60_000;

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

/**
 * Why a listed key with the slot's label is not provably the orphan of an earlier attempt of this slot,
 * or undefined when it is (see the top of this file).
 */
export function notOurOrphan(ctx: SlotContext, row: SlotRow, key: KeyRecord): string | undefined {
  const spec = ctx.plan.new;
  const { comparePermissions } = exchangeProfile(ctx.plan.old.exchange);
  const exact = !(
    spec.rawPermissions === "" ||
    (Array.isArray(spec.rawPermissions) && !spec.rawPermissions.length)
  );
  const permissionsDiffer =
    comparePermissions && exact
      ? comparePermissions(spec.rawPermissions, key.rawPermissions)
      : sameSet(spec.permissions, key.permissions)
        ? undefined
        : `${key.permissions.join(",") || "none"}, not ${spec.permissions.join(",") || "none"}`;
  if (permissionsDiffer)
    return `its permissions differ from the ones Keyward asked for (${permissionsDiffer})`;
  const ip = spec.ip ?? [];
  if (!sameSet(ip, key.ip)) {
    return `its IP whitelist (${key.ip.join(",") || "no binding"}) is not the one Keyward asked for (${ip.join(",") || "no binding"})`;
  }
  if (key.createdAt !== null) {
    const since = Date.parse(row.updatedAt) - ORPHAN_CLOCK_SKEW_MS;
    if (Date.parse(key.createdAt) < since) {
      return `it was created at ${key.createdAt}, before this run's create attempt (journaled at ${row.updatedAt})`;
    }
  }
  return undefined;
}

/**
 * After a crash or a retry at `creating`: adopt our key if its secret was saved, else delete the keys
 * provably made by an earlier attempt; a key with the label that is not is left alone and stops the slot.
 */
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
  const orphans: KeyRecord[] = [];
  const foreign: { key: KeyRecord; why: string }[] = [];
  for (const key of found) {
    const why = notOurOrphan(ctx, row, key);
    if (why === undefined) orphans.push(key);
    else foreign.push({ key, why });
  }
  for (const key of orphans) {
    const result = await adapter.revokeKey(key);
    await ctx.deps.audit.append("rotation.orphan-deleted", key.id, {
      run: row.runId,
      slot: row.slot,
      label: row.newLabel,
      outcome: result.outcome,
    });
  }
  if (foreign.length > 0) {
    const where = `${ctx.plan.old.account}${sub ? `/${sub}` : ""}`;
    const which = foreign
      .map(({ key, why }) => `${shortKey(key.apiKey)} ("${key.label}"): ${why}`)
      .join("; ");
    throw new KeywardError(
      "ROTATION_CONFLICT",
      `a key labelled "${row.newLabel}" in ${where} that Keyward cannot prove it made was left alone: ${which}`,
      {
        hint: `If it is indeed an orphan of this run, revoke it yourself on the exchange and run \`keyward rotate resume ${row.runId}\`; if it is someone else's, abort this run (\`keyward rotate abort ${row.runId}\`) and make the create with another label.`,
      },
    );
  }
  if (orphans.length > 0) {
    const gone = new Set(orphans.map((k) => k.apiKey));
    const left = (await subAccountKeys(adapter, sub)).filter(
      (k) => k.label === listedNewLabel(ctx, row.newLabel) && gone.has(k.apiKey),
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
