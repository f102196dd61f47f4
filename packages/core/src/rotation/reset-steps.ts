/**
 * The steps of an in-place reset (the plan slot's `reset`): the same key id gets a new secret from the
 * exchange (the adapter's `resetKey`) and the old secret dies at that moment. There is no create to
 * reconcile and no revoke: `resetting` is journaled before the reset, the new secret is stored in the
 * vault (and, for Keyward's own account key, made the account's key in the same save) before anything
 * else sees it, then the slot goes the common way (verify, deliver, check) and finishes once a probe
 * with the old secret, where Keyward holds it, is refused (dead, or "wrong secret" for the key it was).
 *
 * The dangerous window is between the exchange's answer and the vault save: a crash there loses the
 * only copy of the new secret while the old one is already dead. Resume at `resetting` then finds no
 * saved secret and resets again (a secret nobody stored is worth nothing; the key was broken anyway).
 * For the account's own key that is impossible (Keyward's key is the dead one), and resume says so: a
 * person resets the key on the exchange's site and gives Keyward the new secret.
 */
import type { Credentials } from "../domain/credentials.js";
import { KeywardError } from "../errors.js";
import { keyRef } from "../home/home.js";
import { newCredentials } from "./common-steps.js";
import type { SlotContext, StepResult } from "./context.js";
import type { SlotRow } from "./journal.js";
import { OLD_SECRET_NOT_PROBED } from "./steps.js";
import { describeProbe, probeOptions } from "./verify.js";

/** Where a reset's new secret waits until the slot finishes (not the key's own ref: that holds the old one). */
export const resetRef = (runId: string, slot: number, keyId: string): string =>
  `${keyRef(keyId)}#${runId}-${slot}`;

/** The write-ahead record: the reset is about to be asked for (the key, its id and the ref are known). */
export async function planReset(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const old = ctx.plan.old;
  // The old secret, kept under the key's id for the proof of death (and abort's refusal) after the
  // account's own entry or a tracked key's entry is overwritten with the new one.
  const held = await ctx.store.oldCredentials(old);
  if (held) await ctx.store.put({ [keyRef(old.id)]: held });
  await ctx.advance(
    row,
    "resetting",
    {
      attempt: row.attempt + 1,
      newKeyId: old.id,
      newApiKey: old.apiKey,
      newRef: resetRef(row.runId, row.slot, old.id),
    },
    "rotation.resetting",
    { key: old.id, attempt: row.attempt + 1 },
  );
  ctx.freshCreate = true;
  return "next";
}

export async function resetStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const old = ctx.plan.old;
  const ref = row.newRef ?? resetRef(row.runId, row.slot, old.id);
  if (!ctx.freshCreate) {
    // A crash after `resetting`: the secret was saved before the crash (adopt it), or it was lost.
    const saved = await ctx.store.get(ref);
    const oldCreds = await ctx.store.oldCredentials(old);
    if (saved && saved.apiKey === old.apiKey && saved.secret.reveal() !== oldCreds?.secret.reveal()) {
      await created(ctx, row, ref, "adopted: the new secret was saved before the crash", true);
      return "next";
    }
    if (old.accountKey) {
      const adapter = await ctx.adapter();
      const probe = oldCreds ? await adapter.probe(oldCreds, probeOptions(ctx.plan)) : undefined;
      if (probe?.status === "dead") {
        throw new KeywardError(
          "VERIFICATION_FAILED",
          `Keyward's own key ${old.id} was reset but its new secret was lost (the process stopped before saving it): Keyward cannot reset it again with a dead key`,
          {
            hint: `Reset the key on the exchange's site, give Keyward the new secret with \`keyward account add ${old.exchange} ${old.account} --credentials-stdin\`, deliver it to its users yourself, then \`keyward rotate abort ${row.runId}\`.`,
          },
        );
      }
    }
    row = await ctx.advance(row, "resetting", { attempt: row.attempt + 1 }, "rotation.resetting", {
      key: old.id,
      attempt: row.attempt + 1,
      after: "an interrupted reset whose new secret was not saved",
    });
  }
  ctx.freshCreate = false;
  const adapter = await ctx.adapter();
  if (!adapter.resetKey) {
    throw new KeywardError("NOT_SUPPORTED", `${old.exchange} cannot reset ${old.id} in place by API`, {
      hint: "Abort this rotation and plan it without --reset-in-place.",
    });
  }
  const result = await adapter.resetKey(ctx.oldRecord());
  ctx.deps.crashPoint?.("reset-answered");
  if (result.credentials.apiKey !== old.apiKey) {
    // A different key: never deliver it as this one. The old secret is dead either way.
    throw new KeywardError(
      "VERIFICATION_FAILED",
      `the exchange answered the reset of ${old.id} with another key (${result.record.id})`,
      { hint: "Check the key on the exchange's site; this is worth a bug report." },
    );
  }
  await saveNewSecret(ctx, ref, result.credentials);
  await created(ctx, row, ref, `reset ${old.id}: new secret, same key id`, false);
  return "next";
}

