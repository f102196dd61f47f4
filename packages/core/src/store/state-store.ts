/**
 * Keyward's local state, behind one async interface: the audit log's rows and head, the rotation
 * journal's runs and slots, tracked keys and the inventory cache. It holds no secrets.
 *
 * The interface is at the level of RECORDS, not queries: the domain logic that gives them meaning (the
 * audit log's hash chain, MACs, head copy and verify; the journal's MACs and steps) stays in
 * audit/audit-log.ts and rotation/journal.ts, which are store-agnostic and call this. The SQLite
 * implementation is in ./sqlite/; a PostgreSQL one for teams would be another implementation of the same
 * interface, so everything is async and no driver type appears here. `testStateStore` (in
 * `@keyward/core/testing`) is the suite every implementation must pass.
 *
 * Documents (an audit entry's details, a run's plan and options, a slot's delivered targets, evidence and
 * error, a cache's records) are stored and returned as the exact JSON TEXT they were given: the audit
 * log's hash is over that text ("not canonical" is a break), and the journal's MACs cover what is stored.
 *
 * What implementations must guarantee (the suite checks each):
 * - Durability: a write has reached stable storage when its promise resolves (an audit entry written
 *   before a revoke must survive a power cut).
 * - `appendAudit` writes the entry and moves the head in one atomic step: both or neither.
 * - `transaction(fn)`: every store call made from within `fn` (in its async context) is part of one
 *   write transaction that holds the store's write lock from its start (another writer, in this process
 *   or another, waits); it commits when `fn` resolves and rolls back when it throws. A `transaction`
 *   within one is nested: its writes roll back alone if it throws. Calls from outside wait until it ends.
 * - A store opened read-only, or whose backing storage is write-protected (`chmod a-w`, honoured even for
 *   root), refuses every write with STATE_UNAVAILABLE and changes nothing. Failures of the backing store
 *   (locked too long, disk full) are STATE_UNAVAILABLE too; damage (a table or column gone) is
 *   `StateDamagedError`, so the audit log can report "missing table" rather than fail.
 * - Expected outcomes are results, not errors: tracking a key already tracked answers "exists".
 */
import { KeywardError } from "../errors.js";

/** One audit log row as stored; `details` is the canonical JSON text the hash was made over. */
export interface AuditRecord {
  seq: number;
  ts: string;
  action: string;
  actor: string;
  subject: string;
  details: string;
  prevHash: string;
  hash: string;
  /** HMAC under the vault's audit key; null on entries written before the log was keyed. */
  mac: string | null;
}

/** The audit log's head as stored (written with each entry). */
export interface AuditHeadRecord {
  seq: number;
  hash: string;
  mac: string | null;
}

/**
 * Which entries a reader wants (audit/audit-query.ts turns an operator's filters into this). Every
 * filter given must match (AND); text is compared literally (no wildcards), and case-sensitively except
 * `search`. How the subject filters match, since a subject is a key id (`exchange:account:sub:apiKey`),
 * an untracked key (`account:apiKey`), an account name, or a run (`revoke`, `rot-…`) whose details name
 * the keys it concerns:
 * - `account`: the subject is the account, or a key id or `account:apiKey` of that account, or the
 *   details hold a key id of that account (a run's `keys`) or `"account":` that name.
 * - `exchange`: the subject is a key id on that exchange, or the details hold `"exchange":` that id or
 *   a key id on it.
 * - `apiKey`: the subject ends with `:apiKey` (a key id or an untracked key), or the details hold a
 *   key id ending with it.
 */
export interface AuditFilterQuery {
  /** Entries whose `ts` (ISO 8601, UTC) is at or after this one. */
  sinceTs?: string;
  /** Entries whose `ts` is at or before this one. */
  untilTs?: string;
  /** Entries whose action is exactly this. */
  action?: string;
  /** Entries whose action is this area (`revoke`: `revoke.requested`, `revoke.done`, …). */
  actionArea?: string;
  account?: string;
  exchange?: string;
  apiKey?: string;
  /** Case-insensitive text anywhere in the action, actor, subject or details (as stored JSON). */
  search?: string;
  /**
   * With `search`: also the entries whose subject is one of these API keys' (a key id or an untracked
   * key's `account:apiKey`, ending `:apiKey`), the keys whose label holds the text (audit-query.ts).
   */
  searchKeys?: string[];
}

export interface AuditRowQuery extends AuditFilterQuery {
  /** Entries after this seq. */
  afterSeq?: number;
  /** Entries before this seq (paging newest first: the last seq of the previous page). */
  beforeSeq?: number;
  limit?: number;
  /** Seq order, newest first instead of oldest first. */
  newestFirst?: boolean;
}

export type RunState = "active" | "finished" | "aborted";

/** A rotation run as stored (see rotation/journal.ts); `plan` and `options` are JSON text. */
export interface RunRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  state: RunState;
  plan: string;
  options: string;
  lockPid: number | null;
  lockHost: string | null;
  mac: string | null;
}

/** A rotation slot as stored; `delivered`, `evidence` (arrays) and `error` (object or null) are JSON text. */
export interface SlotRecord {
  runId: string;
  slot: number;
  method: "api" | "assisted";
  exchange: string;
  account: string;
  subAccount: string | null;
  oldKeyId: string;
  oldApiKey: string;
  oldLabel: string;
  newLabel: string;
  step: string;
  attempt: number;
  newKeyId: string | null;
  newApiKey: string | null;
  newRef: string | null;
  delivered: string;
  graceUntil: string | null;
  evidence: string;
  error: string | null;
  updatedAt: string;
  mac: string | null;
}

