/** The inventory as the shells show it: one flat, JSON-safe row per key, with its risk flags. */
import { type AccountKeys, accountsUsing } from "../domain/account-keys.js";
import { type KeyRecord, shortKey } from "../domain/schemas.js";
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
}

/** `accountKeys`: each account's own key (`home.accountKeyUses()`), to flag those rows `accountKey`. */
export function inventoryRow(key: KeyRecord, risk: RiskOptions, accountKeys?: AccountKeys): InventoryRow {
  return {
    id: key.id,
    exchange: key.exchange,
    account: key.account,
    subAccount: key.subAccount,
    apiKey: key.apiKey,
    apiKeyShort: shortKey(key.apiKey),
    label: key.label,
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
  };
}
