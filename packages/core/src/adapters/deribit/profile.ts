/**
 * Deribit (JSON-RPC v2 over HTTP) as data: what core, the CLI and the web app need to know about it
 * without loading the adapter (docs/exchanges/deribit.md). The adapter reads its hosts and its records'
 * facts from here too.
 */
import type { Permission, RawPermissions } from "../../domain/schemas.js";
import type { AliveProbe, ExchangeProfile } from "../profile.js";
import { canonicalScope, describeScope, levelOf } from "./permissions.js";

/**
 * The live site and testnet (https://docs.deribit.com/test): separate accounts and keys, so testnet is a
 * region here (`--region testnet`).
 */
export const DERIBIT_REGIONS = {
  default: "live",
  hosts: {
    live: { rest: "https://www.deribit.com", ui: "https://www.deribit.com", site: "www.deribit.com" },
    testnet: { rest: "https://test.deribit.com", ui: "https://test.deribit.com", site: "test.deribit.com" },
  },
} as const satisfies NonNullable<ExchangeProfile["regions"]>;

/** The scope a key needs to list the account's keys, and to change them (docs/exchanges/deribit.md#scopes). */
export const LIST_SCOPE = "account:read";
export const MANAGE_SCOPE = "account:read_write";

/** Deribit's key names: at most 16 letters, digits or underscores (private-create_api_key). */
const NAME_MAX = 16;

/**
 * The name Keyward gives a key it creates with `label`: the label with other characters as `_`; a longer
 * one is cut to its first 7 characters and 8 hex digits of the label's FNV-1a hash (no node:crypto: profiles
 * load everywhere), so the name stays unique
 * per label (a rotation's labels differ only in their suffix) and the same label always gives the same name.
 */
export function deribitName(label: string): string {
  const plain = label.replace(/[^A-Za-z0-9_]/g, "_");
  if (plain.length > 0 && plain.length <= NAME_MAX) return plain;
  let hash = 0x811c9dc5;
  for (const ch of label) {
    hash ^= ch.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  const digest = hash.toString(16).padStart(8, "0");
  return `${plain.slice(0, NAME_MAX - 9) || "key"}_${digest}`;
}

export const deribitProfile: ExchangeProfile<"deribit-manages-keys"> = {
  id: "deribit",
  name: "Deribit",
  credentials: [
    { name: "apiKey", prompt: "Client ID", secret: false },
    { name: "secret", prompt: "Client Secret", secret: true },
    {
      name: "totpSeed",
      // The CLI's prompt adds "(optional: Enter to leave it out)" to an optional field: not said twice here.
      prompt: "TOTP seed of the account's two-factor authentication; without it Keyward asks for each code",
      secret: true,
      optional: true,
    },
  ],
  regions: DERIBIT_REGIONS,
  list: "api",
  // Deribit's API manages every key of the authenticated (sub)account, the calling key included
  // (docs/exchanges/deribit.md#key-management-by-api): list, create, remove, disable/enable and reset in
  // place, behind the account's second factor (docs/exchanges/deribit.md#the-two-factor-challenge).
  keys: {
    master: { list: "api", create: "api", revoke: "api", disable: "api", resetInPlace: "api" },
  },
  // The (sub)account's user id: its credits bucket is shared by all of its keys.
  accountMeta: ["userId"],
  reportsIpWhitelist: true,
  // create_api_key takes any scope, but Keyward creates nothing that moves money (no wallet or custody
  // read_write); "settings" is account:read_write, which the account's own key needs to manage keys.
  apiGrantable: ["read", "trade", "settings"],
  // One request per 50 ms: the credits limit's sustained pace (limits.ts, docs/exchanges/deribit.md#rate-limits).
  writeSpacingMs: 50,
  // The shared flags already say what Deribit's keys risk: withdraw (wallet:read_write), no IP whitelist, old.
  risks: {
    // account:read_write creates, changes, resets and removes every key of the account (behind the 2FA
    // challenge, docs/exchanges/deribit.md#key-management-by-api): a leaked one is worth any other key.
    // Keyward's own key needs it and is flagged too: it is exactly as dangerous if it leaks.
    "deribit-manages-keys": {
      text: "Deribit key with account:read_write: it can create, reset and remove every key of the account",
      applies: (key) =>
        typeof key.rawPermissions === "string" && levelOf(key.rawPermissions, "account") === "read_write",
    },
  },
  accountKey(probe: AliveProbe) {
    const master = probe.accountId === undefined ? null : probe.masterId === probe.accountId;
    const warnings: string[] = [];
    const scope = typeof probe.rawPermissions === "string" ? probe.rawPermissions : "";
    const account = levelOf(scope, "account");
    if (account === "none") {
      warnings.push(
        "the key's scope has no account access: Keyward can neither list nor change this account's keys with it; give it account:read_write on Deribit's API page",
      );
    } else if (account === "read") {
      warnings.push(
        "the key's scope is account:read: Keyward can list this account's keys but not revoke, disable, reset or create any; give it account:read_write on Deribit's API page",
      );
    }
    if (master === false) {
      warnings.push(
        "a subaccount's key: Keyward sees and manages only that subaccount's keys, not the main account's",
      );
    }
    return { master, warnings };
  },
  accountKeyAdvice:
    "Deribit manages keys by API only with account:read_write: add a key with Account Read + Write and Wallet No access, IP-whitelisted for Keyward's addresses; give its account's TOTP seed as totpSeed so Keyward can answer Deribit's two-factor challenge itself, or a person types each code",
  // The form has a name field the steps can insist on.
  createStepsLabel: "new",
  storedLabel: deribitName,
  // The exact scope (token order and left-out `none` areas normalised), not the normalised permissions:
  // two "trade" keys may differ in block_trade or account access.
  comparePermissions(want: RawPermissions, got: RawPermissions) {
    const w = canonicalScope(typeof want === "string" ? want : "");
    const g = canonicalScope(typeof got === "string" ? got : "");
    return w === g ? undefined : `scope is ${g || "none"}, must be ${w || "none"}`;
  },
  // Leaked credentials (docs/exchanges/deribit.md#key-formats-what-leaks-look-like): a short client id
  // (8 to 10 letters and digits) and a 43-character base64url client secret. A short id is common text:
  // name required.
  leaks: {
    names: ["deribit"],
    key: { pattern: "[A-Za-z0-9]{8,10}", minClasses: 2 },
    secret: { pattern: "[A-Za-z0-9_-]{43}", minClasses: 2 },
    pairWithoutName: false,
  },
  describePermissions: (permissions: readonly Permission[], raw: RawPermissions) =>
    typeof raw === "string" && raw !== "" ? describeScope(raw) : permissions.join(", "),
};