/** What a step writes to a slot (the rest of the slot is fixed when the run is journaled). */
export type SlotStepUpdate = Pick<
  SlotRecord,
  | "runId"
  | "slot"
  | "step"
  | "attempt"
  | "newKeyId"
  | "newApiKey"
  | "newRef"
  | "delivered"
  | "graceUntil"
  | "evidence"
  | "error"
  | "updatedAt"
  | "mac"
>;

/** A tracked key as stored; `meta` is JSON text (an object of strings). */
export interface TrackedKeyRecord {
  account: string;
  apiKey: string;
  label: string;
  credentialsRef: string | null;
  meta: string;
  addedAt: string;
}

/** An account's cached inventory; `records` is JSON text (KeyRecord[]). */
export interface InventoryCacheRecord {
  account: string;
  fetchedAt: string;
  records: string;
}

export interface StateStore {
  /** Where the state lives, for messages (a file path, a database URL without credentials). */
  readonly location: string;
  /** Opened read-only (by request, or because the storage was write-protected). */
  readonly readonly: boolean;

  /**
   * Whether writes may be attempted now. Checked afresh on each call: storage frozen while a
   * long-running process (the web app) has it open is honoured too.
   */
  isWritable(): Promise<boolean>;
  /** See the top of this file. */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * A consistent read of several records: no write commits between the reads `fn` makes. Works on a
   * read-only store.
   */
  snapshot<T>(fn: () => Promise<T>): Promise<T>;
  /**
   * Runs `task` once the outermost transaction in progress (in this async context) commits, before that
   * transaction's promise resolves; or now, outside one (the promise is the task's). Dropped if the
   * transaction rolls back. For work that must follow the commit: the audit log's head copy. A task
   * must not throw.
   */
  afterCommit(task: () => void | Promise<void>): Promise<void>;
  close(): Promise<void>;

  // The audit log (audit/audit-log.ts).
  /** Whether the audit log's storage exists at all (a dropped table is a broken log, not an error). */
  auditPresent(): Promise<boolean>;
  /** Inserts the entry and sets the head to `head`, atomically. */
  appendAudit(entry: AuditRecord, head: AuditHeadRecord): Promise<void>;
  auditHead(): Promise<AuditHeadRecord | undefined>;
  /** The newest entry's seq and hash. */
  lastAudit(): Promise<{ seq: number; hash: string } | undefined>;
  /** The hash of entry `seq`, if it exists. */
  auditHashAt(seq: number): Promise<string | undefined>;
  /** Entries in seq order. */
  auditRows(query?: AuditRowQuery): Promise<AuditRecord[]>;
  /** How many entries match the filters (for "showing 50 of 312"). */
  auditCount(query?: AuditFilterQuery): Promise<number>;
  /**
   * A value that changes whenever the audit log may have changed, written by this store or another
   * process (the web caches `verify()` on it). Equal values: nothing was written in between.
   */
  auditVersion(): Promise<string>;

  // The rotation journal (rotation/journal.ts).
  /** Inserts a run and its slots (one atomic write). */
  insertRun(run: RunRecord, slots: readonly SlotRecord[]): Promise<void>;
  run(id: string): Promise<RunRecord | undefined>;
  /** Newest first (created, then id), at most `limit`. */
  runs(filter: { active?: boolean; limit: number }): Promise<RunRecord[]>;
  /** A run's slots in slot order. */
  slots(runId: string): Promise<SlotRecord[]>;
  slot(runId: string, slot: number): Promise<SlotRecord | undefined>;
  /** Slots of active runs whose step is not in `terminalSteps`, with their old and new key ids. */
  unfinishedSlotKeys(
    terminalSteps: readonly string[],
  ): Promise<{ runId: string; oldKeyId: string; newKeyId: string | null }[]>;
  updateSlotStep(update: SlotStepUpdate): Promise<void>;
  setSlotError(runId: string, slot: number, error: string, updatedAt: string): Promise<void>;
  setRunState(runId: string, state: RunState, updatedAt: string): Promise<void>;
  touchRun(runId: string, updatedAt: string): Promise<void>;
  /** Sets the run's claim. */
  lockRun(runId: string, pid: number, host: string): Promise<void>;
  /** Clears the run's claim if `pid` holds it. */
  unlockRun(runId: string, pid: number): Promise<void>;

  // Tracked keys (store/tracked-keys.ts).
  addTrackedKey(row: TrackedKeyRecord): Promise<"added" | "exists">;
  trackedKey(account: string, apiKey: string): Promise<TrackedKeyRecord | undefined>;
  /** All (ordered by account, then added, then API key), or one account's (added, API key). */
  trackedKeys(filter?: { account?: string }): Promise<TrackedKeyRecord[]>;
  removeTrackedKey(account: string, apiKey: string): Promise<boolean>;
  setTrackedKeyMeta(account: string, apiKey: string, meta: string): Promise<boolean>;

  // The inventory cache (store/inventory-cache.ts).
  cachedInventory(account: string): Promise<InventoryCacheRecord | undefined>;
  putCachedInventory(record: InventoryCacheRecord): Promise<void>;
  deleteCachedInventory(account: string): Promise<boolean>;
}

/**
 * The store's storage is damaged: a table or column is missing. A KeywardError (STATE_UNAVAILABLE) like
 * every other store failure; the audit log tells it apart to report a broken log.
 */
export class StateDamagedError extends KeywardError {
  constructor(location: string, detail: string, cause?: unknown) {
    super("STATE_UNAVAILABLE", `The state database at ${location} is damaged (${detail}).`, {
      hint: "Run `keyward audit verify` and investigate: the database may have been tampered with.",
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
