/**
 * Pure helpers of the OKX adapter: hosts, permission and IP mapping, KeyRecords, passphrases and the
 * manual steps for what only OKX's web site can do (master keys).
 */
import { randomInt } from "node:crypto";
import {
  type Account,
  type KeyRecord,
  keyId,
  type ManualSteps,
  type Permission,
  type ProbeResult,
} from "../../domain/schemas.js";
import { actionsOf } from "../profile.js";
import { keyManualSteps, probedKeyRecord } from "../rest-records.js";
import { OKX_REGIONS, okxProfile } from "./profile.js";
import type { OkxAccountConfig, OkxSubKey } from "./schemas.js";

/** The account's regional host (the profile declares them: docs/exchanges/okx.md#regions-and-hosts). */
const host = (account: Account) => {
  const { hosts, default: fallback } = OKX_REGIONS;
  return hosts[(account.region ?? fallback) as keyof typeof hosts] ?? hosts[fallback];
};

const trimSlash = (url: string) => url.replace(/\/+$/, "");

export const restBase = (account: Account): string =>
  account.endpoint ? trimSlash(account.endpoint) : host(account).rest;

export const uiBase = (account: Account): string =>
  account.endpoint ? trimSlash(account.endpoint) : host(account).ui;

/** The API key management page (https://www.okx.com/account/my-api). */
export const API_PAGE = "/account/my-api";

const PERMISSION_OF: Readonly<Record<string, Permission>> = {
  read_only: "read",
  trade: "trade",
  withdraw: "withdraw",
};

/** OKX `perm` ("read_only,trade") to Keyward permissions; unknown parts stay in rawPermissions only. */
export function normalisePerm(perm: string): Permission[] {
  const out: Permission[] = [];
  for (const part of perm.split(",")) {
    const p = PERMISSION_OF[part.trim()];
    if (p && !out.includes(p)) out.push(p);
  }
  return out;
}

/**
 * The `perm` to ask for: OKX grants only read_only and trade by API (docs/exchanges/okx.md#key-permissions).
 */
export const permFor = (permissions: readonly Permission[]): string =>
  permissions.includes("trade") ? "read_only,trade" : "read_only";

/** Permissions OKX cannot grant to a sub-account key by API (the profile's `apiGrantable`). */
export const ungrantable = (permissions: readonly Permission[]): Permission[] =>
  permissions.filter((p) => !(okxProfile.apiGrantable as readonly Permission[]).includes(p));

/** OKX lists IPs as one comma-separated string; "" means no binding. */
export const splitIps = (ip: string): string[] =>
  ip
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");

const isoFromMs = (ms: string): string | null => {
  const n = Number(ms);
  return Number.isFinite(n) && n > 0 ? new Date(n).toISOString() : null;
};

/** The account's own key: a master key, which only OKX's web site can revoke or create. */
export function masterRecord(account: Account, apiKey: string, config: OkxAccountConfig): KeyRecord {
  return {
    id: keyId("okx", account.name, null, apiKey),
    exchange: "okx",
    account: account.name,
    subAccount: null,
    apiKey,
    label: config.label,
    permissions: normalisePerm(config.perm),
    rawPermissions: config.perm,
    ip: splitIps(config.ip),
    // account/config does not say when the key was made.
    createdAt: null,
    // OKX gives no expiry date: its idle-expiry of unbound trade keys is the okx-idle-expiry risk.
    expiresAt: null,
    location: "master",
    actions: actionsOf(okxProfile, "master"),
    probeable: true,
    state: "active",
    meta: { uid: config.uid },
  };
}

/**
 * A key known from its own probe only: a tracked key (OKX lists no master key but the caller's), or
 * the account's own key when the account can no longer list. `account/config` with the key's own
 * credentials says whose it is: uid == mainUid is a master key.
 */
export function probedRecord(
  account: Account,
  apiKey: string,
  label: string,
  probe: ProbeResult,
  probeable: boolean,
): KeyRecord {
  const alive = probe.status === "alive" ? probe : undefined;
  const master = alive?.accountId !== undefined && alive.accountId === alive.masterId;
  // Master keys (and any key whose sub-account Keyward cannot name) are revoked on OKX's site.
  return probedKeyRecord(
    "okx",
    okxProfile,
    account,
    { apiKey, label, probeable },
    probe,
    master ? "master" : "tracked",
    alive?.accountId ? { uid: alive.accountId } : {},
  );
}

