import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type AuditKey,
  AuditLog,
  type AuditLogOptions,
  GENESIS_HASH,
  hashEntry,
} from "../src/audit/audit-log.js";
import { canonicalJson } from "../src/audit/canonical-json.js";
import { emptyConfig, KeywardError, KeywardHome, Secret, Vault } from "../src/index.js";
import { MIGRATIONS } from "../src/store/sqlite/migrations.js";
import { SqliteStateStore, sqliteHandleForTests } from "../src/store/sqlite/sqlite-state-store.js";

let dir: string;
let path: string;
const opened: SqliteStateStore[] = [];
const openDb = (options?: Parameters<typeof SqliteStateStore.open>[1]) => {
  const db = SqliteStateStore.open(path, options);
  opened.push(db);
  return db;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-audit-"));
  path = join(dir, "state.db");
});
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The key a vault would hold, made by keying the test's log: entry 1 is `audit.keyed`, written by
 * keyLog() on the first writable connection a test opens.
 */
let KEY: AuditKey | undefined;
beforeEach(() => {
  KEY = undefined;
});
async function keyedLog(db: SqliteStateStore, options: AuditLogOptions = {}): Promise<AuditLog> {
  if (KEY === undefined && (await db.isWritable())) {
    await new AuditLog(db).keyLog(
      { action: "audit.keyed", actor: "cli:test", subject: "audit-log" },
      (key) => {
        KEY = key;
      },
    );
  }
  return new AuditLog(db, { key: () => KEY, ...options });
}
const theKey = (): AuditKey => {
  if (KEY === undefined) throw new Error("the test's log is not keyed");
  return KEY;
};

/** A deterministic clock: one second per call. */
const clock = () => {
  let t = Date.parse("2025-06-01T12:00:00.000Z");
  return () => {
    t += 1000;
    return new Date(t);
  };
};

async function caught(fn: () => unknown): Promise<KeywardError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof KeywardError) return error;
    throw error;
  }
  throw new Error("expected a KeywardError");
}

/** Tampering, as someone with the file would: the append-only triggers are dropped first. */
function tamper(db: SqliteStateStore, sql: string, ...params: unknown[]): void {
  sqliteHandleForTests(db).exec(
    "DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;",
  );
  sqliteHandleForTests(db)
    .prepare(sql)
    .run(...params);
}

async function seed(log: AuditLog, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) {
    await log.append({
      action: "key.tracked",
      actor: "cli:test",
      subject: `bfx:main:-:k${i}`,
      details: { n: i },
    });
  }
}

