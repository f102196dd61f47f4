/**
 * What Keyward knows about an exchange, as data (like ccxt's `describe()`): each adapter folder exports
 * one `ExchangeProfile` from its `profile.ts`, next to its factory, and the registry pairs them. Core, the
 * CLI and the web app read facts from here and never branch on an exchange id.
 *
 * A profile imports no ccxt and no adapter code (only types): `--help`, config parsing and the web
 * server read profiles, and must not pay for loading an adapter. Rules that need code (risk rules,
 * account warnings, plan notes, permission comparison) are small pure functions.
 */
import type {
  ActionMode,
  KeyLocation,
  KeyRecord,
  Permission,
  ProbeResult,
  RawPermissions,
} from "../domain/schemas.js";
import type { LeakPatterns } from "../scan/scan-types.js";

/** How an action on a key is done: by the exchange's API, or by a person on the exchange's site. */
export type ActionWay = "api" | "person";

/** One field of an exchange's credentials, in the order a person is asked for them. */
export interface CredentialField {
  name: "apiKey" | "secret" | "passphrase" | "totpSeed";
  /** What the prompt says, e.g. "API passphrase". */
  prompt: string;
  /** Asked for with a hidden prompt and kept only in the vault. */
  secret: boolean;
  /** May be left out (e.g. a TOTP seed: without it a person types each code the exchange asks for). */
  optional?: boolean;
}

/** A regional deployment of an exchange: its REST host and the site where a person signs in. */
export interface RegionHost {
  rest: string;
  ui: string;
  /** How `--help` names it, e.g. "my.okx.com". */
  site: string;
}

/** What can be done with one kind of key (where it sits: master, sub-account, tracked). */
export interface KeyKindFacts {
  /** "api": the exchange lists such keys; "tracked": Keyward knows them only once a person tracks them. */
  list: "api" | "tracked";
  create: ActionWay;
  revoke: ActionWay;
  /**
   * "api" where the exchange can switch such a key off at once and back on (a kill switch that can be
   * undone, e.g. Deribit's disable_api_key): the adapter has `disableKey` and `enableKey`, and a revoke
   * may disable every key first (`--disable-first`) before removing them.
   */
  disable?: "api";
  /**
   * "api" where the exchange gives such a key a new secret in place, same key id (e.g. Deribit's
   * reset_api_key): the adapter has `resetKey`; the old secret dies the moment the new one exists, so a
   * rotation offers it only as an option the person accepts (no grace period).
   */
  resetInPlace?: "api";
}

export type AliveProbe = Extract<ProbeResult, { status: "alive" }>;

/** A risk flag an exchange adds to the shared ones (inventory/risk.ts), with the rule that sets it. */
export interface RiskRule {
  /** One line for `--help`, the web's badge title and JSON consumers. */
  text: string;
  applies(key: KeyRecord): boolean;
}

export interface ExchangeProfile<Risk extends string = string> {
  /** The registry id (`keyward account add <id>`); checked against the registry key. */
  id: string;
  /** Human name for messages ("OKX"). */
  name: string;
  /** The credentials a key of this exchange has; a `passphrase` field means one is required. */
  credentials: readonly CredentialField[];
  /** Regional hosts, when the exchange has them; accounts may name one with `region`. */
  regions?: { default: string; hosts: Readonly<Record<string, RegionHost>> };
  /** "api": the exchange lists an account's keys by API; "tracked": only keys a person registered are known. */
  list: "api" | "tracked";
  /** Per kind of key this exchange has, how it is listed, created and revoked. */
  keys: Partial<Readonly<Record<KeyLocation, KeyKindFacts>>>;
  /**
   * Key meta (adapter-owned, opaque to core) that says where a key sits rather than what it is, so it is
   * true of every key in the same place: probes of a key Keyward has no record of yet (a new key) and
   * probes that must not use the key's other remembered facts get only these, from the key it replaces.
   */
  accountMeta: readonly string[];
  /** Whether the exchange reports a key's IP whitelist (if not, an empty list means "not known"). */
  reportsIpWhitelist: boolean;
  /** The permissions a key created by API can have; others are refused when a rotation is planned. */
  apiGrantable: readonly Permission[];
  /** Minimum spacing of key writes (create, revoke) per account, from the exchange's documented limits. */
  writeSpacingMs: number;
  /** Risk flags only this exchange has, by name (the name is what JSON and `--risky` show). */
  risks: Readonly<Record<Risk, RiskRule>>;
  /**
   * What a probe of an account's own key means beyond the shared warnings: whether it is a master-account
   * key (null where the exchange has no such distinction) and the warnings that follow.
   */
  accountKey?(probe: AliveProbe): { master: boolean | null; warnings: string[] };
  /**
   * Which key to give Keyward for an account, where the exchange constrains it beyond "no withdraw, bound
   * to Keyward's IP addresses" (e.g. a permission its key management requires): `account add --help` and
   * every `account add` say it, so a person picks the right key before the probe warns about it.
   */
  accountKeyAdvice?: string;
  /** Notes a rotation plan shows for a key, before the shared ones. */
  planNotes?(key: KeyRecord): string[];
  /**
   * The label the manual create steps name: "new" (the label to give the new key) or "replaced" (the key
   * being replaced, where the exchange's form has no label the steps could insist on).
   */
  createStepsLabel: "new" | "replaced";
  /**
   * The label a key created by API with `label` carries on the exchange, where the exchange constrains
   * labels (e.g. Deribit's key names: at most 16 letters, digits or underscores): a rotation looks for its
   * new key by this after a crash. Identity where absent.
   */
  storedLabel?(label: string): string;
  /**
   * Why a key's raw permissions are not the wanted ones, or undefined when they match exactly; without
   * it the normalised permissions are compared as sets.
   */
  comparePermissions?(want: RawPermissions, got: RawPermissions): string | undefined;
  /**
   * How this exchange's credentials look when they leak (`keyward scan`'s patterns for keys Keyward does
   * not know): shapes, the exchange's names, how near they must be (scan/scan-types.ts).
   */
  leaks?: LeakPatterns;
  /** The permissions as the exchange's create form names them, for the person doing it. */
  describePermissions(permissions: readonly Permission[], raw: RawPermissions): string;
}

/**
 * The JSON a key of this exchange is sent as, e.g. {"apiKey":"…","secret":"…"}: the fields its profile
 * lists, so examples and hints never ask for a passphrase the exchange's keys do not have.
 */
export const credentialsExample = (profile: ExchangeProfile): string =>
  `{${profile.credentials
    .filter((f) => f.optional !== true)
    .map((f) => `"${f.name}":"…"`)
    .join(",")}}`;

/** The fields a key of this exchange may also be sent with (e.g. "totpSeed"), for help texts. */
export const optionalCredentialFields = (profile: ExchangeProfile): readonly CredentialField[] =>
  profile.credentials.filter((f) => f.optional === true);

/** Whether keys of this exchange carry a passphrase. */
export const needsPassphrase = (profile: ExchangeProfile): boolean =>
  profile.credentials.some((f) => f.name === "passphrase" && f.optional !== true);

/**
 * A record's `actions` for a kind of key, as the profile declares them (so adapters build records from
 * the one declaration; a kind the profile does not declare is left to a person).
 */
export function actionsOf(
  profile: ExchangeProfile,
  location: KeyLocation,
): { revoke: ActionMode; create: ActionMode } {
  const kind = profile.keys[location];
  const mode = (way: ActionWay | undefined): ActionMode => (way === "api" ? "api" : "manual");
  return { revoke: mode(kind?.revoke), create: mode(kind?.create) };
}
