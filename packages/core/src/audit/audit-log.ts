/**
 * The audit log: an append-only, hash-chained, keyed record of what Keyward did and was asked to do.
 *
 * Each entry's `hash` is sha256 over the canonical JSON of {seq, ts, action, actor, subject, details,
 * prevHash}, and `prevHash` is the previous entry's hash (64 zeros for the first), so editing or
 * deleting an entry breaks the chain at that point. The stored `details` must be exactly the canonical
 * JSON the hash was made over (otherwise the bytes could change while the hash still matches).
 *
 * A chain alone can be rewritten by anyone who can write state.db: change an entry, re-hash everything
 * after it and the head, and it verifies. So the log is KEYED: each entry also carries `mac`, an
 * HMAC-SHA256 of its hash under a 256-bit key kept only in the vault (age-encrypted), and the head
 * (last seq and hash, written in the same transaction as each entry) carries one too. Without the
 * vault's passphrase nobody can make a MAC, so a forged, re-chained or re-headed log fails `verify()`.
 * The vault also records where keying began (`keyedAfter`: the head when the key was made, seq 0 for a
 * new home) and keying appends an `audit.keyed` entry, so a keyed log is never empty: deleting every
 * row, or the keyed part of an older log, is reported ("emptied", "truncated").
 *
 * A MAC cannot show a ROLLBACK: putting back an older state.db (or its older rows and head, all with
 * genuine MACs) gives a shorter log that verifies. Two things catch that: a copy of the authenticated
 * head kept beside state.db (`headCopyPath`, written after the outermost commit of every append, under
 * its own MAC label; a state.db behind it is "rolled back", and on a keyed log a missing copy is a break
 * of its own, since deleting it would turn that check off), and, stronger, a head copied OFF the machine (`keyward audit head`) and given back
 * to `verify({expectHead})`. Entries written before a home was keyed have no MAC: only their chain is
 * checked, and the vault pins the last of them by hash.
 *
 * Fail closed: callers append the "…requested" entry BEFORE any destructive exchange call. If the
 * entry cannot be written (no key, database read-only, file write-protected, disk full, locked too
 * long, or head and entries disagree or are not authentic), `append` throws AUDIT_UNAVAILABLE and the
 * caller must not go ahead.
 *
 * Entries never carry secrets: details must be plain JSON (a `Secret` object is refused), and the
 * caller can name secret values to check against; an entry mentioning one is refused (AUDIT_INVALID).
 *
 * This file holds the log's types and AuditLog, which composes the parts: appending and its checks
 * (audit-append.ts), the chain's hashes, MACs and head copy (audit-chain.ts), verifying
 * (audit-verify.ts), reading and paging for an operator (audit-query.ts, audit-row.ts).
 */

import type { Secret } from "../domain/secret.js";
import { KeywardError } from "../errors.js";
import { StateDamagedError, type StateStore } from "../store/state-store.js";
import { type AppendContext, appendEntry, keyAuditLog, TAMPERED_HINT, unavailable } from "./audit-append.js";
import { hmac, macMatches, readFileText, readHeadCopy } from "./audit-chain.js";
import { type AuditPage, type AuditQuery, queryAudit } from "./audit-query.js";
import { fromAuditRow } from "./audit-row.js";
import { verifyChain } from "./audit-verify.js";
import type { JsonValue } from "./canonical-json.js";

export { AuditActionSchema } from "./audit-append.js";
export { GENESIS_HASH, hashEntry } from "./audit-chain.js";
export { cachedAuditVerifier } from "./audit-verify.js";

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

export interface AuditHead {
  seq: number;
  hash: string;
}

/** The audit log's key, as the vault keeps it: entries after `keyedAfter` must carry a MAC under `key`. */
export interface AuditKey {
  /** 32 random bytes, base64. */
  key: Secret;
  /** The log's head when the key was made (seq 0 and GENESIS_HASH for a log keyed from its start). */
  keyedAfter: AuditHead;
}

export interface AuditLogOptions {
  /** Clock, for tests. */
  now?: () => Date;
  /** Secrets every append is checked against, asked for at each append (e.g. all the vault's). */
  secrets?: () => Iterable<Secret | string | undefined>;
  /**
   * The key, asked for at each append and verify (KeywardHome: from the opened vault). Without one,
   * `append` refuses and `verify` checks only the hash chain (and says so: `authenticatedFrom` null).
   */
  key?: () => AuditKey | undefined;
  /** Where the copy of the authenticated head lives (KeywardHome: `audit-head.json` in the home). */
  headCopyPath?: string;
}

