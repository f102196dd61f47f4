/**
 * Deribit's key scopes (`max_scope`): space-separated `<area>:<level>` tokens
 * (https://docs.deribit.com/articles/authentication, "Access scope"). The simulator keeps them in one
 * canonical spelling, every area named (missing ones as `none`), in the order Deribit's own answers use.
 */
export const SCOPE_AREAS = ["account", "trade", "wallet", "block_trade", "custody"] as const;
export type ScopeArea = (typeof SCOPE_AREAS)[number];
export const SCOPE_LEVELS = ["none", "read", "read_write"] as const;
export type ScopeLevel = (typeof SCOPE_LEVELS)[number];

/** The areas every canonical scope names; `custody` only when given (UNCONFIRMED: optional on Deribit). */
const ALWAYS: readonly ScopeArea[] = ["account", "trade", "wallet", "block_trade"];

export type Scope = Partial<Record<ScopeArea, ScopeLevel>>;

/** The scope a `max_scope` string grants, or a message saying what is wrong with it. */
export function parseScope(text: unknown): Scope | string {
  if (typeof text !== "string" || text.trim() === "") return "max_scope: required";
  const scope: Scope = {};
  for (const token of text.trim().split(/\s+/)) {
    const [area, level, ...rest] = token.split(":");
    if (rest.length > 0 || !SCOPE_AREAS.includes(area as ScopeArea))
      return `max_scope: unknown scope "${token}"`;
    if (!SCOPE_LEVELS.includes(level as ScopeLevel)) return `max_scope: unknown level in "${token}"`;
    if (scope[area as ScopeArea] !== undefined) return `max_scope: "${area}" given twice`;
    scope[area as ScopeArea] = level as ScopeLevel;
  }
  return scope;
}

/** `account:read_write trade:read wallet:none block_trade:none` (custody only when set). */
export const formatScope = (scope: Scope): string =>
  SCOPE_AREAS.filter((a) => ALWAYS.includes(a) || scope[a] !== undefined)
    .map((a) => `${a}:${scope[a] ?? "none"}`)
    .join(" ");

/** The canonical spelling of a valid `max_scope` (throws on an invalid one: callers parse first). */
export function canonicalScope(text: string): string {
  const scope = parseScope(text);
  if (typeof scope === "string") throw new Error(scope);
  return formatScope(scope);
}

const RANK: Record<ScopeLevel, number> = { none: 0, read: 1, read_write: 2 };

/** Whether a canonical `max_scope` grants at least `level` in `area`. */
export function grants(maxScope: string, area: ScopeArea, level: Exclude<ScopeLevel, "none">): boolean {
  const scope = parseScope(maxScope);
  if (typeof scope === "string") return false;
  return RANK[scope[area] ?? "none"] >= RANK[level];
}

/** Key names: at most 16 of `[A-Za-z0-9_]` (private/create_api_key); "" is no name. */
export const KEY_NAME = /^[A-Za-z0-9_]{0,16}$/;
