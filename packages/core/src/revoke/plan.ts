/**
 * The revoke plan: what goes by API and what needs a person, in which order (keys that can move money
 * first), and how long the exchanges' rate limits make it take.
 */
import { exchangeProfile } from "../adapters/registry.js";
import { type KeyRecord, shortKey } from "../domain/schemas.js";
import { dangerRank } from "../inventory/risk.js";

export interface RevokePlanItem {
  key: KeyRecord;
  method: "api" | "manual";
  /** The key Keyward itself uses to reach this account: revoked after every other key of the account. */
  accountKey?: true;
}

export interface RevokePlan {
  items: RevokePlanItem[];
  byApi: number;
  byPerson: number;
  accounts: string[];
  /** Time the API part takes at the exchanges' write limits (accounts run in parallel). */
  estimatedApiMs: number;
  /** What the person confirming must know, e.g. "Keyward loses access to <account> after this". */
  warnings: string[];
}

export interface PlanOptions {
  /** Each account's own key (account name → API key): the key Keyward reaches the exchange with. */
  accountKeys?: ReadonlyMap<string, string>;
}

export function planRevoke(keys: readonly KeyRecord[], options: PlanOptions = {}): RevokePlan {
  const sorted = [...keys].sort(
    (a, b) =>
      dangerRank(a) - dangerRank(b) ||
      a.exchange.localeCompare(b.exchange) ||
      a.account.localeCompare(b.account) ||
      a.label.localeCompare(b.label),
  );
  const isAccountKey = (k: KeyRecord) => options.accountKeys?.get(k.account) === k.apiKey;
  // Danger order, except that an account's own key waits for the account's last other key: once it is
  // gone, Keyward can no longer list, revoke by API, or verify by listing anything of that account.
  const others = new Map<string, number>();
  for (const k of sorted) if (!isAccountKey(k)) others.set(k.account, (others.get(k.account) ?? 0) + 1);
  const ordered: KeyRecord[] = [];
  const deferred = new Map<string, KeyRecord>();
  for (const k of sorted) {
    if (isAccountKey(k)) {
      if (others.get(k.account)) deferred.set(k.account, k);
      else ordered.push(k);
      continue;
    }
    ordered.push(k);
    const left = (others.get(k.account) ?? 0) - 1;
    others.set(k.account, left);
    const own = deferred.get(k.account);
    if (left === 0 && own) {
      ordered.push(own);
      deferred.delete(k.account);
    }
  }
  const items = ordered.map(
    (key): RevokePlanItem => ({
      key,
      method: key.actions.revoke,
      ...(isAccountKey(key) ? { accountKey: true as const } : {}),
    }),
  );
  const warnings = items
    .filter((i) => i.accountKey)
    .map(
      ({ key }) =>
        `Keyward loses access to ${key.account} after this: the key it uses for the account (${shortKey(key.apiKey)}) is revoked last, after every other key of ${key.account}; add a new key with \`keyward account remove\` and \`keyward account add\` to manage it again.`,
    );
  const apiPerAccount = new Map<string, { exchange: KeyRecord["exchange"]; n: number }>();
  for (const item of items) {
    if (item.method !== "api") continue;
    const entry = apiPerAccount.get(item.key.account) ?? { exchange: item.key.exchange, n: 0 };
    entry.n++;
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
    byApi: items.filter((i) => i.method === "api").length,
    byPerson: items.filter((i) => i.method === "manual").length,
    accounts: [...new Set(items.map((i) => i.key.account))],
    estimatedApiMs,
    warnings,
  };
}