export type AuditBreak =
  | "hash mismatch"
  | "not canonical"
  | "sequence gap"
  | "prev-hash mismatch"
  | "mac mismatch"
  | "keyed-after mismatch"
  | "truncated"
  | "emptied"
  | "head mismatch"
  | "head copy mismatch"
  | "head copy missing"
  | "rolled back"
  | "expected head mismatch"
  | "missing table";

/**
 * `brokenAt` is the first seq that is not intact: the altered entry (hash mismatch, not canonical,
 * mac mismatch: edited, or re-hashed by someone without the key), the first missing one (sequence
 * gap, truncated, emptied, rolled back), the entry whose link to its predecessor is wrong (prev-hash
 * mismatch), the entry the vault pinned when keying began (keyed-after mismatch), the first entry the
 * head, its copy or the expected head does not account for. `entries` counts the entries checked
 * intact before it. `authenticatedFrom`: the first seq whose MAC was checked (null: no key given);
 * `headCopy`: whether the head copy beside state.db was found and checked.
 */
export type AuditVerifyResult =
  | {
      ok: true;
      entries: number;
      head: AuditHead | null;
      authenticatedFrom: number | null;
      headCopy: boolean;
    }
  | { ok: false; entries: number; brokenAt: number; reason: AuditBreak };

export interface AuditVerifyOptions {
  /** A head copied earlier (`keyward audit head`): the log must still contain exactly that entry. */
  expectHead?: AuditHead;
}

/**
 * MACs under the audit key for other records in state.db that Keyward acts on and must be able to trust
 * (the rotation journal: where secrets go, what runs). `label` separates each kind of record from the
 * others and from the log's own MACs (labels starting `keyward-audit-` are the log's and refused).
 */
export interface RecordAuthenticator {
  /** The MAC of `text` under `label`; AUDIT_UNAVAILABLE without the key (the vault not open). */
  recordMac(label: string, text: string): string;
  /** Whether `stored` is that MAC (constant time); AUDIT_UNAVAILABLE without the key. */
  recordMacMatches(label: string, text: string, stored: string | null | undefined): boolean;
}

/** Same shape as the engines' AuditWriter: an actor is bound once, then append(action, subject, details). */
export interface AuditLogWriter extends RecordAuthenticator {
  append(action: string, subject: string, details?: Record<string, unknown>): Promise<void>;
}

export class AuditLog {
  readonly #state: StateStore;
  readonly #now: () => Date;
  readonly #key: (() => AuditKey | undefined) | undefined;
  readonly #headCopyPath: string | undefined;
  readonly #append: AppendContext;

