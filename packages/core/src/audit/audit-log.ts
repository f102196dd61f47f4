/**
 * The audit log: an append-only, hash-chained record of what Keyward did and was asked to do.
 *
 * Each entry's `hash` is sha256 over the canonical JSON of {seq, ts, action, actor, subject, details,
 * prevHash}, and `prevHash` is the previous entry's hash (64 zeros for the first), so editing or
 * deleting an entry breaks the chain at that point. A chain alone cannot show that its NEWEST entries
 * were deleted (the shorter chain is still valid), so every append also records the head (last seq
 * and hash) in `audit_head`, in the same transaction: a head that points past the last row shows the
 * truncation.
 *
 * What this does not do: stop someone who can write the database from rewriting the whole chain and
 * the head. For that, copy `head()` somewhere they cannot write (a report, a ticket) and compare later.
 *
 * Fail closed: callers append the "…requested" entry BEFORE any destructive exchange call. If the
 * entry cannot be written (database read-only, file write-protected, disk full, locked too long, or
 * head and entries disagree), `append` throws AUDIT_UNAVAILABLE and the caller must not go ahead.
 *
 * Entries never carry secrets: details must be plain JSON (a `Secret` object is refused), and the
 * caller can name secret values to check against; an entry mentioning one is refused (AUDIT_INVALID).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { Secret } from "../domain/secret.js";
import { isKeywardError, KeywardError } from "../errors.js";
import type { StateDatabase } from "../store/database.js";
import { canonicalJson, type JsonValue } from "./canonical-json.js";

/** prevHash of the first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** `area.verb`, e.g. `key.tracked`, `revoke.requested`, `rotation.new-key-created`. */
export const AuditActionSchema = z
  .string()
  .max(64)
  .regex(/^[a-z]+(\.[a-z-]+)+$/, "must look like area.verb (lower case, e.g. revoke.requested)");

export interface AuditEntry {
  seq: number;
  /** ISO 8601, UTC, milliseconds. */
  ts: string;
  action: string;
  /** Who did it, e.g. `cli:alice@ops-1`. */
  actor: string;
  /** What it was done to: a key id, an account name, a run id. */
  subject: string;
  details: { [key: string]: JsonValue };
  prevHash: string;
  hash: string;
}

export interface AuditAppendInput {
  action: string;
  actor: string;
  subject: string;
  /** Plain JSON data, no secrets. Default {}. */
  details?: Record<string, unknown>;
}

export interface AuditAppendOptions {
  /** Secret values the entry must not contain (in details, actor or subject), e.g. secretsOf(creds). */
  secrets?: Iterable<Secret | string | undefined>;
}

export interface AuditLogOptions {
  /** Clock, for tests. */
  now?: () => Date;
  /** Secrets every append is checked against, asked for at each append (e.g. all the vault's). */
  secrets?: () => Iterable<Secret | string | undefined>;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export type AuditBreak =
  | "hash mismatch"
  | "sequence gap"
  | "prev-hash mismatch"
  | "truncated"
  | "head mismatch";

/**
 * `brokenAt` is the first seq that is not intact: the altered entry (hash mismatch), the first
 * missing one (sequence gap, truncated), the entry whose link to its predecessor is wrong (an entry
 * edited AND re-hashed shows up as a prev-hash mismatch on the next one), or the first entry the head
 * does not account for. `entries` counts the entries checked intact before it.
 */
export type AuditVerifyResult =
  | { ok: true; entries: number; head: AuditHead | null }
  | { ok: false; entries: number; brokenAt: number; reason: AuditBreak };

/** Same shape as the engines' AuditWriter: an actor is bound once, then append(action, subject, details). */
export interface AuditLogWriter {
  append(action: string, subject: string, details?: Record<string, unknown>): void;
}

interface Row {
  seq: number;
  ts: string;
  action: string;
  actor: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

const TextSchema = z.string().min(1).max(512);

export class AuditLog {
  readonly #state: StateDatabase;
  readonly #now: () => Date;
  readonly #secrets: (() => Iterable<Secret | string | undefined>) | undefined;

  constructor(state: StateDatabase, options: AuditLogOptions = {}) {
    this.#state = state;
    this.#now = options.now ?? (() => new Date());
    this.#secrets = options.secrets;
  }

