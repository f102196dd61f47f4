/**
 * The last key inventory fetched per account, so `keyward list` can answer at once (and offline) and
 * say how old its answer is. Key records carry API keys (public identifiers), never secrets.
 */
import { z } from "zod";
import { type KeyRecord, KeyRecordSchema } from "../domain/schemas.js";
import type { StateStore } from "./state-store.js";

export interface CachedInventory {
  account: string;
  /** ISO 8601: when the records were fetched from the exchange. */
  fetchedAt: string;
  records: KeyRecord[];
}

const RecordsSchema = z.array(KeyRecordSchema);

export class InventoryCache {
  readonly #state: StateStore;

  constructor(state: StateStore) {
    this.#state = state;
  }

  /**
   * The account's cached inventory. A cache written by a version whose KeyRecord differs reads as a
   * miss (undefined): it is only a cache, and the next fetch replaces it.
   */
  async get(account: string): Promise<CachedInventory | undefined> {
    const row = await this.#state.cachedInventory(account);
    if (row === undefined) return undefined;
    try {
      const records = RecordsSchema.safeParse(JSON.parse(row.records));
      return records.success ? { account, fetchedAt: row.fetchedAt, records: records.data } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Replaces the account's cached inventory. */
  async put(account: string, records: readonly KeyRecord[], fetchedAt: Date = new Date()): Promise<void> {
    await this.#state.putCachedInventory({
      account,
      fetchedAt: fetchedAt.toISOString(),
      records: JSON.stringify(records),
    });
  }

  /** Forgets an account's inventory (e.g. when the account is removed); false if none was cached. */
  delete(account: string): Promise<boolean> {
    return this.#state.deleteCachedInventory(account);
  }
}
