/**
 * Disable first, over real HTTP against the simulated Deribit with a real home: where an exchange has a
 * kill switch, a revoke switches every key of the account off before it removes any, then removes them
 * and proves each dead (gone from the listing, and its own probe where Keyward holds the secret); the
 * account's own key is never switched off and goes last. A key switched off whose removal fails is
 * reported "disabled" (never revoked, never proven dead), the exchange lists it as disabled, and the
 * next run removes it without switching it again. `disableFirst: false` removes directly. The order is
 * read from the simulator's request log, not from Keyward's own account of it.
 */
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdapterOptions, SecondFactorPrompt } from "../src/adapters/interface.js";
import { type Credentials, toCredentials } from "../src/domain/credentials.js";
import type { KeyRecord } from "../src/domain/schemas.js";
import { KeywardError } from "../src/errors.js";
import { addAccount } from "../src/home/accounts.js";
import { type KeywardHome, keyRef } from "../src/home/home.js";
import { SelectorSchema } from "../src/inventory/selectors.js";
import { inventoryRow } from "../src/inventory/view.js";
import { planRevoke } from "../src/revoke/plan.js";
import { type RevokeDeps, type RevokeEvent, type RevokeReport, runRevoke } from "../src/revoke/run.js";
import { type RequestLogRow, SimControl } from "../src/testing/index.js";
import { planLiveRevoke } from "../src/use-cases/plan-live-revoke.js";
import { planRotation } from "../src/use-cases/rotation-plan.js";
import { startRevoke } from "../src/use-cases/start-revoke.js";
import { makeTestHome, type TestHome } from "./test-home.js";

const DAY = 86_400_000;
const ACCOUNT = "dr-desk";
const USERNAME = "dr_desk";
/** base32 (A-Z, 2-7): the account's two-factor seed in the simulator; Keyward is never given it here. */
const SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

const key = (
  id: number,
  name: string,
  max_scope: string,
  ip_whitelist: string[] = ["127.0.0.1"],
  ageDays = 10,
) => ({
  id,
  client_id: `DRREV${String(id).padStart(3, "0")}`,
  client_secret: `CANARY-drrev-secret-${name}-5c1f0a`,
  name,
  max_scope,
  enabled: true,
  ip_whitelist,
  timestamp: Date.now() - ageDays * DAY,
});

/** The key Keyward uses: managing keys needs account:read_write. */
const ADMIN = key(1, "keyward", "account:read_write trade:read wallet:none");
const BOT = key(2, "bot_1", "account:read trade:read_write", []);
const TREASURY = key(3, "treasury", "account:read wallet:read_write");
const OLD = key(4, "bot_old", "trade:read_write", ["127.0.0.1"], 400);
const ALL = [ADMIN, BOT, TREASURY, OLD];
const CANARIES = [...ALL.map((k) => k.client_secret), SEED];

const scenario = () => ({
  deribit: {
    accounts: [{ id: 730001, username: USERNAME, type: "main" as const, totpSeed: SEED, keys: ALL }],
  },
});

const creds = (k: (typeof ALL)[number]): Credentials =>
  toCredentials({ apiKey: k.client_id, secret: k.client_secret });

let sim: RunningSimulator;
let control: SimControl;
let t: TestHome;
let home: KeywardHome;
let seen: string[] = [];

const keep = <T>(v: T): T => {
  seen.push(JSON.stringify(v));
  return v;
};

/** A person at the prompt who reads the code off the account's authenticator (the simulator's). */
const person: SecondFactorPrompt = {
  async code() {
    const res = await fetch(`${sim.control}/deribit/totp?username=${USERNAME}`);
    return ((await res.json()) as { code: string }).code;
  },
};
/** No one at the prompt: every challenge fails the call (SECOND_FACTOR_REQUIRED), as a script's run. */
const nobody: SecondFactorPrompt = {
  code: async () => {
    throw new KeywardError("SECOND_FACTOR_REQUIRED", "no one can type a code here");
  },
};

const options = (secondFactor: SecondFactorPrompt): AdapterOptions => ({
  secondFactor,
  retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
});

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  control = new SimControl(sim.control);
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  await control.loadScenario(scenario());
  await control.resetFaults();
  t = await makeTestHome("deribit-revoke");
  home = t.home;
  await addAccount(home, { name: ACCOUNT, exchange: "deribit", endpoint: sim.deribit }, creds(ADMIN));
});
afterEach(async () => {
  const text = seen.join("\n");
  seen = [];
  await t.remove();
  for (const canary of [...CANARIES, t.passphrase]) expect(text).not.toContain(canary);
});

