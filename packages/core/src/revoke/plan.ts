/**
 * The revoke plan: what goes by API and what needs a person, in which order (keys that can move money
 * first), and how long the exchanges' rate limits make it take.
 *
 * An account's own key (the one Keyward reaches the account with) is revoked last in its account, with a
 * warning. "Own key" means a key ANY Keyward account uses (same API key, same exchange;
 * domain/account-keys.ts): two Keyward accounts can reach one exchange account, which lists both their
 * keys under each, so a key listed under `dr-desk` may be the one `desk-monitor` uses. Such a key gets
 * every rule below, and the warning names the Keyward account that loses access; within its exchange
 * account it goes after the other keys and before the listing account's own key (which must stay alive
 * to revoke it). Where the exchange lets that key be revoked BY API (it deletes itself), one broad selection
 * must not end Keyward's access to the account in seconds: such a key enters the plan only when the
 * person named it (its id or API key); otherwise it is held back, and the plan says how to include it.
 * An own key a person revokes on the site stays in the plan: nothing happens to it until that person acts.
 *
 * Disable first (the incident default): where the exchange has a kill switch for a kind of key (its
 * profile's `disable: "api"`, e.g. Deribit's disable_api_key), every such key the plan revokes by API is
 * switched off first, all of an account's keys before any is removed: a switch takes effect at once and
 * needs no second factor, while each removal may wait for one. The account's own key is never switched
 * off first: a disabled key can make no call, so Keyward could neither remove the others nor itself; it
 * is removed at its turn, last, which ends it as quickly.
 */
import { exchangeProfile } from "../adapters/registry.js";
import { type AccountKeys, accountsUsing } from "../domain/account-keys.js";
import { type KeyRecord, shortKey } from "../domain/schemas.js";
import { dangerRank } from "../inventory/risk.js";

export interface RevokePlanItem {
  key: KeyRecord;
  method: "api" | "manual";
  /** The key Keyward itself uses to reach this account: revoked after every other key of the account. */
  accountKey?: true;
  /**
   * With `accountKey`: the Keyward accounts that use the key (its own account, or others on the same
   * exchange account). When the listing account is not among them, its key still works after this one
   * is gone, so the revoke is also verified by listing.
   */
  accountKeyOf?: string[];
  /**
   * Switched off by the exchange's kill switch (adapter `disableKey`) before any key of its account is
   * removed, then removed. Never set on an account's own key, nor on a key already disabled.
   */
  disableFirst?: true;
}

/** A selected key the plan leaves out, and the plain line that says why and how to include it. */
export interface HeldBackKey {
  key: KeyRecord;
  reason: string;
}

export interface RevokePlan {
  items: RevokePlanItem[];
  /**
   * Selected keys left out: an account's own key revoked by API that the selection did not name (ids or
   * API keys). Empty when every selected key is planned.
   */
  heldBack: HeldBackKey[];
  byApi: number;
  byPerson: number;
  accounts: string[];
  /** Time the API part takes at the exchanges' write limits (accounts run in parallel). */
  estimatedApiMs: number;
  /** What the person confirming must know, e.g. "Keyward loses access to <account> after this". */
  warnings: string[];
  /**
   * The planned keys an exchange's kill switch could disable first (revoked by API, the profile says
   * `disable: "api"` for their kind, not an account's own key, not disabled already), and how many of them
   * will be (all of them, unless `disableFirst: false`). Shells offer the option only when `available > 0`.
   */
  disableFirst: { available: number; planned: number };
}

export interface PlanOptions {
  /**
   * Each account's own key (account name → API key, with its exchange: `home.accountKeyUses()`): the key
   * Keyward reaches the exchange with. A key any of them uses is an own key, whichever account listed it.
   */
  accountKeys?: AccountKeys;
  /**
   * The ids or API keys the person named (the selector's `ids`). An account's own key whose revoke is by
   * API is planned only if named here, otherwise held back (`heldBack`): omitting this holds it back too,
   * so a caller that forgets it cannot end Keyward's access to an account.
   */
  named?: readonly string[];
  /**
   * Disable every key that has a kill switch before removing any (default true: the incident default; a
   * switch takes effect at once and can be undone). False removes them directly, as other exchanges' keys.
   */
  disableFirst?: boolean;
}

/** Whether the exchange can switch this key off by API before it is removed (its profile says so). */
export const hasKillSwitch = (key: KeyRecord): boolean =>
  key.actions.revoke === "api" && exchangeProfile(key.exchange).keys[key.location]?.disable === "api";

/** "dr-desk", "dr-desk and desk-monitor": the Keyward accounts a key's revoke cuts off. */
const names = (accounts: readonly string[]): string =>
  accounts.length <= 1 ? (accounts[0] ?? "") : `${accounts.slice(0, -1).join(", ")} and ${accounts.at(-1)}`;

/** The plain line a held-back key is shown with (CLI and web): why, and how to include it. */
const heldBackReason = (key: KeyRecord, users: readonly string[]): string =>
  `Not included: ${shortKey(key.apiKey)}, the key Keyward uses for ${names(users)}, which the exchange revokes by API; a broad selection never includes it, since once it is gone Keyward can no longer reach ${names(users)}. To revoke it too, revoke it on its own, by its id alone, once this is done (its id: ${key.id}).`;

