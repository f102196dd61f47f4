/** A stored audit row as an entry (the reading side of audit-log.ts and audit-query.ts). */
import type { AuditRecord } from "../store/state-store.js";
import type { AuditEntry } from "./audit-log.js";
import type { JsonValue } from "./canonical-json.js";

export function fromAuditRow(row: AuditRecord): AuditEntry {
  return {
    seq: row.seq,
    ts: row.ts,
    action: row.action,
    actor: row.actor,
    subject: row.subject,
    // The column is CHECKed json_valid and written by append(); verify() is the integrity check.
    details: JSON.parse(row.details) as { [key: string]: JsonValue },
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