async function listed(prompt: SecondFactorPrompt): Promise<KeyRecord[]> {
  const adapter = await home.adapterFor(ACCOUNT, options(prompt));
  return keep(await adapter.listKeys());
}

/** Keyward holds these keys' secrets (as after a rotation made them): their probes prove deaths. */
async function holdSecrets(keys: readonly KeyRecord[], of: readonly (typeof ALL)[number][]) {
  const vault = await home.vault();
  for (const k of of) {
    const record = keys.find((r) => r.apiKey === k.client_id) as KeyRecord;
    vault.set(keyRef(record.id), creds(k));
  }
  await vault.save();
}

async function deps(
  keys: readonly KeyRecord[],
  prompt: SecondFactorPrompt,
  events: RevokeEvent[] = [],
): Promise<RevokeDeps> {
  const adapter = await home.adapterFor(ACCOUNT, options(prompt));
  const held = new Map<string, Credentials>();
  for (const k of keys) {
    const c = await home.credentialsForKey(k);
    if (c) held.set(k.id, c);
  }
  return {
    adapterFor: () => adapter,
    credentialsFor: (k) => held.get(k.id),
    audit: home.audit(),
    manual: { wait: false, timeoutMs: 0, pollMs: 20 },
    onEvent: (e) => events.push(structuredClone(e)),
  };
}

/**
 * The simulator's log of key-management calls since `since` that reached the exchange (not a 5xx
 * fault answered before it was applied): [method, client id of the caller].
 */
async function writes(since: number): Promise<{ method: string; caller: string | null }[]> {
  const rows: RequestLogRow[] = await control.requests(since);
  return rows
    .filter((r) => r.exchange === "deribit" && r.status < 500)
    .filter((r) => /_api_key$/.test(r.path) && !/list_api_keys/.test(r.path))
    .map((r) => ({ method: r.path.split("/").at(-1) as string, caller: r.apiKey }));
}

const byKey = (report: RevokeReport, k: (typeof ALL)[number]) =>
  report.results.find((r) => r.apiKey === k.client_id);

