import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type KeyRecord, KeywardError } from "../src/index.js";
import { InventoryCache } from "../src/store/inventory-cache.js";
import { StateDatabase } from "../src/store/sqlite/database.js";
import { MIGRATIONS } from "../src/store/sqlite/migrations.js";
import { TrackedKeysRepository } from "../src/store/tracked-keys.js";

let dir: string;
let path: string;
const open: StateDatabase[] = [];
const openDb = (options?: Parameters<typeof StateDatabase.open>[1]) => {
  const db = StateDatabase.open(path, options);
  open.push(db);
  return db;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-store-"));
  path = join(dir, "state.db");
});
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return "no error";
  } catch (error) {
    return error instanceof KeywardError ? error.code : `not a KeywardError: ${String(error)}`;
  }
}

const tables = (db: StateDatabase) =>
  db.db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((r) => r.name);

describe("StateDatabase", () => {
  it("creates the file 0600 with WAL, foreign keys, a busy timeout and the current schema", () => {
    const db = openDb();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(db.readonly).toBe(false);
    expect(db.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.db.pragma("foreign_keys", { simple: true })).toBe(1);
    expect(db.db.pragma("busy_timeout", { simple: true })).toBe(5000);
    expect(db.db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
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

  it("runs migrations once: reopening is a no-op that keeps the data", () => {
    const first = openDb();
    new TrackedKeysRepository(first).add({ account: "bfx", apiKey: "k1", label: "bot" });
    first.close();
    for (let i = 0; i < 3; i++) {
      const again = openDb();
      expect(again.schemaVersion).toBe(MIGRATIONS.length);
      expect(new TrackedKeysRepository(again).list().map((k) => k.apiKey)).toEqual(["k1"]);
      again.close();
    }
  });

  it("applies an appended migration to an existing database, and refuses a newer schema", () => {
    openDb().close();
    const next = [
      ...MIGRATIONS,
      "CREATE TABLE rotation_journal (id INTEGER PRIMARY KEY, step TEXT NOT NULL) STRICT;",
    ];
    const upgraded = openDb({ migrations: next });
    expect(upgraded.schemaVersion).toBe(MIGRATIONS.length + 1);
    expect(tables(upgraded)).toContain("rotation_journal");
    upgraded.close();
    expect(openDb({ migrations: next }).schemaVersion).toBe(next.length);
    const error = (() => {
      try {
        StateDatabase.open(path);
      } catch (e) {
        return e as KeywardError;
      }
    })();
    expect(error?.code).toBe("STATE_UNAVAILABLE");
    expect(error?.message).toContain(`schema version ${MIGRATIONS.length + 1}`);
  });

  it("rolls back a failing migration as a whole", () => {
    openDb().close();
    const bad = [...MIGRATIONS, "CREATE TABLE half (x); THIS IS NOT SQL;"];
    expect(codeOf(() => StateDatabase.open(path, { migrations: bad }))).toBe("STATE_UNAVAILABLE");
    const db = openDb();
    expect(db.schemaVersion).toBe(MIGRATIONS.length);
    expect(tables(db)).not.toContain("half");
  });

  it("opens a write-protected file read-only, even as root", () => {
    const writable = openDb();
    new TrackedKeysRepository(writable).add({ account: "bfx", apiKey: "k1", label: "bot" });
    writable.close();
    chmodSync(path, 0o444);

    const db = openDb();
    expect(db.readonly).toBe(true);
    expect(db.isWritable()).toBe(false);
    const keys = new TrackedKeysRepository(db);
    expect(keys.list()).toHaveLength(1);
    expect(codeOf(() => keys.add({ account: "bfx", apiKey: "k2", label: "x" }))).toBe("STATE_UNAVAILABLE");
    expect(codeOf(() => keys.remove("bfx", "k1"))).toBe("STATE_UNAVAILABLE");
    expect(codeOf(() => new InventoryCache(db).put("bfx", []))).toBe("STATE_UNAVAILABLE");
    // Even a raw write through the connection fails: it really is a read-only connection.
    expect(() => db.db.prepare("DELETE FROM tracked_keys").run()).toThrow(/readonly/);
    expect(keys.list()).toHaveLength(1);
  });

  it("refuses to open read-only a database that needs migrating, or one that does not exist", () => {
    openDb({ migrations: [] }).close();
    chmodSync(path, 0o444);
    expect(codeOf(() => StateDatabase.open(path))).toBe("STATE_UNAVAILABLE");
    expect(codeOf(() => StateDatabase.open(join(dir, "absent.db"), { readonly: true }))).toBe(
      "STATE_UNAVAILABLE",
    );
  });

  it("reports a file that is not a database as STATE_UNAVAILABLE", () => {
    writeFileSync(path, "this is not an sqlite database, just text that is long enough".repeat(20));
    expect(codeOf(() => StateDatabase.open(path))).toBe("STATE_UNAVAILABLE");
  });
});

describe("TrackedKeysRepository", () => {
  it("adds, lists, reads, updates meta and removes tracked keys", () => {
    const keys = new TrackedKeysRepository(openDb());
    const t0 = new Date("2025-01-01T00:00:00.000Z");
    const added = keys.add({
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
    keys.add({
      account: "bfx-main",
      apiKey: "bfx-key-2",
      label: "",
      addedAt: new Date("2025-02-01T00:00:00Z"),
    });
    keys.add({ account: "bfx-other", apiKey: "bfx-key-3", label: "hedge" });

    expect(keys.list().map((k) => k.apiKey)).toEqual(["bfx-key-1", "bfx-key-2", "bfx-key-3"]);
    expect(keys.list({ account: "bfx-main" }).map((k) => k.apiKey)).toEqual(["bfx-key-1", "bfx-key-2"]);
    expect(keys.get("bfx-main", "bfx-key-2")).toMatchObject({ credentialsRef: null, meta: {}, label: "" });
    expect(keys.get("bfx-main", "nope")).toBeUndefined();

    expect(codeOf(() => keys.add({ account: "bfx-main", apiKey: "bfx-key-1", label: "again" }))).toBe(
      "CONFIG_INVALID",
    );
    expect(codeOf(() => keys.add({ account: "bad name!", apiKey: "k", label: "" }))).toBe("CONFIG_INVALID");
    expect(codeOf(() => keys.add({ account: "bfx-main", apiKey: "  ", label: "" }))).toBe("CONFIG_INVALID");

    expect(keys.updateMeta("bfx-main", "bfx-key-1", { nonce: "milli", seen: "2025-03-01" })).toBe(true);
    expect(keys.get("bfx-main", "bfx-key-1")?.meta).toEqual({ nonce: "milli", seen: "2025-03-01" });
    expect(keys.updateMeta("bfx-main", "nope", {})).toBe(false);

    expect(keys.remove("bfx-main", "bfx-key-1")).toBe(true);
    expect(keys.remove("bfx-main", "bfx-key-1")).toBe(false);
    expect(keys.list().map((k) => k.apiKey)).toEqual(["bfx-key-2", "bfx-key-3"]);
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
    location: "master",
    actions: { revoke: "manual", create: "manual" },
    probeable: false,
    state: "active",
    meta: {},
  });

  it("puts, gets, replaces and deletes an account's inventory", () => {
    const db = openDb();
    const cache = new InventoryCache(db);
    expect(cache.get("main")).toBeUndefined();
    cache.put("main", [record("k1"), record("k2")], new Date("2025-05-05T05:05:05.000Z"));
    expect(cache.get("main")).toEqual({
      account: "main",
      fetchedAt: "2025-05-05T05:05:05.000Z",
      records: [record("k1"), record("k2")],
    });
    cache.put("main", [record("k3")]);
    expect(cache.get("main")?.records.map((r) => r.apiKey)).toEqual(["k3"]);

    // A cache row that no longer matches KeyRecord reads as a miss, not an error.
    db.db.prepare("UPDATE inventory_cache SET records = ? WHERE account = ?").run('[{"id":1}]', "main");
    expect(cache.get("main")).toBeUndefined();

    expect(cache.delete("main")).toBe(true);
    expect(cache.delete("main")).toBe(false);
  });
});
