/**
 * The state-store suite: what every StateStore implementation (store/state-store.ts) must do, run
 * against each one (`packages/core/test/sqlite-state-store.test.ts` for SQLite). It checks behaviour
 * through the interface only: atomicity of an audit append with its head, ordering, transactions
 * (commit, rollback, nesting, after-commit tasks, callers outside waiting), journal, tracked-key and
 * cache round-trips, a read-only store refusing every write with STATE_UNAVAILABLE, and two store
 * instances on the same storage writing at once.
 */
import { afterEach, describe, expect, it } from "vitest";
import { isKeywardError } from "../errors.js";
import type {
  AuditHeadRecord,
  AuditRecord,
  RunRecord,
  SlotRecord,
  StateStore,
  TrackedKeyRecord,
} from "../store/state-store.js";

export interface StateStoreFixture {
  /** A fresh, empty, writable store. */
  store: StateStore;
  /** Another store on the same storage, as a second process would open it. */
  another(options?: { readonly?: boolean }): Promise<StateStore>;
  /** Write-protects the storage behind the store's back (SQLite: `chmod a-w` on the file), if it can. */
  freeze?(): Promise<void>;
  /** Closes what it opened and removes the storage. */
  dispose(): Promise<void>;
}

export interface StateStoreHarness {
  /** e.g. "SQLite". */
  name: string;
  create(): Promise<StateStoreFixture>;
}

/** An audit record chained onto `prev` (the suite checks storage, not hashes: audit-log.ts makes those). */
export const auditRecord = (seq: number, prevHash = "0".repeat(64)): AuditRecord => ({
  seq,
  ts: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  action: "test.appended",
  actor: "suite",
  subject: `s${seq}`,
  details: `{"n":${seq}}`,
  prevHash,
  hash: seq.toString(16).padStart(64, "a"),
  mac: seq % 2 === 0 ? null : "m".repeat(64),
});

const headOf = (r: AuditRecord): AuditHeadRecord => ({ seq: r.seq, hash: r.hash, mac: `head-${r.seq}` });

const run = (id: string, createdAt: string, state: RunRecord["state"] = "active"): RunRecord => ({
  id,
  createdAt,
  updatedAt: createdAt,
  state,
  plan: `{"id":"${id}","slots":[]}`,
  options: '{"grace":"30s"}',
  lockPid: null,
  lockHost: null,
  mac: `mac-${id}`,
});

const slot = (runId: string, n: number): SlotRecord => ({
  runId,
  slot: n,
  method: n % 2 === 0 ? "assisted" : "api",
  exchange: "ex",
  account: "main",
  subAccount: n % 2 === 0 ? null : "sub1",
  oldKeyId: `ex:main:sub1:old-${runId}-${n}`,
  oldApiKey: `old-${n}`,
  oldLabel: `bot-${n}`,
  newLabel: `bot-${n}-${runId}`,
  step: "planned",
  attempt: 0,
  newKeyId: null,
  newApiKey: null,
  newRef: null,
  delivered: "[]",
  graceUntil: null,
  evidence: "[]",
  error: null,
  updatedAt: "2026-01-01T00:00:00.000Z",
  mac: `slot-mac-${n}`,
});

