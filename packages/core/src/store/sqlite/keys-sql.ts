/**
 * The SQL of tracked keys (`tracked_keys`) and the inventory cache (`inventory_cache`), see StateStore
 * in ../state-store.ts; validation and mapping on top are ../tracked-keys.ts and ../inventory-cache.ts.
 */
import type { InventoryCacheRecord, TrackedKeyRecord } from "../state-store.js";
import type { SqliteConnection } from "./connection.js";
import { isSqliteError } from "./database.js";

interface TrackedDbRow {
  account: string;
  api_key: string;
  label: string;
  credentials_ref: string | null;
  meta: string;
  added_at: string;
}

const TRACKED_COLUMNS = "account, api_key, label, credentials_ref, meta, added_at";

export function addTrackedKey(c: SqliteConnection, row: TrackedKeyRecord): Promise<"added" | "exists"> {
  return c.write("track the key", () => {
    try {
      c.db
        .prepare(`INSERT INTO tracked_keys (${TRACKED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(row.account, row.apiKey, row.label, row.credentialsRef, row.meta, row.addedAt);
      return "added";
    } catch (error) {
      if (isSqliteError(error) && error.code === "SQLITE_CONSTRAINT_PRIMARYKEY") return "exists";
      throw error;
    }
  });
}

export function trackedKey(
  c: SqliteConnection,
  account: string,
  apiKey: string,
): Promise<TrackedKeyRecord | undefined> {
  return c.read(() => {
    const row = c.db
      .prepare<[string, string], TrackedDbRow>(
        `SELECT ${TRACKED_COLUMNS} FROM tracked_keys WHERE account = ? AND api_key = ?`,
      )
      .get(account, apiKey);
    return row === undefined ? undefined : trackedRecord(row);
  });
}

export function trackedKeys(
  c: SqliteConnection,
  filter: { account?: string } = {},
): Promise<TrackedKeyRecord[]> {
  return c.read(() => {
    const rows =
      filter.account === undefined
        ? c.db
            .prepare<[], TrackedDbRow>(
              `SELECT ${TRACKED_COLUMNS} FROM tracked_keys ORDER BY account, added_at, api_key`,
            )
            .all()
        : c.db
            .prepare<[string], TrackedDbRow>(
              `SELECT ${TRACKED_COLUMNS} FROM tracked_keys WHERE account = ? ORDER BY added_at, api_key`,
            )
            .all(filter.account);
    return rows.map(trackedRecord);
  });
}

export function removeTrackedKey(c: SqliteConnection, account: string, apiKey: string): Promise<boolean> {
  return c.write(
    "untrack the key",
    () =>
      c.db.prepare("DELETE FROM tracked_keys WHERE account = ? AND api_key = ?").run(account, apiKey)
        .changes > 0,
  );
}

export function setTrackedKeyMeta(
  c: SqliteConnection,
  account: string,
  apiKey: string,
  meta: string,
): Promise<boolean> {
  return c.write(
    "update the key's meta",
    () =>
      c.db
        .prepare("UPDATE tracked_keys SET meta = ? WHERE account = ? AND api_key = ?")
        .run(meta, account, apiKey).changes > 0,
  );
}

// The inventory cache.

export function cachedInventory(
  c: SqliteConnection,
  account: string,
): Promise<InventoryCacheRecord | undefined> {
  return c.read(() => {
    const row = c.db
      .prepare<[string], { fetched_at: string; records: string }>(
        "SELECT fetched_at, records FROM inventory_cache WHERE account = ?",
      )
      .get(account);
    return row === undefined ? undefined : { account, fetchedAt: row.fetched_at, records: row.records };
  });
}

export function putCachedInventory(c: SqliteConnection, record: InventoryCacheRecord): Promise<void> {
  return c.write("cache the inventory", () => {
    c.db
      .prepare(
        `INSERT INTO inventory_cache (account, fetched_at, records) VALUES (?, ?, ?)
         ON CONFLICT (account) DO UPDATE SET fetched_at = excluded.fetched_at, records = excluded.records`,
      )
      .run(record.account, record.fetchedAt, record.records);
  });
}

export function deleteCachedInventory(c: SqliteConnection, account: string): Promise<boolean> {
  return c.write(
    "clear the inventory cache",
    () => c.db.prepare("DELETE FROM inventory_cache WHERE account = ?").run(account).changes > 0,
  );
}

function trackedRecord(r: TrackedDbRow): TrackedKeyRecord {
  return {
    account: r.account,
    apiKey: r.api_key,
    label: r.label,
    credentialsRef: r.credentials_ref,
    meta: r.meta,
    addedAt: r.added_at,
  };
}
