/**
 * The inventory as the server holds it: the last live fetch of every account (kept in memory, so a
 * page load answers at once), refreshed on demand. Concurrent refreshes share one fetch. The browser
 * gets InventoryRow objects (core's flat, secret-free view) and counts per exchange, risk and method.
 */
import {
  type AccountInventory,
  type AdapterOptions,
  EXCHANGE_PROFILES,
  type ExchangeAdapter,
  type InventoryRow,
  inventoryRow,
  type KeywardHome,
  keyLabelsOf,
  type LiveInventory,
  listInventory,
  RISKS,
  type Risk,
} from "@keyward/core";

/** A live listing of every account (core's `listInventory`). */
export type InventorySnapshot = LiveInventory;

export interface InventoryResponse {
  fetchedAt: string;
  ms: number;
  keys: InventoryRow[];
  accounts: {
    account: string;
    exchange: string;
    keys: number;
    ms: number;
    error?: AccountInventory["error"];
    /** Keys shown from the last successful listing (the account could not be listed now). */
    stale?: AccountInventory["stale"];
    /** What the exchange cannot list for this account (those keys show only if tracked). */
    unlisted?: string;
  }[];
  /** What the UI needs to know of each exchange (from its profile): the browser imports no profile. */
  exchanges: Record<string, { name: string; reportsIpWhitelist: boolean }>;
  /** Every risk flag and what it means (the shared ones and each exchange's). */
  risks: Record<Risk, string>;
  counts: {
    total: number;
    risky: number;
    byExchange: Record<string, number>;
    byRisk: Record<Risk, number>;
    byManagement: { api: number; manual: number };
  };
}

export class InventoryService {
  #last: InventorySnapshot | undefined;
  #inflight: Promise<InventorySnapshot> | undefined;
  /**
   * Adapters keyed by account and the vault's current key for it (core's live source): a rotation of an
   * account's own key from this app switches the vault to the new key, and every later listing, probe
   * and revoke must use it, never an adapter kept with the old one. The home follows the vault file, so
   * a rotation or a seed removed in another process counts too (SECURITY.md, incident behaviour).
   */
  readonly #source: (account: string) => Promise<ExchangeAdapter>;

  constructor(
    private readonly home: KeywardHome,
    adapterOptions: AdapterOptions,
  ) {
    this.#source = home.liveAdapterSource(adapterOptions);
  }

  /** The adapter of one account, built with the key the vault holds for it now. */
  adapterFor(name: string): Promise<ExchangeAdapter> {
    return this.#source(name);
  }

  /** Every account's adapter (the rate-limit schedulers are process-wide, so rebuilding one loses nothing). */
  async adapters(): Promise<Map<string, ExchangeAdapter>> {
    const names = this.home.config.accounts.map((a) => a.name);
    return new Map(await Promise.all(names.map(async (n) => [n, await this.#source(n)] as const)));
  }

  get last(): InventorySnapshot | undefined {
    return this.#last;
  }

  /** The held inventory, or a live fetch when there is none yet or `refresh` is asked. */
  async get(refresh = false): Promise<InventorySnapshot> {
    if (this.#last && !refresh) return this.#last;
    return this.refresh();
  }

  refresh(): Promise<InventorySnapshot> {
    this.#inflight ??= (async () => {
      try {
        // Every account; a failed one is shown from its last successful listing, marked stale.
        this.#last = await listInventory(this.home, { adapters: () => this.adapters() });
        return this.#last;
      } finally {
        this.#inflight = undefined;
      }
    })();
    return this.#inflight;
  }

  async view(snapshot: InventorySnapshot): Promise<InventoryResponse> {
    const { maxKeyAgeDays } = this.home.config.settings;
    const now = Date.now();
    // Each account's own key as the vault holds it now (a rotation may have switched it): the page's bulk
    // select leaves out the one a revoke plan would hold back, so ticking it stays a deliberate choice.
    const accountKeys = await this.home.accountKeyUses();
    // Labels people gave their accounts' own keys (`account add --label`), where the exchange lists none.
    const given = keyLabelsOf(this.home.config.accounts);
    const keys = snapshot.keys.map((k) => inventoryRow(k, { maxKeyAgeDays, now }, accountKeys, given));
    const byRisk = Object.fromEntries(Object.keys(RISKS).map((r) => [r, 0])) as Record<Risk, number>;
    const byExchange: Record<string, number> = {};
    const byManagement = { api: 0, manual: 0 };
    let risky = 0;
    for (const row of keys) {
      byExchange[row.exchange] = (byExchange[row.exchange] ?? 0) + 1;
      byManagement[row.management]++;
      if (row.risks.length > 0) risky++;
      for (const r of row.risks) byRisk[r]++;
    }
    return {
      fetchedAt: snapshot.fetchedAt,
      ms: snapshot.ms,
      keys,
      accounts: snapshot.accounts.map((a) => ({
        account: a.account,
        exchange: a.exchange,
        keys: a.keys.length,
        ms: Math.round(a.ms),
        ...(a.error ? { error: a.error } : {}),
        ...(a.stale
          ? { stale: { fetchedAt: a.stale.fetchedAt, ageMs: now - Date.parse(a.stale.fetchedAt) } }
          : {}),
        ...(a.unlisted ? { unlisted: a.unlisted } : {}),
      })),
      exchanges: Object.fromEntries(
        EXCHANGE_PROFILES.map((p) => [p.id, { name: p.name, reportsIpWhitelist: p.reportsIpWhitelist }]),
      ),
      risks: { ...RISKS },
      counts: { total: keys.length, risky, byExchange, byRisk, byManagement },
    };
  }
}
