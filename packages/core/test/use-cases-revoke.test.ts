/**
 * The revoke use cases both shells call (planLiveRevoke, startRevoke and its RevokeSession: stop
 * waiting, verify now; requireAuditable), over real HTTP against the in-process simulator. A person's
 * manual step is the simulator's "API management" page (control `uiRevoke`).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AdapterOptions } from "../src/adapters/interface.js";
import type { KeyRecord } from "../src/domain/schemas.js";
import { isKeywardError } from "../src/errors.js";
import { SelectorSchema } from "../src/inventory/selectors.js";
import {
  checkAccounts,
  planLiveRevoke,
  type RevokeSession,
  type RevokeSessionEvent,
  requireAuditable,
  startRevoke,
} from "../src/use-cases/index.js";
import { auditEntries, BFX, canariesOf, type Desk, OKX, openDesk, SUB } from "./use-cases-fixtures.js";

let desk: Desk;
let seen: string[] = [];

beforeEach(async () => {
  desk = await openDesk();
});
afterEach(async () => {
  seen.push(JSON.stringify(await auditEntries(desk.home)));
  await desk.close();
  const text = seen.join("\n");
  seen = [];
  for (const canary of canariesOf(desk.keys)) expect(text).not.toContain(canary);
});

const selector = (input: Record<string, unknown>) => SelectorSchema.parse(input);

/** Plans a revoke of the keys with these API keys, listed live. */
async function planFor(...apiKeys: string[]) {
  const listed = await planLiveRevoke(desk.home, {
    selector: selector({ all: true }),
    adapters: desk.adapters,
  });
  const ids = listed.inventory.keys.filter((k) => apiKeys.includes(k.apiKey)).map((k) => k.id);
  expect(ids).toHaveLength(apiKeys.length);
  return planLiveRevoke(desk.home, { selector: selector({ ids }), adapters: desk.adapters });
}

/** Starts a session that records its events (copies) and resolves `until(type)` when one arrives. */
async function run(
  plan: Awaited<ReturnType<typeof planFor>>["plan"],
  manual: { wait: boolean; timeoutMs: number; pollMs?: number } = { wait: true, timeoutMs: 30_000 },
  adapterFor = desk.adapterFor,
) {
  const events: RevokeSessionEvent[] = [];
  const waiters: { type: string; resolve: () => void }[] = [];
  const session = await startRevoke(desk.home, plan, {
    adapterFor,
    manual: { pollMs: 50, ...manual },
    onEvent: (e) => {
      events.push(e);
      seen.push(JSON.stringify(e, (_k, v) => (v instanceof Error ? v.message : v)));
      for (const w of waiters.filter((x) => x.type === e.type)) w.resolve();
    },
  });
  const until = (type: RevokeSessionEvent["type"]) =>
    events.some((e) => e.type === type)
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiters.push({ type, resolve }));
  return { session, events, until, types: () => events.map((e) => e.type) };
}

const resultOf = (session: RevokeSession, apiKey: string) =>
  session.results().find((r) => r.apiKey === apiKey);
const idOf = (keys: readonly KeyRecord[], apiKey: string) => keys.find((k) => k.apiKey === apiKey)?.id ?? "";

describe("planLiveRevoke", () => {
  it("plans from a live listing: keys that can withdraw first, by API or by a person, the account's own key last with a warning", async () => {
    const k = desk.keys;
    const { plan, accountErrors } = await planLiveRevoke(desk.home, {
      selector: selector({ account: BFX }),
      adapters: desk.adapters,
    });
    seen.push(JSON.stringify(plan));
    expect(accountErrors).toEqual([]);
    expect(plan.items.map((i) => [i.key.apiKey, i.method, i.accountKey ?? false])).toEqual([
      [k.mm.apiKey, "manual", false],
      [k.blind.apiKey, "manual", false],
      [k.acct.apiKey, "manual", true],
    ]);
    expect(plan.warnings).toEqual([expect.stringContaining(`Keyward loses access to ${BFX} after this`)]);

    const sub = await planLiveRevoke(desk.home, {
      selector: selector({ label: "ucbot" }),
      adapters: desk.adapters,
    });
    expect(sub.plan.items.map((i) => [i.key.subAccount, i.method])).toEqual([[SUB, "api"]]);
  });

  it("drops keys already dead", async () => {
    await desk.control.uiRevoke("bitfinex", desk.keys.mm.apiKey);
    const { plan, inventory } = await planLiveRevoke(desk.home, {
      selector: selector({ account: BFX }),
      adapters: desk.adapters,
    });
    expect(inventory.keys.find((x) => x.apiKey === desk.keys.mm.apiKey)?.state).toBe("dead");
    expect(plan.items.map((i) => i.key.apiKey)).not.toContain(desk.keys.mm.apiKey);
  });
});

