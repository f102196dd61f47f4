/**
 * The inventory: every key of every account, fetched in parallel (each adapter paces itself at its
 * exchange's limits). One account failing does not hide the others: its error is part of the result.
 *
 * Nor does it hide its own keys. The first key an operator kills in an incident is often the account's
 * own key (or its IP binding stops matching), and from then on the exchange lists nothing for us; yet
 * the account's other keys must still be revocable. So a failed account shows (1) its tracked keys and
 * its own key, each probed with its own credentials, and (2) every other key from the last successful
 * inventory (persisted in state.db), marked stale with when it was fetched. Only a person can act on
 * those keys now, so they are marked as revoked by hand.
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import type { KeyRecord } from "../domain/schemas.js";
import { isKeywardError } from "../errors.js";

export interface AccountInventory {
  account: string;
  exchange: string;
  keys: KeyRecord[];
  error?: { code: string; message: string; hint?: string };
  /**
   * Set when the listing failed and keys are shown from the last successful inventory: when it was
   * fetched, and how old it was at the time of this result.
   */
  stale?: { fetchedAt: string; ageMs: number };
  /** What the exchange cannot list for this account (the adapter's sentence), if anything. */
  unlisted?: string;
  ms: number;
}

/** Where the last successful inventory of each account is kept (store/inventory-cache.ts). */
export interface InventoryCacheStore {
  get(account: string): Promise<{ fetchedAt: string; records: KeyRecord[] } | undefined>;
  put(account: string, records: readonly KeyRecord[], fetchedAt?: Date): Promise<void>;
}

/**
 * Drops keys proven revoked from the last listing (keeping its date), so that an account that cannot
 * be listed later does not show them as live keys to revoke again. Only a cache: failures are ignored.
 */
export async function forgetRevoked(
  cache: InventoryCacheStore,
  results: readonly { account: string; apiKey: string; outcome: string; verified: boolean }[],
): Promise<void> {
  const gone = results.filter(
    (r) => r.verified && (r.outcome === "revoked" || r.outcome === "already-revoked"),
  );
  for (const account of new Set(gone.map((r) => r.account))) {
    try {
      const cached = await cache.get(account);
      if (!cached) continue;
      const dead = new Set(gone.filter((r) => r.account === account).map((r) => r.apiKey));
      const kept = cached.records.filter((k) => !dead.has(k.apiKey));
      if (kept.length !== cached.records.length) await cache.put(account, kept, new Date(cached.fetchedAt));
    } catch {
      // A read-only state.db: the next successful listing replaces the cache anyway.
    }
  }
}

export interface InventoryDeps {
  adapterFor(account: string): ExchangeAdapter;
  onAccountDone?(result: AccountInventory): void;
  /** Without it, a failed account shows only what its keys' own probes tell. */
  cache?: InventoryCacheStore;
  now?(): number;
}

const errorOf = (error: unknown): NonNullable<AccountInventory["error"]> =>
  isKeywardError(error)
    ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
    : { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) };

export async function fetchInventory(
  accounts: readonly { name: string; exchange: string }[],
  deps: InventoryDeps,
): Promise<AccountInventory[]> {
  const now = deps.now ?? Date.now;
  return Promise.all(
    accounts.map(async ({ name, exchange }) => {
      const started = performance.now();
      let result: AccountInventory;
      let adapter: ExchangeAdapter | undefined;
      try {
        adapter = deps.adapterFor(name);
        const keys = await adapter.listKeys();
        result = { account: name, exchange, keys, ms: 0 };
        try {
          await deps.cache?.put(name, keys);
        } catch {
          // Only a cache (e.g. a read-only state.db): the live answer stands.
        }
      } catch (error) {
        result = {
          account: name,
          exchange,
          error: errorOf(error),
          ms: 0,
          ...(await fallback(name, adapter)),
        };
      }
      if (adapter?.unlisted) result.unlisted = adapter.unlisted;
      result.ms = performance.now() - started;
      deps.onAccountDone?.(result);
      return result;
    }),
  );

  async function fallback(
    account: string,
    adapter: ExchangeAdapter | undefined,
  ): Promise<Pick<AccountInventory, "keys" | "stale">> {
    let probed: KeyRecord[] = [];
    try {
      probed = (await adapter?.listTrackedKeys?.()) ?? [];
    } catch {
      // Nothing better to show than the cached inventory.
    }
    let cached: Awaited<ReturnType<InventoryCacheStore["get"]>>;
    try {
      cached = await deps.cache?.get(account);
    } catch {
      cached = undefined;
    }
    const stale = cached ? { fetchedAt: cached.fetchedAt } : undefined;
    const byApiKey = new Map((cached?.records ?? []).map((r) => [r.apiKey, r]));
    const keys: KeyRecord[] = [];
    for (const live of probed) {
      const old = byApiKey.get(live.apiKey);
      byApiKey.delete(live.apiKey);
      keys.push(byHand(merge(live, old, stale)));
    }
    for (const old of byApiKey.values()) keys.push(byHand({ ...old, ...(stale ? { stale } : {}) }));
    return {
      keys,
      ...(cached
        ? { stale: { fetchedAt: cached.fetchedAt, ageMs: now() - Date.parse(cached.fetchedAt) } }
        : {}),
    };
  }
}

/**
 * A key seen by its own probe, and what the last inventory said of it. The cached record keeps its
 * identity (id, sub-account, label: a probe cannot tell which sub-account a key is in); the probe
 * gives the current state. A probe that settles nothing leaves the cached record, marked stale.
 */
function merge(live: KeyRecord, old: KeyRecord | undefined, stale: KeyRecord["stale"]): KeyRecord {
  if (!old) return live;
  const probeable = live.probeable || old.probeable;
  if (live.state === "unknown") return { ...old, probeable, state: "unknown", ...(stale ? { stale } : {}) };
  const facts =
    live.state === "active"
      ? {
          permissions: live.permissions,
          rawPermissions: live.rawPermissions,
          ip: live.ip,
          // The probe's answer is current (an IP binding added since removes the expiry).
          expiresAt: live.expiresAt,
        }
      : {};
  return { ...old, ...facts, probeable, state: live.state, meta: { ...old.meta, ...live.meta } };
}

/** Without the account's own key no API call can act for it: every key of it goes to a person. */
const byHand = (key: KeyRecord): KeyRecord => ({ ...key, actions: { revoke: "manual", create: "manual" } });
