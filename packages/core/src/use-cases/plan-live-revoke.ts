/**
 * "Plan a revoke": select the keys live, drop the ones already dead, and plan (danger order, each
 * account's own key last with a warning, time at the rate limits). An own key the exchange revokes by API
 * is planned only when the selector names it by id or API key (revoke/plan.ts); otherwise the plan holds
 * it back and says how to include it (`plan.heldBack`). The plan is what a person reviews and
 * `startRevoke` runs.
 */
import type { KeywardHome } from "../home/home.js";
import { planRevoke, type RevokePlan } from "../revoke/plan.js";
import { REVOKE_UNAUDITABLE_HINT, requireAuditable } from "./require-auditable.js";
import { type LiveSelection, type SelectLiveKeysInput, selectLiveKeys } from "./select-live-keys.js";

export interface PlanLiveRevokeInput extends SelectLiveKeysInput {
  /** Refuse (AUDIT_UNAVAILABLE) before listing when the audit log cannot be written: the plan is to be run now. */
  refuseUnauditable?: boolean;
  /**
   * Where an exchange has a kill switch, disable those keys before removing any (revoke/plan.ts). Default
   * true, the incident default; the shells' "--no-disable-first" and unticked box pass false.
   */
  disableFirst?: boolean;
}

export interface LiveRevokePlan extends LiveSelection {
  plan: RevokePlan;
}

export async function planLiveRevoke(home: KeywardHome, input: PlanLiveRevokeInput): Promise<LiveRevokePlan> {
  const { refuseUnauditable, disableFirst, ...selecting } = input;
  // Fail closed before touching any exchange: revoking without an audit trail is refused.
  if (refuseUnauditable) await requireAuditable(home, REVOKE_UNAUDITABLE_HINT);
  const selection = await selectLiveKeys(home, selecting);
  const plan = planRevoke(
    selection.keys.filter((k) => k.state !== "dead"),
    {
      accountKeys: await home.accountKeyUses(),
      named: selecting.selector.ids,
      ...(disableFirst === undefined ? {} : { disableFirst }),
    },
  );
  return { ...selection, plan };
}