/** The account's TOTP seed belongs to the account, not the key: it stays in the account's entry. */
const withAccountFields = (creds: Credentials, current: Credentials | undefined): Credentials =>
  current?.totpSeed && !creds.totpSeed ? { ...creds, totpSeed: current.totpSeed } : creds;

/**
 * The new secret into the vault before anything else sees it; for Keyward's own account key the account
 * entry in the same save (the old secret is already dead: Keyward must use the new one at once). The
 * account's other vault fields (e.g. its TOTP seed) stay: they belong to the account, not the key.
 */
async function saveNewSecret(ctx: SlotContext, ref: string, creds: Credentials): Promise<void> {
  const changes: Record<string, Credentials> = { [ref]: creds };
  if (ctx.plan.old.accountKey) {
    const account = ctx.deps.home.account(ctx.plan.old.account);
    changes[account.credentialsRef] = withAccountFields(creds, await ctx.store.get(account.credentialsRef));
  }
  await ctx.store.put(changes);
}

async function created(
  ctx: SlotContext,
  row: SlotRow,
  ref: string,
  evidence: string,
  adopted: boolean,
): Promise<void> {
  await ctx.advance(
    row,
    "created",
    { newKeyId: ctx.plan.old.id, newApiKey: ctx.plan.old.apiKey, newRef: ref, evidence },
    "rotation.key-reset",
    { key: ctx.plan.old.id, ...(adopted ? { adopted: true } : {}) },
  );
}

/**
 * The last step of a reset: a probe with the old secret (where Keyward holds it) must say dead; then the
 * new secret replaces the old in the vault entries that held it (a tracked key's), and the slot's own
 * entries are dropped.
 */
export async function finishResetStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const old = ctx.plan.old;
  const creds = await newCredentials(ctx, row);
  const oldCreds = (await ctx.store.get(keyRef(old.id))) as Credentials | undefined;
  let evidence = OLD_SECRET_NOT_PROBED;
  if (oldCreds && oldCreds.apiKey === old.apiKey && oldCreds.secret.reveal() !== creds.secret.reveal()) {
    const adapter = await ctx.adapter();
    const deadline = ctx.now() + ctx.timing.verifyDeadlineMs;
    for (;;) {
      const probe = await adapter.probe(oldCreds, probeOptions(ctx.plan, { knownAliveFromHere: true }));
      evidence = `old secret: ${describeProbe(probe)}`;
      // The key lives on under its id: what must be dead is the secret. The exchange refusing it for a key
      // it still knows ("wrong-secret") proves that as well as "dead" (no such key) does.
      if (probe.status === "dead") break;
      if (probe.status === "inconclusive" && probe.reason === "wrong-secret") {
        evidence = `old secret: refused by the exchange (${describeProbe(probe)})`;
        break;
      }
      if (probe.status === "alive" || ctx.now() >= deadline) {
        throw new KeywardError(
          "VERIFICATION_FAILED",
          `the old secret of ${old.id} is not proven dead: ${evidence}`,
          {
            hint: "Run `keyward rotate resume` to check again; if it still works, reset or revoke the key on the exchange's site.",
          },
        );
      }
      await ctx.sleep(ctx.timing.pollMs);
    }
  }
  const changes: Record<string, Credentials | null> = {
    [keyRef(old.id)]: null,
    [row.newRef ?? resetRef(row.runId, row.slot, old.id)]: null,
  };
  const tracked = await ctx.deps.home.tracked().get(old.account, old.apiKey);
  if (tracked?.credentialsRef) changes[tracked.credentialsRef] = creds;
  await ctx.store.put(changes);
  await ctx.advance(row, "finished", { evidence }, "rotation.finished", {
    previous: old.id,
    current: old.id,
    reset: true,
    evidence,
  });
  return "next";
}
