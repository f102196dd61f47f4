/**
 * `rotate apply`: checks a plan against the journal and the home, records the run (every slot at
 * `planned`, with `rotation.requested`: if that cannot be written, nothing happens), then runs it.
 */
import { actionsOf } from "../adapters/profile.js";
import { exchangeProfile } from "../adapters/registry.js";
import { KeywardError } from "../errors.js";
import type { RotationDeps } from "./context.js";
import { type RotationReport, runRotation } from "./engine.js";
import { checkPlaces, deletesItself } from "./plan.js";
import { type RotationPlan, type RunOptions, RunOptionsSchema } from "./schemas.js";
import { checkTargetOptions } from "./targets/index.js";
import { KEY_CREATE_NEXT_STEP, ROTATION_NEXT_STEP } from "./targets/place.js";

export async function checkPlan(
  plan: RotationPlan,
  deps: Pick<RotationDeps, "home" | "journal">,
): Promise<void> {
  if (plan.slots.length === 0) {
    throw new KeywardError("CONFIG_INVALID", `plan ${plan.id} has no key to rotate`, {
      hint: plan.refused.length
        ? "Every selected key was refused; see the reasons in the plan."
        : "Select keys when making the plan.",
    });
  }
  for (const slot of plan.slots) deps.home.account(slot.old.account);
  await checkOwnKeys(plan, deps.home);
  // The plan file may have been edited since it was made: where its targets lead is checked again.
  // A key create's plan is its command's own (no plan file to fix): its refusals say to run it again.
  const creates = plan.slots.every((s) => s.create);
  await checkPlaces(plan.slots, deps.home.paths.dir, creates ? KEY_CREATE_NEXT_STEP : ROTATION_NEXT_STEP);
  await checkTargetOptions(
    plan.slots.flatMap((s) => s.deliver),
    plan,
  );
  const busy = (await deps.journal.busyKeys(plan.slots.map((s) => s.old.id))).filter(
    (b) => b.runId !== plan.id,
  );
  if (busy.length > 0) {
    throw new KeywardError(
      "ROTATION_CONFLICT",
      `${busy.map((b) => b.keyId).join(", ")} ${busy.length === 1 ? "is" : "are"} being rotated by ${[...new Set(busy.map((b) => b.runId))].join(", ")}`,
      { hint: "Finish or abort that rotation first (`keyward rotate status`)." },
    );
  }
}

/**
 * Whether a slot replaces Keyward's own key for its account (and then whether the old key deletes itself)
 * decides which key Keyward switches to and which key is deleted by API: both are checked against the home
 * now, not taken from a file someone may have edited, or made before the account's key changed.
 */
async function checkOwnKeys(plan: RotationPlan, home: RotationDeps["home"]): Promise<void> {
  const accountKeys = await home.accountKeys();
  for (const slot of plan.slots) {
    const own = accountKeys.get(slot.old.account) === slot.old.apiKey;
    const revoke = actionsOf(exchangeProfile(slot.old.exchange), slot.old.location).revoke;
    const stale = (what: string) =>
      new KeywardError("CONFIG_INVALID", `plan ${plan.id} is out of date for ${slot.old.id}: ${what}`, {
        hint: "Make a new plan with `keyward rotate plan`; a plan file is not to be edited by hand.",
      });
    if (slot.old.accountKey !== own) {
      throw stale(
        `it ${slot.old.accountKey ? "is" : "is not"} Keyward's key for account ${slot.old.account} in the plan, but ${own ? "is" : "is not"} now`,
      );
    }
    if ((slot.selfRevoke ?? false) !== deletesItself(slot.method, own, revoke)) {
      throw stale("how its old key is revoked differs from what the exchange does for it");
    }
    if (slot.reset && exchangeProfile(slot.old.exchange).keys[slot.old.location]?.resetInPlace !== "api") {
      throw stale("it is planned as an in-place reset, which the exchange does not do for such keys");
    }
  }
}

/**
 * A plan with in-place resets (`rotate plan --reset-in-place`) is applied only when the person says
 * again that they accept it: each such key's old secret dies the moment its new one exists, with no
 * grace period, so whatever uses it fails until the delivery lands.
 */
export function checkResetAccepted(plan: RotationPlan, accepted: boolean): void {
  const reset = plan.slots.filter((s) => s.reset);
  if (reset.length === 0 || accepted) return;
  throw new KeywardError(
    "CONFIG_INVALID",
    `plan ${plan.id} resets ${reset.length === 1 ? "a key" : `${reset.length} keys`} in place (${reset.map((s) => s.old.label || s.old.id).join(", ")}): the old secret dies the moment the new one exists, with no grace period`,
    {
      hint: "Whatever uses such a key fails until the new secret is delivered to it. If you accept that, apply again with --reset-in-place (the web: tick the in-place reset box); otherwise make a plan without --reset-in-place.",
    },
  );
}

export async function applyPlan(
  plan: RotationPlan,
  options: RunOptions,
  deps: RotationDeps,
): Promise<RotationReport> {
  const checked = RunOptionsSchema.parse(options);
  await checkPlan(plan, deps);
  await deps.journal.createRun(plan, checked);
  deps.crashPoint?.("planned");
  return runRotation(plan.id, deps);
}
