/**
 * "Plan a revoke": select the keys live, drop the ones already dead, and plan (danger order, each
 * account's own key last with a warning, time at the rate limits). An own key the exchange revokes by API
 * is planned only when the selector names it by id or API key (revoke/plan.ts); otherwise the plan holds
 * it back and says how to include it (`plan.heldBack`). The plan is what a person reviews and
 * `startRevoke` runs.
 */
import { exchangeProfile } from "../adapters/registry.js";
import { takesTotpSeed } from "../domain/totp-seed.js";
import type { KeywardHome } from "../home/home.js";
import { planRevoke, type RevokePlan } from "../revoke/plan.js";
import { listAccounts } from "./list-accounts.js";
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
  return {
    ...selection,
    plan: { ...plan, warnings: [...plan.warnings, ...(await codeWarnings(home, plan))] },
  };
}

/**
 * One line per account whose exchange asks for a two-factor code before it removes a key (its profile
 * takes a `totpSeed`) and whose vault entry holds no seed: each removal by API then waits for a person to
 * type a code, and a run with no one to type it (no terminal, a script) cannot remove those keys. Keys
 * switched off first by the kill switch end disabled (the switch asks for no code), the others fail.
 */
async function codeWarnings(home: KeywardHome, plan: RevokePlan): Promise<string[]> {
  const byApi = plan.items.filter(
    (i) => i.method === "api" && takesTotpSeed(exchangeProfile(i.key.exchange)),
  );
  if (byApi.length === 0) return [];
  const accounts = await listAccounts(home, { secondFactor: true });
  return accounts
    .filter((a) => a.secondFactor === "prompt")
    .flatMap((a) => {
      const items = byApi.filter((i) => i.key.account === a.name);
      if (items.length === 0) return [];
      const disabled = items.filter((i) => i.disableFirst).length;
      const without =
        disabled === items.length
          ? "they end DISABLED, not removed"
          : disabled === 0
            ? "they are not removed (SECOND_FACTOR_REQUIRED)"
            : `the ${disabled} disabled first end DISABLED, not removed, the others are not removed (SECOND_FACTOR_REQUIRED)`;
      return [
        `${a.name} holds no TOTP seed: each removal asks for a two-factor code (${items.length} key(s)); with no one to type them (no terminal, a script) ${without}`,
      ];
    });
}