  constructor(state: StateStore, options: AuditLogOptions = {}) {
    this.#state = state;
    this.#now = options.now ?? (() => new Date());
    this.#key = options.key;
    this.#headCopyPath = options.headCopyPath;
    this.#append = {
      state,
      now: this.#now,
      secrets: options.secrets,
      key: options.key,
      headCopyPath: options.headCopyPath,
    };
  }

  /**
   * Appends one entry and returns it; throws AUDIT_INVALID or AUDIT_UNAVAILABLE and writes nothing.
   * The checks and the write are audit-append.ts's.
   */
  async append(input: AuditAppendInput, options: AuditAppendOptions = {}): Promise<AuditEntry> {
    return appendEntry(this.#append, input, options);
  }

  /**
   * Keys the log: makes the key, appends `input` (e.g. `audit.keyed`) as the first keyed entry, and
   * hands the key to `persist` (KeywardHome saves it in the vault), all under the database's write
   * lock; if `persist` fails the entry is rolled back and the log stays as it was. Entries already
   * in the log stay un-keyed; the vault pins the last of them (`keyedAfter`).
   */
  async keyLog(
    input: AuditAppendInput,
    persist: (key: AuditKey) => Promise<void> | void,
  ): Promise<AuditEntry> {
    return keyAuditLog(this.#append, input, persist);
  }

  /** Binds an actor (and secrets to check against) for the engines' `append(action, subject, details)`. */
  writer(actor: string, options: AuditAppendOptions = {}): AuditLogWriter {
    return {
      append: async (action, subject, details) => {
        await this.append({ action, actor, subject, details }, options);
      },
      recordMac: (label, text) => this.recordMac(label, text),
      recordMacMatches: (label, text, stored) => this.recordMacMatches(label, text, stored),
    };
  }

  /** See RecordAuthenticator. */
  recordMac(label: string, text: string): string {
    if (!/^keyward-[a-z0-9-]+$/.test(label) || label.startsWith("keyward-audit-")) {
      throw new KeywardError("INTERNAL", `"${label}" is not a record MAC label`);
    }
    const key = this.#key?.();
    if (key === undefined) {
      throw unavailable(
        `Records in ${this.#state.location} cannot be authenticated without the audit key.`,
        "The audit key is kept in the vault: open it first. (A caller that does not is a bug.)",
      );
    }
    return hmac(key, `${label}\n${text}`);
  }

  /** See RecordAuthenticator. */
  recordMacMatches(label: string, text: string, stored: string | null | undefined): boolean {
    return macMatches(stored, this.recordMac(label, text));
  }

  /**
   * Entries in seq order (oldest first unless `newestFirst`). `since`: entries at or after this time;
   * `afterSeq`: entries after this seq (to follow the log); `limit`: at most this many.
   */
  async list(
    query: { since?: Date | string; afterSeq?: number; limit?: number; newestFirst?: boolean } = {},
  ): Promise<AuditEntry[]> {
    let sinceTs: string | undefined;
    if (query.since !== undefined) {
      const since = new Date(query.since);
      if (Number.isNaN(since.getTime())) {
        throw new KeywardError("CONFIG_INVALID", `"${String(query.since)}" is not a date or time.`, {
          hint: "Use an ISO 8601 date or time, e.g. 2025-01-31 or 2025-01-31T09:00:00Z.",
        });
      }
      // Stored ts are all toISOString() output, so string order is time order.
      sinceTs = since.toISOString();
    }
    const rows = await this.#damaged(() =>
      this.#state.auditRows({
        ...(sinceTs === undefined ? {} : { sinceTs }),
        ...(query.afterSeq === undefined ? {} : { afterSeq: query.afterSeq }),
        ...(query.limit === undefined ? {} : { limit: query.limit }),
        ...(query.newestFirst ? { newestFirst: true } : {}),
      }),
    );
    return rows.map(fromAuditRow);
  }

  /**
   * One page of the entries matching an operator's filters, newest first (see audit-query.ts). Throws
   * AuditQueryError naming the field that is wrong (a time that is not one).
   */
  async page(query: AuditQuery = {}): Promise<AuditPage> {
    return this.#damaged(() => queryAudit(this.#state, query, this.#now()));
  }

  /**
   * A text that is the same for two calls only when `verify(options)` would answer the same: the
   * store's change stamp (moved by every write, this process's or another's: a tamperer's too), the
   * head copy's text, the key's presence and `expectHead`. Undefined when it cannot be told (then verify).
   */
  async verifyStamp(options: AuditVerifyOptions = {}): Promise<string | undefined> {
    try {
      const key = this.#key?.();
      return JSON.stringify([
        await this.#state.auditVersion(),
        this.#headCopyPath === undefined ? "" : readFileText(this.#headCopyPath),
        key === undefined ? null : key.keyedAfter,
        options.expectHead ?? null,
      ]);
    } catch {
      return undefined;
    }
  }

  /** The chain's head as recorded with the last append, or null for an empty log. Not verified. */
  async head(): Promise<AuditHead | null> {
    const head = await this.#damaged(() => this.#state.auditHead());
    return head === undefined ? null : { seq: head.seq, hash: head.hash };
  }

  /** A missing table or column is a damaged log (AUDIT_UNAVAILABLE naming verify), not an internal error. */
  async #damaged<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof StateDamagedError) {
        const detail = error.cause instanceof Error ? error.cause.message : error.message;
        throw new KeywardError(
          "AUDIT_UNAVAILABLE",
          `The audit log at ${this.#state.location} is damaged (${detail}).`,
          { hint: TAMPERED_HINT, cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * Re-checks the whole chain, every MAC (with a key), the head, its copy and `expectHead`; names the
   * FIRST broken entry. Works read-only. A missing table is a broken log, not an error.
   */
  async verify(options: AuditVerifyOptions = {}): Promise<AuditVerifyResult> {
    const key = this.#key?.();
    // Read before the rows: the copy is written after each commit, so read first it cannot be ahead
    // of the rows read next unless the database really went back.
    const copy = this.#headCopyPath === undefined ? "missing" : readHeadCopy(this.#headCopyPath);
    const missing: AuditVerifyResult = { ok: false, entries: 0, brokenAt: 1, reason: "missing table" };
    try {
      if (!(await this.#state.auditPresent())) return missing;
      // One snapshot: a concurrent append cannot slip between reading the rows and the head.
      const [head, rows] = await this.#state.snapshot(
        async () => [(await this.#state.auditHead()) ?? null, await this.#state.auditRows()] as const,
      );
      return verifyChain(key, copy, options.expectHead, head, rows, this.#headCopyPath !== undefined);
    } catch (error) {
      if (error instanceof StateDamagedError) return missing;
      throw error;
    }
  }
}
