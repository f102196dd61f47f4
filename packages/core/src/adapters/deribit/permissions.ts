/**
 * Deribit scopes (docs/exchanges/deribit.md#scopes): a key's `max_scope` is a space-separated list of
 * `<area>:<level>` tokens, areas `account`, `trade`, `wallet`, `block_trade`, `custody` (and others Deribit
 * may add), levels `none`, `read`, `read_write`; an area left out is `none`. Keyward keeps the exact scope
 * as one canonical string (token order normalised, `none` areas dropped), so two keys with the same grants
 * compare equal whatever order Deribit answered in, and normalises it for risk flags and selection.
 * Plain functions with no imports beyond types: the profile (loaded by `--help`) uses them.
 */
import type { Permission } from "../../domain/schemas.js";

export type ScopeLevel = "none" | "read" | "read_write";

/** The areas in the order Deribit's API key form shows them; others sort after, by name. */
const AREA_ORDER = ["account", "trade", "wallet", "block_trade", "custody"];

const TOKEN = /^([a-z_]+):(none|read|read_write)$/;

const areaRank = (area: string): number => {
  const at = AREA_ORDER.indexOf(area);
  return at === -1 ? AREA_ORDER.length : at;
};

/**
 * The area levels of a scope string, the strongest level where an area repeats. Tokens that are not
 * `<area>:<level>` (public/auth's `mainaccount`, `session:…`, `expires:…`) are left out.
 */
export function parseScope(scope: string): Map<string, ScopeLevel> {
  const levels = new Map<string, ScopeLevel>();
  const strength = { none: 0, read: 1, read_write: 2 } as const;
  for (const token of scope.split(/\s+/)) {
    const match = TOKEN.exec(token);
    if (!match) continue;
    const area = match[1] as string;
    const level = match[2] as ScopeLevel;
    const had = levels.get(area);
    if (had === undefined || strength[level] > strength[had]) levels.set(area, level);
  }
  return levels;
}

/**
 * The canonical form of a scope: area tokens in the form's order (others by name), `none` dropped (an area
 * left out is `none`), e.g. `account:read_write trade:read`. It is what Keyward stores as the key's raw
 * permissions and what it sends as `max_scope` when it makes a key with the same grants.
 */
export function canonicalScope(scope: string): string {
  return [...parseScope(scope).entries()]
    .filter(([, level]) => level !== "none")
    .sort(([a], [b]) => areaRank(a) - areaRank(b) || a.localeCompare(b))
    .map(([area, level]) => `${area}:${level}`)
    .join(" ");
}

/** The level of one area in a scope (`none` when left out). */
export const levelOf = (scope: string, area: string): ScopeLevel => parseScope(scope).get(area) ?? "none";

/**
 * The normalised permissions: every key reads; `trade` or `block_trade` read_write is `trade`; `wallet`
 * read_write is `withdraw` and `transfer` (Deribit's wallet scope covers both: docs/exchanges/deribit.md#scopes);
 * `custody` read_write is `transfer`; `account` read_write is `settings` (it manages the account's keys
 * and subaccounts).
 */
export function normaliseScope(scope: string): Permission[] {
  const levels = parseScope(scope);
  const out = new Set<Permission>(["read"]);
  if (levels.get("trade") === "read_write" || levels.get("block_trade") === "read_write") out.add("trade");
  if (levels.get("wallet") === "read_write") {
    out.add("withdraw");
    out.add("transfer");
  }
  if (levels.get("custody") === "read_write") out.add("transfer");
  if (levels.get("account") === "read_write") out.add("settings");
  return [...out];
}

/** The scope Keyward asks for when it has only normalised permissions (never wallet or custody). */
export function scopeFor(permissions: readonly Permission[]): string {
  const tokens = ["account:read", "trade:read"];
  if (permissions.includes("settings")) tokens[0] = "account:read_write";
  if (permissions.includes("trade")) tokens[1] = "trade:read_write";
  return tokens.join(" ");
}

const FORM_AREAS: Readonly<Record<string, string>> = {
  account: "Account",
  trade: "Trade",
  wallet: "Wallet",
  block_trade: "Block trade",
  custody: "Custody",
};
const FORM_LEVELS: Readonly<Record<ScopeLevel, string>> = {
  none: "No access",
  read: "Read only",
  read_write: "Read + Write",
};

/**
 * The scope as Deribit's API key form shows it, one selector per area, e.g. "Account: Read + Write; Trade:
 * Read only; Wallet: No access; Block trade: No access": a person must pick exactly these.
 */
export function describeScope(scope: string): string {
  const levels = parseScope(scope);
  const areas = [...new Set([...AREA_ORDER.slice(0, 4), ...levels.keys()])].sort(
    (a, b) => areaRank(a) - areaRank(b) || a.localeCompare(b),
  );
  return areas
    .map((area) => `${FORM_AREAS[area] ?? area}: ${FORM_LEVELS[levels.get(area) ?? "none"]}`)
    .join("; ");
}
