/**
 * The SQLite store's connection and its transactions: one better-sqlite3 connection to `state.db`,
 * opened by StateDatabase (./database.ts: pragmas, migrations, the read-only and frozen rules), and the
 * rules every statement of ./audit-sql.ts, ./journal-sql.ts and ./keys-sql.ts runs under.
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
import { StateDamagedError } from "../state-store.js";
import { isSqliteError, type SqliteDatabase, type StateDatabase } from "./database.js";

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

const HINT_FILE =
  "Check that the Keyward home directory exists and that you own it; if state.db is damaged, move it aside (the audit log in it is evidence: keep a copy).";

export class SqliteConnection {
  readonly state: StateDatabase;
  readonly #tx = new AsyncLocalStorage<TxContext>();
  readonly #gate: Gate;

  constructor(state: StateDatabase) {
    this.state = state;
    const file = resolve(state.path);
    let gate = gates.get(file);
    if (gate === undefined) {
      gate = { active: undefined };
      gates.set(file, gate);
    }
    this.#gate = gate;
  }

  /** The transaction open on the file, if any (this store's or another's in this process). */
  get #active(): TxContext | undefined {
    return this.#gate.active;
  }

  set #active(ctx: TxContext | undefined) {
    this.#gate.active = ctx;
  }

  /** The driver's handle, for the statements of this folder only. */
  get db(): SqliteDatabase {
    return this.state.db;
  }

  /** Runs a synchronous statement once no other flow's transaction is open (or within ours). */
  async read<T>(fn: () => T): Promise<T> {
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
  async write<T>(what: string, fn: () => T): Promise<T> {
    return this.read(() => {
      if (!this.state.isWritable()) {
        throw new KeywardError(
          "STATE_UNAVAILABLE",
          `Cannot ${what}: the state database at ${this.state.path} is read-only.`,
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
        return new StateDamagedError(this.state.path, error.message, error);
      }
      return new KeywardError("STATE_UNAVAILABLE", `Cannot ${what}: ${error.message}.`, {
        hint: HINT_FILE,
        cause: error,
      });
    }
    return error;
  }

  /**
   * A transaction spanning awaits (StateStore.transaction with IMMEDIATE, snapshot with DEFERRED); a
   * nested one is a savepoint.
   */
  async transaction<T>(fn: () => Promise<T>, mode: "IMMEDIATE" | "DEFERRED"): Promise<T> {
    const outer = this.#tx.getStore();
    if (outer?.open && outer === this.#active) {
      // Nested: a savepoint, so that its writes roll back alone.
      const name = `keyward_sp${++outer.depth}`;
      this.db.exec(`SAVEPOINT ${name}`);
      try {
        const result = await fn();
        this.db.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        if (this.db.inTransaction) {
          this.db.exec(`ROLLBACK TO ${name}`);
          this.db.exec(`RELEASE ${name}`);
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
        this.db.exec(`BEGIN ${mode}`);
      } catch (error) {
        throw this.#failure(error, "start a transaction");
      }
      try {
        result = await this.#tx.run(ctx, fn);
        this.db.exec("COMMIT");
      } catch (error) {
        if (this.db.open && this.db.inTransaction) this.db.exec("ROLLBACK");
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
    this.state.close();
  }
}