describe("the audit log cannot be written (read-only state.db)", () => {
  it("planLiveRevoke for a run and startRevoke refuse before any exchange is asked; a dry-run plan still works", async () => {
    const { plan } = await planFor(desk.keys.bot.apiKey);
    desk.freezeState();
    const before = await desk.control.lastSeq();
    const refused = (e: unknown) =>
      isKeywardError(e, "AUDIT_UNAVAILABLE") &&
      e.message.includes("is read-only") &&
      (e.hint ?? "").includes("Revoking is refused");
    await expect(
      planLiveRevoke(desk.home, { selector: selector({ all: true }), refuseUnauditable: true }),
    ).rejects.toSatisfy(refused);
    await expect(
      startRevoke(desk.home, plan, { manual: { wait: false, timeoutMs: 0, pollMs: 10 } }),
    ).rejects.toThrow(expect.objectContaining({ code: "AUDIT_UNAVAILABLE" }));
    await expect(requireAuditable(desk.home, "a hint")).rejects.toThrow(
      expect.objectContaining({ hint: "a hint" }),
    );
    expect(await desk.control.requests(before)).toEqual([]);

    const dry = await planLiveRevoke(desk.home, {
      selector: selector({ label: "ucbot" }),
      adapters: desk.adapters,
    });
    expect(dry.plan.items).toHaveLength(1);
    expect(await desk.control.keyStatus(desk.keys.bot.apiKey)).toBe("active");
  });

  it("a log that stops taking entries after the start: the session ends in error, nothing revoked", async () => {
    const { plan } = await planFor(desk.keys.bot.apiKey);
    const before = await desk.control.lastSeq();
    const r = await run(plan);
    desk.freezeState(); // before the session's first step: its "revoke.requested" entry is refused
    await expect(r.session.finished()).rejects.toSatisfy((e) => isKeywardError(e, "AUDIT_UNAVAILABLE"));
    expect(r.session.status).toBe("error");
    expect(r.types()).toEqual(["error"]);
    expect((await desk.control.requests(before)).filter((q) => q.method === "POST")).toEqual([]);
    expect(await desk.control.keyStatus(desk.keys.bot.apiKey)).toBe("active");
  });
});

