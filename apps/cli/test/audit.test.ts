/**
 * The audit log as evidence: a tamperer who edits or deletes rows of state.db (dropping the append-only
 * triggers first), even one who re-chains and re-heads what is left, is caught by `keyward audit verify`,
 * which names the first broken entry (the chain is keyed with a key only the vault holds); a head copied
 * off the machine with `keyward audit head` catches a rollback; and a read-only audit database makes
 * `revoke` refuse before it touches any exchange.
 */

import { createHash, randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, Secret, Vault } from "@keyward/core";
import { afterAll, describe, expect, it } from "vitest";
import {
  auditEntries,
  BFX_ACCOUNT,
  desk,
  type Home,
  openDb,
  PASSPHRASE,
  parseJson,
  removeTempDirs,
  show,
  snapshotHome,
} from "./helpers.js";

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

/** The template home's log: audit.keyed (by init), account.added ×3 (OKX, Bitfinex, Bybit), key.tracked. */
const ENTRIES = 5;

/** For tests that run many keyward commands one after another: ~10 s each on a loaded 2-core machine. */
const COMMANDS_BUDGET = 120_000;

const HEAD_LINE = /^([0-9]+):([0-9a-f]{64})\n$/;

/** `keyward audit head`, which must succeed: the line it prints. */
async function head(home: Home): Promise<string> {
  const r = await home.run(["audit", "head"]);
  expect(r.code, show(r)).toBe(0);
  expect(r.stdout).toMatch(HEAD_LINE);
  return r.stdout.trim();
}

/** Appends a row as someone with state.db but not the vault would: hash and chain right, MAC guessed. */
function forgeRow(db: ReturnType<typeof openDb>, seq: number): string {
  const prev = db.prepare("SELECT hash FROM audit_log WHERE seq = ?").get(seq - 1) as { hash: string };
  const body = {
    seq,
    ts: new Date().toISOString(),
    action: "key.untracked",
    actor: "cli:someone@elsewhere",
    subject: "desk-bfx:nothing-to-see",
    details: {},
    prevHash: prev.hash,
  };
  const hash = createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");
  db.prepare(
    "INSERT INTO audit_log (seq, ts, action, actor, subject, details, prev_hash, hash, mac) VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?)",
  ).run(
    seq,
    body.ts,
    body.action,
    body.actor,
    body.subject,
    body.prevHash,
    hash,
    randomBytes(32).toString("hex"),
  );
  return hash;
}

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

  it("an edited and re-hashed entry: exit 1 at that entry (its MAC needs the vault's key)", async ({
    onTestFinished,
  }) => {
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
    expect(r.json).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "mac mismatch" });
    expect(r.text).toMatch(/BROKEN at entry 1: mac mismatch[\s\S]*not written with the vault's audit key/);
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

// One test at a time: each runs several keyward processes that decrypt the vault (scrypt).
describe("audit verify against a tamperer holding state.db (not the vault)", () => {
  it("the newest entries deleted, the chain re-extended and the head rewritten: exit 1", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => {
      db.prepare("DELETE FROM audit_log WHERE seq >= ?").run(ENTRIES - 1);
      const hash = forgeRow(db, ENTRIES - 1);
      db.prepare("UPDATE audit_head SET seq = ?, hash = ?, mac = ?").run(ENTRIES - 1, hash, "0".repeat(64));
    });
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({
      ok: false,
      entries: ENTRIES - 2,
      brokenAt: ENTRIES - 1,
      reason: "mac mismatch",
    });
  });

  it("the newest entries deleted and the head moved back onto what is left: exit 1", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => {
      db.prepare("DELETE FROM audit_log WHERE seq >= ?").run(ENTRIES - 1);
      const last = db.prepare("SELECT hash FROM audit_log WHERE seq = ?").get(ENTRIES - 2) as {
        hash: string;
      };
      db.prepare("UPDATE audit_head SET seq = ?, hash = ?").run(ENTRIES - 2, last.hash);
    });
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, reason: "head mismatch" });
  });

  it("every row deleted, head too: exit 1, emptied", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => db.exec("DELETE FROM audit_log; DELETE FROM audit_head;"));
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "emptied" });
    expect(r.text).toMatch(/audit log BROKEN at entry 1: emptied/);
  });

  it("the head table dropped: exit 1, broken (not an internal error); audit head refuses", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => db.exec("DROP TABLE audit_head"));
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: "missing table" });
    expect(r.text).toMatch(/audit log BROKEN at entry 1: missing table/);
    const h = await home.run(["audit", "head"]);
    expect(h.code, show(h)).toBe(1);
    expect(h.stdout).not.toMatch(HEAD_LINE);
    for (const x of [r.text, h.stdout, h.stderr]) expect(x).not.toMatch(/internal error/);
  });

  it("details stored as other (non-canonical) JSON with the same value: exit 1", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    tamper(home, (db) => {
      const row = db.prepare("SELECT details FROM audit_log WHERE seq = 2").get() as { details: string };
      db.prepare("UPDATE audit_log SET details = ? WHERE seq = 2").run(
        JSON.stringify(JSON.parse(row.details), null, 1),
      );
    });
    const r = await verify(home);
    expect(r.code).toBe(1);
    expect(r.json).toEqual({ ok: false, entries: 1, brokenAt: 2, reason: "not canonical" });
  });
});

