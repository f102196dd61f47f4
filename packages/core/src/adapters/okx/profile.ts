/**
 * OKX (v5) as data: what core, the CLI and the web app need to know about it without loading the
 * adapter (docs/exchanges/okx.md). The adapter (adapter.ts) reads its hosts from here too.
 */
import type { KeyRecord, Permission } from "../../domain/schemas.js";
import type { AliveProbe, ExchangeProfile } from "../profile.js";

/** Trade (or withdraw) keys without an IP binding expire after 14 idle days (docs/exchanges/okx.md#ip-whitelisting). */
const idleExpiring = (key: KeyRecord): boolean =>
  key.ip.length === 0 && key.permissions.some((p) => p === "trade" || p === "withdraw");

/** How OKX's create form names each permission. */
const FORM_NAMES: Readonly<Partial<Record<Permission, string>>> = {
  read: "Read",
  trade: "Trade",
  withdraw: "Withdraw",
};

/**
 * REST hosts as ccxt's okx / myokx / okxus use them, and where a person signs in: EEA customers use
 * my.okx.com (eea.okx.com serves the API), US customers app.okx.com (docs/exchanges/okx.md#regions-and-hosts).
 */
export const OKX_REGIONS = {
  default: "www",
  hosts: {
    www: { rest: "https://www.okx.com", ui: "https://www.okx.com", site: "okx.com" },
    eea: { rest: "https://eea.okx.com", ui: "https://my.okx.com", site: "my.okx.com" },
    us: { rest: "https://us.okx.com", ui: "https://app.okx.com", site: "app.okx.com" },
  },
} as const satisfies NonNullable<ExchangeProfile["regions"]>;

export const okxProfile: ExchangeProfile<"okx-idle-expiry"> = {
  id: "okx",
  name: "OKX",
  credentials: [
    { name: "apiKey", prompt: "API key", secret: false },
    { name: "secret", prompt: "API secret", secret: true },
    { name: "passphrase", prompt: "API passphrase", secret: true },
  ],
  regions: OKX_REGIONS,
  list: "api",
  // Master keys have no API (docs/exchanges/okx.md#what-has-no-api-manual-steps): OKX lists only the calling
  // one, so other master keys are tracked; sub-account keys are listed, created and deleted by API.
  keys: {
    master: { list: "tracked", create: "person", revoke: "person" },
    "sub-account": { list: "api", create: "api", revoke: "api" },
    tracked: { list: "tracked", create: "person", revoke: "person" },
  },
  // The UID a key belongs to (records.ts sets it): probes count against that UID's rate bucket.
  accountMeta: ["uid"],
  reportsIpWhitelist: true,
  // Read and Trade only by API (docs/exchanges/okx.md#key-permissions).
  apiGrantable: ["read", "trade"],
  // create-apikey and delete-apikey: 1 request per second per UID each (docs/exchanges/okx.md#rate-limits).
  writeSpacingMs: 1000,
  risks: {
    "okx-idle-expiry": {
      text: "OKX trade key without IP binding: expires after 14 days without use",
      applies: idleExpiring,
    },
  },
  accountKey(probe: AliveProbe) {
    // Only master keys manage sub-account keys: account/config says whose a key is (uid == mainUid).
    const master = probe.accountId !== undefined && probe.accountId === probe.masterId;
    const warnings: string[] = [];
    if (!master) warnings.push("not a master-account key: it cannot list, create or revoke sub-account keys");
    if (master && !probe.permissions.includes("trade")) {
      warnings.push(
        "read-only master key: it can list keys but OKX requires Trade permission to create or revoke them",
      );
    }
    if (master && probe.ip !== null && probe.ip.length === 0) {
      warnings.push("OKX only lets IP-bound master keys create or revoke sub-account keys");
    }
    return { master, warnings };
  },
  planNotes(key: KeyRecord) {
    return key.ip.length === 0 && key.permissions.includes("trade")
      ? ["no IP binding: OKX expires a trade key without one after 14 days unused"]
      : [];
  },
  // The create steps name the label to give the new key.
  createStepsLabel: "new",
  // Leaked credentials (docs/exchanges/okx.md#key-formats-what-leaks-look-like): the key is a lower-case
  // UUID and the secret 32 upper-case hex digits; a UUID beside such a secret is rare enough in ordinary
  // text to report without the name. The passphrase is the person's own, found only after its word.
  leaks: {
    names: ["okx", "okex"],
    key: { pattern: "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}" },
    secret: { pattern: "[0-9A-F]{32}" },
    passphraseWords: ["passphrase", "pass_phrase", "password"],
    pairWithoutName: true,
  },
  describePermissions: (permissions: readonly Permission[]) =>
    permissions.map((p) => FORM_NAMES[p] ?? p).join(", "),
};
