/**
 * The revoke engine where it lives (revoke/run.ts), over real HTTP against the in-process simulator, with
 * a real home: its audit log, its vault's secrets, adapters built from it, as the shells build them. A
 * key revoked by API is proven dead by the exchange's list and its own probe; a key already gone is
 * reported so and still proven; manual keys get their steps, then are probed until dead, and an operator
 * can stop the wait; an account that cannot be reached fails only its own keys; and nothing is touched
 * when the audit log cannot be written. (The account's own key going last, and the checklist's danger
 * order, are held by incident.test.ts; a revoke the exchange only claims by verified.test.ts.)
 */
import { chmodSync } from "node:fs";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Credentials } from "../src/domain/credentials.js";
import type { KeyRecord } from "../src/domain/schemas.js";
import { isKeywardError, KeywardError } from "../src/errors.js";
import { type KeywardHome, keyRef } from "../src/home/home.js";
import { planRevoke } from "../src/revoke/plan.js";
import {
  NO_PROBE,
  type RevokeDeps,
  type RevokeEvent,
  type RevokeReport,
  runRevoke,
} from "../src/revoke/run.js";
import { SimControl } from "../src/testing/index.js";
import {
  adapterOptions,
  addDesk,
  BFX,
  BOT,
  canaries,
  listed,
  MM,
  OKX,
  OTHER,
  READER,
  scenario,
} from "./engine-world.js";
import { creds as okxCreds } from "./okx-fixtures.js";
import { makeTestHome, type TestHome } from "./test-home.js";

let sim: RunningSimulator;
let control: SimControl;
let t: TestHome;
let home: KeywardHome;
let seen: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  control = new SimControl(sim.control);
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  await control.loadScenario(scenario());
  t = await makeTestHome("engine-revoke");
  home = t.home;
  await addDesk(home, sim);
  // Keyward holds BOT's secret, as after a rotation made it; READER's it never had.
  const [bot] = await listed(home, sim, OKX, [BOT.apiKey]);
  const vault = await home.vault();
  vault.set(keyRef((bot as KeyRecord).id), okxCreds(BOT));
  await vault.save();
});
afterEach(async () => {
  const text = seen.join("\n");
  seen = [];
  await t.remove();
  for (const canary of [...canaries, t.passphrase]) expect(text).not.toContain(canary);
});

const keep = <T>(v: T): T => {
  seen.push(JSON.stringify(v));
  return v;
};

/** runRevoke's deps as `keyward revoke` builds them from a home; events are kept in `events`. */
async function revokeDeps(
  keys: readonly KeyRecord[],
  manual: RevokeDeps["manual"],
  extra: Partial<RevokeDeps> & { events?: RevokeEvent[] } = {},
): Promise<RevokeDeps> {
  const { events, ...rest } = extra;
  const adapters = await home.adapters([...new Set(keys.map((k) => k.account))], adapterOptions(sim));
  const held = new Map<string, Credentials>();
  for (const key of keys) {
    const c = await home.credentialsForKey(key);
    if (c) held.set(key.id, c);
  }
  return {
    adapterFor: (name) => {
      const adapter = adapters.get(name);
      if (!adapter) throw new KeywardError("ACCOUNT_NOT_FOUND", `no adapter for account ${name}`);
      return adapter;
    },
    credentialsFor: (key) => held.get(key.id),
    audit: home.audit(),
    manual,
    ...(events ? { onEvent: (e: RevokeEvent) => events.push(structuredClone(e)) } : {}),
    ...rest,
  };
}

const NO_WAIT = { wait: false, timeoutMs: 0, pollMs: 20 };
const resultFor = (report: RevokeReport, apiKey: string) => report.results.find((r) => r.apiKey === apiKey);
/** The audit entries of this revoke (from `revoke.requested` on), as [action, subject]. */
async function revokeEntries() {
  const all = await home.auditLog().list();
  const from = all.findLastIndex((e) => e.action === "revoke.requested");
  return keep(all.slice(from));
}