describe("revoke with disable first (Deribit's kill switch)", () => {
  it("plans every key but Keyward's own to be disabled first, the own key last and never disabled; false turns it off", async () => {
    const keys = await listed(person);
    const accountKeys = await home.accountKeys();
    const plan = keep(planRevoke(keys, { accountKeys, named: [ADMIN.client_id] }));
    expect(plan.items.at(-1)).toMatchObject({ key: { apiKey: ADMIN.client_id }, accountKey: true });
    expect(plan.items.at(-1)?.disableFirst).toBeUndefined();
    expect(
      plan.items
        .filter((i) => i.disableFirst)
        .map((i) => i.key.apiKey)
        .sort(),
    ).toEqual([BOT, TREASURY, OLD].map((k) => k.client_id).sort());
    expect(plan.disableFirst).toEqual({ available: 3, planned: 3 });
    const off = planRevoke(keys, { accountKeys, named: [ADMIN.client_id], disableFirst: false });
    expect(off.items.some((i) => i.disableFirst)).toBe(false);
    expect(off.disableFirst).toEqual({ available: 3, planned: 0 });
    // Each key disabled first costs a second write: the estimate counts it.
    expect(plan.estimatedApiMs).toBeGreaterThan(off.estimatedApiMs);
  });

  it("disables every key before removing any, removes Keyward's own key last, and proves each removal by the listing and the key's own probe", async () => {
    const keys = await listed(person);
    await holdSecrets(keys, [BOT, TREASURY]);
    const plan = planRevoke(keys, { accountKeys: await home.accountKeys(), named: [ADMIN.client_id] });
    const since = await control.lastSeq();
    const events: RevokeEvent[] = [];
    // A flaky exchange while the keys are switched off (a share of 5xx answers, each retried): a switch
    // that needs a retry must still come before every removal, which only waiting for all of them (not
    // each key's own) guarantees. The first removal's code request ends the flakiness: removals that meet
    // a 5xx after the code was used stop (they are not repeated blindly), which is not what this tests.
    await control.faults({ exchange: "deribit", errorRate: 0.3, seed: 7 });
    const steady: SecondFactorPrompt = {
      async code(request) {
        await control.resetFaults();
        return person.code(request);
      },
    };
    const report = keep(await runRevoke(plan, await deps(keys, steady, events)));
    await control.resetFaults();
    keep(events);

    const calls = await writes(since);
    const disables = calls.filter((c) => c.method === "disable_api_key");
    const removes = calls.filter((c) => c.method === "remove_api_key");
    expect(disables).toHaveLength(3);
    // Every switch before the first removal; Keyward's own key is never switched off, and goes last.
    expect(calls.findLastIndex((c) => c.method === "disable_api_key")).toBeLessThan(
      calls.findIndex((c) => c.method === "remove_api_key"),
    );
    // Every call is made with Keyward's own key, and all four keys are gone: had the own key been
    // switched off or removed before the others, every call after it would have been refused.
    expect(new Set(calls.map((c) => c.caller))).toEqual(new Set([ADMIN.client_id]));
    expect(removes.length).toBeGreaterThanOrEqual(4);
    for (const k of ALL) expect(await control.keyStatus(k.client_id)).toBe("revoked");
    expect(calls.at(-1)?.method).toBe("remove_api_key");

    expect(report.summary).toMatchObject({ total: 4, revoked: 4, failed: 0, disabled: 0, verified: 4 });
    for (const k of [BOT, TREASURY, OLD]) {
      const r = byKey(report, k);
      expect(r).toMatchObject({ outcome: "revoked", disabledFirst: true, verified: true });
      expect(r?.evidence).toContain("list: no longer listed by the exchange");
    }
    // Proof of death by probing where Keyward holds the secret.
    for (const k of [BOT, TREASURY]) expect(byKey(report, k)?.evidence.at(-1)).toMatch(/^probe: dead/);
    expect(byKey(report, ADMIN)?.disabledFirst).toBeUndefined();
    expect(byKey(report, ADMIN)?.evidence.at(-1)).toMatch(/^probe: dead/);

    // Events: each key's "disabled" before its "revoked"; all "disabled" before any "revoked".
    const kinds = events.map((e) => e.type);
    expect(kinds.filter((k) => k === "disabled")).toHaveLength(3);
    expect(kinds.lastIndexOf("disabled")).toBeLessThan(kinds.indexOf("revoked"));

    // The audit log: the plan's switches named up front, then per key disabled → done → verified.
    const entries = keep(await home.auditLog().list());
    const from = entries.findLastIndex((e) => e.action === "revoke.requested");
    expect(entries[from]?.details).toMatchObject({
      disableFirst: expect.arrayContaining([expect.any(String)]),
    });
    for (const k of [BOT, TREASURY, OLD]) {
      const id = byKey(report, k)?.id;
      expect(
        entries
          .slice(from)
          .filter((e) => e.subject === id && e.action.startsWith("revoke."))
          .map((e) => e.action),
      ).toEqual(["revoke.disabled", "revoke.done", "revoke.verified"]);
    }
  });

  it("a key disabled whose removal fails is reported DISABLED, not revoked: the exchange lists it disabled, it fails authentication, and the next run removes it without switching it again", async () => {
    const keys = await listed(person);
    await holdSecrets(keys, [BOT]);
    const planned = keys.filter((k) => k.apiKey !== ADMIN.client_id);
    const plan = planRevoke(planned, { accountKeys: await home.accountKeys() });
    // The kill switch needs no code; each removal does, and no one is there to type it.
    const report = keep(await runRevoke(plan, await deps(planned, nobody)));
    expect(report.summary).toMatchObject({ total: 3, revoked: 0, failed: 0, disabled: 3, verified: 0 });
    for (const k of [BOT, TREASURY, OLD]) {
      expect(byKey(report, k)).toMatchObject({
        outcome: "disabled",
        disabledFirst: true,
        verified: false,
        error: { code: "SECOND_FACTOR_REQUIRED" },
      });
      expect(await control.keyStatus(k.client_id)).toBe("disabled");
    }
    const entries = keep(await home.auditLog().list());
    const botId = byKey(report, BOT)?.id;
    expect(entries.filter((e) => e.subject === botId).map((e) => e.action)).toEqual([
      "revoke.disabled",
      "revoke.failed",
    ]);
    expect(entries.find((e) => e.subject === botId && e.action === "revoke.failed")?.details).toMatchObject({
      disabled: true,
    });

    // Not lost: the listing still has them, as disabled; a disabled key is not dead, nor unverified.
    const again = await listed(person);
    const bot = again.find((k) => k.apiKey === BOT.client_id) as KeyRecord;
    expect(bot.state).toBe("disabled");
    const row = inventoryRow(bot, { maxKeyAgeDays: 90 });
    expect(row.state).toBe("disabled");
    expect(row.risks).toContain("no-ip");
    expect(row.risks).not.toContain("unverified");
    const treasury = inventoryRow(again.find((k) => k.apiKey === TREASURY.client_id) as KeyRecord, {
      maxKeyAgeDays: 90,
    });
    expect(treasury.risks).toContain("withdraw");
    // Its own probe fails now (switched off), which is not a revocation.
    const adapter = await home.adapterFor(ACCOUNT, options(person));
    expect((await adapter.probe(creds(BOT))).status).not.toBe("alive");

    // The next run: no switch needed (already disabled), removed and proven dead.
    const rerun = planRevoke(
      again.filter((k) => k.apiKey !== ADMIN.client_id),
      { accountKeys: await home.accountKeys() },
    );
    expect(rerun.items.some((i) => i.disableFirst)).toBe(false);
    expect(rerun.disableFirst).toEqual({ available: 0, planned: 0 });
    const since = await control.lastSeq();
    const done = keep(await runRevoke(rerun, await deps(again, person)));
    expect((await writes(since)).filter((c) => c.method === "disable_api_key")).toEqual([]);
    expect(done.summary).toMatchObject({ total: 3, revoked: 3, verified: 3, failed: 0 });
    expect(done.summary.disabled).toBeUndefined();
    for (const k of [BOT, TREASURY, OLD]) expect(await control.keyStatus(k.client_id)).toBe("revoked");
    expect(byKey(done, BOT)?.evidence.at(-1)).toMatch(/^probe: dead/);
  });

  it("disableFirst: false removes directly: no switch is sent, and the summary keeps its usual shape", async () => {
    const keys = (await listed(person)).filter((k) => k.apiKey !== ADMIN.client_id);
    const plan = planRevoke(keys, { accountKeys: await home.accountKeys(), disableFirst: false });
    const since = await control.lastSeq();
    const report = keep(await runRevoke(plan, await deps(keys, person)));
    const calls = await writes(since);
    expect(calls.filter((c) => c.method === "disable_api_key")).toEqual([]);
    // Each removal is asked, challenged, then asked again with the code: at least one call per key.
    expect(calls.filter((c) => c.method === "remove_api_key").length).toBeGreaterThanOrEqual(3);
    for (const k of [BOT, TREASURY, OLD]) expect(await control.keyStatus(k.client_id)).toBe("revoked");
    expect(report.summary).toEqual({
      total: 3,
      revoked: 3,
      alreadyRevoked: 0,
      awaitingManual: 0,
      failed: 0,
      verified: 3,
      unverified: 0,
    });
    for (const r of report.results) expect(r.disabledFirst).toBeUndefined();
  });
});

