/**
 * Bybit keys as Keyward's KeyRecords, and the manual steps for what the API cannot do
 * (docs/exchanges/bybit.md#what-has-no-api-manual-steps).
 */
import type { Account, KeyRecord, ManualSteps, ProbeResult } from "../../domain/schemas.js";
import { keyId } from "../../domain/schemas.js";
import { actionsOf } from "../profile.js";
import { keyManualSteps, probedKeyRecord } from "../rest-records.js";
import { type BybitPermissions, normalisePermissions, rawPermissionsOf } from "./permissions.js";
import { BYBIT_REGIONS, bybitProfile } from "./profile.js";
import type { BybitApiInfo, BybitSubKey, BybitSubMember } from "./schemas.js";

/** Key meta: the UID of the (sub-)account a key belongs to; its rate buckets are that UID's. */
export const UID_META = "uid";

const hostOf = (account: Account) =>
  BYBIT_REGIONS.hosts[(account.region ?? BYBIT_REGIONS.default) as keyof typeof BYBIT_REGIONS.hosts] ??
  BYBIT_REGIONS.hosts.live;

/** The REST base: the account's endpoint (a proxy, the simulator) or its region's host. */
export const restBase = (account: Account): string =>
  (account.endpoint ?? hostOf(account).rest).replace(/\/+$/, "");

/** Where a person manages keys (the simulator serves its stand-in page at the same path). */
const uiPage = (account: Account): string =>
  `${account.endpoint ? restBase(account) : hostOf(account).ui}/app/user/api-management`;

/** Bybit's "no binding" is `["*"]` (or nothing); Keyward's is an empty list. */
export const bindingOf = (ips: readonly string[]): string[] => ips.filter((ip) => ip !== "*" && ip !== "");

/** Bybit's date-times (createdAt; expiredAt, "" for a key that does not expire) as ISO, or null. */
export const isoOrNull = (at: string | undefined): string | null => {
  if (!at) return null;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
};

interface KeyFacts {
  apiKey: string;
  note: string;
  readOnly: boolean;
  permissions: BybitPermissions;
  ips: readonly string[];
  createdAt?: string | undefined;
  expiredAt?: string | undefined;
}

function record(
  account: Account,
  location: "master" | "sub-account",
  sub: BybitSubMember | undefined,
  uid: string | undefined,
  key: KeyFacts,
  probeable: boolean,
): KeyRecord {
  const subAccount = sub?.username ?? null;
  return {
    id: keyId("bybit", account.name, subAccount, key.apiKey),
    exchange: "bybit",
    account: account.name,
    subAccount,
    apiKey: key.apiKey,
    label: key.note,
    permissions: normalisePermissions(key.permissions, key.readOnly),
    rawPermissions: rawPermissionsOf(key.permissions, key.readOnly),
    ip: bindingOf(key.ips),
    createdAt: isoOrNull(key.createdAt),
    // query-api and sub-apikeys give expiredAt for a key without an IP binding (90 days) or after a
    // password change (docs/exchanges/bybit.md#key-expiry); empty for a bound key.
    expiresAt: isoOrNull(key.expiredAt),
    location,
    actions: actionsOf(bybitProfile, location),
    probeable,
    state: "active",
    meta: uid ? { [UID_META]: uid } : {},
  };
}

/** The account's own (master) key, from its query-api. */
export const masterRecord = (account: Account, info: BybitApiInfo): KeyRecord =>
  record(account, "master", undefined, info.userID, { ...info, readOnly: info.readOnly === 1 }, true);

export const subRecord = (
  account: Account,
  sub: BybitSubMember,
  key: BybitSubKey,
  probeable: boolean,
): KeyRecord => record(account, "sub-account", sub, sub.uid, key, probeable);

/**
 * A key known from its own probe only. Only the account's own key is a "master" record (revocable by
 * API, as the calling key); any other key, master or not, is tracked: Bybit lets a key delete only
 * itself or, from the master, a sub-account's key it can name, and a tracked key's sub-account is not known.
 */
export function probedRecord(
  account: Account,
  apiKey: string,
  label: string,
  probe: ProbeResult & { meta?: Record<string, string> },
  probeable: boolean,
  own: boolean,
): KeyRecord {
  const location = own ? "master" : "tracked";
  return probedKeyRecord(
    "bybit",
    bybitProfile,
    account,
    { apiKey, label, probeable },
    probe,
    location,
    probe.meta ?? {},
  );
}

export function bybitManualSteps(account: Account, key: KeyRecord, action: "revoke" | "create"): ManualSteps {
  const url = uiPage(account);
  const sub = key.location === "sub-account" ? key.subAccount : null;
  const who = sub
    ? `the master account that owns sub-account "${sub}" (Keyward account "${account.name}")`
    : `the master account of Keyward account "${account.name}"`;
  const where = sub ? `Sub-accounts → ${sub} → API management` : "Account & Security → API Management";
  const open = `Sign in to Bybit as ${who} and open ${url}${sub ? `, then ${where}` : ""}.`;
  return keyManualSteps("bybit", key, action, { url, where }, ({ apiKeyStart, apiKeyEnd }) =>
    action === "revoke"
      ? [
          open,
          `Find the API key named "${key.label}" whose key starts with ${apiKeyStart} and ends with ${apiKeyEnd}.`,
          "Choose Delete for that key and confirm (Bybit asks for your 2FA code).",
          'To confirm, probe the key in Keyward: it must come back "dead" (Bybit answers 10003).',
        ]
      : [
          open,
          `Choose "Create New Key" → "System-generated API Keys", name it "${key.label}", give it the same permissions as the key it replaces, and bind it to this machine's IP address (a key without one expires after 90 days).`,
          "Copy the API key and secret at once: Bybit shows the secret only this one time.",
          "Give them to Keyward and probe the new key to confirm it is alive with the expected permissions and IPs.",
        ],
  );
}
