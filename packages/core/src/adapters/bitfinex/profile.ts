/**
 * Bitfinex (v2) as data: what core, the CLI and the web app need to know about it without loading the
 * adapter (docs/exchanges/bitfinex.md).
 */
import type { RawPermissions } from "../../domain/schemas.js";
import type { ExchangeProfile } from "../profile.js";

/** `[scope, read, write]` triples as scope → "rw" flags, absent scopes meaning no access. */
function scopeMatrix(raw: RawPermissions): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(raw)) for (const [scope, r, w] of raw) if (r || w) out.set(scope, `${r}${w}`);
  return out;
}

const access = (flags: string | undefined) =>
  flags === "11" ? "read+write" : flags === "10" ? "read" : flags === "01" ? "write" : "none";

export const bitfinexProfile: ExchangeProfile<never> = {
  id: "bitfinex",
  name: "Bitfinex",
  credentials: [
    { name: "apiKey", prompt: "API key", secret: false },
    { name: "secret", prompt: "API secret", secret: true },
  ],
  // No API lists, creates or revokes keys (docs/exchanges/bitfinex.md#what-has-no-api-manual-steps): every
  // key, the account's own included, is one a person tracked.
  list: "tracked",
  keys: { tracked: { list: "tracked", create: "person", revoke: "person" } },
  // auth/r/permissions says nothing of a key's IP whitelist (docs/exchanges/bitfinex.md#ip-whitelisting).
  accountMeta: [],
  reportsIpWhitelist: false,
  apiGrantable: [],
  writeSpacingMs: 0,
  risks: {},
  // The create form has no label Keyward could check: the steps name the key being replaced.
  createStepsLabel: "replaced",
  // The exact scope matrix, not the normalised permissions: two keys that both "trade" may differ in
  // scopes Keyward does not normalise (docs/exchanges/bitfinex.md#key-permissions).
  comparePermissions(want: RawPermissions, got: RawPermissions) {
    const w = scopeMatrix(want);
    const g = scopeMatrix(got);
    const diff = [...new Set([...w.keys(), ...g.keys()])].sort().filter((s) => w.get(s) !== g.get(s));
    return diff.length === 0
      ? undefined
      : diff.map((s) => `${s} is ${access(g.get(s))}, must be ${access(w.get(s))}`).join("; ");
  },
  // Leaked credentials (docs/exchanges/bitfinex.md#key-formats-what-leaks-look-like): key and secret are
  // both 43 base64url characters, the length of any unpadded SHA-256 in base64url: name required.
  leaks: {
    names: ["bitfinex", "bfx"],
    key: { pattern: "[A-Za-z0-9_-]{43}", minClasses: 2 },
    secret: { pattern: "[A-Za-z0-9_-]{43}", minClasses: 2 },
    pairWithoutName: false,
  },
  describePermissions(permissions, raw: RawPermissions) {
    if (!Array.isArray(raw)) return permissions.join(", ");
    const granted = raw
      .filter(([, r, w]) => r === 1 || w === 1)
      .map(([scope, r, w]) => `${scope}: ${r && w ? "read+write" : w ? "write" : "read"}`);
    const denied = raw.filter(([, r, w]) => r !== 1 && w !== 1).map(([scope]) => scope);
    return `${granted.join(", ") || "none"}${denied.length ? ` (and nothing on ${denied.join(", ")})` : ""}`;
  },
};
