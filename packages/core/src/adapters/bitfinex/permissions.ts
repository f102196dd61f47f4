/**
 * Bitfinex `[scope, read, write]` triples (auth/r/permissions,
 * docs/exchanges/bitfinex.md#endpoints-keyward-uses) normalised to Keyward's permissions. The mapping errs
 * towards reporting power: a write that can move money is never hidden.
 *
 * | Bitfinex scope (flag)          | Keyward permission | Why |
 * |--------------------------------|--------------------|-----|
 * | any scope, read = 1            | read               | the key can read account data |
 * | orders, write = 1              | trade              | place/cancel orders |
 * | positions, write = 1           | trade              | claim/close/increase positions |
 * | withdraw, write = 1            | withdraw           | withdraw funds by API |
 * | ui_withdraw, write = 1         | withdraw           | withdrawal-related; counted as withdraw so it is never under-reported |
 * | wallets, write = 1             | transfer           | transfers between wallets (and to other users, `auth/w/transfer`) |
 * | funding, write = 1             | funding            | offer/cancel funding (margin lending) |
 * | settings, write = 1            | settings           | edit user settings |
 * | account, write = 1             | settings           | edit account information |
 *
 * Other writes (history, bfxpay, eaas_* and scopes Bitfinex adds later) have no Keyward equivalent; they stay
 * visible in `rawPermissions`. A key with no scope at all still authenticates (it can call auth/r/permissions),
 * but reports no permission.
 */
import type { Permission } from "../../domain/schemas.js";
import type { PermissionTriple } from "./schemas.js";

const WRITE_MAP: Readonly<Record<string, Permission>> = {
  orders: "trade",
  positions: "trade",
  withdraw: "withdraw",
  ui_withdraw: "withdraw",
  wallets: "transfer",
  funding: "funding",
  settings: "settings",
  account: "settings",
};

/**
 * What Bitfinex's "Create New Key" form calls each scope (support.bitfinex.com/hc/en-us/articles/115003363429),
 * for the manual steps.
 */
export const SCOPE_UI_NAMES: Readonly<Record<string, string>> = {
  account: "Account Info",
  history: "Account History",
  orders: "Orders",
  positions: "Margin Trading",
  funding: "Margin Funding",
  wallets: "Wallets",
  withdraw: "Withdrawals",
  bfxpay: "Bitfinex Pay",
};

/** Keyward's order (PermissionSchema's), so records compare stably. */
const ORDER: readonly Permission[] = ["read", "trade", "withdraw", "transfer", "funding", "settings"];

export function normalisePermissions(triples: readonly PermissionTriple[]): Permission[] {
  const granted = new Set<Permission>();
  for (const [scope, read, write] of triples) {
    if (read === 1) granted.add("read");
    const mapped = WRITE_MAP[scope];
    if (write === 1 && mapped) granted.add(mapped);
  }
  return ORDER.filter((p) => granted.has(p));
}