describe("startRevoke", () => {
  it("revokes by API, proves the key dead, and forgets it from the cached listing", async () => {
    const { plan } = await planFor(desk.keys.bot.apiKey);
    const r = await run(plan);
    expect(r.session.active).toBe(true);
    expect(r.session.results()).toEqual([expect.objectContaining({ pending: true, outcome: "failed" })]);
    const report = await r.session.finished();
    expect(r.types()).toEqual(["started", "revoked", "verified", "finished"]);
    expect(r.session.status).toBe("finished");
    expect(report.results[0]).toMatchObject({ outcome: "revoked", verified: true, method: "api" });
    expect(r.session.results()).toEqual([expect.objectContaining({ pending: false, verified: true })]);
    expect(r.session.summary()).toMatchObject({ total: 1, revoked: 1, verified: 1 });
    expect(await desk.control.keyStatus(desk.keys.bot.apiKey)).toBe("revoked");
    const cached = (await desk.home.inventoryCache().get(OKX))?.records.map((k) => k.apiKey) ?? [];
    expect(cached).toContain(desk.keys.reader.apiKey);
    expect(cached).not.toContain(desk.keys.bot.apiKey);
    expect((await auditEntries(desk.home)).map((e) => e.action)).toEqual(
      expect.arrayContaining(["revoke.requested", "revoke.done", "revoke.verified", "revoke.finished"]),
    );
  });

  it("waits for a person: verify now while the key works says alive; once revoked on the site, the poll proves it dead", async () => {
    const { plan } = await planFor(desk.keys.mm.apiKey);
    const r = await run(plan);
    await r.until("manual-waiting");
    expect(r.session.status).toBe("waiting");
    expect(r.session.manualDeadline).toBeGreaterThan(Date.now());
    expect(r.session.checklist()).toEqual([
      { keyId: plan.items[0]?.key.id, steps: expect.objectContaining({ url: `${desk.sim.bitfinex}/api` }) },
    ]);
    const keyId = plan.items[0]?.key.id ?? "";
    expect(await r.session.verifyNow(keyId)).toMatchObject({
      outcome: "probed",
      status: "alive",
      recorded: false,
    });

    await desk.control.uiRevoke("bitfinex", desk.keys.mm.apiKey);
    const report = await r.session.finished();
    expect(report.results[0]).toMatchObject({ outcome: "revoked", verified: true, method: "manual" });
    expect(r.types()).toEqual([
      "started",
      "manual-steps",
      "manual-waiting",
      "verify-now",
      "manual-done",
      "finished",
    ]);
    expect((await auditEntries(desk.home)).filter((e) => e.subject === keyId).map((e) => e.action)).toEqual([
      "key.tracked",
      "revoke.manual-steps",
      "manual.confirmed",
      "revoke.verified",
    ]);
  });

  it("a wait for a person spends at most half an endpoint's budget: the account's own probe, and Verify now, are not held back behind it", async () => {
    // Six requests per 8 s on Bitfinex's permissions endpoint; the wait polls every 10 ms. Unchecked, it
    // takes all six within a moment and the account's probe waits out the window (~8 s).
    const limited: AdapterOptions = {
      ...desk.options,
      rateLimits: { ...desk.options.rateLimits, auth: { limit: 6, windowMs: 8_000 } },
    };
    const adapter = await desk.home.adapterFor(BFX, limited);
    const { plan } = await planFor(desk.keys.mm.apiKey);
    const r = await run(plan, { wait: true, timeoutMs: 60_000, pollMs: 10 }, async () => adapter);
    await r.until("manual-waiting");
    // Long enough for the poll to reach its share (at 10 ms a round, a few rounds).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    const [check] = await checkAccounts(desk.home, { account: BFX, adapterFor: async () => adapter });
    expect(check?.health?.status).toBe("alive");
    expect(Date.now() - started).toBeLessThan(4_000);
    // Nor is a probe of the very key being waited for (its requests queue one at a time for the nonce):
    // the waiting poll holds no place in that queue while it waits for its share.
    const again = Date.now();
    expect(await r.session.verifyNow(plan.items[0]?.key.id ?? "")).toMatchObject({ status: "alive" });
    expect(Date.now() - again).toBeLessThan(4_000);

    await desk.control.uiRevoke("bitfinex", desk.keys.mm.apiKey);
    const report = await r.session.finished();
    expect(report.results[0]).toMatchObject({ outcome: "revoked", verified: true, method: "manual" });
  }, 60_000);

  it("stop waiting ends the wait; then verify now proves the person's step and records it, once", async () => {
    const { plan } = await planFor(desk.keys.mm.apiKey);
    const keyId = plan.items[0]?.key.id ?? "";
    const r = await run(plan);
    await r.until("manual-waiting");
    expect(r.session.stopWaiting()).toBe(true);
    const report = await r.session.finished();
    expect(r.session.stopWaiting()).toBe(false);
    expect(r.types()).toContain("stopping");
    expect(report.results[0]).toMatchObject({ outcome: "awaiting-manual", verified: false });
    expect(r.session.summary()).toMatchObject({ awaitingManual: 1, verified: 0 });

    // The person had not done it yet: nothing recorded.
    expect(await r.session.verifyNow(keyId)).toMatchObject({ status: "alive", recorded: false });
    await desk.control.uiRevoke("bitfinex", desk.keys.mm.apiKey);
    const answer = await r.session.verifyNow(keyId);
    expect(answer).toMatchObject({ outcome: "probed", status: "dead", recorded: true });
    expect(resultOf(r.session, desk.keys.mm.apiKey)).toMatchObject({ outcome: "revoked", verified: true });
    expect(r.session.summary()).toMatchObject({ verified: 1, awaitingManual: 0 });
    expect(r.types().slice(-3)).toEqual(["verify-now", "manual-done", "verify-now"]);
    const actions = (await auditEntries(desk.home)).filter((e) => e.subject === keyId).map((e) => e.action);
    expect(actions).toEqual(["key.tracked", "revoke.manual-steps", "manual.confirmed", "revoke.verified"]);

    // No longer waiting for a person.
    expect(await r.session.verifyNow(keyId)).toMatchObject({
      outcome: "not-pending",
      result: { outcome: "revoked", verified: true },
    });
  });

  it("verify now: a key outside the revoke, and a key whose secret Keyward does not hold, are typed answers", async () => {
    const { plan } = await planFor(desk.keys.blind.apiKey);
    const r = await run(plan, { wait: false, timeoutMs: 0 });
    const report = await r.session.finished();
    expect(report.results[0]).toMatchObject({ outcome: "awaiting-manual", verified: false });
    const blindId = plan.items[0]?.key.id ?? "";
    const before = await desk.control.lastSeq();
    expect(await r.session.verifyNow(blindId)).toMatchObject({
      outcome: "not-provable",
      result: { label: "uc-blind" },
    });
    expect(await r.session.verifyNow(`bitfinex:${BFX}:-:someone-else`)).toEqual({ outcome: "unknown-key" });
    expect(await desk.control.requests(before)).toEqual([]);
  });

  it("events arrive only after startRevoke returned, and every result in them is a copy", async () => {
    const { plan, inventory } = await planFor(desk.keys.bot.apiKey, desk.keys.reader.apiKey);
    const r = await run(plan);
    expect(r.events).toEqual([]);
    await r.session.finished();
    const verified = r.events.filter((e) => e.type === "verified");
    expect(verified).toHaveLength(2);
    // The results the session hands out are not the objects its events carried.
    const first = verified[0];
    if (first?.type !== "verified") throw new Error("unreachable");
    first.result.evidence.push("changed by a listener");
    expect(resultOf(r.session, first.result.apiKey)?.evidence).not.toContain("changed by a listener");
    expect(r.session.results().map((x) => x.id)).toEqual(plan.items.map((i) => i.key.id));
    expect(idOf(inventory.keys, desk.keys.bot.apiKey)).toBeTruthy();
  });
});
