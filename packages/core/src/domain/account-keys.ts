/**
 * Which Keyward accounts use a key. Several Keyward accounts can reach ONE exchange account (e.g.
 * `dr-desk` with the management key, `desk-monitor` with a read key), and the exchange lists every key
 * of that account under each of them: a key listed under `dr-desk` can be the key `desk-monitor` uses.
 * Revoke and rotation rules about "the account's own key" must therefore ask whether ANY Keyward account
 * uses the key (same API key on the same exchange), not only the account it was listed under.
 */
import type { KeyRecord } from "./schemas.js";

/** The key a Keyward account reaches its exchange with (its API key, and which exchange it is on). */
export interface AccountKeyUse {
  apiKey: string;
  exchange: KeyRecord["exchange"];
}

/**
 * Each Keyward account's key (account name → its key). A bare API key (no exchange) matches a key of
 * any exchange with that API key: older callers and tests pass only the API key.
 */
export type AccountKeys = ReadonlyMap<string, string | AccountKeyUse>;

/** The Keyward accounts that use this key, sorted by name (the key's own account first when it is one). */
export function accountsUsing(
  key: Pick<KeyRecord, "apiKey" | "exchange" | "account">,
  accountKeys?: AccountKeys,
): string[] {
  if (!accountKeys) return [];
  const users: string[] = [];
  for (const [account, use] of accountKeys) {
    const matches =
      typeof use === "string"
        ? use === key.apiKey
        : use.apiKey === key.apiKey && use.exchange === key.exchange;
    if (matches) users.push(account);
  }
  return users.sort((a, b) => Number(b === key.account) - Number(a === key.account) || a.localeCompare(b));
}
