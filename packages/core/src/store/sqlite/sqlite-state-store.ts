/**
 * The SQLite StateStore (see ../state-store.ts): one better-sqlite3 connection to `state.db`, opened by
 * StateDatabase (./database.ts: pragmas, migrations, the read-only and frozen rules). All the SQL of the
 * audit log, the rotation journal, tracked keys and the inventory cache is here.
 *
 * better-sqlite3 is synchronous, so each call runs to completion on its own; what needs care is a
 * TRANSACTION, which spans awaits (the audit log keys itself while the vault is saved; a journal step
 * appends its audit entry). One connection has one transaction, so while one is open, calls from other
 * async flows of this process wait for it to end (they would otherwise land inside it), and calls made
 * within it (tracked with AsyncLocalStorage) run in it. Other processes are kept out by SQLite's own
 * write lock (BEGIN IMMEDIATE, the busy timeout). Two stores on the same file in ONE process share that
 * wait (a gate per file): SQLite's busy wait blocks the thread, so the second would otherwise wait out
 * its timeout for a transaction that can only finish once it returns.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { resolve } from "node:path";
import { KeywardError } from "../../errors.js";
import {
  type AuditFilterQuery,
  type AuditHeadRecord,
  type AuditRecord,
  type AuditRowQuery,
  type InventoryCacheRecord,
  type RunRecord,
  type RunState,
  type SlotRecord,
  type SlotStepUpdate,
  StateDamagedError,
  type StateStore,
  type TrackedKeyRecord,
} from "../state-store.js";
import { isSqliteError, type SqliteDatabase, StateDatabase, type StateDatabaseOptions } from "./database.js";

/** The transaction open on a database file by any store of this process. */
interface Gate {
  active: TxContext | undefined;
}
const gates = new Map<string, Gate>();

interface TxContext {
  open: boolean;
  /** Savepoint counter of nested transactions. */
  depth: number;
  after: (() => void | Promise<void>)[];
  done: Promise<void>;
}

interface AuditDbRow {
  seq: number;
  ts: string;
  action: string;
  actor: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
  mac: string | null;
}

interface RunDbRow {
  id: string;
  created_at: string;
  updated_at: string;
  state: RunState;
  plan: string;
  options: string;
  lock_pid: number | null;
  lock_host: string | null;
  mac: string | null;
}

interface SlotDbRow {
  run_id: string;
  slot: number;
  method: "api" | "assisted";
  exchange: string;
  account: string;
  sub_account: string | null;
  old_key_id: string;
  old_api_key: string;
  old_label: string;
  new_label: string;
  step: string;
  attempt: number;
  new_key_id: string | null;
  new_api_key: string | null;
  new_ref: string | null;
  delivered: string;
  grace_until: string | null;
  evidence: string;
  error: string | null;
  updated_at: string;
  mac: string | null;
}

interface TrackedDbRow {
  account: string;
  api_key: string;
  label: string;
  credentials_ref: string | null;
  meta: string;
  added_at: string;
}

const TRACKED_COLUMNS = "account, api_key, label, credentials_ref, meta, added_at";

/** The raw handle of a SQLite store, for tests that play an attacker with SQL. Nothing else uses it. */
const rawHandles = new WeakMap<SqliteStateStore, StateDatabase>();

export class SqliteStateStore implements StateStore {
  readonly #state: StateDatabase;
  readonly #tx = new AsyncLocalStorage<TxContext>();
  readonly #gate: Gate;

  private constructor(state: StateDatabase) {
    this.#state = state;
    const file = resolve(state.path);
    let gate = gates.get(file);
    if (gate === undefined) {
      gate = { active: undefined };
      gates.set(file, gate);
    }
    this.#gate = gate;
    rawHandles.set(this, state);
  }

