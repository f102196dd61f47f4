/**
 * The audit log as evidence: a tamperer who edits or deletes rows of state.db (dropping the append-only
 * triggers first) is caught by `keyward audit verify`, which names the first broken entry; and a
 * read-only audit database makes `revoke` refuse before it touches any exchange.
 */

import { createHash } from "node:crypto";
import { chmodSync } from "node:fs";
import { canonicalJson } from "@keyward/core";
import { afterAll, describe, expect, it } from "vitest";
import { desk, type Home, openDb, parseJson, removeTempDirs, show, snapshotHome } from "./helpers.js";

afterAll(() => removeTempDirs());

interface Verify {
  ok: boolean;
  entries: number;
  brokenAt?: number;
  reason?: string;
}

/** Opens state.db as a tamperer would: writable, append-only triggers dropped. */
function tamper(home: Home, sql: (db: ReturnType<typeof openDb>) => void): void {
  const db = openDb(home.state);
  try {
    const triggers = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
      .all() as { name: string }[];
    for (const { name } of triggers) db.exec(`DROP TRIGGER "${name}"`);
    sql(db);
  } finally {
    db.close();
  }
}

async function verify(home: Home): Promise<{ text: string; json: Verify; code: number | null }> {
  const [text, json] = await Promise.all([
    home.run(["audit", "verify"]),
    home.run(["audit", "verify", "--json"]),
  ]);
  expect(json.code, show(json)).toBe(text.code);
  return { text: text.stdout, json: parseJson<Verify>(json), code: text.code };
}

/** The template home's log: account.added ×2, key.tracked. */
const ENTRIES = 3;

describe.concurrent("audit verify", () => {
  it("an intact log: exit 0", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const r = await verify(home);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, entries: ENTRIES });
    expect(r.text).toMatch(new RegExp(`audit log intact: ${ENTRIES} entries`));
  });

  it("an edited entry: exit 1, names it", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => {
      db.prepare("UPDATE audit_log SET details = ? WHERE seq = 2").run(
        '{"exchange":"okx","note":"nothing here"}',
      );
    });
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, entries: 1, brokenAt: 2, reason: "hash mismatch" });
    expect(r.text).toMatch(/audit log BROKEN at entry 2: hash mismatch/);
  });

  it("an edited and re-hashed entry: exit 1 at the link that no longer holds", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => {
      const row = db.prepare("SELECT * FROM audit_log WHERE seq = 1").get() as Record<
        string,
        string | number
      >;
      const body = {
        seq: row.seq,
        ts: row.ts,
        action: row.action,
        actor: "cli:someone-else@elsewhere",
        subject: row.subject,
        details: JSON.parse(String(row.details)),
        prevHash: row.prev_hash,
      };
      const hash = createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");
      db.prepare("UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 1").run(body.actor, hash);
    });
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, entries: 1, brokenAt: 2, reason: "prev-hash mismatch" });
  });

  it("a deleted entry: exit 1, names the first missing one", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => db.prepare("DELETE FROM audit_log WHERE seq = 2").run());
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, entries: 1, brokenAt: 2, reason: "sequence gap" });
    expect(r.text).toMatch(/audit log BROKEN at entry 2: sequence gap/);
  });

  it("the newest entry deleted: exit 1, the head shows the truncation", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => db.prepare("DELETE FROM audit_log WHERE seq = ?").run(ENTRIES));
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, entries: ENTRIES - 1, brokenAt: ENTRIES, reason: "truncated" });
  });
});

describe("a read-only audit database", () => {
  it("makes revoke --all --yes refuse before touching any exchange", async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    const before = { state: await sim.state(), home: snapshotHome(home) };
    chmodSync(home.state, 0o444);
    onTestFinished(() => chmodSync(home.state, 0o600));

    const r = await home.run(["revoke", "--all", "--yes"]);
    // Refused (today exit 1: the audit log is unavailable), not "done" nor "waiting for a person".
    expect(r.code, show(r)).not.toBe(0);
    expect(r.code, show(r)).not.toBe(3);
    expect(r.stderr).toMatch(/keyward: the audit log at .* is read-only/);

    const requests = await sim.requests();
    expect(requests.filter((q) => q.path.endsWith("/delete-apikey"))).toEqual([]);
    expect(requests.filter((q) => q.exchange === "okx" && q.method === "POST")).toEqual([]);
    expect(await sim.state()).toEqual(before.state);
    expect(snapshotHome(home)).toEqual(before.home);
  });
});
