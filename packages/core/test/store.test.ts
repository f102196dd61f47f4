import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KeyRecord, KeywardError } from "../src/index.js";
import { InventoryCache } from "../src/store/inventory-cache.js";
import { MIGRATIONS } from "../src/store/sqlite/migrations.js";
import { SqliteStateStore, sqliteHandleForTests } from "../src/store/sqlite/sqlite-state-store.js";
import { TrackedKeysRepository } from "../src/store/tracked-keys.js";

let dir: string;
let path: string;
const open: SqliteStateStore[] = [];
const openDb = (options?: Parameters<typeof SqliteStateStore.open>[1]) => {
  const db = SqliteStateStore.open(path, options);
  open.push(db);
  return db;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-store-"));
  path = join(dir, "state.db");
});
afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return "no error";
  } catch (error) {
    return error instanceof KeywardError ? error.code : `not a KeywardError: ${String(error)}`;
  }
}

const tables = (db: SqliteStateStore) =>
  sqliteHandleForTests(db)
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);

describe("SqliteStateStore (opening state.db)", () => {
  it("creates the file 0600 with WAL, foreign keys, a busy timeout and the current schema", () => {
    const db = openDb();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(db.readonly).toBe(false);
    expect(sqliteHandleForTests(db).pragma("journal_mode", { simple: true })).toBe("wal");
    expect(sqliteHandleForTests(db).pragma("foreign_keys", { simple: true })).toBe(1);
    expect(sqliteHandleForTests(db).pragma("busy_timeout", { simple: true })).toBe(5000);
    expect(sqliteHandleForTests(db).pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    expect(db.schemaVersion).toBe(MIGRATIONS.length);
    expect(tables(db)).toEqual([
      "audit_head",
      "audit_log",
      "inventory_cache",
      "rotation_runs",
      "rotation_slots",
      "tracked_keys",
    ]);
  });

  it("runs migrations once: reopening is a no-op that keeps the data", async () => {
    const first = openDb();
    await new TrackedKeysRepository(first).add({ account: "bfx", apiKey: "k1", label: "bot" });
    await first.close();
    for (let i = 0; i < 3; i++) {
      const again = openDb();
      expect(again.schemaVersion).toBe(MIGRATIONS.length);
      expect((await new TrackedKeysRepository(again).list()).map((k) => k.apiKey)).toEqual(["k1"]);
      await again.close();
    }
  });

  it("applies an appended migration to an existing database, and refuses a newer schema", async () => {
    await openDb().close();
    const next = [
      ...MIGRATIONS,
      "CREATE TABLE rotation_journal (id INTEGER PRIMARY KEY, step TEXT NOT NULL) STRICT;",
    ];
    const upgraded = openDb({ migrations: next });
    expect(upgraded.schemaVersion).toBe(MIGRATIONS.length + 1);
    expect(tables(upgraded)).toContain("rotation_journal");
    await upgraded.close();
    expect(openDb({ migrations: next }).schemaVersion).toBe(next.length);
    const error = (() => {
      try {
        SqliteStateStore.open(path);
      } catch (e) {
        return e as KeywardError;
      }
    })();
    expect(error?.code).toBe("STATE_UNAVAILABLE");
    expect(error?.message).toContain(`schema version ${MIGRATIONS.length + 1}`);
  });

  it("rolls back a failing migration as a whole", async () => {
    await openDb().close();
    const bad = [...MIGRATIONS, "CREATE TABLE half (x); THIS IS NOT SQL;"];
    expect(await codeOf(() => SqliteStateStore.open(path, { migrations: bad }))).toBe("STATE_UNAVAILABLE");
    const db = openDb();
    expect(db.schemaVersion).toBe(MIGRATIONS.length);
    expect(tables(db)).not.toContain("half");
  });

  it("opens a write-protected file read-only, even as root", async () => {
    const writable = openDb();
    await new TrackedKeysRepository(writable).add({ account: "bfx", apiKey: "k1", label: "bot" });
    await writable.close();
    chmodSync(path, 0o444);

    const db = openDb();
    expect(db.readonly).toBe(true);
    expect(await db.isWritable()).toBe(false);
    const keys = new TrackedKeysRepository(db);
    expect(await keys.list()).toHaveLength(1);
    expect(await codeOf(() => keys.add({ account: "bfx", apiKey: "k2", label: "x" }))).toBe(
      "STATE_UNAVAILABLE",
    );
    expect(await codeOf(() => keys.remove("bfx", "k1"))).toBe("STATE_UNAVAILABLE");
    expect(await codeOf(() => new InventoryCache(db).put("bfx", []))).toBe("STATE_UNAVAILABLE");
    // Even a raw write through the connection fails: it really is a read-only connection.
    expect(() => sqliteHandleForTests(db).prepare("DELETE FROM tracked_keys").run()).toThrow(/readonly/);
    expect(await keys.list()).toHaveLength(1);
  });

  it("refuses to open read-only a database that needs migrating, or one that does not exist", async () => {
    await openDb({ migrations: [] }).close();
    chmodSync(path, 0o444);
    expect(await codeOf(() => SqliteStateStore.open(path))).toBe("STATE_UNAVAILABLE");
    expect(await codeOf(() => SqliteStateStore.open(join(dir, "absent.db"), { readonly: true }))).toBe(
      "STATE_UNAVAILABLE",
    );
  });

  it("reports a file that is not a database as STATE_UNAVAILABLE", async () => {
    writeFileSync(path, "this is not an sqlite database, just text that is long enough".repeat(20));
    expect(await codeOf(() => SqliteStateStore.open(path))).toBe("STATE_UNAVAILABLE");
  });
});

describe("TrackedKeysRepository", () => {
  it("adds, lists, reads, updates meta and removes tracked keys", async () => {
    const keys = new TrackedKeysRepository(openDb());
    const t0 = new Date("2025-01-01T00:00:00.000Z");
    const added = await keys.add({
      account: "bfx-main",
      apiKey: "bfx-key-1",
      label: "market maker",
      credentialsRef: "bfx-main/bfx-key-1",
      meta: { nonce: "micro" },
      addedAt: t0,
    });
    expect(added).toEqual({
      account: "bfx-main",
      apiKey: "bfx-key-1",
      label: "market maker",
      credentialsRef: "bfx-main/bfx-key-1",
      meta: { nonce: "micro" },
      addedAt: "2025-01-01T00:00:00.000Z",
    });
    await keys.add({
      account: "bfx-main",
      apiKey: "bfx-key-2",
      label: "",
      addedAt: new Date("2025-02-01T00:00:00Z"),
    });
    await keys.add({ account: "bfx-other", apiKey: "bfx-key-3", label: "hedge" });

    expect((await keys.list()).map((k) => k.apiKey)).toEqual(["bfx-key-1", "bfx-key-2", "bfx-key-3"]);
    expect((await keys.list({ account: "bfx-main" })).map((k) => k.apiKey)).toEqual([
      "bfx-key-1",
      "bfx-key-2",
    ]);
    expect(await keys.get("bfx-main", "bfx-key-2")).toMatchObject({
      credentialsRef: null,
      meta: {},
      label: "",
    });
    expect(await keys.get("bfx-main", "nope")).toBeUndefined();

    expect(await codeOf(() => keys.add({ account: "bfx-main", apiKey: "bfx-key-1", label: "again" }))).toBe(
      "CONFIG_INVALID",
    );
    expect(await codeOf(() => keys.add({ account: "bad name!", apiKey: "k", label: "" }))).toBe(
      "CONFIG_INVALID",
    );
    expect(await codeOf(() => keys.add({ account: "bfx-main", apiKey: "  ", label: "" }))).toBe(
      "CONFIG_INVALID",
    );

    expect(await keys.updateMeta("bfx-main", "bfx-key-1", { nonce: "milli", seen: "2025-03-01" })).toBe(true);
    expect((await keys.get("bfx-main", "bfx-key-1"))?.meta).toEqual({ nonce: "milli", seen: "2025-03-01" });
    expect(await keys.updateMeta("bfx-main", "nope", {})).toBe(false);

    expect(await keys.remove("bfx-main", "bfx-key-1")).toBe(true);
    expect(await keys.remove("bfx-main", "bfx-key-1")).toBe(false);
    expect((await keys.list()).map((k) => k.apiKey)).toEqual(["bfx-key-2", "bfx-key-3"]);
  });
});

describe("InventoryCache", () => {
  const record = (apiKey: string): KeyRecord => ({
    id: `okx:main:-:${apiKey}`,
    exchange: "okx",
    account: "main",
    subAccount: null,
    apiKey,
    label: "bot",
    permissions: ["read", "trade"],
    rawPermissions: "read_only,trade",
    ip: ["203.0.113.7"],
    createdAt: "2025-01-01T00:00:00.000Z",
    expiresAt: null,
    location: "master",
    actions: { revoke: "manual", create: "manual" },
    probeable: false,
    state: "active",
    meta: {},
  });

  it("puts, gets, replaces and deletes an account's inventory", async () => {
    const db = openDb();
    const cache = new InventoryCache(db);
    expect(await cache.get("main")).toBeUndefined();
    await cache.put("main", [record("k1"), record("k2")], new Date("2025-05-05T05:05:05.000Z"));
    expect(await cache.get("main")).toEqual({
      account: "main",
      fetchedAt: "2025-05-05T05:05:05.000Z",
      records: [record("k1"), record("k2")],
    });
    await cache.put("main", [record("k3")]);
    expect((await cache.get("main"))?.records.map((r) => r.apiKey)).toEqual(["k3"]);

    // A cache row that no longer matches KeyRecord reads as a miss, not an error.
    sqliteHandleForTests(db)
      .prepare("UPDATE inventory_cache SET records = ? WHERE account = ?")
      .run('[{"id":1}]', "main");
    expect(await cache.get("main")).toBeUndefined();

    expect(await cache.delete("main")).toBe(true);
    expect(await cache.delete("main")).toBe(false);
  });

  it("reads an inventory cached before KeyRecord had expiresAt, with expiresAt null", async () => {
    const db = openDb();
    const cache = new InventoryCache(db);
    const { expiresAt: _, ...old } = record("k1");
    sqliteHandleForTests(db)
      .prepare("INSERT INTO inventory_cache (account, fetched_at, records) VALUES (?, ?, ?)")
      .run("main", "2025-05-05T05:05:05.000Z", JSON.stringify([old]));
    expect((await cache.get("main"))?.records).toEqual([record("k1")]);
  });
});