describe("audit head and --expect-head", () => {
  it("audit head prints one SEQ:HASH line, the verified head; --json the same with the count", {
    timeout: COMMANDS_BUDGET,
  }, async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const line = await head(home);
    const v = await home.run(["audit", "verify", "--json"]);
    const json = parseJson<{ head: { seq: number; hash: string } }>(v);
    expect(line).toBe(`${json.head.seq}:${json.head.hash}`);
    expect(json.head.seq).toBe(ENTRIES);
    const j = await home.run(["audit", "head", "--json"]);
    expect(j.code, show(j)).toBe(0);
    expect(parseJson(j)).toMatchObject({ seq: ENTRIES, hash: json.head.hash, entries: ENTRIES });

    const ok = await home.run(["audit", "verify", "--expect-head", line]);
    expect(ok.code, show(ok)).toBe(0);
    expect(ok.stdout).toMatch(/contains the expected head/);
    const bad = await home.run(["audit", "verify", "--expect-head", "3:not-a-hash"]);
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toMatch(/is not SEQ:HASH/);
  });

  it("--expect-head catches a rollback to an earlier consistent state, and a rewritten history", {
    timeout: COMMANDS_BUDGET,
  }, async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    // Keep state.db and the head copy as they are now (each command closes the database: no WAL left).
    const saved = join(home.dir, "..", `${home.dir.split("/").pop()}-saved`);
    copyFileSync(home.state, `${saved}.db`);
    copyFileSync(join(home.dir, "audit-head.json"), `${saved}.head`);
    const r = await home.run(["account", "remove", BFX_ACCOUNT]);
    expect(r.code, show(r)).toBe(0);
    const later = await head(home);
    expect(later.startsWith(`${ENTRIES + 1}:`)).toBe(true);

    // state.db alone put back: the head copy beside it is newer.
    copyFileSync(`${saved}.db`, home.state);
    const alone = await verify(home);
    expect(alone.code).toBe(1);
    expect(alone.json).toEqual({ ok: false, entries: ENTRIES, brokenAt: ENTRIES + 1, reason: "rolled back" });

    // Both put back: consistent, every MAC genuine, so verify alone cannot tell...
    copyFileSync(`${saved}.head`, join(home.dir, "audit-head.json"));
    expect((await verify(home)).code).toBe(0);
    // ...but the head copied off the machine can.
    const expect1 = await home.run(["audit", "verify", "--expect-head", later, "--json"]);
    expect(expect1.code, show(expect1)).toBe(1);
    expect(parseJson(expect1)).toEqual({
      ok: false,
      entries: ENTRIES,
      brokenAt: ENTRIES + 1,
      reason: "rolled back",
    });
    const text = await home.run(["audit", "verify", "--expect-head", later]);
    expect(text.stdout).toMatch(new RegExp(`BROKEN at entry ${ENTRIES + 1}: rolled back`));

    // A head from another history (same seq, other hash).
    const other = `${ENTRIES}:${"ab".repeat(32)}`;
    const forked = await home.run(["audit", "verify", "--expect-head", other, "--json"]);
    expect(forked.code, show(forked)).toBe(1);
    expect(parseJson(forked)).toMatchObject({
      ok: false,
      brokenAt: ENTRIES,
      reason: "expected head mismatch",
    });
  });

  it("the plain listing needs no vault; verify and head do, and the audit key appears nowhere", {
    timeout: COMMANDS_BUDGET,
  }, async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const noPass = { env: { KEYWARD_PASSPHRASE: undefined } };
    const list = await home.run(["audit", "--json"], noPass);
    expect(list.code, show(list)).toBe(0);
    expect(auditEntries<{ action: string }>(list).map((e) => e.action)).toEqual([
      "audit.keyed",
      "account.added",
      "account.added",
      "account.added",
      "key.tracked",
    ]);
    const v = await home.run(["audit", "verify"], noPass);
    expect(v.code, show(v)).toBe(2);

    const key = (await Vault.open(home.vault, new Secret(PASSPHRASE))).auditKey()?.key.reveal();
    expect(key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const keyHex = Buffer.from(key ?? "", "base64").toString("hex");
    const outputs = [
      list,
      v,
      await home.run(["audit", "verify", "--json"]),
      await home.run(["audit", "head", "--json"]),
    ];
    const db = openDb(home.state, { readonly: true });
    const rows =
      JSON.stringify(db.prepare("SELECT * FROM audit_log").all()) +
      JSON.stringify(db.prepare("SELECT * FROM audit_head").all());
    db.close();
    const files = readdirSync(home.dir)
      .filter((f) => f !== "vault.age")
      .map((f) => readFileSync(join(home.dir, f)).toString("latin1"));
    for (const text of [...outputs.flatMap((o) => [o.stdout, o.stderr]), rows, ...files]) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(keyHex);
    }
  });
});

describe("a read-only audit database", () => {
  it("makes revoke --all --yes refuse before touching any exchange", async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    const before = { state: await sim.state(), home: snapshotHome(home) };
    chmodSync(home.state, 0o400); // `chmod a-w` on the private 0600 file
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
