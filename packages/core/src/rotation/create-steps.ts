/**
 * The one step only a key create has (`keyward key create`, the plan slot's `create`): once the new key
 * is delivered, it becomes a key Keyward holds credentials for, like a rotated key (its secret stays in
 * the vault under its key id, where inventory and probes find it), and the slot is finished. A kind of
 * key the exchange does not list (the profile's `keys[kind].list` "tracked") is tracked too, or nothing
 * would ever show it.
 *
 * Audit: a create slot's journal entries are `key.*` instead of `rotation.*` (`key.creating`,
 * `key.created`, `key.verified`, `key.delivering`, `key.target-written`, `key.delivered`,
 * `key.finished`), and its run's `key.create-requested`, `key.create-finished`, … (journal.ts `runAction`),
 * so the audit log says a key was created, not that one was rotated.
 */
import { exchangeProfile } from "../adapters/registry.js";
import type { SlotContext, StepResult } from "./context.js";
import type { SlotRow } from "./journal.js";

/** `rotation.new-key-created` → `key.created`, `rotation.delivered` → `key.delivered`, … */
export const createAction = (action: string): string => action.replace(/^rotation\.(new-key-)?/, "key.");

export async function finishCreateStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const where = ctx.plan.old;
  const listed = exchangeProfile(where.exchange).keys[where.location]?.list === "api";
  if (!listed && row.newApiKey) {
    const tracked = ctx.deps.home.tracked();
    if (!(await tracked.get(where.account, row.newApiKey))) {
      await tracked.add({
        account: where.account,
        apiKey: row.newApiKey,
        label: row.newLabel,
        credentialsRef: row.newRef,
      });
    }
  }
  await ctx.advance(row, "finished", {}, "rotation.finished", { current: row.newKeyId });
  return "next";
}