  /** Appends one entry and returns it; throws AUDIT_INVALID or AUDIT_UNAVAILABLE and writes nothing. */
  append(input: AuditAppendInput, options: AuditAppendOptions = {}): AuditEntry {
    const checked = this.#check(input, options);
    if (!this.#state.isWritable()) {
      throw unavailable(`The audit log at ${this.#state.path} is read-only.`);
    }
    try {
      return this.#state.transaction(() => {
        const head = this.#readHead();
        const last = this.#lastRow();
        // The head and the newest row must agree before we chain onto them. If they do not, the log
        // was tampered with (or truncated): appending would bury that, so refuse until a person looks.
        if (
          (head?.seq ?? 0) !== (last?.seq ?? 0) ||
          (head?.hash ?? GENESIS_HASH) !== (last?.hash ?? GENESIS_HASH)
        ) {
          throw unavailable(
            `The audit log at ${this.#state.path} is inconsistent (its head does not match its last entry).`,
            "Run `keyward audit verify` and investigate: the log may have been tampered with. Keyward refuses destructive actions until the audit log is sound.",
          );
        }
        const body = {
          seq: (head?.seq ?? 0) + 1,
          ts: this.#now().toISOString(),
          ...checked,
          prevHash: head?.hash ?? GENESIS_HASH,
        };
        const entry: AuditEntry = { ...body, hash: hashEntry(body) };
        this.#state.db
          .prepare(
            "INSERT INTO audit_log (seq, ts, action, actor, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          )
          .run(
            entry.seq,
            entry.ts,
            entry.action,
            entry.actor,
            entry.subject,
            canonicalJson(entry.details),
            entry.prevHash,
            entry.hash,
          );
        this.#state.db
          .prepare(
            "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
          )
          .run(entry.seq, entry.hash);
        return entry;
      });
    } catch (error) {
      if (isKeywardError(error)) throw error;
      const code = error instanceof Error && "code" in error ? String(error.code) : "unknown error";
      throw unavailable(
        `The audit log at ${this.#state.path} could not be written (${code}).`,
        undefined,
        error,
      );
    }
  }

  /** Binds an actor (and secrets to check against) for the engines' `append(action, subject, details)`. */
  writer(actor: string, options: AuditAppendOptions = {}): AuditLogWriter {
    return {
      append: (action, subject, details) => void this.append({ action, actor, subject, details }, options),
    };
  }

  /**
   * Entries in seq order (oldest first unless `newestFirst`). `since`: entries at or after this time;
   * `afterSeq`: entries after this seq (to follow the log); `limit`: at most this many.
   */
  list(
    query: { since?: Date | string; afterSeq?: number; limit?: number; newestFirst?: boolean } = {},
  ): AuditEntry[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (query.since !== undefined) {
      const since = new Date(query.since);
      if (Number.isNaN(since.getTime())) {
        throw new KeywardError("CONFIG_INVALID", `"${String(query.since)}" is not a date or time.`, {
          hint: "Use an ISO 8601 date or time, e.g. 2025-01-31 or 2025-01-31T09:00:00Z.",
        });
      }
      // Stored ts are all toISOString() output, so string order is time order.
      where.push("ts >= ?");
      params.push(since.toISOString());
    }
    if (query.afterSeq !== undefined) {
      where.push("seq > ?");
      params.push(Math.trunc(query.afterSeq));
    }
    let sql = `SELECT * FROM audit_log${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq ${query.newestFirst ? "DESC" : "ASC"}`;
    if (query.limit !== undefined) {
      sql += " LIMIT ?";
      params.push(Math.max(0, Math.trunc(query.limit)));
    }
    return this.#state.db
      .prepare<(string | number)[], Row>(sql)
      .all(...params)
      .map(fromRow);
  }

  /** The chain's head as recorded with the last append, or null for an empty log. */
  head(): AuditHead | null {
    return this.#readHead() ?? null;
  }

