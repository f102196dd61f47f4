/**
 * Verifying the audit log (see audit-log.ts for what is checked and why): `verifyChain` walks the rows
 * once and names the FIRST entry that is not intact; `cachedAuditVerifier` runs verify again only when
 * the log may have changed.
 */
import type { AuditRecord } from "../store/state-store.js";
import {
  entryMac,
  GENESIS_HASH,
  type HeadRow,
  headCopyMac,
  headMac,
  macMatches,
  safeCanonical,
  safeHash,
} from "./audit-chain.js";
import type {
  AuditBreak,
  AuditHead,
  AuditKey,
  AuditLog,
  AuditVerifyOptions,
  AuditVerifyResult,
} from "./audit-log.js";

/**
 * The chain's status from the rows and head read in one snapshot, the head copy (`copyRequired`: the log
 * has a place for one, so on a keyed log a missing copy is a break), the key and an expected head.
 */
export function verifyChain(
  key: AuditKey | undefined,
  copy: HeadRow | "missing",
  expect: AuditHead | undefined,
  head: HeadRow | null,
  rows: readonly AuditRecord[],
  copyRequired: boolean,
): AuditVerifyResult {
  const keyedAfter = key?.keyedAfter.seq ?? Number.POSITIVE_INFINITY;
  // The hashes at the seqs something else vouches for: the vault's keyedAfter, the copy, expectHead.
  const pinned = new Map<number, string>();
  const wanted = new Set([key?.keyedAfter.seq, typeof copy === "object" ? copy.seq : undefined, expect?.seq]);
  pinned.set(0, GENESIS_HASH);
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const fail = (brokenAt: number, reason: AuditBreak, entries = expectedSeq - 1): AuditVerifyResult => ({
    ok: false,
    entries: Math.min(entries, brokenAt - 1),
    brokenAt,
    reason,
  });
  for (const row of rows) {
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
      prevHash: row.prevHash,
    };
    if (safeHash(body) !== row.hash) return fail(row.seq, "hash mismatch");
    // The hash is over the PARSED details: other bytes that parse the same would go unnoticed.
    if (safeCanonical(details) !== row.details) return fail(row.seq, "not canonical");
    if (row.prevHash !== prevHash) return fail(row.seq, "prev-hash mismatch");
    if (key !== undefined && row.seq > keyedAfter && !macMatches(row.mac, entryMac(key, row.hash))) {
      return fail(row.seq, "mac mismatch");
    }
    if (row.seq === keyedAfter && row.hash !== key?.keyedAfter.hash) {
      return fail(row.seq, "keyed-after mismatch");
    }
    if (wanted.has(row.seq)) pinned.set(row.seq, row.hash);
    prevHash = row.hash;
    expectedSeq++;
  }
  const count = expectedSeq - 1;
  // Keying appends an entry, so a keyed log holds at least keyedAfter + 1 entries.
  if (key !== undefined && count <= key.keyedAfter.seq) {
    return count === 0 ? fail(1, "emptied") : fail(count + 1, "truncated");
  }
  if (head === null) {
    if (count !== 0) return fail(1, "head mismatch", 0);
  } else {
    if (head.seq > count) return fail(count + 1, "truncated");
    if (head.seq < count) return fail(head.seq + 1, "head mismatch");
    if (head.hash !== prevHash) return fail(count, "head mismatch");
    if (key !== undefined && head.seq > keyedAfter && !macMatches(head.mac, headMac(key, head))) {
      return fail(count, "head mismatch");
    }
  }
  // The copy is written with keying and after every append since: on a keyed log, no copy means it
  // was deleted (or garbled), which would otherwise turn the rollback check off. A copy that lags (a
  // crash between a commit and its copy) is accepted below; one ahead of the log is not.
  if (copy === "missing" && key !== undefined && copyRequired) {
    return fail(count + 1, "head copy missing", count);
  }
  if (typeof copy === "object" && key !== undefined && !macMatches(copy.mac, headCopyMac(key, copy))) {
    return fail(count + 1, "head copy mismatch", count);
  }
  if (typeof copy === "object") {
    if (copy.seq > count) return fail(count + 1, "rolled back");
    if (pinned.get(copy.seq) !== copy.hash) return fail(copy.seq, "head copy mismatch");
  }
  if (expect !== undefined) {
    if (expect.seq > count) return fail(count + 1, "rolled back");
    if (pinned.get(expect.seq) !== expect.hash) return fail(expect.seq, "expected head mismatch");
  }
  return {
    ok: true,
    entries: count,
    head: head === null ? null : { seq: head.seq, hash: head.hash },
    authenticatedFrom: key === undefined ? null : key.keyedAfter.seq + 1,
    headCopy: typeof copy === "object",
  };
}

/**
 * `verify()` again only when the log may have changed since the last call (`verifyStamp`): a page load of
 * a 100k-entry log must not re-hash and re-MAC every entry. Keep one per home (the web server does).
 */
export function cachedAuditVerifier(): (
  log: AuditLog,
  options?: AuditVerifyOptions,
) => Promise<AuditVerifyResult> {
  let last: { stamp: string; result: AuditVerifyResult } | undefined;
  return async (log, options = {}) => {
    const stamp = await log.verifyStamp(options);
    if (stamp !== undefined && last?.stamp === stamp) return last.result;
    const result = await log.verify(options);
    last = stamp === undefined ? undefined : { stamp, result };
    return result;
  };
}
