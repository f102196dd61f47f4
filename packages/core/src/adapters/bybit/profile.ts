/**
 * Bybit (v5) as data: what core, the CLI and the web app need to know about it without loading the
 * adapter (docs/exchanges/bybit.md). The adapter reads its hosts and its records' facts from here too.
 */
import type { KeyRecord, Permission, RawPermissions } from "../../domain/schemas.js";
import type { AliveProbe, ExchangeProfile } from "../profile.js";
import { parseRaw } from "./permissions.js";

/** A key whose `expiresAt` (Bybit's `expiredAt`) is this close is flagged (docs/exchanges/bybit.md#key-expiry: unbound keys live 90 days). */
export const EXPIRY_WARNING_DAYS = 14;

const DAY_MS = 86_400_000;

/** Days until a key's documented expiry, or undefined when Bybit gave none (IP-bound keys, tracked keys). */
export function daysToExpiry(key: Pick<KeyRecord, "expiresAt">, now = Date.now()): number | undefined {
  const at = key.expiresAt;
  if (!at) return undefined;
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? undefined : (ms - now) / DAY_MS;
}

/**
 * The live site and testnet (https://bybit-exchange.github.io/docs/v5/guide#authentication): a key made
 * on one does not exist on the other, so testnet is a region here (`--region testnet`).
 */
export const BYBIT_REGIONS = {
  default: "live",
  hosts: {
    live: { rest: "https://api.bybit.com", ui: "https://www.bybit.com", site: "bybit.com" },
    testnet: {
      rest: "https://api-testnet.bybit.com",
      ui: "https://testnet.bybit.com",
      site: "testnet.bybit.com",
    },
  },
} as const satisfies NonNullable<ExchangeProfile["regions"]>;

/** Bybit's create form names some permission groups differently from its API. */
const GROUP_NAMES: Readonly<Record<string, string>> = { ContractTrade: "Contract", Earn: "Earn" };

/** "SubMemberTransferList" → "Sub Member Transfer List": the form spells grants as words. */
const words = (grant: string): string => grant.replace(/([a-z])([A-Z])/g, "$1 $2");

/**
 * The exact grants as the create form shows them, e.g. "Read-Write; Contract: Order, Position; Wallet:
 * Account Transfer": a person must tick exactly these (the rotation compares the raw grants), so the
 * normalised permissions ("trade") would send them to the wrong boxes.
 */
function describeGrants(raw: RawPermissions): string | undefined {
  if (typeof raw !== "string") return undefined;
  const parsed = parseRaw(raw);
  if (!parsed) return undefined;
  const groups = Object.entries(parsed.permissions).map(
    ([group, grants]) => `${GROUP_NAMES[group] ?? group}: ${grants.map(words).join(", ")}`,
  );
  return [parsed.readOnly ? "Read-Only" : "Read-Write", ...groups].join("; ");
}

export const bybitProfile: ExchangeProfile<"bybit-expires-soon"> = {
  id: "bybit",
  name: "Bybit",
  credentials: [
    { name: "apiKey", prompt: "API key", secret: false },
    { name: "secret", prompt: "API secret", secret: true },
  ],
  regions: BYBIT_REGIONS,
  list: "api",
  // A master key lists, creates and deletes its sub-accounts' keys, and can delete itself
  // (docs/exchanges/bybit.md#what-has-no-api-manual-steps): the calling master key is listed (query-api) and revoked by
  // API, which the revoke plan always puts last in its account. No endpoint lists or deletes the master's
  // OTHER keys: those are tracked and revoked by a person.
  keys: {
    master: { list: "api", create: "person", revoke: "api" },
    "sub-account": { list: "api", create: "api", revoke: "api" },
    tracked: { list: "tracked", create: "person", revoke: "person" },
  },
  // The UID a key belongs to: requests count against that UID's rate bucket.
  accountMeta: ["uid"],
  reportsIpWhitelist: true,
  // create-sub-api takes any group, but Keyward creates nothing that moves money.
  apiGrantable: ["read", "trade"],
  // Keyward's assumed write limit (limits.ts: 5 / s per UID, ccxt's figure; Bybit's docs give none).
  writeSpacingMs: 200,
  risks: {
    "bybit-expires-soon": {
      text: `Bybit key that expires within ${EXPIRY_WARNING_DAYS} days (no IP binding: 90 days; or a password change)`,
      applies: (key) => {
        const days = daysToExpiry(key);
        return days !== undefined && days < EXPIRY_WARNING_DAYS;
      },
    },
  },
  accountKey(probe: AliveProbe) {
    // query-api says whose a key is: a master key has no parent (accountId == masterId).
    const master = probe.accountId !== undefined && probe.accountId === probe.masterId;
    const warnings: string[] = [];
    if (!master) warnings.push("not a master-account key: it cannot list, create or revoke sub-account keys");
    const grants = typeof probe.rawPermissions === "string" ? parseRaw(probe.rawPermissions) : undefined;
    if (master && grants?.readOnly) {
      // Normalised, a read-only key is only "read", whatever its Wallet grants: say what to change.
      warnings.push(
        "the key is Read-Only: Bybit lets only a Read-Write master key (with Account Transfer, Subaccount Transfer or Withdrawal) list sub-accounts and create or revoke keys; edit it to Read-Write on Bybit's API management page, so Keyward sees no sub-account key with it until then",
      );
    } else if (master && !probe.permissions.some((p) => p === "transfer" || p === "withdraw")) {
      warnings.push(
        "Bybit lists sub-accounts and creates or revokes keys only for a master key with Account Transfer, Subaccount Transfer or Withdrawal: with this key Keyward sees no sub-account key and can create or revoke none",
      );
    }
    // The shared warnings already name withdraw and a missing IP binding; Bybit adds the 90-day expiry.
    if (probe.ip !== null && probe.ip.length === 0) {
      warnings.push(
        "Bybit expires a key without an IP binding after 90 days: Keyward loses the account then",
      );
    }
    return { master, warnings };
  },
  accountKeyAdvice:
    "Bybit creates and revokes keys only for a master-account key holding Account Transfer, Subaccount Transfer or Withdrawal: add a read-write master key with a transfer grant (not Withdrawal), bound to Keyward's IP addresses (Bybit expires an unbound key after 90 days)",
  planNotes(key: KeyRecord) {
    const days = daysToExpiry(key);
    return days !== undefined && days < EXPIRY_WARNING_DAYS
      ? [`Bybit expires this key in ${Math.max(0, Math.floor(days))} days`]
      : [];
  },
  createStepsLabel: "new",
  // The exact grants, not the normalised permissions: two "trade" keys may differ in groups.
  comparePermissions(want: RawPermissions, got: RawPermissions) {
    return want === got
      ? undefined
      : `grants are ${String(got) || "none"}, must be ${String(want) || "none"}`;
  },
  // Leaked credentials (docs/exchanges/bybit.md#key-formats-what-leaks-look-like): an 18-character key and
  // a 36-character secret of letters and digits, with no prefix: only reported with the name near.
  leaks: {
    names: ["bybit"],
    key: { pattern: "[A-Za-z0-9]{18}", minClasses: 2 },
    secret: { pattern: "[A-Za-z0-9]{36}", minClasses: 2 },
    pairWithoutName: false,
  },
  describePermissions: (permissions: readonly Permission[], raw: RawPermissions) =>
    describeGrants(raw) ?? permissions.join(", "),
};