describe("AuditLog", () => {
  it("appends a hash chain whose hashes follow the documented recipe", async () => {
    const log = await keyedLog(openDb(), { now: clock() });
    const first = await log.append({
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
    const second = await log.append({
      action: "revoke.done",
      actor: "cli:alice@ops-1",
      subject: "okx:main:-:abc",
    });
    const keyed = (await log.list())[0];
    expect(keyed).toMatchObject({ seq: 1, action: "audit.keyed", prevHash: GENESIS_HASH });

    expect(first).toMatchObject({ seq: 2, ts: "2025-06-01T12:00:01.000Z", prevHash: keyed?.hash });
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
      keyed?.hash +
      '","seq":2,"subject":"revoke","ts":"2025-06-01T12:00:01.000Z"}';
    expect(first.hash).toBe(createHash("sha256").update(canonical).digest("hex"));
    expect(second).toMatchObject({ seq: 3, prevHash: first.hash, details: {} });

    expect(await log.verify()).toEqual({
      ok: true,
      entries: 3,
      head: { seq: 3, hash: second.hash },
      authenticatedFrom: 1,
      headCopy: false,
    });
    expect(await log.list()).toEqual([keyed, first, second]);
  });

  it("lists by time, by seq, newest first and with a limit", async () => {
    const log = await keyedLog(openDb(), { now: clock() });
    await seed(log, 5);
    // Entry 1 is audit.keyed, written now (after 2025 by the real clock); 2-6 by the test's clock.
    expect((await log.list({ since: "2025-06-01T12:00:03Z" })).map((e) => e.seq)).toEqual([1, 4, 5, 6]);
    expect((await log.list({ afterSeq: 3 })).map((e) => e.seq)).toEqual([4, 5, 6]);
    expect((await log.list({ limit: 2 })).map((e) => e.seq)).toEqual([1, 2]);
    expect((await log.list({ limit: 2, newestFirst: true })).map((e) => e.seq)).toEqual([6, 5]);
    expect((await caught(() => log.list({ since: "last tuesday" }))).code).toBe("CONFIG_INVALID");
  });

  it("is append-only: UPDATE and DELETE are refused by the database", async () => {
    const db = openDb();
    await seed(await keyedLog(db), 2);
    expect(() =>
      sqliteHandleForTests(db).prepare("UPDATE audit_log SET actor = 'x' WHERE seq = 1").run(),
    ).toThrow(/append-only/);
    expect(() => sqliteHandleForTests(db).prepare("DELETE FROM audit_log WHERE seq = 2").run()).toThrow(
      /append-only/,
    );
  });

  it("detects an edited entry (hash mismatch at that entry)", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 4);
    tamper(db, "UPDATE audit_log SET details = ? WHERE seq = 2", '{"n":200}');
    expect(await log.verify()).toEqual({ ok: false, entries: 1, brokenAt: 2, reason: "hash mismatch" });
  });

  it("detects an entry edited and re-hashed without the key (mac mismatch at that entry)", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 4);
    const row = (await log.list())[1];
    if (row === undefined) throw new Error("no row 2");
    const forged = { ...row, subject: "someone-else" };
    const { hash: _old, ...body } = forged;
    const canonical = JSON.stringify(
      Object.fromEntries(Object.entries(body).sort(([a], [b]) => (a < b ? -1 : 1))),
    );
    tamper(db, "UPDATE audit_log SET subject = ?, hash = ? WHERE seq = 2", forged.subject, sha256(canonical));
    expect(await log.verify()).toEqual({ ok: false, entries: 1, brokenAt: 2, reason: "mac mismatch" });
    // Without the key only the chain can be checked: the re-hash shows at the next link.
    expect(await new AuditLog(db).verify()).toEqual({
      ok: false,
      entries: 2,
      brokenAt: 3,
      reason: "prev-hash mismatch",
    });
  });

  it("detects a deleted middle entry (sequence gap at the missing seq)", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 5);
    tamper(db, "DELETE FROM audit_log WHERE seq = 3");
    expect(await log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "sequence gap" });
  });

  it("detects a deleted last entry through the head, and refuses to append over it", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 2);
    tamper(db, "DELETE FROM audit_log WHERE seq = 3");
    expect(await log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "truncated" });
    // Appending would chain past the hole and hide it: refused, fail closed.
    const error = await caught(
      async () => await log.append({ action: "revoke.requested", actor: "cli:test", subject: "revoke" }),
    );
    expect(error.code).toBe("AUDIT_UNAVAILABLE");
    expect(error.hint).toContain("audit verify");
  });

  it("detects a forged head, and rows added behind append()'s back", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 2);
    tamper(db, "UPDATE audit_head SET hash = ?", "f".repeat(64));
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 3, reason: "head mismatch" });
    tamper(db, "DELETE FROM audit_head");
    expect(await log.verify()).toMatchObject({ ok: false, brokenAt: 1, reason: "head mismatch" });
  });

  it("fails closed on a write-protected database file (AUDIT_UNAVAILABLE, even as root)", async () => {
    const writable = openDb();
    await seed(await keyedLog(writable), 2);
    await writable.close();
    chmodSync(path, 0o444);

    const log = await keyedLog(openDb());
    const error = await caught(
      async () => await log.append({ action: "revoke.requested", actor: "cli:test", subject: "revoke" }),
    );
    expect(error.code).toBe("AUDIT_UNAVAILABLE");
    expect(error.hint).toMatch(/must be writable.*destructive actions/);
    // Reading and verifying still work on a frozen log.
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3 });
    expect(await log.list()).toHaveLength(3);
  });

  it("fails closed when the file is write-protected while a process holds it open", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 1);
    chmodSync(path, 0o444);
    expect((await caught(() => seed(log, 1))).code).toBe("AUDIT_UNAVAILABLE");
    chmodSync(path, 0o600);
    await seed(log, 1);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3 });
  });

  it("fails closed when opened read-only, and when another writer holds the lock too long", async () => {
    await openDb().close();
    const ro = await keyedLog(openDb({ readonly: true }));
    expect((await caught(() => seed(ro, 1))).code).toBe("AUDIT_UNAVAILABLE");

    const holder = openDb();
    const log = await keyedLog(openDb({ busyTimeoutMs: 50 }));
    sqliteHandleForTests(holder).exec("BEGIN IMMEDIATE");
    try {
      const error = await caught(() => seed(log, 1));
      expect(error.code).toBe("AUDIT_UNAVAILABLE");
      expect(error.message).toContain("SQLITE_BUSY");
    } finally {
      sqliteHandleForTests(holder).exec("ROLLBACK");
    }
    await seed(log, 1);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it("keeps one chain across several connections (processes) appending in turn", async () => {
    const a = await keyedLog(openDb());
    const b = await keyedLog(openDb());
    for (let i = 0; i < 10; i++) await seed(i % 2 === 0 ? a : b, 1);
    expect(await a.verify()).toMatchObject({ ok: true, entries: 11 });
    expect((await b.list()).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("refuses malformed entries (AUDIT_INVALID) and writes nothing", async () => {
    const log = await keyedLog(openDb());
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
    for (const input of bad) expect((await caught(() => log.append(input))).code).toBe("AUDIT_INVALID");
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
      await log.append({ action, actor: "cli", subject: "s" });
    }
    expect(await log.verify()).toMatchObject({ ok: true, entries: 12 });
  });

  it("refuses details carrying a secret, a Secret object, or a known secret value", async () => {
    const secret = new Secret("sk-LIVE-0123456789abcdef");
    const fromVault = "vault-held-secret-value";
    const log = await keyedLog(openDb(), { secrets: () => [fromVault] });
    const append = async (details: Record<string, unknown>, subject = "okx:main:-:abc") =>
      await log.append({ action: "revoke.failed", actor: "cli", subject, details }, { secrets: [secret] });

    const cases: Array<[Record<string, unknown>, string?]> = [
      [{ credentials: secret }],
      [{ message: `signature failed for secret ${secret.reveal()} (debug)` }],
      [{ nested: [{ deep: secret.reveal() }] }],
      [{ [secret.reveal()]: "as a key" }],
      [{ message: `boom ${fromVault}` }],
      [{}, `subject-${fromVault}`],
    ];
    for (const [details, subject] of cases) {
      const error = await caught(() => append(details, subject));
      expect(error.code).toBe("AUDIT_INVALID");
      const text = `${error.describe()} ${JSON.stringify(error)}`;
      expect(text).not.toContain(secret.reveal());
      expect(text).not.toContain(fromVault);
    }
    expect((await log.list()).map((e) => e.action)).toEqual(["audit.keyed"]);

    // The redacted form is fine, and so is an API key (a public identifier).
    await append({ secret: "[redacted]", apiKey: "okx-public-api-key", code: "EXCHANGE_AUTH" });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 2 });
  });

  it("offers the engines' append(action, subject, details) shape with the actor bound", async () => {
    const log = await keyedLog(openDb());
    const secret = new Secret("bound-secret-value-42");
    const writer = log.writer("cli:bob@ops-2", { secrets: [secret] });
    await writer.append("revoke.requested", "revoke", { keys: ["a", "b"] });
    await writer.append("revoke.done", "a");
    await expect(writer.append("revoke.failed", "b", { message: secret.reveal() })).rejects.toThrow(
      KeywardError,
    );
    expect((await log.list({ afterSeq: 1 })).map((e) => [e.actor, e.action, e.subject])).toEqual([
      ["cli:bob@ops-2", "revoke.requested", "revoke"],
      ["cli:bob@ops-2", "revoke.done", "a"],
    ]);
  });
});

