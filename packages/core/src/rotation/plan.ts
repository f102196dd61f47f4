/**
 * Building a rotation plan from the live inventory: per selected key, how it is rotated (by API, or
 * assisted by a person), what the new key must be (same permissions and IPs; a label carrying the
 * rotation id), where its credentials go, and which keys are refused and why. The caller lists the
 * keys and says which secrets Keyward holds; the only thing read here is where each file target really
 * leads (symlinks followed), so that none writes into Keyward's home.
 */
import { randomInt } from "node:crypto";
import { dirname } from "node:path";
import { exchangeProfile } from "../adapters/registry.js";
import type { KeyRecord } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import {
  baseLabel,
  DEFAULT_RUN_OPTIONS,
  newLabel,
  PLAN_KIND,
  type PlanKey,
  type PlanSlot,
  type RefusedKey,
  type RotationPlan,
  RotationPlanSchema,
} from "./schemas.js";
import {
  CLASH_HINT,
  checkTargetOptions,
  clashKey,
  describeTarget,
  parseTarget,
  planTargetOptions,
  TARGET_EXAMPLE,
  type Target,
  type TargetOptionValues,
  targetPlace,
} from "./targets/index.js";
import { checkedPlace, homeParts, ROTATION_NEXT_STEP } from "./targets/place.js";

