/**
 * The audit log as an operator reads it: an operator's query (area, account, key, relative times,
 * paging with a total), entries in words (a key subject as label · account/sub · short key, found in the
 * log even after the key is gone; an account with its exchange; a run as its id), outcome words the
 * revoke view uses (unverified says why, never "verified"), hostile labels made plain, and the cached
 * verify that notices a write by another connection.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AuditKey, AuditLog, cachedAuditVerifier } from "../src/audit/audit-log.js";
import { auditLabels, presentAuditEntry } from "../src/audit/audit-present.js";
import { AuditQueryError, parseAuditTime } from "../src/audit/audit-query.js";
import { REVOKE_OUTCOME_WORDS } from "../src/domain/outcome-words.js";
import { SqliteStateStore, sqliteHandleForTests } from "../src/store/sqlite/sqlite-state-store.js";

let dir: string;
const opened: SqliteStateStore[] = [];
let KEY: AuditKey | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-audit-views-"));
  KEY = undefined;
});
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  rmSync(dir, { recursive: true, force: true });
});

const KEY_ID = "okx:desk-alpha:alphaMM01:40c43a42-1111-2222-3333-9a8b7c6dfc04";
const BFX_ID = "bitfinex:bfx-main:-:bfxKEYaaaaaaaaaaaaaaaaaaaaaaaa0001";

async function seeded(): Promise<{ log: AuditLog; db: SqliteStateStore }> {
  const db = SqliteStateStore.open(join(dir, "state.db"));
  opened.push(db);
  await new AuditLog(db).keyLog({ action: "audit.keyed", actor: "cli:test", subject: "audit-log" }, (k) => {
    KEY = k;
  });
  let t = Date.parse("2026-01-01T00:00:00.000Z");
  const log = new AuditLog(db, {
    key: () => KEY,
    now: () => {
      t += 3_600_000;
      return new Date(t);
    },
  });
  const add = (action: string, subject: string, details: Record<string, unknown> = {}) =>
    log.append({ action, actor: "cli:ops@desk", subject, details });
  await add("account.added", "desk-alpha", { exchange: "okx", permissions: ["read", "trade"] }); // 2
  await add("key.tracked", KEY_ID, { label: "mm-bot-1", probe: "alive" }); // 3
  await add("key.tracked", BFX_ID, { label: "\u001b[31mred\u001b[0m<b>x</b>", probe: "inconclusive" }); // 4
  await add("revoke.requested", "revoke", { keys: [KEY_ID, BFX_ID], byApi: 1, byPerson: 1 }); // 5
  await add("revoke.done", KEY_ID, { outcome: "revoked", evidence: ["listing: gone"] }); // 6
  await add("revoke.unverified", KEY_ID, {
    evidence: ["listing: gone", "probe: inconclusive, timeout (no answer in 5 s)"],
  }); // 7
  await add("revoke.verified", BFX_ID, { evidence: ["probe: dead (401)"] }); // 8
  await add("key.untracked", "desk-alpha:40c43a42-1111-2222-3333-9a8b7c6dfc04", { label: "mm-bot-1" }); // 9
  return { log, db };
}

describe("an operator's query", () => {
  it("filters by area, account and key, newest first, and pages with a total and the next seq", async () => {
    const { log } = await seeded();
    const p1 = await log.page({ account: "desk-alpha", action: "revoke", limit: 2 });
    expect(p1.entries.map((e) => [e.seq, e.action])).toEqual([
      [7, "revoke.unverified"],
      [6, "revoke.done"],
    ]);
    expect(p1.total).toBe(3);
    expect(p1.next).toBe(6);
    const p2 = await log.page({ account: "desk-alpha", action: "revoke.*", limit: 2, beforeSeq: 6 });
    expect(p2.entries.map((e) => e.seq)).toEqual([5]);
    expect(p2.next).toBeNull();
    // By API key alone: the tracked entry, the run, the outcomes and the untracked one.
    const byKey = await log.page({ key: "40c43a42-1111-2222-3333-9a8b7c6dfc04" });
    expect(byKey.entries.map((e) => e.seq)).toEqual([9, 7, 6, 5, 3]);
    expect((await log.page({ key: KEY_ID, action: "revoke.done" })).entries.map((e) => e.seq)).toEqual([6]);
    expect((await log.page({ exchange: "bitfinex" })).entries.map((e) => e.seq)).toEqual([8, 5, 4]);
    // A search matches what people see: the entries about a key shown with the label, not only those
    // whose text holds it (6 and 7 name the key by id alone; 5, the run, names no label).
    const byLabel = await log.page({ search: "MM-BOT-1" });
    expect(byLabel.entries.map((e) => e.seq)).toEqual([9, 7, 6, 3]);
    expect(byLabel.total).toBe(4);
    const paged = await log.page({ search: "mm-bot-1", limit: 2, beforeSeq: 7 });
    expect([paged.entries.map((e) => e.seq), paged.total, paged.next]).toEqual([[6, 3], 4, null]);
  });

  it("finds a key's entries by a label only tracked keys or the inventory cache know", async () => {
    const { log, db } = await seeded();
    const bfx = "bfxKEYaaaaaaaaaaaaaaaaaaaaaaaa0001";
    expect((await log.page({ search: "funding-bot" })).total).toBe(0);
    await db.addTrackedKey({
      account: "bfx-main",
      apiKey: bfx,
      label: "Funding-Bot",
      credentialsRef: null,
      meta: "{}",
      addedAt: "2026-01-01T00:00:00.000Z",
    });
    expect((await log.page({ search: "funding-bot" })).entries.map((e) => e.seq)).toEqual([8, 4]);
    // An account's cached inventory (found by the account's own entries): key 40c4… as "quoter".
    expect((await log.page({ search: "quoter" })).total).toBe(0);
    await db.putCachedInventory({
      account: "desk-alpha",
      fetchedAt: "2026-01-01T00:00:00.000Z",
      records: JSON.stringify([{ apiKey: "40c43a42-1111-2222-3333-9a8b7c6dfc04", label: "Quoter A" }]),
    });
    expect((await log.page({ search: "quoter", action: "revoke" })).entries.map((e) => e.seq)).toEqual([
      7, 6,
    ]);
  });

  it("--key takes a key id or a whole API key, as the README's example gives it; a prefix matches nothing", async () => {
    const { log } = await seeded();
    const readme = readFileSync(fileURLToPath(new URL("../../../README.md", import.meta.url)), "utf8");
    const examples = [...readme.matchAll(/^keyward audit .*--key (\S+)/gm)].map((m) => m[1] ?? "");
    expect(examples.length).toBeGreaterThan(0);
    for (const key of examples) {
      expect(key).not.toContain("…");
      expect((await log.page({ key })).entries.map((e) => e.seq)).toEqual([9, 7, 6, 5, 3]);
    }
    expect((await log.page({ key: "40c43a42" })).total).toBe(0);
    expect((await log.page({ key: "40c43a42-1111-2222-3333-9a8b7c6dfc04" })).total).toBe(5);
  });

  it("takes ISO and relative times, and names the field a bad time is in", async () => {
    const { log } = await seeded();
    const now = new Date("2026-01-01T09:30:00.000Z");
    expect(parseAuditTime("2h", now)?.toISOString()).toBe("2026-01-01T07:30:00.000Z");
    expect(parseAuditTime("7d", now)?.toISOString()).toBe("2025-12-25T09:30:00.000Z");
    expect(parseAuditTime("2026-01-01", now)?.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    expect(parseAuditTime("yesterday", now)).toBeUndefined();
    expect(parseAuditTime("March 7", now)).toBeUndefined();
    const page = await log.page({ since: "2026-01-01T05:00:00Z", until: "2026-01-01T07:00:00Z" });
    // Entry 2 is at 01:00, one an hour after it.
    expect(page.entries.map((e) => e.seq)).toEqual([8, 7, 6]);
    const error = await log.page({ until: "soon" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuditQueryError);
    expect((error as AuditQueryError).field).toBe("until");
  });
});

describe("entries in words", () => {
  it("names keys by label, account/sub and short key, accounts with their exchange, runs by id", async () => {
    const { log, db } = await seeded();
    // Only the newest page: the labels come from older entries (the key is untracked by now).
    const { entries } = await log.page({ action: "revoke", limit: 10 });
    const labels = await auditLabels(db, entries);
    const view = (seq: number) => {
      const e = entries.find((x) => x.seq === seq);
      if (!e) throw new Error(`no entry ${seq}`);
      return presentAuditEntry(e, labels);
    };
    expect(view(6).subject.text).toBe("mm-bot-1 · desk-alpha/alphaMM01 · 40c4…fc04");
    expect(view(6).subject.exchange).toBe("okx");
    expect(view(6).outcome).toEqual({ word: REVOKE_OUTCOME_WORDS.revoked, tone: "ok" });
    expect(view(6).fields).toEqual([
      { name: "evidence", value: "listing: gone" },
      { name: "outcome", value: "revoked" },
    ]);
    expect(view(5).subject).toEqual({ kind: "run", text: "revoke" });
    expect(view(5).summary).toBe("2 keys; 1 by API, 1 by a person");
    expect(view(5).fields.find((f) => f.name === "keys")?.value).toContain(
      "mm-bot-1 · desk-alpha/alphaMM01 · 40c4…fc04",
    );
    // An inconclusive probe is "unverified (probe inconclusive)", never a "verified" of any kind.
    expect(view(7).outcome).toEqual({ word: "unverified (probe inconclusive)", tone: "warn" });
    expect(view(7).fields.map((f) => f.value)).toEqual([
      "listing: gone",
      "probe: inconclusive, timeout (no answer in 5 s)",
    ]);
    expect(view(8).outcome.word).toBe("verified");
    // A hostile label: no control character survives; HTML stays text for React to escape.
    expect(view(8).subject.text).toBe("?[31mred?[0m<b>x</b> · bfx-main · bfxK…0001");

    const all = await log.page({ limit: 50 });
    const allLabels = await auditLabels(db, all.entries);
    const account = all.entries.find((e) => e.action === "account.added");
    if (!account) throw new Error("no account entry");
    const a = presentAuditEntry(account, allLabels);
    expect(a.subject).toMatchObject({ kind: "account", text: "desk-alpha (okx)", exchange: "okx" });
    expect(a.fields).toContainEqual({ name: "permissions", value: "read, trade" });
    const untracked = all.entries.find((e) => e.action === "key.untracked");
    if (!untracked) throw new Error("no untracked entry");
    expect(presentAuditEntry(untracked, allLabels).subject.text).toBe("mm-bot-1 · desk-alpha · 40c4…fc04");
  });
});

describe("outcome and summary", () => {
  it("say a rotation step once: the step the action's word already names is left out of the summary", async () => {
    const { log, db } = await seeded();
    const step = async (action: string, details: Record<string, unknown>) => {
      await log.append({
        action,
        actor: "cli:ops@desk",
        subject: KEY_ID,
        details: { run: "rot-1", slot: 1, ...details },
      });
    };
    await step("rotation.new-key-verified", { step: "verified", label: "mm-bot-2" });
    await step("rotation.delivered", { step: "delivered" });
    await step("rotation.checked", { step: "checked" });
    await step("rotation.finished", { step: "finished" });
    await step("rotation.failed", { step: "delivering", message: "target refused" });
    await step("rotation.waiting", { step: "awaiting-revoke" });
    const { entries } = await log.page({ action: "rotation" });
    const labels = await auditLabels(db, entries);
    // As the CLI's OUTCOME column shows it: the word, then the summary.
    const lines = entries.map((e) => {
      const v = presentAuditEntry(e, labels);
      return [v.outcome.word, v.summary].filter((x) => x).join("; ");
    });
    expect(lines).toEqual([
      "waiting for a person; awaiting-revoke",
      "failed; target refused; delivering",
      "finished",
      "checked",
      "delivered",
      "new key verified; mm-bot-2",
    ]);
  });
});

describe("the cached verify", () => {
  it("answers from cache while nothing is written, and verifies again after another connection's write", async () => {
    const { log, db } = await seeded();
    const verify = cachedAuditVerifier();
    const first = await verify(log);
    expect(first).toMatchObject({ ok: true, entries: 9 });
    expect(await verify(log)).toBe(first);
    // A tamperer edits a row through their own connection: the next page load verifies again.
    const tamperer = SqliteStateStore.open(join(dir, "state.db"));
    try {
      const raw = sqliteHandleForTests(tamperer);
      raw.exec("DROP TRIGGER audit_log_no_update");
      raw.prepare("UPDATE audit_log SET subject = 'other' WHERE seq = 6").run();
    } finally {
      await tamperer.close();
    }
    const second = await verify(new AuditLog(db, { key: () => KEY }));
    expect(second).toMatchObject({ ok: false, brokenAt: 6, reason: "hash mismatch" });
  });
});
