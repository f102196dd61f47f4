/**
 * The revoke plan: what goes by API and what needs a person, in which order (keys that can move money
 * first), and how long the exchanges' rate limits make it take.
 */
import type { KeyRecord } from "../domain/schemas.js";
import { dangerRank } from "../inventory/risk.js";

export interface RevokePlanItem {
  key: KeyRecord;
  method: "api" | "manual";
}

export interface RevokePlan {
  items: RevokePlanItem[];
  byApi: number;
  byPerson: number;
  accounts: string[];
  /** Time the API part takes at the exchanges' write limits (accounts run in parallel). */
  estimatedApiMs: number;
}

/**
 * Minimum spacing of revoke calls per account, from the documented write limits
 * (OKX: delete-apikey 1 request/s per UID, https://www.okx.com/docs-v5/en/#sub-account-rest-api-delete-the-api-key-of-sub-accounts).
 */
const REVOKE_SPACING_MS: Record<string, number> = { okx: 1000 };

export function planRevoke(keys: readonly KeyRecord[]): RevokePlan {
  const items = [...keys]
    .sort(
      (a, b) =>
        dangerRank(a) - dangerRank(b) ||
        a.exchange.localeCompare(b.exchange) ||
        a.account.localeCompare(b.account) ||
        a.label.localeCompare(b.label),
    )
    .map((key): RevokePlanItem => ({ key, method: key.actions.revoke }));
  const apiPerAccount = new Map<string, { exchange: string; n: number }>();
  for (const item of items) {
    if (item.method !== "api") continue;
    const entry = apiPerAccount.get(item.key.account) ?? { exchange: item.key.exchange, n: 0 };
    entry.n++;
    apiPerAccount.set(item.key.account, entry);
  }
  const estimatedApiMs = Math.max(
    0,
    ...[...apiPerAccount.values()].map(
      ({ exchange, n }) => Math.max(0, n - 1) * (REVOKE_SPACING_MS[exchange] ?? 0),
    ),
  );
  return {
    items,
    byApi: items.filter((i) => i.method === "api").length,
    byPerson: items.filter((i) => i.method === "manual").length,
    accounts: [...new Set(items.map((i) => i.key.account))],
    estimatedApiMs,
  };
}