/** Appends an entry as someone holding state.db but not the key would: valid hash and chain, a guessed MAC. */
function forge(db: SqliteStateStore, seq: number, prevHash: string, subject: string): string {
  const body = {
    seq,
    ts: new Date().toISOString(),
    action: "key.tracked",
    actor: "cli:test",
    subject,
    details: { forged: true },
    prevHash,
  };
  const hash = hashEntry(body);
  tamper(
    db,
    "INSERT INTO audit_log (seq, ts, action, actor, subject, details, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    seq,
    body.ts,
    body.action,
    body.actor,
    subject,
    canonicalJson(body.details),
    prevHash,
    hash,
    randomBytes(32).toString("hex"),
  );
  return hash;
}

const rowHash = (db: SqliteStateStore, seq: number) =>
  (sqliteHandleForTests(db).prepare("SELECT hash FROM audit_log WHERE seq = ?").get(seq) as { hash: string })
    .hash;

describe("the keyed audit log", () => {
  it("detects the last entries deleted, the chain re-extended and the head rewritten without the key", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 5);
    tamper(db, "DELETE FROM audit_log WHERE seq >= 4");
    const forged = await forge(db, 4, rowHash(db, 3), "bfx:main:-:someone-else");
    tamper(db, "UPDATE audit_head SET seq = 4, hash = ?, mac = ?", forged, "0".repeat(64));
    expect(await log.verify()).toEqual({ ok: false, entries: 3, brokenAt: 4, reason: "mac mismatch" });
    // The chain alone (today's check) is consistent: only the key shows the forgery.
    expect(await new AuditLog(db).verify()).toMatchObject({ ok: true, entries: 4 });
    // Nothing is chained onto a forged head.
    expect((await caught(() => seed(log, 1))).code).toBe("AUDIT_UNAVAILABLE");
  });

  it("detects the last entries deleted and the head moved back to the last one left", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 5);
    tamper(db, "DELETE FROM audit_log WHERE seq >= 4");
    tamper(db, "UPDATE audit_head SET seq = 3, hash = ?", rowHash(db, 3));
    // The head is named as for any forged head: its MAC is for seq 5, not 3.
    expect(await log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "head mismatch" });
    expect((await caught(() => seed(log, 1))).code).toBe("AUDIT_UNAVAILABLE");
  });

  it("detects every row deleted (emptied), with or without the head", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 3);
    tamper(db, "DELETE FROM audit_log");
    tamper(db, "DELETE FROM audit_head");
    expect(await log.verify()).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "emptied" });
    // Nor is an emptied log silently continued (its next entry would verify as a new log's first).
    expect((await caught(() => seed(log, 1))).code).toBe("AUDIT_UNAVAILABLE");
    // Unkeyed, an empty log is just a new one: that is what the key's keyedAfter adds.
    expect(await new AuditLog(db).verify()).toMatchObject({ ok: true, entries: 0 });
  });

  it("reports a dropped table as a broken log, not an error; listing says it is damaged", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 2);
    sqliteHandleForTests(db).exec("DROP TABLE audit_head");
    expect(await log.verify()).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "missing table" });
    expect((await caught(() => log.head())).code).toBe("AUDIT_UNAVAILABLE");
    expect(await log.list()).toHaveLength(3);
    tamper(db, "DROP TABLE audit_log");
    expect(await log.verify()).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "missing table" });
    expect((await caught(() => log.list())).code).toBe("AUDIT_UNAVAILABLE");
    expect((await caught(() => seed(log, 1))).code).toBe("AUDIT_UNAVAILABLE");
  });

  it("requires stored details to be the canonical JSON the hash was made over", async () => {
    const db = openDb();
    const log = await keyedLog(db);
    await seed(log, 3);
    // Same value, other bytes: the hash (over the parsed details) and the MAC still match.
    tamper(db, "UPDATE audit_log SET details = ? WHERE seq = 3", '{ "n": 2 }');
    expect(await log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "not canonical" });
    tamper(db, "UPDATE audit_log SET details = ? WHERE seq = 3", '{"n":2,"n":2}');
    expect(await log.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: "not canonical" });
    tamper(db, "UPDATE audit_log SET details = ? WHERE seq = 3", '{"n":2}');
    expect(await log.verify()).toMatchObject({ ok: true, entries: 4 });
  });

  it("detects a rollback to an earlier consistent state with an expected head or the head copy", async () => {
    const db = openDb();
    const copy = join(dir, "audit-head.json");
    const log = await keyedLog(db, { headCopyPath: copy });
    await seed(log, 3);
    const old = sqliteHandleForTests(db).prepare("SELECT seq, hash, mac FROM audit_head").get() as Record<
      string,
      unknown
    >;
    const oldCopy = readFileSync(copy, "utf8");
    await seed(log, 2);
    const head = await log.head();
    expect(head).toMatchObject({ seq: 6 });
    expect(JSON.parse(readFileSync(copy, "utf8"))).toMatchObject(head ?? {});
    expect(await log.verify({ expectHead: head ?? undefined })).toMatchObject({
      ok: true,
      entries: 6,
      headCopy: true,
    });
    // The log grows past an expected head and still matches it.
    await seed(log, 1);
    expect(await log.verify({ expectHead: head ?? undefined })).toMatchObject({ ok: true, entries: 7 });

    // Put back the state as it was at seq 4: genuine rows, genuine head and MAC.
    tamper(db, "DELETE FROM audit_log WHERE seq > 4");
    tamper(db, "UPDATE audit_head SET seq = ?, hash = ?, mac = ?", old.seq, old.hash, old.mac);
    expect(await log.verify({ expectHead: head ?? undefined })).toEqual({
      ok: false,
      entries: 4,
      brokenAt: 5,
      reason: "rolled back",
    });
    // The copy beside state.db is ahead of it as well.
    expect(await log.verify()).toEqual({ ok: false, entries: 4, brokenAt: 5, reason: "rolled back" });
    // And nothing is appended over it (the next copy written would erase the evidence).
    const behind = await caught(() => seed(log, 1));
    expect(behind.code).toBe("AUDIT_UNAVAILABLE");
    expect(behind.message).toMatch(/behind its head copy/);
    expect(await log.verify()).toEqual({ ok: false, entries: 4, brokenAt: 5, reason: "rolled back" });
    // Only a copy rolled back with it hides it from verify() alone: what --expect-head is for.
    writeFileSync(copy, oldCopy);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 4 });

    // An expected head the log never had (another history): named at its seq.
    expect(await log.verify({ expectHead: { seq: 2, hash: "a".repeat(64) } })).toEqual({
      ok: false,
      entries: 1,
      brokenAt: 2,
      reason: "expected head mismatch",
    });
  });

  it("detects a head copy edited without the key", async () => {
    const db = openDb();
    const copy = join(dir, "audit-head.json");
    const log = await keyedLog(db, { headCopyPath: copy });
    await seed(log, 3);
    const text = JSON.parse(readFileSync(copy, "utf8")) as { seq: number; hash: string; mac: string };
    writeFileSync(copy, JSON.stringify({ ...text, seq: 9 }));
    expect(await log.verify()).toEqual({ ok: false, entries: 4, brokenAt: 5, reason: "head copy mismatch" });
    writeFileSync(copy, JSON.stringify({ ...text, mac: "0".repeat(64) }));
    expect(await log.verify()).toMatchObject({ ok: false, reason: "head copy mismatch" });
    // Not a head copy at all: no better than none (it is fsynced before its rename, so no crash leaves it).
    writeFileSync(copy, "");
    expect(await log.verify()).toEqual({ ok: false, entries: 4, brokenAt: 5, reason: "head copy missing" });
  });

  it("treats a missing head copy on a keyed log as a break; a lagging one is accepted", async () => {
    const db = openDb();
    const copy = join(dir, "audit-head.json");
    const log = await keyedLog(db, { headCopyPath: copy });
    await seed(log, 3);
    const lagging = readFileSync(copy, "utf8");
    await seed(log, 2);
    rmSync(copy);
    // Deleting the copy must not turn the rollback check off: an older state.db put back would verify.
    expect(await log.verify()).toEqual({ ok: false, entries: 6, brokenAt: 7, reason: "head copy missing" });
    // A crash between a commit and its copy leaves the copy behind the log: that is not a break.
    writeFileSync(copy, lagging);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 6, headCopy: true });
    // Without the key (a listing) nothing is claimed either way.
    rmSync(copy);
    expect(await new AuditLog(db, { headCopyPath: copy }).verify()).toMatchObject({
      ok: true,
      headCopy: false,
    });
  });

  it("writes the head copy after the outermost commit, also for appends inside a caller's transaction", async () => {
    const db = openDb();
    const copy = join(dir, "audit-head.json");
    const log = await keyedLog(db, { headCopyPath: copy });
    await seed(log, 2);
    // As the rotation journal does: its step and the audit entries in one transaction.
    await db.transaction(async () => {
      await seed(log, 3);
      // Not before the commit: rolled back, it would be ahead of the database.
      expect(JSON.parse(readFileSync(copy, "utf8"))).toMatchObject({ seq: 3 });
    });
    expect(JSON.parse(readFileSync(copy, "utf8"))).toMatchObject((await log.head()) ?? { seq: -1 });
    expect(await log.head()).toMatchObject({ seq: 6 });
    // A caller's transaction that rolls back leaves the copy where the database is.
    await expect(
      db.transaction(async () => {
        await seed(log, 1);
        throw new Error("the caller's step failed");
      }),
    ).rejects.toThrow("the caller's step failed");
    expect(JSON.parse(readFileSync(copy, "utf8"))).toMatchObject({ seq: 6 });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 6, headCopy: true });
    // An append in a savepoint that rolls back, inside a transaction that commits: no copy for it.
    await db.transaction(async () => {
      try {
        await db.transaction(async () => {
          await seed(log, 1);
          throw new Error("inner");
        });
      } catch {}
    });
    expect(JSON.parse(readFileSync(copy, "utf8"))).toMatchObject({ seq: 6 });
    expect(await log.verify()).toMatchObject({ ok: true, entries: 6, headCopy: true });
  });

  it("never lets the head copy's MAC stand in for the head's: a log cut back to the copy does not verify", async () => {
    const db = openDb();
    const copy = join(dir, "audit-head.json");
    const log = await keyedLog(db, { headCopyPath: copy });
    await seed(log, 3);
    const old = JSON.parse(readFileSync(copy, "utf8")) as { seq: number; hash: string; mac: string };
    expect(old.seq).toBe(4);
    await seed(log, 3);
    // The attack: cut the log back to the copy's seq and re-head it with the copy's MAC.
    tamper(db, "DELETE FROM audit_log WHERE seq > ?", old.seq);
    tamper(db, "UPDATE audit_head SET seq = ?, hash = ?, mac = ?", old.seq, old.hash, old.mac);
    writeFileSync(copy, JSON.stringify(old));
    expect(await log.verify()).toEqual({ ok: false, entries: 3, brokenAt: 4, reason: "head mismatch" });
    // And the other way: a head row is not a copy.
    const head = sqliteHandleForTests(db).prepare("SELECT seq, hash, mac FROM audit_head").get() as Record<
      string,
      unknown
    >;
    tamper(db, "UPDATE audit_head SET mac = ?", "0".repeat(64));
    writeFileSync(copy, JSON.stringify(head));
    expect(await log.verify()).toMatchObject({ ok: false, reason: "head mismatch" });
  });

  it("refuses to append without the key, and a key that did not write the log does not verify it", async () => {
    const db = openDb();
    await seed(await keyedLog(db), 2);
    expect((await caught(() => seed(new AuditLog(db), 1))).code).toBe("AUDIT_UNAVAILABLE");
    const other = { key: new Secret(randomBytes(32).toString("base64")), keyedAfter: theKey().keyedAfter };
    const wrong = new AuditLog(db, { key: () => other });
    expect(await wrong.verify()).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "mac mismatch" });
    expect((await caught(() => seed(wrong, 1))).code).toBe("AUDIT_UNAVAILABLE");
  });

  it("keys an older, unkeyed log: its entries keep chain checks, the keyed part is authenticated", async () => {
    // A home from before keying: schema 2, entries without MACs.
    const old = openDb({ migrations: MIGRATIONS.slice(0, 2) });
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 3; seq++) {
      const body = {
        seq,
        ts: new Date().toISOString(),
        action: "key.tracked",
        actor: "cli:old",
        subject: `k${seq}`,
        details: {},
        prevHash: prev,
      };
      prev = hashEntry(body);
      sqliteHandleForTests(old)
        .prepare(
          "INSERT INTO audit_log (seq, ts, action, actor, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, '{}', ?, ?)",
        )
        .run(seq, body.ts, body.action, body.actor, body.subject, body.prevHash, prev);
      sqliteHandleForTests(old)
        .prepare(
          "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
        )
        .run(seq, prev);
    }
    await old.close();

    const db = openDb();
    let saved: typeof KEY | undefined;
    const keying = new AuditLog(db);
    const entry = await keying.keyLog(
      { action: "audit.keyed", actor: "cli:new", subject: "audit-log" },
      async (key) => {
        saved = key;
      },
    );
    expect(entry).toMatchObject({ seq: 4, prevHash: prev });
    expect(saved?.keyedAfter).toEqual({ seq: 3, hash: prev });
    const log = new AuditLog(db, { key: () => saved });
    await seed(log, 2);
    expect(await log.verify()).toMatchObject({ ok: true, entries: 6, authenticatedFrom: 4 });

    // Deleting the keyed part back to the old head is a truncation, not an old log.
    tamper(db, "DELETE FROM audit_log WHERE seq > 3");
    tamper(db, "UPDATE audit_head SET seq = 3, hash = ?, mac = NULL", prev);
    expect(await log.verify()).toEqual({ ok: false, entries: 3, brokenAt: 4, reason: "truncated" });
    expect((await caught(() => seed(log, 1))).code).toBe("AUDIT_UNAVAILABLE");
  });

  it("keys nothing when the vault cannot be saved: the entry is rolled back", async () => {
    const db = openDb();
    const log = new AuditLog(db);
    await expect(
      log.keyLog({ action: "audit.keyed", actor: "cli:new", subject: "audit-log" }, async () => {
        throw new KeywardError("VAULT_CONFLICT", "changed meanwhile");
      }),
    ).rejects.toMatchObject({ code: "VAULT_CONFLICT" });
    expect(await log.list()).toEqual([]);
    expect(await log.head()).toBeNull();
  });

  it("never stores a secret: the key and vault values are refused like any other", async () => {
    const canary = "CANARY-audit-secret-0123456789";
    const log = await keyedLog(openDb(), { secrets: () => [canary, theKey().key] });
    for (const details of [{ m: canary }, { m: `key ${theKey().key.reveal()}` }]) {
      expect(
        (await caught(() => log.append({ action: "revoke.failed", actor: "cli", subject: "s", details })))
          .code,
      ).toBe("AUDIT_INVALID");
    }
    await seed(log, 2);
    const stored = JSON.stringify(await log.list());
    expect(stored).not.toContain(canary);
    expect(stored).not.toContain(theKey().key.reveal());
  });
});

