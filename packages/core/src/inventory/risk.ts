/**
 * Risk flags for a key: what makes it dangerous if it leaks, or likely to fail a bot soon.
 */
import type { KeyRecord } from "../domain/schemas.js";

export const RISKS = {
  withdraw: "can withdraw funds",
  transfer: "can move funds between accounts",
  "no-ip": "not bound to any IP address (usable from anywhere)",
  old: "older than the configured maximum age",
  "okx-idle-expiry": "OKX trade key without IP binding: expires after 14 days without use",
  unverified: "Keyward cannot see its permissions (no secret held, or probe inconclusive)",
} as const;
export type Risk = keyof typeof RISKS;

export interface RiskOptions {
  maxKeyAgeDays: number;
  now?: number;
}

export function risksOf(key: KeyRecord, options: RiskOptions): Risk[] {
  const risks: Risk[] = [];
  const now = options.now ?? Date.now();
  if (key.permissions.includes("withdraw")) risks.push("withdraw");
  if (key.permissions.includes("transfer")) risks.push("transfer");
  // Bitfinex does not report a key's IP binding, so "no IP" is only claimed where the exchange says so.
  if (key.ip.length === 0 && key.exchange !== "bitfinex") risks.push("no-ip");
  if (key.createdAt && now - Date.parse(key.createdAt) > options.maxKeyAgeDays * 86_400_000)
    risks.push("old");
  // https://www.okx.com/docs-v5/en/#overview-api-key-creation: trade/withdraw keys without IPs expire idle.
  if (
    key.exchange === "okx" &&
    key.ip.length === 0 &&
    key.permissions.some((p) => p === "trade" || p === "withdraw")
  ) {
    risks.push("okx-idle-expiry");
  }
  if (key.state === "unknown") risks.push("unverified");
  return risks;
}

/** Danger order for revocation: keys that can move money go first. */
export function dangerRank(key: KeyRecord): number {
  if (key.permissions.includes("withdraw")) return 0;
  if (key.permissions.includes("transfer")) return 1;
  if (key.permissions.includes("trade") || key.permissions.includes("funding")) return 2;
  return 3;
}
