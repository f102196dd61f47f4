/**
 * The revoke engine's kill-switch pass (disable first): every key of an account planned `disableFirst` is
 * switched off by the exchange's kill switch before any key of that account is removed, since a switch
 * takes effect at once and needs no second factor, whereas each removal may wait for one. A key switched
 * off is marked `disabledFirst` and reported "disabled" until its removal succeeds (run.ts); a key the
 * exchange no longer lists is already revoked, and its removal is skipped.
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import type { DisableResult, KeyRecord } from "../domain/schemas.js";
import type { RevokePlanItem } from "./plan.js";
import { errorOf, type RevokeEvent, type RevokeKeyResult } from "./report.js";
import type { AuditWriter } from "./run.js";

/** What the pass borrows from the run. */
export interface KillSwitchContext {
  audit: AuditWriter;
  signal?: AbortSignal;
  emit(event: RevokeEvent): void;
  /** The key's result in the run's report, updated in place. */
  resultOf(key: KeyRecord): RevokeKeyResult;
}

/**
 * Switches off every item with `disableFirst`, all at once. Returns the ids of the keys the exchange said
 * were gone already: there is nothing left to remove of them.
 */
export async function killSwitchPass(
  adapter: ExchangeAdapter,
  items: readonly RevokePlanItem[],
  context: KillSwitchContext,
): Promise<Set<string>> {
  const gone = new Set<string>();
  await Promise.all(
    items
      .filter((i) => i.disableFirst)
      .map(async (item) => {
        if ((await disableByApi(adapter, item, context)) === "already-revoked") gone.add(item.key.id);
      }),
  );
  return gone;
}

/**
 * The kill switch, before the removal. Returns what the exchange said, or undefined when the key could
 * not be switched off: its removal is still tried (removing it is the point; the switch only comes
 * first because it is quicker), and the evidence says the switch failed.
 */
async function disableByApi(
  adapter: ExchangeAdapter,
  { key }: RevokePlanItem,
  { audit, signal, emit, resultOf }: KillSwitchContext,
): Promise<DisableResult["outcome"] | undefined> {
  // A stopped run leaves the rest alone: run.ts's revokeByApi reports each key as cancelled.
  if (signal?.aborted) return undefined;
  const result = resultOf(key);
  if (!adapter.disableKey) {
    result.evidence.push("disable: this account's adapter has no kill switch; removed directly");
    return undefined;
  }
  let r: DisableResult;
  try {
    r = await adapter.disableKey(key);
  } catch (error) {
    const { code, message } = errorOf(error);
    result.evidence.push(`disable: failed (${message}); removing it anyway`);
    await audit.append("revoke.disable-failed", key.id, { code, message });
    return undefined;
  }
  result.evidence.push(r.evidence);
  if (r.outcome === "already-revoked") {
    // Gone already: nothing to remove (a removal could cost the person a second-factor code).
    result.outcome = "already-revoked";
    await audit.append("revoke.done", key.id, { outcome: r.outcome, evidence: r.evidence });
    emit({ type: "revoked", result });
    return r.outcome;
  }
  result.disabledFirst = true;
  result.outcome = "disabled";
  await audit.append("revoke.disabled", key.id, { outcome: r.outcome, evidence: r.evidence });
  emit({ type: "disabled", result });
  return r.outcome;
}
