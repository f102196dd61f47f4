import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog, GENESIS_HASH } from "../src/audit/audit-log.js";
import { KeywardError, Secret } from "../src/index.js";
import { StateDatabase } from "../src/store/database.js";

let dir: string;
let path: string;
const opened: StateDatabase[] = [];
const openDb = (options?: Parameters<typeof StateDatabase.open>[1]) => {
  const db = StateDatabase.open(path, options);
  opened.push(db);
  return db;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-audit-"));
  path = join(dir, "state.db");
});
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A deterministic clock: one second per call. */
const clock = () => {
  let t = Date.parse("2025-06-01T12:00:00.000Z");
  return () => {
    t += 1000;
    return new Date(t);
  };
};

function caught(fn: () => unknown): KeywardError {
  try {
    fn();
  } catch (error) {
    if (error instanceof KeywardError) return error;
    throw error;
  }
  throw new Error("expected a KeywardError");
}

/** Tampering, as someone with the file would: the append-only triggers are dropped first. */
function tamper(db: StateDatabase, sql: string, ...params: unknown[]): void {
  db.db.exec("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;");
  db.db.prepare(sql).run(...params);
}

function seed(log: AuditLog, n: number): void {
  for (let i = 1; i <= n; i++) {
    log.append({ action: "key.tracked", actor: "cli:test", subject: `bfx:main:-:k${i}`, details: { n: i } });
  }
}

