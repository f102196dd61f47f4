/**
 * The audit log's SQL (see StateStore in ../state-store.ts): its rows (`audit_log`) and head
 * (`audit_head`, written with each entry in one atomic step), the filters and keyset paging of
 * AuditRowQuery, counts and the change stamp. The hash chain, MACs and verify are audit/audit-log.ts's.
 */
import type { AuditFilterQuery, AuditHeadRecord, AuditRecord, AuditRowQuery } from "../state-store.js";
import type { SqliteConnection } from "./connection.js";

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

export function auditPresent(c: SqliteConnection): Promise<boolean> {
  return c.read(
    () =>
      c.db
        .prepare<[], { name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('audit_log', 'audit_head')",
        )
        .all().length === 2,
  );
}

export function appendAudit(c: SqliteConnection, entry: AuditRecord, head: AuditHeadRecord): Promise<void> {
  return c.write("append to the audit log", () => {
    c.db
      .transaction(() => {
        c.db
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
        c.db
          .prepare(
            "INSERT INTO audit_head (id, seq, hash, mac) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac",
          )
          .run(head.seq, head.hash, head.mac);
      })
      .immediate();
  });
}

export function auditHead(c: SqliteConnection): Promise<AuditHeadRecord | undefined> {
  return c.read(() =>
    c.db.prepare<[], AuditHeadRecord>("SELECT seq, hash, mac FROM audit_head WHERE id = 1").get(),
  );
}

export function lastAudit(c: SqliteConnection): Promise<{ seq: number; hash: string } | undefined> {
  return c.read(() =>
    c.db
      .prepare<[], { seq: number; hash: string }>("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
      .get(),
  );
}

export function auditHashAt(c: SqliteConnection, seq: number): Promise<string | undefined> {
  return c.read(
    () => c.db.prepare<[number], { hash: string }>("SELECT hash FROM audit_log WHERE seq = ?").get(seq)?.hash,
  );
}

export function auditCount(c: SqliteConnection, query: AuditFilterQuery = {}): Promise<number> {
  const { where, params } = auditWhere(query);
  const sql = `SELECT count(*) AS n FROM audit_log${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`;
  return c.read(() => c.db.prepare<(string | number)[], { n: number }>(sql).get(...params)?.n ?? 0);
}

export function auditVersion(c: SqliteConnection): Promise<string> {
  // data_version moves when ANOTHER connection commits; total_changes counts this connection's own.
  return c.read(
    () =>
      `${c.db.pragma("data_version", { simple: true })}:${c.db.prepare("SELECT total_changes() AS n").pluck().get()}`,
  );
}

export function auditRows(c: SqliteConnection, query: AuditRowQuery = {}): Promise<AuditRecord[]> {
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
  return c.read(() =>
    c.db
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
    const text = "instr(lower(action || ' ' || actor || ' ' || subject || ' ' || details), lower(?)) > 0";
    const keys = q.searchKeys ?? [];
    where.push(`(${[text, ...keys.map(() => "substr(subject, -length(?)) = ?")].join(" OR ")})`);
    params.push(q.search);
    for (const k of keys) params.push(`:${k}`, `:${k}`);
  }
  return { where, params };
}
