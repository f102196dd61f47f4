/**
 * Deribit keys as Keyward's KeyRecords, and the manual steps for a person on Deribit's API page
 * (docs/exchanges/deribit.md#what-has-no-api-manual-steps). Every key Deribit lists is one of the
 * account's own keys ("master" records): Deribit manages them all by API.
 */
import type { Account, KeyRecord, ManualSteps } from "../../domain/schemas.js";
import { keyId } from "../../domain/schemas.js";
import { actionsOf } from "../profile.js";
import { keyManualSteps } from "../rest-records.js";
import { canonicalScope, describeScope, normaliseScope } from "./permissions.js";
import { DERIBIT_REGIONS, deribitProfile } from "./profile.js";
import type { DeribitKey } from "./schemas.js";

/** Key meta: the user id of the (sub)account a key belongs to; its credits bucket is that account's. */
export const USER_META = "userId";
/** Key meta: Deribit's numeric key id, which every key method takes. */
export const KEY_ID_META = "keyId";

const hostOf = (account: Account) =>
  DERIBIT_REGIONS.hosts[(account.region ?? DERIBIT_REGIONS.default) as keyof typeof DERIBIT_REGIONS.hosts] ??
  DERIBIT_REGIONS.hosts.live;

/** The REST base: the account's endpoint (a proxy, the simulator) or its region's host. */
export const restBase = (account: Account): string =>
  (account.endpoint ?? hostOf(account).rest).replace(/\/+$/, "");

/** Where a person manages keys (the simulator serves its stand-in page at the same path). */
const uiPage = (account: Account): string =>
  `${account.endpoint ? restBase(account) : hostOf(account).ui}/account/BTC/api`;

/** Deribit's `timestamp` (ms) as ISO, or null. */
const isoOf = (ms: number | undefined): string | null =>
  ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();

/**
 * A key of the account, from list_api_keys (or the answer of a method that changed it). `probeable`: Keyward
 * holds its secret (the account's own key, a key it created or reset) — never from the listing's secrets,
 * which schemas.ts drops.
 */
export function keyRecord(
  account: Account,
  key: DeribitKey,
  userId: string | undefined,
  probeable: boolean,
): KeyRecord {
  const scope = canonicalScope(key.max_scope);
  return {
    id: keyId("deribit", account.name, null, key.client_id),
    exchange: "deribit",
    account: account.name,
    subAccount: null,
    apiKey: key.client_id,
    label: key.name,
    permissions: normaliseScope(scope),
    rawPermissions: scope,
    ip: [...key.ip_whitelist],
    createdAt: isoOf(key.timestamp),
    // Deribit documents no key expiry (docs/exchanges/deribit.md#unconfirmed).
    expiresAt: null,
    location: "master",
    actions: actionsOf(deribitProfile, "master"),
    probeable,
    state: key.enabled ? "active" : "disabled",
    meta: { [KEY_ID_META]: String(key.id), ...(userId ? { [USER_META]: userId } : {}) },
  };
}

export function deribitManualSteps(
  account: Account,
  key: KeyRecord,
  action: "revoke" | "create",
): ManualSteps {
  const url = uiPage(account);
  const where = "Account → API, in the list of API keys";
  const open = `Sign in to Deribit as the account of Keyward account "${account.name}" and open ${url}.`;
  return keyManualSteps("deribit", key, action, { url, where }, ({ apiKeyStart, apiKeyEnd }) =>
    action === "revoke"
      ? [
          open,
          `Find the API key named "${key.label}" whose Client ID starts with ${apiKeyStart} and ends with ${apiKeyEnd}.`,
          "Choose Remove for that key and confirm with your two-factor code.",
          'To confirm, probe the key in Keyward: it must come back "dead".',
        ]
      : [
          open,
          `Choose "Add new key", name it "${key.label}", set the scope to ${describeScope(typeof key.rawPermissions === "string" ? key.rawPermissions : "")}, and whitelist this machine's IP address; confirm with your two-factor code.`,
          "Copy the Client ID and Client Secret at once: Deribit shows the secret only this one time.",
          "Give them to Keyward and probe the new key to confirm it is alive with the expected scope and IPs.",
        ],
  );
}
