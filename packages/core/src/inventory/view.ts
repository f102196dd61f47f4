/** The inventory as the shells show it: one flat, JSON-safe row per key, with its risk flags. */
import { type AccountKeys, accountsUsing } from "../domain/account-keys.js";
import { type Account, type KeyRecord, shortKey } from "../domain/schemas.js";
import { type Risk, type RiskOptions, risksOf } from "./risk.js";

export interface InventoryRow {
  id: string;
  exchange: string;
  account: string;
  subAccount: string | null;
  apiKey: string;
  apiKeyShort: string;
  label: string;
  permissions: string[];
  ip: string[];
  createdAt: string | null;
  /** When the exchange says the key stops working (ISO date-time); null: it does not, or not known. */
  expiresAt: string | null;
  location: KeyRecord["location"];
  /** How the key is revoked: by API, or by a person on the exchange's site. */
  management: "api" | "manual";
  state: KeyRecord["state"];
  risks: Risk[];
  /**
   * Not listed by the exchange just now: shown from the inventory fetched at `fetchedAt`, `ageMs` old
   * (see inventory.ts). null for keys seen live.
   */
  stale: { fetchedAt: string; ageMs: number } | null;
  /**
   * The key Keyward itself uses for its account (given `accountKeys`). With `management: "api"` it is a
   * key a revoke plan holds back unless it is named (revoke/plan.ts): a shell's bulk selection leaves it out.
   */
  accountKey?: true;
  /**
   * The label comes from the account's config (`keyward account add --label`, `account set-label`): the
   * exchange lists none for this key, and a person gave the name it has on the exchange's page.
   */
  labelGiven?: true;
}

/**
 * Where a key (or an account) is, in one short phrase the shells share: `okx desk-alpha/alphaMM01`,
 * `bitfinex alpha-desk-bfx` (no sub-account: the account itself). The `keys` table's ACCOUNT column and
 * `keyward check`'s findings print it, so an operator reads the same words in both.
 */
export const keyWhere = (key: { exchange: string; account: string; subAccount?: string | null }): string =>
  `${key.exchange} ${key.account}${key.subAccount ? `/${key.subAccount}` : ""}`;

/** Labels given for accounts' own keys, by exchange and API key (see `keyLabelsOf`). */
export type GivenKeyLabels = ReadonlyMap<string, string>;
const labelSlot = (exchange: string, apiKey: string): string => `${exchange}\u0000${apiKey}`;

/** The labels people gave their accounts' own keys (`account.keyLabel`), for `inventoryRow`. */
export function keyLabelsOf(accounts: readonly Pick<Account, "exchange" | "keyLabel">[]): GivenKeyLabels {
  const labels = new Map<string, string>();
  for (const a of accounts)
    if (a.keyLabel) labels.set(labelSlot(a.exchange, a.keyLabel.apiKey), a.keyLabel.text);
  return labels;
}

/**
 * `accountKeys`: each account's own key (`home.accountKeyUses()`), to flag those rows `accountKey`.
 * `givenLabels`: labels people gave (`keyLabelsOf(config.accounts)`), shown where the exchange lists none.
 */
export function inventoryRow(
  key: KeyRecord,
  risk: RiskOptions,
  accountKeys?: AccountKeys,
  givenLabels?: GivenKeyLabels,
): InventoryRow {
  // Only where the exchange gave no label: its own word for the key is the truth when it has one.
  const given = key.label ? undefined : givenLabels?.get(labelSlot(key.exchange, key.apiKey));
  return {
    id: key.id,
    exchange: key.exchange,
    account: key.account,
    subAccount: key.subAccount,
    apiKey: key.apiKey,
    apiKeyShort: shortKey(key.apiKey),
    label: given ?? key.label,
    permissions: key.permissions,
    ip: key.ip,
    createdAt: key.createdAt,
    expiresAt: key.expiresAt,
    location: key.location,
    management: key.actions.revoke,
    state: key.state,
    risks: risksOf(key, risk),
    stale: key.stale
      ? { fetchedAt: key.stale.fetchedAt, ageMs: (risk.now ?? Date.now()) - Date.parse(key.stale.fetchedAt) }
      : null,
    // Any Keyward account's key, as a revoke plan counts it (revoke/plan.ts).
    ...(accountsUsing(key, accountKeys).length > 0 ? { accountKey: true as const } : {}),
    ...(given ? { labelGiven: true as const } : {}),
  };
}