export function planRevoke(selected: readonly KeyRecord[], options: PlanOptions = {}): RevokePlan {
  const usersOf = (k: KeyRecord) => accountsUsing(k, options.accountKeys);
  const isAccountKey = (k: KeyRecord) => usersOf(k).length > 0;
  const named = options.named ?? [];
  const holds = (k: KeyRecord) =>
    isAccountKey(k) && k.actions.revoke === "api" && !named.some((n) => n === k.id || n === k.apiKey);
  const heldBack = selected
    .filter(holds)
    .map((key): HeldBackKey => ({ key, reason: heldBackReason(key, usersOf(key)) }));
  const keys = selected.filter((k) => !holds(k));
  const sorted = [...keys].sort(
    (a, b) =>
      dangerRank(a) - dangerRank(b) ||
      a.exchange.localeCompare(b.exchange) ||
      a.account.localeCompare(b.account) ||
      a.label.localeCompare(b.label),
  );
  // Danger order, except that an account's own key waits for the account's last other key: once it is
  // gone, Keyward can no longer list, revoke by API, or verify by listing anything of that account.
  const others = new Map<string, number>();
  for (const k of sorted) if (!isAccountKey(k)) others.set(k.account, (others.get(k.account) ?? 0) + 1);
  // An account can hold several own keys (its own, and keys other Keyward accounts use): they wait
  // together, the listing account's own key last, since it is the one that revokes the others.
  const ordered: KeyRecord[] = [];
  const deferred = new Map<string, KeyRecord[]>();
  const ownLast = (keys: KeyRecord[]) =>
    [...keys].sort((a, b) => Number(usersOf(a).includes(a.account)) - Number(usersOf(b).includes(b.account)));
  for (const k of sorted) {
    if (isAccountKey(k)) {
      if (others.get(k.account)) deferred.set(k.account, [...(deferred.get(k.account) ?? []), k]);
      else ordered.push(k);
      continue;
    }
    ordered.push(k);
    const left = (others.get(k.account) ?? 0) - 1;
    others.set(k.account, left);
    const own = deferred.get(k.account);
    if (left === 0 && own) {
      ordered.push(...own);
      deferred.delete(k.account);
    }
  }
  // Within an account, the own keys keep their places but the listing account's own key takes the last.
  const places = new Map<string, number[]>();
  ordered.forEach((k, i) => {
    if (isAccountKey(k)) places.set(k.account, [...(places.get(k.account) ?? []), i]);
  });
  for (const at of places.values()) {
    const keys = ownLast(at.map((i) => ordered[i] as KeyRecord));
    at.forEach((i, n) => {
      ordered[i] = keys[n] as KeyRecord;
    });
  }
  // A key already switched off needs no switch (the listing says so); an own key is never switched off.
  const canDisable = (k: KeyRecord) => hasKillSwitch(k) && !isAccountKey(k) && k.state !== "disabled";
  const disableFirst = options.disableFirst ?? true;
  const items = ordered.map(
    (key): RevokePlanItem => ({
      key,
      method: key.actions.revoke,
      ...(isAccountKey(key) ? { accountKey: true as const, accountKeyOf: usersOf(key) } : {}),
      ...(disableFirst && canDisable(key) ? { disableFirst: true as const } : {}),
    }),
  );
  const warnings = items
    .filter((i) => i.accountKey)
    .map(({ key }) => {
      const users = usersOf(key);
      const own = users.includes(key.account);
      const lost = users.length === 1 ? "the account" : "them";
      return own
        ? `Keyward loses access to ${names(users)} after this: the key it uses for ${lost} (${shortKey(key.apiKey)}) is revoked last, after every other key of ${key.account}; add a new key with \`keyward account remove\` and \`keyward account add\` to manage it again.`
        : `Keyward loses access to ${names(users)} after this: the key it uses for ${lost} (${shortKey(key.apiKey)}) is a key of the same exchange account as ${key.account}, revoked after every other key of ${key.account}; add a new key with \`keyward account remove\` and \`keyward account add\` to use ${names(users)} again.`;
    });
  const apiPerAccount = new Map<string, { exchange: KeyRecord["exchange"]; n: number }>();
  for (const item of items) {
    if (item.method !== "api") continue;
    const entry = apiPerAccount.get(item.key.account) ?? { exchange: item.key.exchange, n: 0 };
    // A key disabled first costs two writes: the switch, then the removal.
    entry.n += item.disableFirst ? 2 : 1;
    apiPerAccount.set(item.key.account, entry);
  }
  // Revoke calls per account go at the exchange's documented write spacing (its profile's).
  const estimatedApiMs = Math.max(
    0,
    ...[...apiPerAccount.values()].map(
      ({ exchange, n }) => Math.max(0, n - 1) * exchangeProfile(exchange).writeSpacingMs,
    ),
  );
  return {
    items,
    heldBack,
    byApi: items.filter((i) => i.method === "api").length,
    byPerson: items.filter((i) => i.method === "manual").length,
    accounts: [...new Set(items.map((i) => i.key.account))],
    estimatedApiMs,
    warnings,
    disableFirst: {
      available: items.filter((i) => canDisable(i.key)).length,
      planned: items.filter((i) => i.disableFirst).length,
    },
  };
}