/** What to rotate and where to; the targets' options (each kind's own, targets/index.ts) by name. */
export interface PlanInput extends TargetOptionValues {
  /** The selected keys, as just listed (live). */
  keys: readonly KeyRecord[];
  /** `--deliver` values, unexpanded. */
  deliver: readonly string[];
  /**
   * Relative target paths are made absolute against this directory; null refuses them (the web server:
   * a browser has no current directory, and the server's own is Keyward's home).
   */
  cwd: string | null;
  /** Keyward's home folder: a target leading into it (symlinks followed) is refused. */
  home: string;
  /** Whether the key is the one Keyward manages its account with. */
  isAccountKey(key: KeyRecord): boolean;
  /**
   * The OTHER Keyward accounts that use this key (not the one it was listed under): two Keyward accounts
   * can reach one exchange account, which lists both their keys under each. Such a key is refused: a
   * rotation switches only the listing account's key in the vault, so the other account would be left
   * holding the dead old key (domain/account-keys.ts).
   */
  usedByOtherAccounts?(key: KeyRecord): readonly string[];
  /** Whether Keyward holds the key's secret (so it can probe it). */
  holdsSecret(key: KeyRecord): boolean;
  /**
   * Give keys a new secret in place (same key id) instead of a new key, where the exchange can (profile
   * `keys[kind].resetInPlace`); the person accepts that the old secret dies at once (no grace). Keys whose
   * exchange cannot are refused, saying why.
   */
  resetInPlace?: boolean;
  /** Keys already in an unfinished rotation: key id → run id. */
  busy?: ReadonlyMap<string, string>;
  id?: string;
  now?: Date;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
export const newRunId = (): string =>
  `rot-${Array.from({ length: 6 }, () => ALPHABET.charAt(randomInt(ALPHABET.length))).join("")}`;

const planKey = (key: KeyRecord, accountKey: boolean): PlanKey => ({
  id: key.id,
  exchange: key.exchange,
  account: key.account,
  subAccount: key.subAccount,
  location: key.location,
  apiKey: key.apiKey,
  label: key.label,
  permissions: key.permissions,
  rawPermissions: key.rawPermissions,
  ip: key.ip,
  accountKey,
  meta: key.meta,
});

function refusal(key: KeyRecord, input: PlanInput): string | undefined {
  if (key.state === "dead") return "the key is already dead";
  // A new (enabled) key with its grants, or a new secret, would quietly undo someone's kill switch.
  if (key.state === "disabled") {
    return "the key is switched off on the exchange (disabled): revoke it (`keyward revoke`), or enable it on the exchange first if it is still wanted";
  }
  // Known only from an old listing: its account's own key failed, so nothing can be created or checked.
  if (key.stale) {
    return `its account could not be listed just now (the key is known from the listing of ${key.stale.fetchedAt}): rotate it once the account can be listed again`;
  }
  const others = input.usedByOtherAccounts?.(key) ?? [];
  if (others.length > 0) {
    const who = others.join(", ");
    return `it is the key Keyward uses for ${who} (another Keyward account on the same exchange account), and rotating it from ${key.account} would leave ${who} with the dead old key: rotate it from ${who} itself (\`keyward rotate plan --account ${others[0]}\`), or replace it by hand and re-add ${who} (\`keyward account remove\`, \`keyward account add\`)`;
  }
  const run = input.busy?.get(key.id);
  if (run) return `the key is being rotated by ${run} (see \`keyward rotate status\`)`;
  if (input.resetInPlace) {
    const profile = exchangeProfile(key.exchange);
    if (profile.keys[key.location]?.resetInPlace !== "api") {
      return `${profile.name} cannot give ${key.location === "master" ? "an account's own" : key.location} keys a new secret in place by API (no reset that keeps the key id): plan without --reset-in-place to replace it with a new key`;
    }
    // Nothing is created: the key keeps its grants, so the limits on what Keyward creates do not apply.
    return undefined;
  }
  if (key.actions.create === "api") {
    const profile = exchangeProfile(key.exchange);
    const extra = key.permissions.filter((p) => !profile.apiGrantable.includes(p));
    if (extra.length > 0) {
      // Why is the profile's business (an exchange's limit, or Keyward's own rule of creating nothing that
      // moves money: docs/exchanges/<id>.md); the way forward is the same.
      return `Keyward cannot grant ${extra.join(", ")} to a new ${profile.name} key by API (it creates only ${profile.apiGrantable.join(", ")} keys there): replace it by hand on the exchange's site (track the new key with \`keyward key track\`, then revoke this one)`;
    }
    return undefined;
  }
  // Assisted: the person creates and revokes; only a probe with the old key's secret proves it dead.
  if (!input.holdsSecret(key)) {
    return "Keyward holds no secret for this key, so it could not prove the old key dead after a person revokes it (track it with its secret: keyward key track … --credentials-stdin)";
  }
  if (key.state !== "active" || (Array.isArray(key.rawPermissions) && key.rawPermissions.length === 0)) {
    return "its permissions could not be read just now (the probe was not conclusive), so the new key's could not be checked against them";
  }
  return undefined;
}

/**
 * An account's own key that a person creates but the exchange revokes by API: the key deletes itself with
 * its own credentials once the new one is delivered (the adapter's `revokeSelf`), not by a person.
 */
export const deletesItself = (
  method: PlanSlot["method"],
  accountKey: boolean,
  revoke: KeyRecord["actions"]["revoke"],
): boolean => method === "assisted" && accountKey && revoke === "api";

/** What the person accepts with an in-place reset: the plan states it, apply asks for it again. */
export const RESET_NOTE =
  "in-place reset: the same key id gets a new secret and the OLD SECRET DIES THE MOMENT THE NEW ONE EXISTS: there is no grace period, whatever uses the key fails until the new secret is delivered to it";

function notesFor(
  key: KeyRecord,
  method: PlanSlot["method"],
  accountKey: boolean,
  reset: boolean,
  holdsSecret: boolean,
): string[] {
  const profile = exchangeProfile(key.exchange);
  const notes: string[] = profile.planNotes?.(key) ?? [];
  if (reset) {
    notes.push(RESET_NOTE);
    if (accountKey)
      notes.push(
        `Keyward's own key for account ${key.account}: Keyward stores the new secret and uses it the moment the exchange returns it`,
      );
    notes.push(
      holdsSecret
        ? "the old secret is proven dead by a probe with it"
        : "Keyward does not hold the old secret, so it cannot probe it: its death rests on the exchange's reset",
    );
    return notes;
  }
  if (!profile.reportsIpWhitelist) {
    notes.push(`${profile.name} does not report IP whitelists: give the new key the old key's whitelist`);
  }
  if (accountKey)
    notes.push(
      `Keyward's own key for account ${key.account}: Keyward switches to the new key when it is delivered`,
    );
  if (accountKey && method === "api")
    notes.push(
      "Keyward creates the new key in the account itself; after the grace period it deletes the old key with the new one, once the account's other keys in this run are done",
    );
  if (deletesItself(method, accountKey, key.actions.revoke))
    notes.push(
      "a person creates the new key on the exchange's site; once it is delivered and Keyward uses it, Keyward deletes the old key by API with the old key itself",
    );
  else if (method === "assisted")
    notes.push("a person creates the new key and revokes the old one on the exchange's site");
  return notes;
}

export async function buildRotationPlan(input: PlanInput): Promise<RotationPlan> {
  const id = input.id ?? newRunId();
  const keys = [...input.keys].sort(
    (a, b) =>
      a.exchange.localeCompare(b.exchange) ||
      a.account.localeCompare(b.account) ||
      (a.subAccount ?? "").localeCompare(b.subAccount ?? "") ||
      a.label.localeCompare(b.label) ||
      a.apiKey.localeCompare(b.apiKey),
  );
  const refused: RefusedKey[] = [];
  const slots: PlanSlot[] = [];
  for (const key of keys) {
    const reason = refusal(key, input);
    if (reason) {
      refused.push({
        id: key.id,
        exchange: key.exchange,
        account: key.account,
        label: key.label,
        apiKey: key.apiKey,
        reason,
      });
      continue;
    }
    const accountKey = input.isAccountKey(key);
    if (input.deliver.length === 0 && !accountKey) {
      throw new KeywardError(
        "CONFIG_INVALID",
        "--deliver is required: where should the new credentials go?",
        {
          hint: `Name at least one target, e.g. --deliver '${TARGET_EXAMPLE}' (see \`keyward rotate plan --help\`).`,
        },
      );
    }
    const slot = slots.length + 1;
    const reset = input.resetInPlace === true;
    // A reset is done by API whatever way the key was created (the profile's `resetInPlace`, checked above).
    const method: PlanSlot["method"] = reset || key.actions.create === "api" ? "api" : "assisted";
    const vars = {
      account: key.account,
      sub: key.subAccount ?? "master",
      label: baseLabel(key.label) || "key",
      exchange: key.exchange,
      slot,
    };
    const deliver: Target[] = input.deliver.map((text) => parseTarget(text, vars, input.cwd));
    // The name the exchange will store (its `storedLabel`, e.g. Deribit's 16 characters): the plan, the
    // progress and the journal show the key as it will be listed, and an orphan is recognised by it.
    const profile = exchangeProfile(key.exchange);
    const wanted = newLabel(key.label, id, slot);
    const label = reset && key.label ? key.label.slice(0, 64) : (profile.storedLabel?.(wanted) ?? wanted);
    const notes = notesFor(key, method, accountKey, reset, input.holdsSecret(key));
    if (!reset && label !== wanted) {
      notes.push(
        `${profile.name} stores the new key as "${label}", not "${wanted}": its key names are short, so the name is the label's start and a hash unique to this rotation and slot`,
      );
    }
    slots.push({
      slot,
      method,
      old: planKey(key, accountKey),
      new: {
        // A reset keeps the key, and so its label.
        label,
        subAccount: key.subAccount,
        permissions:
          reset || key.permissions.includes("read") ? key.permissions : ["read", ...key.permissions],
        rawPermissions: key.rawPermissions,
        ip: exchangeProfile(key.exchange).reportsIpWhitelist ? key.ip : null,
      },
      deliver,
      ...(deletesItself(method, accountKey, key.actions.revoke) ? { selfRevoke: true as const } : {}),
      ...(reset ? { reset: true as const } : {}),
      notes,
    });
  }
  checkClashes(slots);
  await checkPlaces(slots, input.home);
  // The options the targets' kinds need (targets/index.ts), given and valid.
  await checkTargetOptions(
    slots.flatMap((s) => s.deliver),
    input,
  );
  const plan: RotationPlan = {
    kind: PLAN_KIND,
    version: 1,
    id,
    createdAt: (input.now ?? new Date()).toISOString(),
    ...planTargetOptions(input),
    slots,
    refused,
    estimatedApiMs: estimateApiMs(slots),
  };
  return RotationPlanSchema.parse(plan);
}

/**
 * Where every file target of the plan really leads: into Keyward's home, or through a symlink in a
 * world-writable folder, is refused (place.ts). Done when the plan is made and again before it is
 * applied; the delivery itself checks once more right before writing.
 */
export async function checkPlaces(
  slots: readonly PlanSlot[],
  home: string,
  nextStep: string = ROTATION_NEXT_STEP,
): Promise<void> {
  // path → the target it is written for, and whether its folder must already exist (each driver says:
  // Keyward writes a bot's files, never its folders: a missing one is a typo or a bot not set up yet,
  // found here before any key is created rather than after; a kind with a drop folder makes it itself).
  const places = new Map<string, { name: string; needsFolder: boolean }>();
  for (const slot of slots) {
    for (const target of slot.deliver) {
      const place = targetPlace(target);
      if (place && !places.has(place.path))
        places.set(place.path, { name: describeTarget(target), needsFolder: place.needsFolder });
    }
  }
  const parts = await homeParts(home);
  const all = [...places];
  // A few dozen at a time (a plan for thousands of keys stays quick); the first refusal in plan order wins.
  for (let i = 0; i < all.length; i += 32) {
    const results = await Promise.allSettled(
      all.slice(i, i + 32).map(async ([path, { name, needsFolder }]) => {
        const place = await checkedPlace(path, name, home, "CONFIG_INVALID", parts, nextStep);
        if (needsFolder && !place.exists && place.folder !== dirname(place.real)) {
          throw new KeywardError(
            "CONFIG_INVALID",
            `${name}: the folder ${dirname(place.real)} does not exist`,
            {
              hint: `Check the path; if it is right, create the folder (owned by the bot's user), ${nextStep === ROTATION_NEXT_STEP ? "then plan again" : nextStep}.`,
            },
          );
        }
      }),
    );
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }
}

/** Two keys whose targets have the same clash key (the same variables, JSON object, file) would overwrite each other. */
function checkClashes(slots: readonly PlanSlot[]): void {
  const owner = new Map<string, PlanSlot>();
  for (const slot of slots) {
    for (const target of slot.deliver) {
      const key = clashKey(target);
      if (key === undefined) continue;
      const other = owner.get(key);
      if (other && other !== slot) {
        throw new KeywardError(
          "CONFIG_INVALID",
          `keys "${other.old.label}" and "${slot.old.label}" would both be delivered to ${describeTarget(target)}`,
          { hint: CLASH_HINT },
        );
      }
      owner.set(key, slot);
    }
  }
}

/** Per account, API creates go at the exchange's write spacing (deletes, on their own limit, alongside). */
export function estimateApiMs(slots: readonly PlanSlot[]): number {
  const perAccount = new Map<string, { exchange: PlanSlot["old"]["exchange"]; n: number }>();
  for (const s of slots) {
    if (s.method !== "api") continue;
    const entry = perAccount.get(s.old.account) ?? { exchange: s.old.exchange, n: 0 };
    entry.n++;
    perAccount.set(s.old.account, entry);
  }
  return Math.max(
    0,
    ...[...perAccount.values()].map(({ exchange, n }) => n * exchangeProfile(exchange).writeSpacingMs),
  );
}

export { DEFAULT_RUN_OPTIONS };
