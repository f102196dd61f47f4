/**
 * Risk flags for a key: what makes it dangerous if it leaks, or likely to fail a bot soon.
 */
import { EXCHANGE_PROFILES, type ExchangeRisk, exchangeProfile } from "../adapters/registry.js";
import type { KeyRecord } from "../domain/schemas.js";
import { SHARED_RISKS as SHARED, UNVERIFIED_RISK as UNVERIFIED } from "./risk-names.js";

export type Risk = keyof typeof SHARED | ExchangeRisk | "unverified";

/** Every risk flag and what it means: the shared ones, then each exchange's (its profile's `risks`). */
export const RISKS: Readonly<Record<Risk, string>> = Object.fromEntries([
  ...Object.entries(SHARED),
  ...EXCHANGE_PROFILES.flatMap((p) => Object.entries(p.risks).map(([name, rule]) => [name, rule.text])),
  ["unverified", UNVERIFIED],
]) as Record<Risk, string>;

export interface RiskOptions {
  maxKeyAgeDays: number;
  now?: number;
}

export function risksOf(key: KeyRecord, options: RiskOptions): Risk[] {
  // A dead key can do nothing: its last known (or, from a failed probe, empty) facts flag no risk.
  // A disabled key keeps its flags: it fails authentication now, but anyone who can manage the account's
  // keys can enable it again, with the same permissions and IP binding. So `--risky` still selects it for
  // the revoke that removes it. It is not "unverified": the exchange listed it, with its permissions.
  if (key.state === "dead") return [];
  const risks: Risk[] = [];
  const now = options.now ?? Date.now();
  if (key.permissions.includes("withdraw")) risks.push("withdraw");
  if (key.permissions.includes("transfer")) risks.push("transfer");
  const profile = exchangeProfile(key.exchange);
  // "No IP" is only claimed where the exchange reports IP bindings (else an empty list means "not known").
  if (key.ip.length === 0 && profile.reportsIpWhitelist) risks.push("no-ip");
  if (key.createdAt && now - Date.parse(key.createdAt) > options.maxKeyAgeDays * 86_400_000)
    risks.push("old");
  for (const [name, rule] of Object.entries(profile.risks)) if (rule.applies(key)) risks.push(name as Risk);
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