describe("KeywardHome and the audit key", () => {
  const PASS = new Secret("home-passphrase-for-tests");
  const options = { passphrase: async () => PASS, actor: "cli:test", vault: { workFactor: 4 } };

  it("init keys a new log from its first entry; appends need the vault open", async () => {
    const { home } = await KeywardHome.init(dir, options);
    try {
      const log = home.auditLog();
      expect((await log.list()).map((e) => [e.seq, e.action])).toEqual([[1, "audit.keyed"]]);
      expect(await log.verify()).toMatchObject({
        ok: true,
        entries: 1,
        authenticatedFrom: 1,
        headCopy: true,
      });
      const key = (await Vault.open(home.paths.vault, PASS)).auditKey();
      expect(key?.keyedAfter).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(readFileSync(home.paths.auditHead, "utf8")).not.toContain(key?.key.reveal() ?? "-");
    } finally {
      await home.close();
    }
    // A new process: before its vault is open it can list, but not append.
    const again = KeywardHome.open(dir, options);
    try {
      expect((await caught(() => again.audit().append("key.untracked", "x"))).code).toBe("AUDIT_UNAVAILABLE");
      await again.vault();
      await again.audit().append("key.untracked", "x");
      expect(await again.auditLog().verify()).toMatchObject({ ok: true, entries: 2 });
    } finally {
      await again.close();
    }
  });

  /** A home as an older Keyward left it: a vault without a key, schema 2, entries without MACs. */
  async function legacyHome(): Promise<string> {
    writeFileSync(join(dir, "config.json"), JSON.stringify(emptyConfig()));
    await Vault.create(join(dir, "vault.age"), PASS, { workFactor: 4 });
    const old = openDb({ migrations: MIGRATIONS.slice(0, 2) });
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= 2; seq++) {
      const body = {
        seq,
        ts: new Date().toISOString(),
        action: "account.added",
        actor: "cli:old",
        subject: `a${seq}`,
        details: {},
        prevHash: prev,
      };
      const hash = hashEntry(body);
      sqliteHandleForTests(old)
        .prepare(
          "INSERT INTO audit_log (seq, ts, action, actor, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, '{}', ?, ?)",
        )
        .run(seq, body.ts, body.action, body.actor, body.subject, prev, hash);
      sqliteHandleForTests(old)
        .prepare("INSERT OR REPLACE INTO audit_head (id, seq, hash) VALUES (1, ?, ?)")
        .run(seq, hash);
      prev = hash;
    }
    await old.close();
    return prev;
  }

  it("keys a home made before keying on first open: old entries stay chain-checked, new ones keyed", async () => {
    const prev = await legacyHome();
    const home = KeywardHome.open(dir, options);
    try {
      await home.vault();
      await home.audit().append("key.tracked", "k");
      expect((await home.auditLog().list()).map((e) => e.action)).toEqual([
        "account.added",
        "account.added",
        "audit.keyed",
        "key.tracked",
      ]);
      expect(await home.auditLog().verify()).toMatchObject({ ok: true, entries: 4, authenticatedFrom: 3 });
      expect((await Vault.open(home.paths.vault, PASS)).auditKey()?.keyedAfter).toEqual({
        seq: 2,
        hash: prev,
      });
    } finally {
      await home.close();
    }
  });

  it("leaves a tampered older log unkeyed: reading works, appending refuses, verify names the break", async () => {
    await legacyHome();
    const db = openDb();
    sqliteHandleForTests(db).prepare("UPDATE audit_head SET seq = 3").run();
    const home = KeywardHome.open(dir, options);
    try {
      await home.vault();
      expect((await Vault.open(home.paths.vault, PASS)).auditKey()).toBeUndefined();
      expect(await home.auditLog().list()).toHaveLength(2);
      expect((await caught(() => home.audit().append("key.tracked", "k"))).code).toBe("AUDIT_UNAVAILABLE");
      expect(await home.auditLog().verify()).toMatchObject({ ok: false, brokenAt: 3, reason: "truncated" });
    } finally {
      await home.close();
    }
  });
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
