/**
 * The last key inventory fetched per account, so `keyward list` can answer at once (and offline) and
 * say how old its answer is. Key records carry API keys (public identifiers), never secrets.
 */
import { z } from "zod";
import { type KeyRecord, KeyRecordSchema } from "../domain/schemas.js";
import { type StateDatabase, writeOrThrow } from "./sqlite/database.js";

export interface CachedInventory {
  account: string;
  /** ISO 8601: when the records were fetched from the exchange. */
  fetchedAt: string;
  records: KeyRecord[];
}

const RecordsSchema = z.array(KeyRecordSchema);

export class InventoryCache {
  readonly #state: StateDatabase;

  constructor(state: StateDatabase) {
    this.#state = state;
  }

  /**
   * The account's cached inventory. A cache written by a version whose KeyRecord differs reads as a
   * miss (undefined): it is only a cache, and the next fetch replaces it.
   */
  get(account: string): CachedInventory | undefined {
    const row = this.#state.db
      .prepare<[string], { fetched_at: string; records: string }>(
        "SELECT fetched_at, records FROM inventory_cache WHERE account = ?",
      )
      .get(account);
    if (row === undefined) return undefined;
    try {
      const records = RecordsSchema.safeParse(JSON.parse(row.records));
      return records.success ? { account, fetchedAt: row.fetched_at, records: records.data } : undefined;
    } catch {
      return undefined;
    }
  }

  /** Replaces the account's cached inventory. */
  put(account: string, records: readonly KeyRecord[], fetchedAt: Date = new Date()): void {
    writeOrThrow(this.#state, "cache the inventory", () => {
      this.#state.db
        .prepare(
          `INSERT INTO inventory_cache (account, fetched_at, records) VALUES (?, ?, ?)
           ON CONFLICT (account) DO UPDATE SET fetched_at = excluded.fetched_at, records = excluded.records`,
        )
        .run(account, fetchedAt.toISOString(), JSON.stringify(records));
    });
  }

  /** Forgets an account's inventory (e.g. when the account is removed); false if none was cached. */
  delete(account: string): boolean {
    return writeOrThrow(
      this.#state,
      "clear the inventory cache",
      () => this.#state.db.prepare("DELETE FROM inventory_cache WHERE account = ?").run(account).changes > 0,
    );
  }
}
