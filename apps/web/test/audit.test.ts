/**
 * The audit page's API verifies the keyed chain on every load: a row forged by someone holding
 * state.db but not the vault shows as broken at that row, a dropped table as a broken log (not a 503),
 * and the audit key never appears in an answer.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { canonicalJson, GENESIS_HASH, hashEntry, Secret, SqliteStateStore, Vault } from "@keyward/core";
import { sqliteHandleForTests } from "@keyward/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, type Desk, login, PASSPHRASE, startDesk } from "./helpers.js";

interface AuditAnswer {
  entries: { seq: number; action: string }[];
  total: number;
  chain: { ok: boolean; entries: number; brokenAt?: number; reason?: string; authenticatedFrom?: number };
  head: { seq: number; hash: string } | null;
}

let desk: Desk;
let client: Client;
beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
});
afterAll(async () => {
  await desk?.close();
});

/** Another connection to state.db, as a tamperer would open it. */
async function tamper(fn: (db: SqliteStateStore) => void): Promise<void> {
  const db = SqliteStateStore.open(join(desk.dir, "state.db"));
  try {
    fn(db);
  } finally {
    await db.close();
  }
}

describe("the audit page's chain status", () => {
  it("is keyed from the first entry, and the answer never carries the audit key", async () => {
    const res = await client.get("/api/audit");
    const body = res.json<AuditAnswer>();
    expect(body.chain).toMatchObject({ ok: true, entries: body.total, authenticatedFrom: 1 });
    expect(body.entries.at(-1)).toMatchObject({ seq: 1, action: "audit.keyed" });
    const key = (await Vault.open(join(desk.dir, "vault.age"), new Secret(PASSPHRASE))).auditKey();
    expect(key).toBeDefined();
    expect(res.body).not.toContain(key?.key.reveal());
  });

  it("shows a row forged without the key as broken at that row", async () => {
    const before = (await client.get("/api/audit")).json<AuditAnswer>();
    const seq = before.total + 1;
    await tamper((state) => {
      const prev = (sqliteHandleForTests(state)
        .prepare("SELECT hash FROM audit_log WHERE seq = ?")
        .get(seq - 1) as { hash: string } | undefined) ?? { hash: GENESIS_HASH };
      const body = {
        seq,
        ts: new Date().toISOString(),
        action: "key.untracked",
        actor: "web:someone",
        subject: "forged",
        details: {},
        prevHash: prev.hash,
      };
      const hash = hashEntry(body);
      sqliteHandleForTests(state)
        .prepare(
          "INSERT INTO audit_log (seq, ts, action, actor, subject, details, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .run(
          seq,
          body.ts,
          body.action,
          body.actor,
          body.subject,
          canonicalJson({}),
          prev.hash,
          hash,
          randomBytes(32).toString("hex"),
        );
      sqliteHandleForTests(state)
        .prepare("UPDATE audit_head SET seq = ?, hash = ?, mac = ?")
        .run(seq, hash, "0".repeat(64));
    });
    const after = (await client.get("/api/audit")).json<AuditAnswer>();
    expect(after.chain).toEqual({ ok: false, entries: seq - 1, brokenAt: seq, reason: "mac mismatch" });
  });

  it("shows a dropped head table as a broken log, entries still listed", async () => {
    await tamper((state) => sqliteHandleForTests(state).exec("DROP TABLE audit_head"));
    const res = await client.get("/api/audit");
    expect(res.status).toBe(200);
    const body = res.json<AuditAnswer>();
    expect(body.chain).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "missing table" });
    expect(body.head).toBeNull();
    expect(body.total).toBeGreaterThan(1);
  });
});