  /** The transaction open on the file, if any (this store's or another's in this process). */
  get #active(): TxContext | undefined {
    return this.#gate.active;
  }

  set #active(ctx: TxContext | undefined) {
    this.#gate.active = ctx;
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

  get #db(): SqliteDatabase {
    return this.#state.db;
  }

  /** Runs a synchronous statement once no other flow's transaction is open (or within ours). */
  async #run<T>(fn: () => T): Promise<T> {
    const ctx = this.#tx.getStore();
    if (!(ctx?.open && ctx === this.#active)) {
      while (this.#active !== undefined) await this.#active.done;
    }
    try {
      return fn();
    } catch (error) {
      throw this.#failure(error, "read the state");
    }
  }

  /** A write: refused on a read-only or frozen database; driver failures become STATE_UNAVAILABLE. */
  async #write<T>(what: string, fn: () => T): Promise<T> {
    return this.#run(() => {
      if (!this.#state.isWritable()) {
        throw new KeywardError(
          "STATE_UNAVAILABLE",
          `Cannot ${what}: the state database at ${this.#state.path} is read-only.`,
          {
            hint: "Restore its write permission (it was opened read-only, or its file has no write bit).",
          },
        );
      }
      try {
        return fn();
      } catch (error) {
        throw this.#failure(error, what);
      }
    });
  }

  #failure(error: unknown, what: string): unknown {
    if (error instanceof KeywardError) return error;
    if (isSqliteError(error)) {
      if (/no such (table|column)/.test(error.message)) {
        return new StateDamagedError(this.#state.path, error.message, error);
      }
      return new KeywardError("STATE_UNAVAILABLE", `Cannot ${what}: ${error.message}.`, {
        hint: HINT_FILE,
        cause: error,
      });
    }
    return error;
  }

  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    return this.#transaction(fn, "IMMEDIATE");
  }

  async snapshot<T>(fn: () => Promise<T>): Promise<T> {
    return this.#transaction(fn, "DEFERRED");
  }

  async #transaction<T>(fn: () => Promise<T>, mode: "IMMEDIATE" | "DEFERRED"): Promise<T> {
    const outer = this.#tx.getStore();
    if (outer?.open && outer === this.#active) {
      // Nested: a savepoint, so that its writes roll back alone.
      const name = `keyward_sp${++outer.depth}`;
      this.#db.exec(`SAVEPOINT ${name}`);
      try {
        const result = await fn();
        this.#db.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        if (this.#db.inTransaction) {
          this.#db.exec(`ROLLBACK TO ${name}`);
          this.#db.exec(`RELEASE ${name}`);
        }
        throw error;
      }
    }
    while (this.#active !== undefined) await this.#active.done;
    let release = () => {};
    const ctx: TxContext = {
      open: true,
      depth: 0,
      after: [],
      done: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    this.#active = ctx;
    let result: T;
    try {
      try {
        // IMMEDIATE takes the write lock before the first read (a writer must read the head it chains on
        // under the lock); DEFERRED reads a snapshot and takes no lock.
        this.#db.exec(`BEGIN ${mode}`);
      } catch (error) {
        throw this.#failure(error, "start a transaction");
      }
      try {
        result = await this.#tx.run(ctx, fn);
        this.#db.exec("COMMIT");
      } catch (error) {
        if (this.#db.open && this.#db.inTransaction) this.#db.exec("ROLLBACK");
        throw this.#failure(error, "commit the transaction");
      }
    } catch (error) {
      ctx.after = [];
      throw error;
    } finally {
      ctx.open = false;
      this.#active = undefined;
      release();
    }
    for (const task of ctx.after) await task();
    return result;
  }

  async afterCommit(task: () => void | Promise<void>): Promise<void> {
    const ctx = this.#tx.getStore();
    if (ctx?.open && ctx === this.#active) ctx.after.push(task);
    else await task();
  }

  async close(): Promise<void> {
    while (this.#active !== undefined) await this.#active.done;
    this.#state.close();
  }

  // The audit log.

  auditPresent(): Promise<boolean> {
    return this.#run(
      () =>
        this.#db
          .prepare<[], { name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_log', 'audit_head')",
          )
          .all().length === 2,
    );
  }

  appendAudit(entry: AuditRecord, head: AuditHeadRecord): Promise<void> {
    return this.#write("append to the audit log", () => {
      this.#db
        .transaction(() => {
          this.#db
            .prepare(
              "INSERT INTO audit_log (seq, ts, action, actor, subject, details, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .run(
              entry.seq,
              entry.ts,
              entry.action,
              entry.actor,
              entry.subject,
              entry.details,
              entry.prevHash,
              entry.hash,
              entry.mac,
            );
          this.#db
            .prepare(
              "INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac",
            )
            .run(head.seq, head.hash, head.mac);
        })
        .immediate();
    });
  }

  auditHead(): Promise<AuditHeadRecord | undefined> {
    return this.#run(() =>
      this.#db.prepare<[], AuditHeadRecord>("SELECT seq, hash, mac FROM audit_head WHERE id = 1").get(),
    );
  }

  lastAudit(): Promise<{ seq: number; hash: string } | undefined> {
    return this.#run(() =>
      this.#db
        .prepare<[], { seq: number; hash: string }>(
          "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        )
        .get(),
    );
  }

  auditHashAt(seq: number): Promise<string | undefined> {
    return this.#run(
      () =>
        this.#db.prepare<[number], { hash: string }>("SELECT hash FROM audit_log WHERE seq = ?").get(seq)
          ?.hash,
    );
  }

  auditCount(query: AuditFilterQuery = {}): Promise<number> {
    const { where, params } = auditWhere(query);
    const sql = `SELECT count(*) AS n FROM audit_log${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
    return this.#run(() => this.#db.prepare<(string | number)[], { n: number }>(sql).get(...params)?.n ?? 0);
  }

  auditVersion(): Promise<string> {
    // data_version moves when ANOTHER connection commits; total_changes counts this connection's own.
    return this.#run(
      () =>
        `${this.#db.pragma("data_version", { simple: true })}:${this.#db.prepare("SELECT total_changes() AS n").pluck().get()}`,
    );
  }

  auditRows(query: AuditRowQuery = {}): Promise<AuditRecord[]> {
    const { where, params } = auditWhere(query);
    if (query.afterSeq !== undefined) {
      where.push("seq > ?");
      params.push(Math.trunc(query.afterSeq));
    }
    if (query.beforeSeq !== undefined) {
      where.push("seq < ?");
      params.push(Math.trunc(query.beforeSeq));
    }
    let sql = `SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq ${query.newestFirst ? "DESC" : "ASC"}`;
    if (query.limit !== undefined) {
      sql += " LIMIT ?";
      params.push(Math.max(0, Math.trunc(query.limit)));
    }
    return this.#run(() =>
      this.#db
        .prepare<(string | number)[], AuditDbRow>(sql)
        .all(...params)
        .map((r) => ({
          seq: r.seq,
          ts: r.ts,
          action: r.action,
          actor: r.actor,
          subject: r.subject,
          details: r.details,
          prevHash: r.prev_hash,
          hash: r.hash,
          mac: r.mac,
        })),
    );
  }

  // The rotation journal.

  insertRun(run: RunRecord, slots: readonly SlotRecord[]): Promise<void> {
    return this.#write("record the rotation", () => {
      this.#db
        .transaction(() => {
          this.#db
            .prepare(
              `INSERT INTO rotation_runs (id, created_at, updated_at, state, plan, options, lock_pid, lock_host, mac)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              run.id,
              run.createdAt,
              run.updatedAt,
              run.state,
              run.plan,
              run.options,
              run.lockPid,
              run.lockHost,
              run.mac,
            );
          const insert = this.#db.prepare(
            `INSERT INTO rotation_slots (run_id, slot, method, exchange, account, sub_account, old_key_id, old_api_key,
               old_label, new_label, step, attempt, new_key_id, new_api_key, new_ref, delivered, grace_until, evidence,
               error, updated_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          );
          for (const s of slots) {
            insert.run(
              s.runId,
              s.slot,
              s.method,
              s.exchange,
              s.account,
              s.subAccount,
              s.oldKeyId,
              s.oldApiKey,
              s.oldLabel,
              s.newLabel,
              s.step,
              s.attempt,
              s.newKeyId,
              s.newApiKey,
              s.newRef,
              s.delivered,
              s.graceUntil,
              s.evidence,
              s.error,
              s.updatedAt,
              s.mac,
            );
          }
        })
        .immediate();
    });
  }

  run(id: string): Promise<RunRecord | undefined> {
    return this.#run(() => {
      const row = this.#db.prepare<[string], RunDbRow>("SELECT * FROM rotation_runs WHERE id = ?").get(id);
      return row === undefined ? undefined : runRecord(row);
    });
  }

  runs(filter: { active?: boolean; limit: number }): Promise<RunRecord[]> {
    const where = filter.active ? "WHERE state = 'active'" : "";
    return this.#run(() =>
      this.#db
        .prepare<[number], RunDbRow>(
          `SELECT * FROM rotation_runs ${where} ORDER BY created_at DESC, id DESC LIMIT ?`,
        )
        .all(filter.limit)
        .map(runRecord),
    );
  }

  slots(runId: string): Promise<SlotRecord[]> {
    return this.#run(() =>
      this.#db
        .prepare<[string], SlotDbRow>("SELECT * FROM rotation_slots WHERE run_id = ? ORDER BY slot")
        .all(runId)
        .map(slotRecord),
    );
  }

  slot(runId: string, slot: number): Promise<SlotRecord | undefined> {
    return this.#run(() => {
      const row = this.#db
        .prepare<[string, number], SlotDbRow>("SELECT * FROM rotation_slots WHERE run_id = ? AND slot = ?")
        .get(runId, slot);
      return row === undefined ? undefined : slotRecord(row);
    });
  }

  unfinishedSlotKeys(
    terminalSteps: readonly string[],
  ): Promise<{ runId: string; oldKeyId: string; newKeyId: string | null }[]> {
    const marks = terminalSteps.map(() => "?").join(", ") || "NULL";
    return this.#run(() =>
      this.#db
        .prepare<string[], { old_key_id: string; new_key_id: string | null; run_id: string }>(
          `SELECT s.old_key_id, s.new_key_id, s.run_id FROM rotation_slots s JOIN rotation_runs r ON r.id = s.run_id
           WHERE r.state = 'active' AND s.step NOT IN (${marks})`,
        )
        .all(...terminalSteps)
        .map((r) => ({ runId: r.run_id, oldKeyId: r.old_key_id, newKeyId: r.new_key_id })),
    );
  }

  updateSlotStep(u: SlotStepUpdate): Promise<void> {
    return this.#write(`journal step ${u.step} of ${u.runId}/${u.slot}`, () => {
      this.#db
        .prepare(
          `UPDATE rotation_slots SET step = ?, attempt = ?, new_key_id = ?, new_api_key = ?, new_ref = ?, delivered = ?,
             grace_until = ?, evidence = ?, error = ?, updated_at = ?, mac = ? WHERE run_id = ? AND slot = ?`,
        )
        .run(
          u.step,
          u.attempt,
          u.newKeyId,
          u.newApiKey,
          u.newRef,
          u.delivered,
          u.graceUntil,
          u.evidence,
          u.error,
          u.updatedAt,
          u.mac,
          u.runId,
          u.slot,
        );
    });
  }

  setSlotError(runId: string, slot: number, error: string, updatedAt: string): Promise<void> {
    return this.#write(`journal the stop of ${runId}/${slot}`, () => {
      this.#db
        .prepare("UPDATE rotation_slots SET error = ?, updated_at = ? WHERE run_id = ? AND slot = ?")
        .run(error, updatedAt, runId, slot);
    });
  }

  setRunState(runId: string, state: RunState, updatedAt: string): Promise<void> {
    return this.#write(`settle rotation ${runId}`, () => {
      this.#db
        .prepare("UPDATE rotation_runs SET state = ?, updated_at = ? WHERE id = ?")
        .run(state, updatedAt, runId);
    });
  }

  touchRun(runId: string, updatedAt: string): Promise<void> {
    return this.#write(`update rotation ${runId}`, () => {
      this.#db.prepare("UPDATE rotation_runs SET updated_at = ? WHERE id = ?").run(updatedAt, runId);
    });
  }

  lockRun(runId: string, pid: number, host: string): Promise<void> {
    return this.#write(`claim rotation ${runId}`, () => {
      this.#db
        .prepare("UPDATE rotation_runs SET lock_pid = ?, lock_host = ? WHERE id = ?")
        .run(pid, host, runId);
    });
  }

  unlockRun(runId: string, pid: number): Promise<void> {
    return this.#write(`release rotation ${runId}`, () => {
      this.#db
        .prepare("UPDATE rotation_runs SET lock_pid = NULL, lock_host = NULL WHERE id = ? AND lock_pid = ?")
        .run(runId, pid);
    });
  }

  // Tracked keys.

  addTrackedKey(row: TrackedKeyRecord): Promise<"added" | "exists"> {
    return this.#write("track the key", () => {
      try {
        this.#db
          .prepare(`INSERT INTO tracked_keys (${TRACKED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)`)
          .run(row.account, row.apiKey, row.label, row.credentialsRef, row.meta, row.addedAt);
        return "added";
      } catch (error) {
        if (isSqliteError(error) && error.code === "SQLITE_CONSTRAINT_PRIMARYKEY") return "exists";
        throw error;
      }
    });
  }

  trackedKey(account: string, apiKey: string): Promise<TrackedKeyRecord | undefined> {
    return this.#run(() => {
      const row = this.#db
        .prepare<[string, string], TrackedDbRow>(
          `SELECT ${TRACKED_COLUMNS} FROM tracked_keys WHERE account = ? AND api_key = ?`,
        )
        .get(account, apiKey);
      return row === undefined ? undefined : trackedRecord(row);
    });
  }

  trackedKeys(filter: { account?: string } = {}): Promise<TrackedKeyRecord[]> {
    return this.#run(() => {
      const rows =
        filter.account === undefined
          ? this.#db
              .prepare<[], TrackedDbRow>(
                `SELECT ${TRACKED_COLUMNS} FROM tracked_keys ORDER BY account, added_at, api_key`,
              )
              .all()
          : this.#db
              .prepare<[string], TrackedDbRow>(
                `SELECT ${TRACKED_COLUMNS} FROM tracked_keys WHERE account = ? ORDER BY added_at, api_key`,
              )
              .all(filter.account);
      return rows.map(trackedRecord);
    });
  }

  removeTrackedKey(account: string, apiKey: string): Promise<boolean> {
    return this.#write(
      "untrack the key",
      () =>
        this.#db.prepare("DELETE FROM tracked_keys WHERE account = ? AND api_key = ?").run(account, apiKey)
          .changes > 0,
    );
  }

  setTrackedKeyMeta(account: string, apiKey: string, meta: string): Promise<boolean> {
    return this.#write(
      "update the key's meta",
      () =>
        this.#db
          .prepare("UPDATE tracked_keys SET meta = ? WHERE account = ? AND api_key = ?")
          .run(meta, account, apiKey).changes > 0,
    );
  }

  // The inventory cache.

  cachedInventory(account: string): Promise<InventoryCacheRecord | undefined> {
    return this.#run(() => {
      const row = this.#db
        .prepare<[string], { fetched_at: string; records: string }>(
          "SELECT fetched_at, records FROM inventory_cache WHERE account = ?",
        )
        .get(account);
      return row === undefined ? undefined : { account, fetchedAt: row.fetched_at, records: row.records };
    });
  }

  putCachedInventory(record: InventoryCacheRecord): Promise<void> {
    return this.#write("cache the inventory", () => {
      this.#db
        .prepare(
          `INSERT INTO inventory_cache (account, fetched_at, records) VALUES (?, ?, ?)
           ON CONFLICT (account) DO UPDATE SET fetched_at = excluded.fetched_at, records = excluded.records`,
        )
        .run(record.account, record.fetchedAt, record.records);
    });
  }

  deleteCachedInventory(account: string): Promise<boolean> {
    return this.#write(
      "clear the inventory cache",
      () => this.#db.prepare("DELETE FROM inventory_cache WHERE account = ?").run(account).changes > 0,
    );
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