const tracked = (account: string, apiKey: string, addedAt: string): TrackedKeyRecord => ({
  account,
  apiKey,
  label: `label ${apiKey}`,
  credentialsRef: apiKey.endsWith("1") ? `tracked:${account}:${apiKey}` : null,
  meta: '{"uid":"42"}',
  addedAt,
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "no error";
  } catch (error) {
    return isKeywardError(error) ? error.code : `not a KeywardError: ${String(error)}`;
  }
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Registers the suite for one implementation. */
export function testStateStore(harness: StateStoreHarness): void {
  describe(`${harness.name} state store`, () => {
    const fixtures: StateStoreFixture[] = [];
    const fresh = async () => {
      const f = await harness.create();
      fixtures.push(f);
      return f;
    };
    afterEach(async () => {
      for (const f of fixtures.splice(0)) await f.dispose();
    });

    describe("audit log", () => {
      it("appends entries with their head and reads them back in seq order", async () => {
        const { store } = await fresh();
        expect(await store.auditPresent()).toBe(true);
        expect(await store.auditHead()).toBeUndefined();
        expect(await store.lastAudit()).toBeUndefined();
        let prev = "0".repeat(64);
        const written: AuditRecord[] = [];
        for (let seq = 1; seq <= 5; seq++) {
          const r = auditRecord(seq, prev);
          await store.appendAudit(r, headOf(r));
          written.push(r);
          prev = r.hash;
        }
        expect(await store.auditRows()).toEqual(written);
        expect(await store.auditRows({ newestFirst: true })).toEqual([...written].reverse());
        expect((await store.auditRows({ afterSeq: 3 })).map((r) => r.seq)).toEqual([4, 5]);
        expect((await store.auditRows({ newestFirst: true, limit: 2 })).map((r) => r.seq)).toEqual([5, 4]);
        expect((await store.auditRows({ sinceTs: written[1]?.ts })).map((r) => r.seq)).toEqual([2, 3, 4, 5]);
        expect(await store.auditRows({ limit: 0 })).toEqual([]);
        expect(await store.auditHead()).toEqual(headOf(written[4] as AuditRecord));
        expect(await store.lastAudit()).toEqual({ seq: 5, hash: written[4]?.hash });
        expect(await store.auditHashAt(2)).toBe(written[1]?.hash);
        expect(await store.auditHashAt(9)).toBeUndefined();
      });

      it("filters and pages entries in the store, newest first, and counts what a filter matches", async () => {
        const { store } = await fresh();
        // The subjects audit entries really have: accounts, key ids, untracked keys, runs.
        const kinds: [string, string, string][] = [
          ["account.added", "desk-alpha", '{"exchange":"okx"}'],
          ["key.tracked", "okx:desk-alpha:alphaMM01:KEYAAAA1", '{"label":"mm-bot-1"}'],
          [
            "revoke.requested",
            "revoke",
            '{"keys":["okx:desk-alpha:alphaMM01:KEYAAAA1","bitfinex:bfx-main:-:KEYBBBB2"]}',
          ],
          ["revoke.done", "okx:desk-alpha:alphaMM01:KEYAAAA1", '{"outcome":"revoked"}'],
          ["revoke.unverified", "bitfinex:bfx-main:-:KEYBBBB2", "{}"],
          ["key.untracked", "bfx-main:KEYBBBB2", '{"label":"Spot 100%_x"}'],
          ["account.added", "desk", '{"exchange":"bitfinex"}'],
          ["rotation.requested", "rot-1", '{"keys":[{"key":"okx:desk-beta:-:KEYCCCC3"}]}'],
          ["revokes.other", "x", "{}"],
        ];
        let prev = "0".repeat(64);
        for (const [i, [action, subject, details]] of kinds.entries()) {
          const r = { ...auditRecord(i + 1, prev), action, subject, details };
          await store.appendAudit(r, headOf(r));
          prev = r.hash;
        }
        const seqs = async (q: Parameters<StateStore["auditRows"]>[0]) =>
          (await store.auditRows({ newestFirst: true, ...q })).map((r) => r.seq);
        expect(await seqs({ action: "revoke.done" })).toEqual([4]);
        expect(await seqs({ actionArea: "revoke" })).toEqual([5, 4, 3]);
        expect(await seqs({ account: "desk-alpha" })).toEqual([4, 3, 2, 1]);
        expect(await seqs({ account: "bfx-main" })).toEqual([6, 5, 3]);
        expect(await seqs({ account: "desk" })).toEqual([7]);
        expect(await seqs({ account: "desk-beta" })).toEqual([8]);
        expect(await seqs({ exchange: "bitfinex" })).toEqual([7, 5, 3]);
        expect(await seqs({ exchange: "okx" })).toEqual([8, 4, 3, 2, 1]);
        expect(await seqs({ apiKey: "KEYBBBB2" })).toEqual([6, 5, 3]);
        expect(await seqs({ apiKey: "KEYAAAA1", actionArea: "revoke" })).toEqual([4, 3]);
        expect(await seqs({ search: "MM-BOT" })).toEqual([2]);
        expect(await seqs({ search: "100%_" })).toEqual([6]);
        expect(await seqs({ search: "100%x" })).toEqual([]);
        // With the keys whose label holds the text: also the entries about them (by id or account:apiKey).
        expect(await seqs({ search: "MM-BOT", searchKeys: ["KEYAAAA1"] })).toEqual([4, 2]);
        expect(await seqs({ search: "spot", searchKeys: ["KEYBBBB2"] })).toEqual([6, 5]);
        const both = ["KEYBBBB2", "KEYAAAA1"];
        expect(await seqs({ search: "spot", searchKeys: both, limit: 2 })).toEqual([6, 5]);
        expect(await store.auditCount({ search: "spot", searchKeys: both })).toBe(4);
        expect(await seqs({ search: "nothing like it", searchKeys: [] })).toEqual([]);
        const ts = (seq: number) => auditRecord(seq).ts;
        expect(await seqs({ sinceTs: ts(7) })).toEqual([9, 8, 7]);
        expect(await seqs({ untilTs: ts(2) })).toEqual([2, 1]);
        expect(await seqs({ sinceTs: ts(3), untilTs: ts(4), account: "desk-alpha" })).toEqual([4, 3]);
        // Keyset paging: each page starts below the last seq of the one before.
        expect(await seqs({ account: "desk-alpha", limit: 2 })).toEqual([4, 3]);
        expect(await seqs({ account: "desk-alpha", limit: 2, beforeSeq: 3 })).toEqual([2, 1]);
        expect(await seqs({ account: "desk-alpha", limit: 2, beforeSeq: 1 })).toEqual([]);
        expect(await store.auditCount({ account: "desk-alpha" })).toBe(4);
        expect(await store.auditCount({ actionArea: "revoke", exchange: "okx" })).toBe(2);
        expect(await store.auditCount({ search: "nothing like it" })).toBe(0);
        expect(await store.auditCount()).toBe(kinds.length);
      });

      it("auditVersion changes when this store or another writes to the log, not when nothing does", async () => {
        const f = await fresh();
        const a = auditRecord(1);
        const v0 = await f.store.auditVersion();
        expect(await f.store.auditVersion()).toBe(v0);
        await f.store.appendAudit(a, headOf(a));
        const v1 = await f.store.auditVersion();
        expect(v1).not.toBe(v0);
        const other = await f.another();
        const b = auditRecord(2, a.hash);
        await other.appendAudit(b, headOf(b));
        expect(await f.store.auditVersion()).not.toBe(v1);
      });

      it("keeps details byte for byte", async () => {
        const { store } = await fresh();
        const r = { ...auditRecord(1), details: '{"a":[1,2],"b":"\\u00e9 x","c":{"d":null}}' };
        await store.appendAudit(r, headOf(r));
        expect((await store.auditRows())[0]?.details).toBe(r.details);
      });

      it("an append that fails leaves neither the entry nor the new head", async () => {
        const { store } = await fresh();
        const first = auditRecord(1);
        await store.appendAudit(first, headOf(first));
        // Seq 1 again: the entry is refused, so the head must not move to what came with it.
        const clash = { ...auditRecord(1), hash: "b".repeat(64) };
        await expect(store.appendAudit(clash, { seq: 2, hash: clash.hash, mac: "x" })).rejects.toThrow();
        expect(await store.auditHead()).toEqual(headOf(first));
        expect(await store.auditRows()).toEqual([first]);
      });

      it("a transaction that throws takes its appends back; one that commits keeps them", async () => {
        const { store } = await fresh();
        const a = auditRecord(1);
        await expect(
          store.transaction(async () => {
            await store.appendAudit(a, headOf(a));
            expect(await store.auditHead()).toEqual(headOf(a)); // seen within the transaction
            throw new Error("caller failed");
          }),
        ).rejects.toThrow("caller failed");
        expect(await store.auditHead()).toBeUndefined();
        expect(await store.auditRows()).toEqual([]);
        const result = await store.transaction(async () => {
          await store.appendAudit(a, headOf(a));
          return "done";
        });
        expect(result).toBe("done");
        expect(await store.auditRows()).toEqual([a]);
      });
    });

    describe("transactions", () => {
      it("a nested transaction that throws rolls back alone", async () => {
        const { store } = await fresh();
        await store.transaction(async () => {
          await store.addTrackedKey(tracked("main", "k1", "2026-01-01T00:00:00.000Z"));
          await expect(
            store.transaction(async () => {
              await store.addTrackedKey(tracked("main", "k2", "2026-01-01T00:00:01.000Z"));
              throw new Error("inner failed");
            }),
          ).rejects.toThrow("inner failed");
          await store.addTrackedKey(tracked("main", "k3", "2026-01-01T00:00:02.000Z"));
        });
        expect((await store.trackedKeys()).map((k) => k.apiKey)).toEqual(["k1", "k3"]);
      });

      it("after-commit tasks run once the outermost transaction commits, never after a rollback", async () => {
        const { store } = await fresh();
        const seen: string[] = [];
        await store.afterCommit(() => {
          seen.push("outside: now");
        });
        expect(seen).toEqual(["outside: now"]);
        await store.transaction(async () => {
          await store.transaction(async () => {
            await store.afterCommit(() => {
              seen.push("inner");
            });
          });
          expect(seen).toEqual(["outside: now"]);
          await store.afterCommit(async () => {
            await tick(5);
            seen.push("outer");
          });
        });
        expect(seen).toEqual(["outside: now", "inner", "outer"]);
        await store
          .transaction(async () => {
            await store.afterCommit(() => {
              seen.push("rolled back");
            });
            throw new Error("no");
          })
          .catch(() => {});
        expect(seen).toEqual(["outside: now", "inner", "outer"]);
      });

      it("a call from outside an open transaction waits for it, and sees what it committed", async () => {
        const { store } = await fresh();
        const a = auditRecord(1);
        const order: string[] = [];
        const tx = store.transaction(async () => {
          await store.appendAudit(a, headOf(a));
          await tick(30);
          order.push("committing");
        });
        const outside = store.auditHead().then((head) => {
          order.push("outside read");
          return head;
        });
        const [, head] = await Promise.all([tx, outside]);
        expect(order).toEqual(["committing", "outside read"]);
        expect(head).toEqual(headOf(a));
      });

      it("a snapshot reads consistently and works on a read-only store", async () => {
        const f = await fresh();
        const a = auditRecord(1);
        await f.store.appendAudit(a, headOf(a));
        const reader = await f.another({ readonly: true });
        const seen = await reader.snapshot(async () => [await reader.auditRows(), await reader.auditHead()]);
        expect(seen).toEqual([[a], headOf(a)]);
      });
    });

    describe("rotation journal", () => {
      it("round-trips runs and slots, newest run first", async () => {
        const { store } = await fresh();
        const r1 = run("rot-aaaaaa", "2026-01-01T00:00:00.000Z");
        const r2 = run("rot-bbbbbb", "2026-01-02T00:00:00.000Z", "finished");
        await store.insertRun(r1, [slot(r1.id, 1), slot(r1.id, 2)]);
        await store.insertRun(r2, [slot(r2.id, 1)]);
        expect(await store.run(r1.id)).toEqual(r1);
        expect(await store.run("rot-none00")).toBeUndefined();
        expect((await store.runs({ limit: 10 })).map((r) => r.id)).toEqual([r2.id, r1.id]);
        expect((await store.runs({ limit: 1 })).map((r) => r.id)).toEqual([r2.id]);
        expect((await store.runs({ active: true, limit: 10 })).map((r) => r.id)).toEqual([r1.id]);
        expect(await store.slots(r1.id)).toEqual([slot(r1.id, 1), slot(r1.id, 2)]);
        expect(await store.slot(r1.id, 2)).toEqual(slot(r1.id, 2));
        expect(await store.slot(r1.id, 3)).toBeUndefined();
      });

      it("a run whose slots cannot all be written is not written at all", async () => {
        const { store } = await fresh();
        const r = run("rot-cccccc", "2026-01-01T00:00:00.000Z");
        await expect(store.insertRun(r, [slot(r.id, 1), slot(r.id, 1)])).rejects.toThrow();
        expect(await store.run(r.id)).toBeUndefined();
        expect(await store.slots(r.id)).toEqual([]);
      });

      it("steps, stops, state, claims and the keys of unfinished slots", async () => {
        const { store } = await fresh();
        const r = run("rot-dddddd", "2026-01-01T00:00:00.000Z");
        await store.insertRun(r, [slot(r.id, 1), slot(r.id, 2)]);
        const moved = {
          runId: r.id,
          slot: 1,
          step: "created",
          attempt: 1,
          newKeyId: "ex:main:sub1:new-1",
          newApiKey: "new-1",
          newRef: "key:ex:main:sub1:new-1",
          delivered: '["file:/tmp/x"]',
          graceUntil: "2026-01-01T00:01:00.000Z",
          evidence: '["made"]',
          error: null,
          updatedAt: "2026-01-01T00:00:05.000Z",
          mac: "slot-mac-moved",
        };
        await store.updateSlotStep(moved);
        expect(await store.slot(r.id, 1)).toEqual({ ...slot(r.id, 1), ...moved });
        await store.setSlotError(r.id, 2, '{"code":"X","step":"planned"}', "2026-01-01T00:00:06.000Z");
        expect(await store.slot(r.id, 2)).toMatchObject({
          error: '{"code":"X","step":"planned"}',
          updatedAt: "2026-01-01T00:00:06.000Z",
          step: "planned",
          mac: "slot-mac-2",
        });
        await store.touchRun(r.id, "2026-01-01T00:00:07.000Z");
        expect((await store.run(r.id))?.updatedAt).toBe("2026-01-01T00:00:07.000Z");

        expect(await store.unfinishedSlotKeys(["finished", "aborted"])).toEqual([
          { runId: r.id, oldKeyId: slot(r.id, 1).oldKeyId, newKeyId: "ex:main:sub1:new-1" },
          { runId: r.id, oldKeyId: slot(r.id, 2).oldKeyId, newKeyId: null },
        ]);
        expect(await store.unfinishedSlotKeys(["created", "planned"])).toEqual([]);

        await store.lockRun(r.id, 4242, "host-a");
        expect(await store.run(r.id)).toMatchObject({ lockPid: 4242, lockHost: "host-a" });
        await store.unlockRun(r.id, 1);
        expect(await store.run(r.id)).toMatchObject({ lockPid: 4242, lockHost: "host-a" });
        await store.unlockRun(r.id, 4242);
        expect(await store.run(r.id)).toMatchObject({ lockPid: null, lockHost: null });

        await store.setRunState(r.id, "aborted", "2026-01-01T00:00:08.000Z");
        expect(await store.run(r.id)).toMatchObject({
          state: "aborted",
          updatedAt: "2026-01-01T00:00:08.000Z",
        });
        expect(await store.runs({ active: true, limit: 10 })).toEqual([]);
        expect(await store.unfinishedSlotKeys(["finished", "aborted"])).toEqual([]);
      });
    });

    describe("tracked keys", () => {
      it("adds, finds, lists in order, updates meta and removes", async () => {
        const { store } = await fresh();
        const k2 = tracked("bfx-main", "bfx-key-2", "2026-01-02T00:00:00.000Z");
        const k1 = tracked("bfx-main", "bfx-key-1", "2026-01-01T00:00:00.000Z");
        const other = tracked("bfx-alt", "bfx-key-3", "2026-01-03T00:00:00.000Z");
        expect(await store.addTrackedKey(k2)).toBe("added");
        expect(await store.addTrackedKey(k1)).toBe("added");
        expect(await store.addTrackedKey(other)).toBe("added");
        expect(await store.addTrackedKey({ ...k1, label: "again" })).toBe("exists");
        expect(await store.trackedKey("bfx-main", "bfx-key-1")).toEqual(k1);
        expect(await store.trackedKey("bfx-main", "bfx-key-3")).toBeUndefined();
        expect(await store.trackedKeys()).toEqual([other, k1, k2]);
        expect(await store.trackedKeys({ account: "bfx-main" })).toEqual([k1, k2]);
        expect(await store.setTrackedKeyMeta("bfx-main", "bfx-key-2", '{"uid":"7"}')).toBe(true);
        expect(await store.setTrackedKeyMeta("bfx-main", "nope", "{}")).toBe(false);
        expect((await store.trackedKey("bfx-main", "bfx-key-2"))?.meta).toBe('{"uid":"7"}');
        expect(await store.removeTrackedKey("bfx-main", "bfx-key-1")).toBe(true);
        expect(await store.removeTrackedKey("bfx-main", "bfx-key-1")).toBe(false);
        expect((await store.trackedKeys()).map((k) => k.apiKey)).toEqual(["bfx-key-3", "bfx-key-2"]);
      });
    });

    describe("inventory cache", () => {
      it("puts, replaces, reads and deletes an account's inventory", async () => {
        const { store } = await fresh();
        expect(await store.cachedInventory("main")).toBeUndefined();
        await store.putCachedInventory({
          account: "main",
          fetchedAt: "2026-01-01T00:00:00.000Z",
          records: "[]",
        });
        await store.putCachedInventory({
          account: "main",
          fetchedAt: "2026-01-02T00:00:00.000Z",
          records: '[{"id":"a"}]',
        });
        expect(await store.cachedInventory("main")).toEqual({
          account: "main",
          fetchedAt: "2026-01-02T00:00:00.000Z",
          records: '[{"id":"a"}]',
        });
        expect(await store.deleteCachedInventory("main")).toBe(true);
        expect(await store.deleteCachedInventory("main")).toBe(false);
        expect(await store.cachedInventory("main")).toBeUndefined();
      });
    });

    describe("read-only", () => {
      const writes = (store: StateStore) => {
        const a = auditRecord(2);
        const r = run("rot-eeeeee", "2026-01-01T00:00:00.000Z");
        return {
          appendAudit: () => store.appendAudit(a, headOf(a)),
          insertRun: () => store.insertRun(r, [slot(r.id, 1)]),
          updateSlotStep: () => store.updateSlotStep({ ...slot("rot-ffffff", 1), step: "created" }),
          setSlotError: () => store.setSlotError("rot-ffffff", 1, "{}", "2026-01-01T00:00:00.000Z"),
          setRunState: () => store.setRunState("rot-ffffff", "aborted", "2026-01-01T00:00:00.000Z"),
          touchRun: () => store.touchRun("rot-ffffff", "2026-01-01T00:00:00.000Z"),
          lockRun: () => store.lockRun("rot-ffffff", 1, "h"),
          unlockRun: () => store.unlockRun("rot-ffffff", 1),
          addTrackedKey: () => store.addTrackedKey(tracked("main", "k9", "2026-01-01T00:00:00.000Z")),
          removeTrackedKey: () => store.removeTrackedKey("main", "k1"),
          setTrackedKeyMeta: () => store.setTrackedKeyMeta("main", "k1", "{}"),
          putCachedInventory: () =>
            store.putCachedInventory({
              account: "main",
              fetchedAt: "2026-01-01T00:00:00.000Z",
              records: "[]",
            }),
          deleteCachedInventory: () => store.deleteCachedInventory("main"),
        };
      };

      const seed = async (store: StateStore) => {
        const a = auditRecord(1);
        await store.appendAudit(a, headOf(a));
        await store.insertRun(run("rot-ffffff", "2026-01-01T00:00:00.000Z"), [slot("rot-ffffff", 1)]);
        await store.addTrackedKey(tracked("main", "k1", "2026-01-01T00:00:00.000Z"));
        await store.putCachedInventory({
          account: "main",
          fetchedAt: "2026-01-01T00:00:00.000Z",
          records: "[]",
        });
      };

      const contents = async (store: StateStore) => [
        await store.auditRows(),
        await store.auditHead(),
        await store.runs({ limit: 10 }),
        await store.slots("rot-ffffff"),
        await store.trackedKeys(),
        await store.cachedInventory("main"),
      ];

      it("a store opened read-only reads, and refuses every write with STATE_UNAVAILABLE", async () => {
        const f = await fresh();
        await seed(f.store);
        const before = await contents(f.store);
        const reader = await f.another({ readonly: true });
        expect(reader.readonly).toBe(true);
        expect(await reader.isWritable()).toBe(false);
        expect(await contents(reader)).toEqual(before);
        for (const [name, write] of Object.entries(writes(reader))) {
          expect(`${name}: ${await codeOf(write())}`).toBe(`${name}: STATE_UNAVAILABLE`);
        }
        expect(await contents(f.store)).toEqual(before);
      });

      it("a store whose storage is frozen while open refuses writes from then on", async (ctx) => {
        const f = await fresh();
        if (f.freeze === undefined) return ctx.skip();
        await seed(f.store);
        const before = await contents(f.store);
        expect(await f.store.isWritable()).toBe(true);
        await f.freeze();
        expect(await f.store.isWritable()).toBe(false);
        for (const [name, write] of Object.entries(writes(f.store))) {
          expect(`${name}: ${await codeOf(write())}`).toBe(`${name}: STATE_UNAVAILABLE`);
        }
        expect(await contents(f.store)).toEqual(before);
      });
    });

    it("two stores on the same storage append concurrently without losing or repeating a seq", async () => {
      const f = await fresh();
      const second = await f.another();
      // Each writer does what the audit log does: read the head under the write lock, chain onto it.
      const appendNext = (store: StateStore, who: string) =>
        store.transaction(async () => {
          const head = await store.auditHead();
          await tick(1);
          const seq = (head?.seq ?? 0) + 1;
          const r = { ...auditRecord(seq, head?.hash), subject: who };
          await store.appendAudit(r, headOf(r));
        });
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => [
          appendNext(f.store, `a${i}`),
          appendNext(second, `b${i}`),
        ]).flat(),
      );
      const rows = await second.auditRows();
      expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(new Set(rows.map((r) => r.subject)).size).toBe(20);
      for (let i = 1; i < rows.length; i++) expect(rows[i]?.prevHash).toBe(rows[i - 1]?.hash);
      expect(await f.store.auditHead()).toEqual(headOf(rows[19] as AuditRecord));
    });
  });
}