describe("a key another Keyward account uses on the same Deribit account", () => {
  /** desk-monitor reaches the same Deribit account with the bot key: dr-desk lists it among its own. */
  const MONITOR = "desk-monitor";
  const listing = () => ({ adapters: (names: readonly string[]) => home.adapters(names, options(person)) });
  const plan = async (selector: Record<string, unknown>) =>
    keep(await planLiveRevoke(home, { selector: SelectorSchema.parse(selector), ...listing() }));

  beforeEach(async () => {
    await addAccount(home, { name: MONITOR, exchange: "deribit", endpoint: sim.deribit }, creds(BOT));
  });

  it("a broad revoke holds it back (never disabled); named, it is revoked after the others, before dr-desk's own key, with a warning naming desk-monitor", async () => {
    for (const broad of [
      { account: ACCOUNT },
      { account: ACCOUNT, label: "*" },
      { account: ACCOUNT, risky: true },
    ]) {
      const { plan: broadPlan } = await plan(broad);
      expect(broadPlan.items.map((i) => i.key.apiKey)).not.toContain(BOT.client_id);
      const held = broadPlan.heldBack.find((h) => h.key.apiKey === BOT.client_id);
      expect(held?.reason).toContain(`the key Keyward uses for ${MONITOR}`);
      // No "loses access" warning: desk-monitor's key is not in the plan. (dr-desk holds no seed here, so
      // the plan does say each removal asks for a code.)
      expect(broadPlan.warnings.filter((w) => !w.includes("holds no TOTP seed"))).toEqual([]);
    }
    // Run the broad one: desk-monitor's key is neither switched off nor removed, and still works.
    const { plan: broad } = await plan({ account: ACCOUNT });
    const since = await control.lastSeq();
    const session = await startRevoke(home, broad, {
      adapterFor: home.liveAdapterSource(options(person)),
      manual: { wait: false, timeoutMs: 0, pollMs: 20 },
    });
    const report = keep(await session.finished());
    expect(report.summary).toMatchObject({ revoked: 2, failed: 0 });
    expect(byKey(report, BOT)).toBeUndefined();
    const calls = await writes(since);
    expect(calls.filter((c) => c.method === "disable_api_key")).toHaveLength(2);
    expect(await control.keyStatus(BOT.client_id)).toBe("active");
    expect(await control.keyStatus(ADMIN.client_id)).toBe("active");
    const monitor = await home.adapterFor(MONITOR, options(person));
    expect((await monitor.probe(creds(BOT))).status).toBe("alive");

    // Named (with dr-desk's own key): planned as an own key, never disabled first, after every other
    // key and before dr-desk's own key (which revokes it); the warning names desk-monitor.
    const { inventory } = await plan({ account: ACCOUNT });
    const id = (k: (typeof ALL)[number]) =>
      inventory.keys.find((r) => r.apiKey === k.client_id)?.id as string;
    const { plan: named } = await plan({ ids: [id(ADMIN), id(BOT)] });
    expect(named.heldBack).toEqual([]);
    expect(named.items.map((i) => i.key.apiKey)).toEqual([BOT.client_id, ADMIN.client_id]);
    expect(named.items.every((i) => i.accountKey && !i.disableFirst)).toBe(true);
    expect(named.disableFirst.available).toBe(0);
    expect(named.warnings).toEqual([
      expect.stringMatching(new RegExp(`^Keyward loses access to ${MONITOR} after this`)),
      expect.stringMatching(new RegExp(`^Keyward loses access to ${ACCOUNT} after this`)),
      expect.stringMatching(
        new RegExp(`^${ACCOUNT} holds no TOTP seed: each removal asks for a two-factor code`),
      ),
    ]);
    const from = await control.lastSeq();
    const done = keep(
      await (
        await startRevoke(home, named, {
          adapterFor: home.liveAdapterSource(options(person)),
          manual: { wait: false, timeoutMs: 0, pollMs: 20 },
        })
      ).finished(),
    );
    // Both proven dead: desk-monitor's key by dr-desk's listing and by its own probe, dr-desk's by its probe.
    expect(done.summary).toMatchObject({ revoked: 2, failed: 0, verified: 2 });
    expect(byKey(done, BOT)?.evidence).toEqual(
      expect.arrayContaining([
        "list: no longer listed by the exchange",
        expect.stringMatching(/^probe: dead/),
      ]),
    );
    const removed = (await writes(from)).filter((c) => c.method !== "disable_api_key");
    expect(removed.every((c) => c.method === "remove_api_key" && c.caller === ADMIN.client_id)).toBe(true);
    expect((await writes(from)).some((c) => c.method === "disable_api_key")).toBe(false);
    for (const k of [BOT, ADMIN]) expect(await control.keyStatus(k.client_id)).toBe("revoked");
  });

  it("rotation refuses it from dr-desk: switching dr-desk's vault entry would leave desk-monitor with the dead key", async () => {
    const { inventory } = await plan({ account: ACCOUNT });
    const bot = inventory.keys.find((k) => k.apiKey === BOT.client_id) as KeyRecord;
    const rotation = keep(
      await planRotation(home, { keys: [bot], deliver: [], cwd: t.dir, allowPrograms: true }),
    );
    expect(rotation.slots).toEqual([]);
    expect(rotation.refused).toEqual([
      expect.objectContaining({
        apiKey: BOT.client_id,
        reason: expect.stringContaining(`Keyward uses for ${MONITOR}`),
      }),
    ]);
  });
});