describe("runRevoke", () => {
  it("revokes by API and proves each key dead (not listed, and its own probe where Keyward holds the secret); the audit log and the events tell it in order", async () => {
    const keys = await listed(home, sim, OKX, [BOT.apiKey, READER.apiKey]);
    const plan = planRevoke(keys, { accountKeys: await home.accountKeys() });
    const events: RevokeEvent[] = [];
    const report = keep(await runRevoke(plan, await revokeDeps(keys, NO_WAIT, { events })));
    keep(events);

    expect(report.summary).toEqual({
      total: 2,
      revoked: 2,
      alreadyRevoked: 0,
      awaitingManual: 0,
      failed: 0,
      verified: 2,
      unverified: 0,
    });
    expect(resultFor(report, BOT.apiKey)?.evidence).toEqual([
      expect.stringContaining("OKX delete-apikey answered 0"),
      "list: no longer listed by the exchange",
      expect.stringMatching(/^probe: dead/),
    ]);
    expect(resultFor(report, READER.apiKey)?.evidence).toEqual([
      expect.stringContaining("OKX delete-apikey answered 0"),
      "list: no longer listed by the exchange",
      NO_PROBE,
    ]);
    for (const k of [BOT, READER]) expect(await control.keyStatus(k.apiKey)).toBe("revoked");

    // The audit log: requested (naming every key) before anything else, done then verified per key, finished.
    const entries = await revokeEntries();
    expect(entries[0]).toMatchObject({
      action: "revoke.requested",
      details: { keys: plan.items.map((i) => i.key.id), byApi: 2, byPerson: 0 },
    });
    for (const key of keys) {
      expect(entries.filter((e) => e.subject === key.id).map((e) => e.action)).toEqual([
        "revoke.done",
        "revoke.verified",
      ]);
    }
    expect(entries.at(-1)).toMatchObject({ action: "revoke.finished", details: report.summary });
    expect(await home.auditLog().verify()).toMatchObject({ ok: true });

    // The events: started first with the counts, then each key revoked before it is verified.
    expect(events[0]).toEqual({ type: "started", total: 2, byApi: 2, byPerson: 0 });
    for (const k of [BOT, READER]) {
      const of = events.flatMap((e) => ("result" in e && e.result.apiKey === k.apiKey ? [e.type] : []));
      expect(of).toEqual(["revoked", "verified"]);
    }
  });

  it("a key deleted since it was listed is reported already revoked, and still proven dead", async () => {
    const keys = await listed(home, sim, OKX, [BOT.apiKey]);
    await control.uiRevoke("okx", BOT.apiKey);
    const report = keep(await runRevoke(planRevoke(keys), await revokeDeps(keys, NO_WAIT)));
    const bot = resultFor(report, BOT.apiKey);
    expect(bot).toMatchObject({ outcome: "already-revoked", verified: true });
    expect(bot?.evidence.slice(1)).toEqual([
      "list: no longer listed by the exchange",
      expect.stringMatching(/^probe: dead/),
    ]);
    expect(report.summary).toMatchObject({ revoked: 0, alreadyRevoked: 1, verified: 1 });
    const done = (await revokeEntries()).find((e) => e.action === "revoke.done");
    expect(done).toMatchObject({ subject: bot?.id, details: { outcome: "already-revoked" } });
  });

  it("fails closed: when the audit log cannot be written it throws AUDIT_UNAVAILABLE before any exchange is touched", async () => {
    const keys = await listed(home, sim, OKX, [BOT.apiKey, READER.apiKey]);
    const deps = await revokeDeps(keys, NO_WAIT);
    const before = (await home.auditLog().list()).length;
    const seq = await control.lastSeq();
    chmodSync(home.paths.state, 0o400);
    try {
      const error = await runRevoke(planRevoke(keys), deps).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isKeywardError(error, "AUDIT_UNAVAILABLE"), String(error)).toBe(true);
    } finally {
      chmodSync(home.paths.state, 0o600);
    }
    expect(await control.requests(seq)).toEqual([]);
    for (const k of [BOT, READER]) expect(await control.keyStatus(k.apiKey)).toBe("active");
    expect(await home.auditLog().list()).toHaveLength(before);
  });

  it("manual keys (Bitfinex): their steps, then probes until a person has revoked them; the audit log records the confirmation", async () => {
    const keys = await listed(home, sim, BFX, [MM.apiKey]);
    const events: RevokeEvent[] = [];
    const report = keep(
      await runRevoke(
        planRevoke(keys),
        await revokeDeps(
          keys,
          { wait: true, timeoutMs: 20_000, pollMs: 20 },
          {
            onEvent: (e) => {
              events.push(structuredClone(e));
              // The person does the step once Keyward is waiting for it.
              if (e.type === "manual-waiting") void control.uiRevoke("bitfinex", MM.apiKey);
            },
          },
        ),
      ),
    );
    keep(events);
    const mm = resultFor(report, MM.apiKey);
    expect(mm).toMatchObject({ method: "manual", outcome: "revoked", verified: true });
    expect(mm?.steps?.url).toContain(sim.bitfinex);
    expect(mm?.evidence[0]).toMatch(/^before: probe: alive/);
    expect(mm?.evidence.at(-1)).toMatch(/^after the manual step: probe: dead/);
    expect(events.map((e) => e.type)).toEqual(["started", "manual-steps", "manual-waiting", "manual-done"]);
    expect(events[0]).toEqual({ type: "started", total: 1, byApi: 0, byPerson: 1 });
    expect((await revokeEntries()).map((e) => e.action)).toEqual([
      "revoke.requested",
      "revoke.manual-steps",
      "manual.confirmed",
      "revoke.verified",
      "revoke.finished",
    ]);
  });

  it("stopping the wait (the signal) ends it at once: a key nobody revoked stays awaiting a person, with what its last probe saw", async () => {
    const keys = await listed(home, sim, BFX, [MM.apiKey, OTHER.apiKey]);
    const stop = new AbortController();
    const started = Date.now();
    const report = keep(
      await runRevoke(
        planRevoke(keys),
        await revokeDeps(
          keys,
          { wait: true, timeoutMs: 60_000, pollMs: 20 },
          {
            signal: stop.signal,
            onEvent: (e) => {
              if (e.type === "manual-waiting") void control.uiRevoke("bitfinex", MM.apiKey);
              // The operator stops waiting once the first key is proven dead.
              if (e.type === "manual-done") stop.abort();
            },
          },
        ),
      ),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(resultFor(report, MM.apiKey)).toMatchObject({ outcome: "revoked", verified: true });
    const other = resultFor(report, OTHER.apiKey);
    expect(other).toMatchObject({ outcome: "awaiting-manual", verified: false });
    expect(other?.evidence.at(-1)).toMatch(/^deadline passed: .*\(last probe: alive/);
    expect(report.summary).toMatchObject({ revoked: 1, awaitingManual: 1, verified: 1 });
    expect(await control.keyStatus(OTHER.apiKey)).toBe("active");
  });

  it("a long wait for a person (many poll rounds under one signal) leaves no abort listener behind: no MaxListenersExceededWarning", async () => {
    // Each rest between poll rounds listens on the run's signal; a listener left behind per round made Node
    // warn of a leak after 11 rounds in the web demo's terminal while a revoke waited.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const keys = await listed(home, sim, BFX, [MM.apiKey, OTHER.apiKey]);
      const stop = new AbortController();
      let rounds = 0;
      const deps = await revokeDeps(
        keys,
        { wait: true, timeoutMs: 60_000, pollMs: 1 },
        { signal: stop.signal },
      );
      const adapter = deps.adapterFor((keys[0] as KeyRecord).account);
      const probe = adapter.probe.bind(adapter);
      adapter.probe = async (...args) => {
        const result = await probe(...args);
        // Two keys wait, so two probes a round; stop after well over 11 rounds.
        if (++rounds >= 2 * 15) stop.abort();
        return result;
      };
      const report = keep(await runRevoke(planRevoke(keys), deps));
      expect(report.summary).toMatchObject({ awaitingManual: 2 });
      expect(rounds).toBeGreaterThanOrEqual(30);
      // A warning is emitted on the next tick: give it one.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("an account Keyward cannot reach fails only its own keys (each audited); the other accounts' keys are revoked", async () => {
    const okx = await listed(home, sim, OKX, [READER.apiKey]);
    const bfx = await listed(home, sim, BFX, [OTHER.apiKey]);
    const keys = [...okx, ...bfx];
    const deps = await revokeDeps(keys, NO_WAIT);
    const report = keep(
      await runRevoke(planRevoke(keys), {
        ...deps,
        adapterFor: (name) => {
          if (name === BFX) throw new KeywardError("ACCOUNT_NOT_FOUND", `no adapter for account ${name}`);
          return deps.adapterFor(name);
        },
      }),
    );
    expect(resultFor(report, OTHER.apiKey)).toMatchObject({
      outcome: "failed",
      error: { code: "ACCOUNT_NOT_FOUND" },
    });
    expect(resultFor(report, READER.apiKey)).toMatchObject({ outcome: "revoked", verified: true });
    expect((await revokeEntries()).filter((e) => e.action === "revoke.failed")).toEqual([
      expect.objectContaining({
        subject: bfx[0]?.id,
        details: expect.objectContaining({ code: "ACCOUNT_NOT_FOUND" }),
      }),
    ]);
  });

  it("a signal already raised: no key is revoked, each is reported failed", async () => {
    const keys = await listed(home, sim, OKX, [BOT.apiKey]);
    const stop = new AbortController();
    stop.abort();
    const report = keep(
      await runRevoke(planRevoke(keys), await revokeDeps(keys, NO_WAIT, { signal: stop.signal })),
    );
    expect(resultFor(report, BOT.apiKey)).toMatchObject({
      outcome: "failed",
      error: { message: "cancelled before this key was revoked" },
    });
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
  });
});