const HINT_FILE =
  "Check that the Keyward home directory exists and that you own it; if state.db is damaged, move it aside (the audit log in it is evidence: keep a copy).";

function runRecord(r: RunDbRow): RunRecord {
  return {
    id: r.id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    state: r.state,
    plan: r.plan,
    options: r.options,
    lockPid: r.lock_pid,
    lockHost: r.lock_host,
    mac: r.mac,
  };
}

function slotRecord(r: SlotDbRow): SlotRecord {
  return {
    runId: r.run_id,
    slot: r.slot,
    method: r.method,
    exchange: r.exchange,
    account: r.account,
    subAccount: r.sub_account,
    oldKeyId: r.old_key_id,
    oldApiKey: r.old_api_key,
    oldLabel: r.old_label,
    newLabel: r.new_label,
    step: r.step,
    attempt: r.attempt,
    newKeyId: r.new_key_id,
    newApiKey: r.new_api_key,
    newRef: r.new_ref,
    delivered: r.delivered,
    graceUntil: r.grace_until,
    evidence: r.evidence,
    error: r.error,
    updatedAt: r.updated_at,
    mac: r.mac,
  };
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

/**
 * The WHERE clauses of the audit filters (see AuditFilterQuery for what each matches). Literal
 * comparisons use instr() and substr(), not LIKE, so a `%` or `_` in a name is just a character.
 */
function auditWhere(q: AuditFilterQuery): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  // Stored ts are all toISOString() output, so string order is time order.
  if (q.sinceTs !== undefined) {
    where.push("ts >= ?");
    params.push(q.sinceTs);
  }
  if (q.untilTs !== undefined) {
    where.push("ts <= ?");
    params.push(q.untilTs);
  }
  if (q.action !== undefined) {
    where.push("action = ?");
    params.push(q.action);
  }
  if (q.actionArea !== undefined) {
    where.push("substr(action, 1, length(?)) = ?");
    params.push(`${q.actionArea}.`, `${q.actionArea}.`);
  }
  if (q.account !== undefined) {
    const a = q.account;
    // A key id: exchange ids hold no colon, so the account is what follows the first one.
    where.push(
      "(subject = ? OR substr(subject, 1, length(?)) = ?" +
        " OR substr(subject, instr(subject, ':') + 1, length(?)) = ?" +
        " OR instr(details, ?) > 0 OR instr(details, ?) > 0)",
    );
    params.push(a, `${a}:`, `${a}:`, `${a}:`, `${a}:`, `:${a}:`, `"account":${JSON.stringify(a)}`);
  }
  if (q.exchange !== undefined) {
    const e = q.exchange;
    where.push("(substr(subject, 1, length(?)) = ? OR instr(details, ?) > 0 OR instr(details, ?) > 0)");
    params.push(`${e}:`, `${e}:`, `"${e}:`, `"exchange":${JSON.stringify(e)}`);
  }
  if (q.apiKey !== undefined) {
    const k = q.apiKey;
    where.push("(substr(subject, -length(?)) = ? OR instr(details, ?) > 0)");
    params.push(`:${k}`, `:${k}`, `:${k}"`);
  }
  if (q.search !== undefined && q.search !== "") {
    where.push("instr(lower(action || ' ' || actor || ' ' || subject || ' ' || details), lower(?)) > 0");
    params.push(q.search);
  }
  return { where, params };
}
