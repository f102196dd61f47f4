/**
 * KeyRecord and ManualSteps shapes every adapter fills the same way; the facts (locations, actions,
 * permissions, the web pages and the words of each step) stay in each exchange's `records.ts`.
 */
import {
  type Account,
  type KeyRecord,
  keyId,
  type ManualSteps,
  type ProbeResult,
} from "../domain/schemas.js";
import { actionsOf, type ExchangeProfile } from "./profile.js";

/**
 * A key known from its own probe only (a tracked key, or the account's own key): no sub-account, no
 * creation date, and what the probe saw when the key answered (its expiry too, where the probe tells it).
 */
export function probedKeyRecord(
  exchange: KeyRecord["exchange"],
  profile: ExchangeProfile,
  account: Account,
  key: { apiKey: string; label: string; probeable: boolean },
  probe: ProbeResult,
  location: "master" | "tracked",
  meta: Record<string, string>,
): KeyRecord {
  const alive = probe.status === "alive" ? probe : undefined;
  return {
    id: keyId(exchange, account.name, null, key.apiKey),
    exchange,
    account: account.name,
    subAccount: null,
    apiKey: key.apiKey,
    label: key.label || alive?.label || "",
    permissions: alive?.permissions ?? [],
    rawPermissions: alive?.rawPermissions ?? "",
    ip: alive?.ip ?? [],
    createdAt: null,
    expiresAt: alive?.expiresAt ?? null,
    location,
    actions: actionsOf(profile, location),
    probeable: key.probeable,
    state: alive ? "active" : probe.status === "dead" ? "dead" : "unknown",
    meta,
  };
}

/** How a person recognises a key on the exchange's page: its label and the ends of its API key. */
export interface KeyEnds {
  apiKeyStart: string;
  apiKeyEnd: string;
}

/**
 * Steps a person follows on the exchange's site for one key. `steps` gets the key's ends to quote; `where`
 * names the page's section listing the key.
 */
export function keyManualSteps(
  exchange: KeyRecord["exchange"],
  key: KeyRecord,
  action: "revoke" | "create",
  page: { url: string; where: string },
  steps: (ends: KeyEnds) => string[],
): ManualSteps {
  const ends = { apiKeyStart: key.apiKey.slice(0, 4), apiKeyEnd: key.apiKey.slice(-4) };
  return {
    exchange,
    action,
    url: page.url,
    steps: steps(ends),
    recognise: { label: key.label, ...ends, where: page.where },
  };
}