describe("AuditLog", () => {
  it("appends a hash chain whose hashes follow the documented recipe", () => {
    const log = new AuditLog(openDb(), { now: clock() });
    const first = log.append({
      action: "revoke.requested",
      actor: "cli:alice@ops-1",
      subject: "revoke",
      details: {
        keys: ["okx:main:-:abc"],
        byApi: 1,
        nested: { z: 1, a: [true, null, "x"] },
        skipped: undefined,
      },
    });
    const second = log.append({ action: "revoke.done", actor: "cli:alice@ops-1", subject: "okx:main:-:abc" });

    expect(first).toMatchObject({ seq: 1, ts: "2025-06-01T12:00:01.000Z", prevHash: GENESIS_HASH });
    expect(GENESIS_HASH).toBe("0".repeat(64));
    expect(first.details).toEqual({
      byApi: 1,
      keys: ["okx:main:-:abc"],
      nested: { a: [true, null, "x"], z: 1 },
    });
    // Written out by hand: sorted keys, no whitespace.
    const canonical =
      '{"action":"revoke.requested","actor":"cli:alice@ops-1","details":{"byApi":1,"keys":["okx:main:-:abc"],' +
      '"nested":{"a":[true,null,"x"],"z":1}},"prevHash":"' +
      GENESIS_HASH +
      '","seq":1,"subject":"revoke","ts":"2025-06-01T12:00:01.000Z"}';
    expect(first.hash).toBe(createHash("sha256").update(canonical).digest("hex"));
    expect(second).toMatchObject({ seq: 2, prevHash: first.hash, details: {} });

    expect(log.verify()).toEqual({ ok: true, entries: 2, head: { seq: 2, hash: second.hash } });
    expect(log.list()).toEqual([first, second]);
  });

  it("lists by time, by seq, newest first and with a limit", () => {
    const log = new AuditLog(openDb(), { now: clock() });
    seed(log, 5);
    expect(log.list({ since: "2025-06-01T12:00:03Z" }).map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.list({ afterSeq: 3 }).map((e) => e.seq)).toEqual([4, 5]);
    expect(log.list({ limit: 2 }).map((e) => e.seq)).toEqual([1, 2]);
    expect(log.list({ limit: 2, newestFirst: true }).map((e) => e.seq)).toEqual([5, 4]);
    expect(caught(() => log.list({ since: "last tuesday" })).code).toBe("CONFIG_INVALID");
  });

  it("is append-only: UPDATE and DELETE are refused by the database", () => {
    const db = openDb();
    seed(new AuditLog(db), 2);
    expect(() => db.db.prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run()).toThrow(
      /append-only/,
    );
    expect(() => db.db.prepare("DELETE FROM audit_log WHERE seq = 2").run()).toThrow(/append-only/);
  });

  it("detects an edited entry (hash mismatch at that entry)", () => {
    const db = openDb();
    const log = new AuditLog(db);
    seed(log, 4);
    tamper(db, "UPDATE audit_log SET details = ? WHERE seq = 2", '{"n":200}');
    expect(log.verify()).toEqual({ ok: false, entries: 1, brokenAt: 2, reason: "hash mismatch" });
  });

  it("detects an entry edited and re-hashed (prev-hash mismatch at the next entry)", () => {
    const db = openDb();
    const log = new AuditLog(db);
    seed(log, 4);
    const row = log.list()[1];
    if (row === undefined) throw new Error("no row 2");
    const forged = { ...row, subject: "someone-else" };
    const { hash: _old, ...body } = forged;
    const canonical = JSON.stringify(
      Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1))),
    );
    tamper(db, "UPDATE audit_log SET subject = ?, hash = ? WHERE seq = 2", forged.subject, sha256(canonical));
    expect(log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "prev-hash mismatch" });
  });

  it("detects a deleted middle entry (sequence gap at the missing seq)", () => {
    const db = openDb();
    const log = new AuditLog(db);
    seed(log, 5);
    tamper(db, "DELETE FROM audit_log WHERE seq = 3");
    expect(log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "sequence gap" });
  });

  it("detects a deleted last entry through the head, and refuses to append over it", () => {
    const db = openDb();
    const log = new AuditLog(db);
    seed(log, 3);
    tamper(db, "DELETE FROM audit_log WHERE seq = 3");
    expect(log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "truncated" });
    // Appending would chain past the hole and hide it: refused, fail closed.
    const error = caught(() =>
      log.append({ action: "revoke.requested", actor: "cli:test", subject: "revoke" }),
    );
    expect(error.code).toBe("AUDIT_UNAVAILABLE");
    expect(error.hint).toContain("audit verify");
  });

  it("detects a forged head, and rows added behind append()'s back", () => {
    const db = openDb();
    const log = new AuditLog(db);
    seed(log, 2);
    tamper(db, "UPDATE audit_head SET hash = ?", "f".repeat(64));
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 2, reason: "head mismatch" });
    tamper(db, "DELETE FROM audit_head");
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 1, reason: "head mismatch" });
  });

  it("fails closed on a write-protected database file (AUDIT_UNAVAILABLE, even as root)", () => {
    const writable = openDb();
    seed(new AuditLog(writable), 2);
    writable.close();
    chmodSync(path, 0o444);

    const log = new AuditLog(openDb());
    const error = caught(() =>
      log.append({ action: "revoke.requested", actor: "cli:test", subject: "revoke" }),
    );
    expect(error.code).toBe("AUDIT_UNAVAILABLE");
    expect(error.hint).toMatch(/must be writable.*destructive actions/);
    // Reading and verifying still work on a frozen log.
    expect(log.verify()).toMatchObject({ ok: true, entries: 2 });
    expect(log.list()).toHaveLength(2);
  });

  it("fails closed when the file is write-protected while a process holds it open", () => {
    const db = openDb();
    const log = new AuditLog(db);
    seed(log, 1);
    chmodSync(path, 0o444);
    expect(caught(() => seed(log, 1)).code).toBe("AUDIT_UNAVAILABLE");
    chmodSync(path, 0o600);
    seed(log, 1);
    expect(log.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it("fails closed when opened read-only, and when another writer holds the lock too long", () => {
    openDb().close();
    const ro = new AuditLog(openDb({ readonly: true }));
    expect(caught(() => seed(ro, 1)).code).toBe("AUDIT_UNAVAILABLE");

    const holder = openDb();
    const log = new AuditLog(openDb({ busyTimeoutMs: 50 }));
    holder.db.exec("BEGIN IMMEDIATE");
    try {
      const error = caught(() => seed(log, 1));
      expect(error.code).toBe("AUDIT_UNAVAILABLE");
      expect(error.message).toContain("SQLITE_BUSY");
    } finally {
      holder.db.exec("ROLLBACK");
    }
    seed(log, 1);
    expect(log.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it("keeps one chain across several connections (processes) appending in turn", () => {
    const a = new AuditLog(openDb());
    const b = new AuditLog(openDb());
    for (let i = 0; i < 10; i++) seed(i % 2 === 0 ? a : b, 1);
    expect(a.verify()).toMatchObject({ ok: true, entries: 10 });
    expect(b.list().map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("refuses malformed entries (AUDIT_INVALID) and writes nothing", () => {
    const log = new AuditLog(openDb());
    const bad = [
      { action: "Revoke.Requested", actor: "cli", subject: "s" },
      { action: "revoke", actor: "cli", subject: "s" },
      { action: "revoke.requested", actor: "", subject: "s" },
      { action: "revoke.requested", actor: "cli", subject: "s", details: { when: new Date() } },
      { action: "revoke.requested", actor: "cli", subject: "s", details: { n: Number.NaN } },
      {
        action: "revoke.requested",
        actor: "cli",
        subject: "s",
        details: [1] as unknown as Record<string, unknown>,
      },
    ];
    for (const input of bad) expect(caught(() => log.append(input)).code).toBe("AUDIT_INVALID");
    for (const action of [
      "account.added",
      "account.removed",
      "key.tracked",
      "key.untracked",
      "revoke.requested",
      "revoke.done",
      "revoke.failed",
      "revoke.verified",
      "revoke.manual-steps",
      "manual.confirmed",
      "rotation.new-key-created",
    ]) {
      log.append({ action, actor: "cli", subject: "s" });
    }
    expect(log.verify()).toMatchObject({ ok: true, entries: 11 });
  });

  it("refuses details carrying a secret, a Secret object, or a known secret value", () => {
    const secret = new Secret("sk-LIVE-0123456789abcdef");
    const fromVault = "vault-held-secret-value";
    const log = new AuditLog(openDb(), { secrets: () => [fromVault] });
    const append = (details: Record<string, unknown>, subject = "okx:main:-:abc") =>
      log.append({ action: "revoke.failed", actor: "cli", subject, details }, { secrets: [secret] });

    const cases: Array<[Record<string, unknown>, string?]> = [
      [{ credentials: secret }],
      [{ message: `signature failed for secret ${secret.reveal()} (debug)` }],
      [{ nested: [{ deep: secret.reveal() }] }],
      [{ [secret.reveal()]: "as a key" }],
      [{ message: `boom ${fromVault}` }],
      [{}, `subject-${fromVault}`],
    ];
    for (const [details, subject] of cases) {
      const error = caught(() => append(details, subject));
      expect(error.code).toBe("AUDIT_INVALID");
      const text = `${error.describe()} ${JSON.stringify(error)}`;
      expect(text).not.toContain(secret.reveal());
      expect(text).not.toContain(fromVault);
    }
    expect(log.list()).toEqual([]);

    // The redacted form is fine, and so is an API key (a public identifier).
    append({ secret: "[redacted]", apiKey: "okx-public-api-key", code: "EXCHANGE_AUTH" });
    expect(log.verify()).toMatchObject({ ok: true, entries: 1 });
  });

  it("offers the engines' append(action, subject, details) shape with the actor bound", () => {
    const log = new AuditLog(openDb());
    const secret = new Secret("bound-secret-value-42");
    const writer = log.writer("cli:bob@ops-2", { secrets: [secret] });
    writer.append("revoke.requested", "revoke", { keys: ["a", "b"] });
    writer.append("revoke.done", "a");
    expect(() => writer.append("revoke.failed", "b", { message: secret.reveal() })).toThrow(KeywardError);
    expect(log.list().map((e) => [e.actor, e.action, e.subject])).toEqual([
      ["cli:bob@ops-2", "revoke.requested", "revoke"],
      ["cli:bob@ops-2", "revoke.done", "a"],
    ]);
  });
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
