/**
 * The SQLite StateStore (see ../state-store.ts): one better-sqlite3 connection to `state.db`, opened by
 * StateDatabase (./database.ts: pragmas, migrations, the read-only and frozen rules). This class composes
 * the parts, one file per area of the interface:
 * - ./connection.ts: the connection and its transactions (spanning awaits; calls from other async flows
 *   wait for one to end; stores on the same file in one process share that wait), reads and writes
 *   (refused when read-only or frozen; driver failures become STATE_UNAVAILABLE or StateDamagedError);
 * - ./audit-sql.ts: the audit log's rows, head, filters, counts and change stamp;
 * - ./journal-sql.ts: the rotation journal's runs and slots;
 * - ./keys-sql.ts: tracked keys and the inventory cache.
 * Nothing outside this folder touches the connection (tests use `sqliteHandleForTests`).
 */
import { KeywardError } from "../../errors.js";
import type {
  AuditFilterQuery,
  AuditHeadRecord,
  AuditRecord,
  AuditRowQuery,
  InventoryCacheRecord,
  RunRecord,
  RunState,
  SlotRecord,
  SlotStepUpdate,
  StateStore,
  TrackedKeyRecord,
} from "../state-store.js";
import * as audit from "./audit-sql.js";
import { SqliteConnection } from "./connection.js";
import { type SqliteDatabase, StateDatabase, type StateDatabaseOptions } from "./database.js";
import * as journal from "./journal-sql.js";
import * as keys from "./keys-sql.js";

/** The raw handle of a SQLite store, for tests that play an attacker with SQL. Nothing else uses it. */
const rawHandles = new WeakMap<SqliteStateStore, StateDatabase>();

export class SqliteStateStore implements StateStore {
  readonly #state: StateDatabase;
  readonly #c: SqliteConnection;

  private constructor(state: StateDatabase) {
    this.#state = state;
    this.#c = new SqliteConnection(state);
    rawHandles.set(this, state);
  }

  /** Opens (creating and migrating when writable) the database at `path`; see StateDatabase.open. */
  static open(path: string, options: StateDatabaseOptions = {}): SqliteStateStore {
    return new SqliteStateStore(StateDatabase.open(path, options));
  }

  get location(): string {
    return this.#state.path;
  }

  get readonly(): boolean {
    return this.#state.readonly;
  }

  /** `PRAGMA user_version` after migrating. */
  get schemaVersion(): number {
    return this.#state.schemaVersion;
  }

  async isWritable(): Promise<boolean> {
    return this.#state.isWritable();
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.#c.transaction(fn, "IMMEDIATE");
  }

  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    return this.#c.transaction(fn, "DEFERRED");
  }

  async afterCommit(task: () => void | Promise<void>): Promise<void> {
    return this.#c.afterCommit(task);
  }

  async close(): Promise<void> {
    return this.#c.close();
  }

  // The audit log.

  auditPresent(): Promise<boolean> {
    return audit.auditPresent(this.#c);
  }

  appendAudit(entry: AuditRecord, head: AuditHeadRecord): Promise<void> {
    return audit.appendAudit(this.#c, entry, head);
  }

  auditHead(): Promise<AuditHeadRecord | undefined> {
    return audit.auditHead(this.#c);
  }

  lastAudit(): Promise<{ seq: number; hash: string } | undefined> {
    return audit.lastAudit(this.#c);
  }

  auditHashAt(seq: number): Promise<string | undefined> {
    return audit.auditHashAt(this.#c, seq);
  }

  auditCount(query: AuditFilterQuery = {}): Promise<number> {
    return audit.auditCount(this.#c, query);
  }

  auditVersion(): Promise<string> {
    return audit.auditVersion(this.#c);
  }

  auditRows(query: AuditRowQuery = {}): Promise<AuditRecord[]> {
    return audit.auditRows(this.#c, query);
  }

  // The rotation journal.

  insertRun(run: RunRecord, slots: readonly SlotRecord[]): Promise<void> {
    return journal.insertRun(this.#c, run, slots);
  }

  run(id: string): Promise<RunRecord | undefined> {
    return journal.run(this.#c, id);
  }

  runs(filter: { active?: boolean; limit: number }): Promise<RunRecord[]> {
    return journal.runs(this.#c, filter);
  }

  slots(runId: string): Promise<SlotRecord[]> {
    return journal.slots(this.#c, runId);
  }

  slot(runId: string, slot: number): Promise<SlotRecord | undefined> {
    return journal.slot(this.#c, runId, slot);
  }

  unfinishedSlotKeys(
    terminalSteps: readonly string[],
  ): Promise<{ runId: string; oldKeyId: string; newKeyId: string | null }[]> {
    return journal.unfinishedSlotKeys(this.#c, terminalSteps);
  }

  updateSlotStep(u: SlotStepUpdate): Promise<void> {
    return journal.updateSlotStep(this.#c, u);
  }

  setSlotError(runId: string, slot: number, error: string, updatedAt: string): Promise<void> {
    return journal.setSlotError(this.#c, runId, slot, error, updatedAt);
  }

  setRunState(runId: string, state: RunState, updatedAt: string): Promise<void> {
    return journal.setRunState(this.#c, runId, state, updatedAt);
  }

  touchRun(runId: string, updatedAt: string): Promise<void> {
    return journal.touchRun(this.#c, runId, updatedAt);
  }

  lockRun(runId: string, pid: number, host: string): Promise<void> {
    return journal.lockRun(this.#c, runId, pid, host);
  }

  unlockRun(runId: string, pid: number): Promise<void> {
    return journal.unlockRun(this.#c, runId, pid);
  }

  // Tracked keys.

  addTrackedKey(row: TrackedKeyRecord): Promise<"added" | "exists"> {
    return keys.addTrackedKey(this.#c, row);
  }

  trackedKey(account: string, apiKey: string): Promise<TrackedKeyRecord | undefined> {
    return keys.trackedKey(this.#c, account, apiKey);
  }

  trackedKeys(filter: { account?: string } = {}): Promise<TrackedKeyRecord[]> {
    return keys.trackedKeys(this.#c, filter);
  }

  removeTrackedKey(account: string, apiKey: string): Promise<boolean> {
    return keys.removeTrackedKey(this.#c, account, apiKey);
  }

  setTrackedKeyMeta(account: string, apiKey: string, meta: string): Promise<boolean> {
    return keys.setTrackedKeyMeta(this.#c, account, apiKey, meta);
  }

  // The inventory cache.

  cachedInventory(account: string): Promise<InventoryCacheRecord | undefined> {
    return keys.cachedInventory(this.#c, account);
  }

  putCachedInventory(record: InventoryCacheRecord): Promise<void> {
    return keys.putCachedInventory(this.#c, record);
  }

  deleteCachedInventory(account: string): Promise<boolean> {
    return keys.deleteCachedInventory(this.#c, account);
  }
}

/**
 * TEST ONLY: the better-sqlite3 handle under a SQLite store, for tests that play someone who can write
 * state.db (tampering with rows, dropping tables) or check pragmas. No product code may call it.
 */
export function sqliteHandleForTests(store: StateStore): SqliteDatabase {
  const state = store instanceof SqliteStateStore ? rawHandles.get(store) : undefined;
  if (state === undefined) throw new KeywardError("INTERNAL", "not a SQLite state store");
  return state.db;
}