/** A sub-account key as OKX lists it. Keyward holds its secret only if it created the key. */
export function subRecord(
  account: Account,
  subAcct: string,
  subUid: string | undefined,
  key: Pick<OkxSubKey, "label" | "apiKey" | "perm" | "ip" | "ts">,
  probeable: boolean,
): KeyRecord {
  return {
    id: keyId("okx", account.name, subAcct, key.apiKey),
    exchange: "okx",
    account: account.name,
    subAccount: subAcct,
    apiKey: key.apiKey,
    label: key.label,
    permissions: normalisePerm(key.perm),
    rawPermissions: key.perm,
    ip: splitIps(key.ip),
    createdAt: isoFromMs(key.ts),
    // OKX gives no expiry date: its idle-expiry of unbound trade keys is the okx-idle-expiry risk.
    expiresAt: null,
    location: "sub-account",
    actions: actionsOf(okxProfile, "sub-account"),
    probeable,
    state: "active",
    meta: subUid === undefined ? {} : { uid: subUid },
  };
}

const UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER = "abcdefghijkmnopqrstuvwxyz";
const DIGITS = "23456789";
/** A conservative set of specials: OKX documents "special character" without listing which. */
const SPECIAL = "!@#$%^*-_=+";

/**
 * A passphrase meeting OKX's rule: 8-32 characters with at least one digit, upper-case, lower-case
 * and special character (#sub-account-rest-api-create-an-api-key-for-a-sub-account). 24 characters
 * from crypto.randomInt, one of each class guaranteed, then shuffled.
 */
export function generatePassphrase(length = 24): string {
  const all = UPPER + LOWER + DIGITS + SPECIAL;
  const pick = (set: string) => set.charAt(randomInt(set.length));
  const chars = [pick(UPPER), pick(LOWER), pick(DIGITS), pick(SPECIAL)];
  while (chars.length < length) chars.push(pick(all));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const a = chars[i] as string;
    chars[i] = chars[j] as string;
    chars[j] = a;
  }
  return chars.join("");
}

/**
 * What a person does on OKX's site: revoke or create a key (master keys have no API,
 * docs/exchanges/okx.md#what-has-no-api-manual-steps).
 */
export function okxManualSteps(account: Account, key: KeyRecord, action: "revoke" | "create"): ManualSteps {
  const url = `${uiBase(account)}${API_PAGE}`;
  const sub = key.location === "sub-account" ? key.subAccount : null;
  const uid = key.meta.uid ? ` (UID ${key.meta.uid})` : "";
  const who = sub
    ? `the main account that owns sub-account "${sub}" (Keyward account "${account.name}")`
    : `the main account of Keyward account "${account.name}"${uid}`;
  const where = sub ? `Sub-accounts → ${sub} → API management` : "Profile → API keys (My API)";
  const open = `Sign in to OKX as ${who} and open ${url}${sub ? `, then ${where}` : ""}.`;
  return keyManualSteps("okx", key, action, { url, where }, ({ apiKeyStart, apiKeyEnd }) =>
    action === "revoke"
      ? [
          open,
          `Find the API key labelled "${key.label}" whose key starts with ${apiKeyStart} and ends with ${apiKeyEnd}.`,
          "Choose Delete for that key and confirm (OKX asks for your 2FA code).",
          `To confirm, probe the key in Keyward (it must come back "dead": OKX answers 50111) or check that the page no longer lists it.`,
        ]
      : [
          open,
          `Choose "Create API key", label it "${key.label}", grant ${key.permissions.includes("trade") ? "Read and Trade" : "Read"} only, and bind it to this machine's IP address.`,
          "Choose a passphrase and copy the API key, secret and passphrase at once: OKX shows the secret only this one time.",
          "Give them to Keyward and probe the new key to confirm it is alive with the expected permissions and IPs.",
        ],
  );
}
