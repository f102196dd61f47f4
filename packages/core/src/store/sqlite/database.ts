/**
 * Opening Keyward's local state database (SQLite via better-sqlite3): the audit log, the rotation
 * journal, tracked keys, the inventory cache. It holds no secrets. Only SqliteStateStore
 * (./sqlite-state-store.ts) and the files it composes in this folder (connection.ts, audit-sql.ts,
 * journal-sql.ts, keys-sql.ts) use the connection; everything else goes through the StateStore interface.
 *
 * Opening sets WAL (readers never block the writer), foreign keys, a busy timeout (several `keyward`
 * processes may share the file) and synchronous=FULL (an audit entry written before a revoke must
 * survive a power cut), then brings the schema up to date from MIGRATIONS.
 *
 * Fail closed: a database FILE without any write bit is opened read-only, even by root, who could
 * write it anyway. Ops freeze an audit database with `chmod a-w`, CI and containers run as root, and
 * Keyward must honour the freeze: nothing destructive happens without an audit entry.
 *
 * better-sqlite3 is a native module: it is loaded on first open, not when `@keyward/core` is imported.
 */
import { closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { KeywardError } from "../../errors.js";
import { MIGRATIONS } from "./migrations.js";

export type SqliteDatabase = BetterSqlite3.Database;

/** The state database's file name inside the Keyward home. */
export const STATE_DB_FILE_NAME = "state.db";

const require = createRequire(import.meta.url);
let driver: typeof BetterSqlite3 | undefined;
const loadDriver = (): typeof BetterSqlite3 => {
  driver ??= require("better-sqlite3") as typeof BetterSqlite3;
  return driver;
};

export interface StateDatabaseOptions {
  /** Open read-only whatever the file's mode. A read-only open never creates or migrates. */
  readonly?: boolean;
  /** How long to wait for another process's write lock. Default 5 s. */
  busyTimeoutMs?: number;
  /** The schema. Default MIGRATIONS; tests pass a longer list to exercise an upgrade. */
  migrations?: readonly string[];
}

/** True when the file at `path` has no write bit for anyone (the "frozen" convention above). */
export function isWriteProtected(path: string): boolean {
  try {
    return (statSync(path).mode & 0o222) === 0;
  } catch {
    return false;
  }
}

export class StateDatabase {
  readonly path: string;
  readonly db: SqliteDatabase;
  /** Opened read-only, by request or because the file was write-protected. */
  readonly readonly: boolean;
  /** `PRAGMA user_version` after migrating. */
  readonly schemaVersion: number;

  private constructor(path: string, db: SqliteDatabase, readonly: boolean, schemaVersion: number) {
    this.path = path;
    this.db = db;
    this.readonly = readonly;
    this.schemaVersion = schemaVersion;
  }

  static open(path: string, options: StateDatabaseOptions = {}): StateDatabase {
    const migrations = options.migrations ?? MIGRATIONS;
    let exists = true;
    try {
      statSync(path);
    } catch {
      exists = false;
    }
    const readonly = options.readonly === true || (exists && isWriteProtected(path));
    if (!exists) {
      if (readonly) {
        throw unavailable(
          `There is no state database at ${path} to open read-only.`,
          "Run `keyward init` first.",
        );
      }
      try {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        // Created here rather than by SQLite so it gets 0600 (SQLite gives -wal/-shm the same mode).
        closeSync(openSync(path, "a", 0o600));
      } catch (error) {
        throw unavailable(`The state database at ${path} could not be created.`, HINT_FILE, error);
      }
    }

    let db: SqliteDatabase;
    try {
      const Driver = loadDriver();
      db = new Driver(path, { readonly, fileMustExist: true, timeout: options.busyTimeoutMs ?? 5000 });
    } catch (error) {
      throw unavailable(`The state database at ${path} could not be opened.`, HINT_FILE, error);
    }
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      db.pragma("foreign_keys = ON");
      // journal_mode is stored in the file; a read-only connection just uses what is there.
      if (!readonly) db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      const version = migrate(db, migrations, readonly, path);
      return new StateDatabase(path, db, readonly, version);
    } catch (error) {
      db.close();
      if (error instanceof KeywardError) throw error;
      throw unavailable(`The state database at ${path} is not usable.`, HINT_FILE, error);
    }
  }

  /**
   * Whether writes may be attempted now. Re-checks the file's mode on every call, so a database
   * frozen with `chmod a-w` while a long-running process (the web app) has it open is honoured too.
   */
  isWritable(): boolean {
    return !this.readonly && this.db.open && !isWriteProtected(this.path);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Brings user_version up to migrations.length; returns the resulting version. */
function migrate(db: SqliteDatabase, migrations: readonly string[], readonly: boolean, path: string): number {
  const read = () => Number(db.pragma("user_version", { simple: true }));
  const current = read();
  if (current > migrations.length) {
    throw unavailable(
      `The state database at ${path} has schema version ${current}; this Keyward knows only up to ${migrations.length}.`,
      "A newer Keyward wrote it: upgrade Keyward, or use the newer one.",
    );
  }
  if (current === migrations.length) return current;
  if (readonly) {
    throw unavailable(
      `The state database at ${path} is read-only and needs a schema upgrade (version ${current} → ${migrations.length}).`,
      "Open it once writable (restore its write permission) so Keyward can upgrade it.",
    );
  }
  // IMMEDIATE, and user_version re-read under the lock: two processes opening an old database at
  // once must not both run the same migration. user_version is transactional like everything else.
  return db
    .transaction(() => {
      let version = read();
      for (; version < migrations.length; version++) {
        db.exec(migrations[version] ?? "");
        db.pragma(`user_version = ${version + 1}`);
      }
      return version;
    })
    .immediate();
}

const HINT_FILE =
  "Check that the Keyward home directory exists and that you own it; if state.db is damaged, move it aside (the audit log in it is evidence: keep a copy).";

const unavailable = (message: string, hint: string, cause?: unknown) =>
  new KeywardError("STATE_UNAVAILABLE", message, { hint, ...(cause === undefined ? {} : { cause }) });

/** better-sqlite3's SqliteError carries SQLite's extended code, e.g. SQLITE_READONLY, SQLITE_FULL. */
export const isSqliteError = (error: unknown): error is Error & { code: string } =>
  error instanceof Error &&
  "code" in error &&
  typeof error.code === "string" &&
  error.code.startsWith("SQLITE_");