  /** Re-checks the whole chain and the head; names the FIRST broken entry. Works read-only. */
  verify(): AuditVerifyResult {
    // One read transaction: a concurrent append cannot slip between reading the rows and the head.
    return this.#state.db.transaction((): AuditVerifyResult => {
      const head = this.#readHead() ?? null;
      let expectedSeq = 1;
      let prevHash = GENESIS_HASH;
      const fail = (brokenAt: number, reason: AuditBreak): AuditVerifyResult => ({
        ok: false,
        entries: expectedSeq - 1,
        brokenAt,
        reason,
      });
      for (const row of this.#state.db.prepare<[], Row>("SELECT * FROM audit_log ORDER BY seq").iterate()) {
        if (row.seq !== expectedSeq) return fail(expectedSeq, "sequence gap");
        let details: unknown;
        try {
          details = JSON.parse(row.details);
        } catch {
          return fail(row.seq, "hash mismatch");
        }
        const body = {
          seq: row.seq,
          ts: row.ts,
          action: row.action,
          actor: row.actor,
          subject: row.subject,
          details,
          prevHash: row.prev_hash,
        };
        if (safeHash(body) !== row.hash) return fail(row.seq, "hash mismatch");
        if (row.prev_hash !== prevHash) return fail(row.seq, "prev-hash mismatch");
        prevHash = row.hash;
        expectedSeq++;
      }
      const count = expectedSeq - 1;
      if (head === null) return count === 0 ? { ok: true, entries: 0, head } : fail(1, "head mismatch");
      if (head.seq > count) return fail(count + 1, "truncated");
      if (head.seq < count) return fail(head.seq + 1, "head mismatch");
      if (head.hash !== prevHash) return fail(count, "head mismatch");
      return { ok: true, entries: count, head };
    })();
  }

  #check(input: AuditAppendInput, options: AuditAppendOptions) {
    // Only a well-formed action is echoed: nothing the caller passed unchecked goes into the message.
    const actionOk = AuditActionSchema.safeParse(input.action).success;
    const problem = (what: string) =>
      new KeywardError(
        "AUDIT_INVALID",
        `Audit entry ${actionOk ? input.action : "(unnamed)"} refused: ${what}.`,
        {
          hint: "This is a bug in the caller: audit entries carry identifiers and outcomes, never secrets.",
        },
      );
    if (!actionOk) throw problem("the action must look like area.verb");
    if (!TextSchema.safeParse(input.actor).success) throw problem("the actor must be 1-512 characters");
    if (!TextSchema.safeParse(input.subject).success) throw problem("the subject must be 1-512 characters");
    let text: string;
    try {
      const details = input.details ?? {};
      if (typeof details !== "object" || details === null || Array.isArray(details))
        throw new Error("is not an object");
      text = canonicalJson(details, "details");
    } catch (error) {
      throw problem(error instanceof Error ? error.message : "details are not plain JSON");
    }
    // Compared as JSON text, so a secret with quotes or backslashes is found in its escaped form too.
    // Values shorter than 4 characters are skipped (as redact() does): they would match by chance.
    const haystacks = [text, JSON.stringify(input.actor), JSON.stringify(input.subject)];
    for (const s of [...(options.secrets ?? []), ...(this.#secrets?.() ?? [])]) {
      const value = s instanceof Secret ? s.reveal() : s;
      if (value === undefined || value.length < 4) continue;
      const needle = JSON.stringify(value).slice(1, -1);
      if (haystacks.some((h) => h.includes(needle))) throw problem("it contains a secret value");
    }
    return {
      action: input.action,
      actor: input.actor,
      subject: input.subject,
      details: JSON.parse(text) as { [key: string]: JsonValue },
    };
  }

  #readHead(): AuditHead | undefined {
    return this.#state.db.prepare<[], AuditHead>("SELECT seq, hash FROM audit_head WHERE id = 1").get();
  }

  #lastRow(): AuditHead | undefined {
    return this.#state.db
      .prepare<[], AuditHead>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
      .get();
  }
}

export const hashEntry = (body: Omit<AuditEntry, "hash">): string =>
  createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");

/** A stored row whose details are no longer plain JSON cannot match any hash append() wrote. */
function safeHash(body: Omit<AuditEntry, "hash" | "details"> & { details: unknown }): string | null {
  try {
    return hashEntry(body as Omit<AuditEntry, "hash">);
  } catch {
    return null;
  }
}

function fromRow(row: Row): AuditEntry {
  return {
    seq: row.seq,
    ts: row.ts,
    action: row.action,
    actor: row.actor,
    subject: row.subject,
    // The column is CHECKed json_valid and written by append(); verify() is the integrity check.
    details: JSON.parse(row.details) as { [key: string]: JsonValue },
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

const unavailable = (message: string, hint?: string, cause?: unknown) =>
  new KeywardError("AUDIT_UNAVAILABLE", message, {
    hint:
      hint ??
      "The audit log must be writable: Keyward refuses destructive actions (revoke, rotate) it cannot record first. Restore write permission on the state database, free disk space, or retry when no other keyward process holds it.",
    ...(cause === undefined ? {} : { cause }),
  });
