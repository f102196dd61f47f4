/**
 * Bybit (v5) permissions: an object of groups, each a list of grants, e.g.
 * `{"Spot": ["SpotTrade"], "Wallet": ["AccountTransfer", "Withdraw"]}` (query-api, sub-apikeys and
 * create-sub-api all use this shape: https://bybit-exchange.github.io/docs/v5/user/apikey-info).
 * Keyward keeps them as one canonical string (RawPermissions is a string or scope triples) so that the
 * exact grants survive a rotation, and normalises them for risk flags and selection.
 */
import type { Permission } from "../../domain/schemas.js";

export type BybitPermissions = Readonly<Record<string, readonly string[]>>;

/** The Wallet grants that move money between accounts (and so make a key able to manage keys). */
const TRANSFER_GRANTS = new Set(["AccountTransfer", "SubMemberTransfer", "SubMemberTransferList"]);

/** Grants that place or manage orders, by group: any of them makes a key a trading key. */
const TRADE_GROUPS = new Set(["ContractTrade", "Spot", "Options", "Derivatives", "Exchange", "CopyTrading"]);

/**
 * `Group:grantA,grantB;Group2:grant` with groups and grants sorted and empty groups dropped: two keys
 * with the same grants have the same string whatever order Bybit answered in.
 */
export function canonicalPermissions(permissions: BybitPermissions): string {
  return Object.keys(permissions)
    .sort()
    .map((group) => [group, [...new Set(permissions[group] ?? [])].sort()] as const)
    .filter(([, grants]) => grants.length > 0)
    .map(([group, grants]) => `${group}:${grants.join(",")}`)
    .join(";");
}

/**
 * A key's RawPermissions: the read-only flag and the canonical grants, e.g. `rw|Spot:SpotTrade`, so that
 * comparing two keys' raw permissions compares everything a rotation must keep.
 */
export const rawPermissionsOf = (permissions: BybitPermissions, readOnly: boolean): string =>
  `${readOnly ? "ro" : "rw"}|${canonicalPermissions(permissions)}`;

/** The inverse of `rawPermissionsOf`, or undefined for a string it did not make. */
export function parseRaw(
  raw: string,
): { readOnly: boolean; permissions: Record<string, string[]> } | undefined {
  const match = /^(ro|rw)\|(.*)$/s.exec(raw);
  if (!match) return undefined;
  return { readOnly: match[1] === "ro", permissions: parseCanonical(match[2] ?? "") };
}

/** The inverse of `canonicalPermissions` (for creating a key with the same grants as another). */
export function parseCanonical(raw: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of raw.split(";")) {
    const colon = part.indexOf(":");
    if (colon <= 0) continue;
    out[part.slice(0, colon)] = part
      .slice(colon + 1)
      .split(",")
      .filter((g) => g !== "");
  }
  return out;
}

/**
 * The normalised permissions. `readOnly` 1 means every grant is read-only, so only `read` (Bybit still
 * reports the groups; docs/exchanges/bybit.md#permissions). Wallet's Withdraw is `withdraw`; its
 * transfer grants are `transfer`; trading groups are `trade`; Earn is `funding`.
 */
export function normalisePermissions(permissions: BybitPermissions, readOnly: boolean): Permission[] {
  const out = new Set<Permission>(["read"]);
  if (readOnly) return [...out];
  for (const [group, grants] of Object.entries(permissions)) {
    if (grants.length === 0) continue;
    if (TRADE_GROUPS.has(group)) out.add("trade");
    if (group === "Earn") out.add("funding");
    if (group === "Wallet") {
      if (grants.includes("Withdraw")) out.add("withdraw");
      if (grants.some((g) => TRANSFER_GRANTS.has(g))) out.add("transfer");
    }
  }
  return [...out];
}

/** Whether a key may manage keys by API: Bybit asks for Account Transfer, Subaccount Transfer or Withdrawal. */
export function canManageKeys(permissions: BybitPermissions, readOnly: boolean): boolean {
  const wallet = permissions.Wallet ?? [];
  return !readOnly && wallet.some((g) => g === "Withdraw" || TRANSFER_GRANTS.has(g));
}
