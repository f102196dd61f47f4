/**
 * The rotation engine where it lives (rotation/apply.ts, rotation/engine.ts), over real HTTP against the
 * in-process simulator: an API rotation end to end into a dotenv file; the write-ahead order (each
 * `creating` / `delivering` / `revoking` record is in the journal, with its audit entry, before the
 * exchange or a target is touched); a crash at any of those points, or right after the exchange answered
 * and before that was journaled, finished by running the run again from a reopened home; a failed
 * delivery that leaves the old key working and the run resumable; and an assisted (Bitfinex) rotation
 * that waits for a person's credentials, refuses the wrong ones and proves the old key dead.
 *
 * A crash is simulated in-process through the engine's crash seam (`deps.crashPoint`): at the point, the
 * home's database is closed and the seam throws, so nothing more is written, as when the process dies.
 */
import { spawnSync } from "node:child_process";
import { getEventListeners } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CredentialsInput } from "../src/domain/credentials.js";
import { isKeywardError } from "../src/errors.js";
import type { KeywardHome } from "../src/home/home.js";
import { abortRotation } from "../src/rotation/abort.js";
import { applyPlan } from "../src/rotation/apply.js";
import type { CreateRequest, RotationDeps, RotationEvent } from "../src/rotation/context.js";
import { runRotation } from "../src/rotation/engine.js";
import { DEFAULT_RUN_OPTIONS, type RotationPlan, type RunOptions } from "../src/rotation/schemas.js";
import { sqliteHandleForTests } from "../src/store/sqlite/sqlite-state-store.js";
import { SimControl } from "../src/testing/index.js";
import { creds as bfxCreds } from "./bitfinex-fixtures.js";
import {
  adapterOptions,
  addDesk,
  BFX,
  BFX_USER,
  BOT,
  canaries,
  crashAt,
  dotenvKey,
  labelledKeys,
  listed,
  MM,
  OKX,
  planFor,
  rotationActions,
  SUB,
  scenario,
} from "./engine-world.js";
import { creds as okxCreds } from "./okx-fixtures.js";
import type { SimState } from "./sim-state.js";
import { makeTestHome, rotationDeps, type TestHome } from "./test-home.js";

let sim: RunningSimulator;
let control: SimControl;
let t: TestHome;
let home: KeywardHome;
/** Everything a test saw (reports, events, audit entries, journal rows), for the canary scan. */
let seen: string[] = [];
/** Secrets a test made on the way (keys a person created), scanned for too. */
let madeSecrets: string[] = [];

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
  t = await makeTestHome("engine-rotation");
  home = t.home;
  await addDesk(home, sim);
});
afterEach(async () => {
  const text = seen.join("\n");
  const secrets = [...canaries, ...madeSecrets, t.passphrase];
  seen = [];
  madeSecrets = [];
  await t.remove();
  for (const canary of secrets) expect(text).not.toContain(canary);
});

const RUN: RunOptions = { ...DEFAULT_RUN_OPTIONS, graceMs: 0, concurrency: 1 };
const deps = (h: KeywardHome = home, extra: Partial<RotationDeps> = {}) =>
  rotationDeps(h, adapterOptions(sim), extra);

/** The sub-account's keys on the simulator: apiKey → status. */
async function subKeys(): Promise<Map<string, string>> {
  const state = await control.state<SimState>();
  const sub = state.okx.accounts.flatMap((a) => a.subAccounts).find((s) => s.name === SUB);
  return new Map((sub?.keys ?? []).map((k) => [k.apiKey, k.status]));
}

async function probe(account: string, c: ReturnType<typeof dotenvKey>["credentials"]) {
  return (await home.adapterFor(account, adapterOptions(sim))).probe(c);
}

/** BOT's rotation plan into `<dir>/bot.env` (plus any other targets), the file seeded with an old key. */
async function botPlan(
  extra: string[] = [],
): Promise<{ plan: RotationPlan; envFile: string; before: string }> {
  const envFile = join(t.dir, "bot.env");
  const before = "# the bot's settings\nAPI_KEY='old'\nVENUE=okx\n";
  writeFileSync(envFile, before, { mode: 0o600 });
  const plan = await planFor(
    home,
    await listed(home, sim, OKX, [BOT.apiKey]),
    [`dotenv:${envFile}`, ...extra],
    t.dir,
  );
  expect(plan.slots.map((s) => s.method)).toEqual(["api"]);
  return { plan, envFile, before };
}

const keep = <T>(v: T): T => {
  seen.push(JSON.stringify(v));
  return v;
};

describe("an API rotation (OKX sub-account key)", () => {
  it("runs end to end: every step journaled in protocol order, the new key in the dotenv file and working, the old key dead", async () => {
    const { plan, envFile } = await botPlan();
    const events: RotationEvent[] = [];
    const report = keep(
      await applyPlan(plan, RUN, deps(home, { onEvent: (e) => events.push(structuredClone(e)) })),
    );
    keep(events);

    expect(report).toMatchObject({ runId: plan.id, state: "finished" });
    expect(report.summary).toMatchObject({ total: 1, finished: 1, failed: 0, waiting: 0, active: 0 });
    const [slot] = report.slots;
    expect(slot).toMatchObject({ step: "finished", outcome: "finished", label: BOT.label });
    expect(slot?.newLabel).toBe(`${BOT.label}-${plan.id}-1`);

    // The journal went through the API protocol, one step after the other.
    const steps = events.flatMap((e) => (e.type === "step" ? [e.slot.step] : []));
    expect(steps.filter((s, i) => s !== steps[i - 1])).toEqual([
      "creating",
      "created",
      "verified",
      "delivering",
      "delivered",
      "checked",
      "revoking",
      "revoked",
      "dead",
      "finished",
    ]);
    // The audit log tells the same story, in the same order, and verifies.
    expect(await rotationActions(home)).toEqual([
      "rotation.requested",
      "rotation.creating",
      "rotation.new-key-created",
      "rotation.new-key-verified",
      "rotation.delivering",
      "rotation.target-written",
      "rotation.delivered",
      "rotation.checked",
      "rotation.revoking",
      "rotation.old-key-revoked",
      "rotation.old-key-dead",
      "rotation.finished",
      "rotation.run-finished",
    ]);
    expect(await home.auditLog().verify()).toMatchObject({ ok: true });

    // Only the key's lines changed; the new key authenticates with what the file holds; the old one is gone.
    const text = readFileSync(envFile, "utf8");
    expect(text).toMatch(/^# the bot's settings\n/);
    expect(text).toContain("VENUE=okx");
    const delivered = dotenvKey(envFile);
    expect(delivered.apiKey).not.toBe(BOT.apiKey);
    expect((await probe(OKX, delivered.credentials)).status).toBe("alive");
    const keys = await subKeys();
    expect(keys.get(BOT.apiKey)).toBe("revoked");
    expect(keys.get(delivered.apiKey)).toBe("active");
    // Keyward keeps the new key's secret (a later abort or rotation needs it), under the new key's id.
    const [current] = await listed(home, sim, OKX, [delivered.apiKey]);
    expect(current).toBeDefined();
    const held = current ? await home.credentialsForKey(current) : undefined;
    expect(held?.secret.reveal()).toBe(delivered.secret);
    keep(sqliteHandleForTests(home.state()).prepare("SELECT * FROM rotation_slots").all());
  });

  it("is write-ahead: creating, delivering and revoking are journaled (with their audit entry) before the exchange or a target is touched; a crash at each is finished by resume", async () => {
    const { plan, envFile, before } = await botPlan();
    const labelled = () => labelledKeys(control, `${BOT.label}-${plan.id}-1`);

    // 1. Killed at `creating`: journaled, audited, and no key was asked for yet.
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "creating")))).rejects.toThrow();
    let h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("creating");
    expect((await rotationActions(h)).at(-1)).toBe("rotation.creating");
    expect(await labelled()).toEqual([]);

    // 2. Resumed, killed at `delivering`: the new key exists, no target was written yet.
    await expect(runRotation(plan.id, deps(h, crashAt(h, "delivering")))).rejects.toThrow();
    h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("delivering");
    expect((await rotationActions(h)).at(-1)).toBe("rotation.delivering");
    expect(readFileSync(envFile, "utf8")).toBe(before);
    expect((await labelled()).map((k) => k.status)).toEqual(["active"]);

    // 3. Resumed, killed at `revoking`: the new key is delivered, the old key not yet touched.
    await expect(runRotation(plan.id, deps(h, crashAt(h, "revoking")))).rejects.toThrow();
    h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("revoking");
    expect((await rotationActions(h)).at(-1)).toBe("rotation.revoking");
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
    const delivered = dotenvKey(envFile);
    expect(delivered.apiKey).not.toBe(BOT.apiKey);

    // 4. Resumed to the end: one live key in the sub-account, the one in the file.
    const report = keep(await runRotation(plan.id, deps(h)));
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    const keys = await subKeys();
    expect(keys.get(BOT.apiKey)).toBe("revoked");
    expect([...keys].filter(([, s]) => s === "active").map(([k]) => k)).toEqual(
      expect.arrayContaining([delivered.apiKey]),
    );
    expect((await labelled()).map((k) => k.status)).toEqual(["active"]);
    expect(await h.auditLog().verify()).toMatchObject({ ok: true });
  });

  it("a crash after the exchange answered a create, or a revoke, before it was journaled: resume leaves one new key and no orphan", async () => {
    const { plan, envFile } = await botPlan();
    const labelled = () => labelledKeys(control, `${BOT.label}-${plan.id}-1`);

    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "create-answered")))).rejects.toThrow();
    let h = await t.reopen();
    // The exchange made the key, the journal does not know it (still `creating`), the vault has no secret.
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("creating");
    expect((await labelled()).map((k) => k.status)).toEqual(["active"]);

    await expect(runRotation(plan.id, deps(h, crashAt(h, "revoke-answered")))).rejects.toThrow();
    h = await t.reopen();
    // The old key is deleted on the exchange; the journal still says `revoking`.
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("revoking");
    expect(await control.keyStatus(BOT.apiKey)).toBe("revoked");

    const report = keep(await runRotation(plan.id, deps(h)));
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    // Exactly one live key carries the rotation's label: the one delivered, which works.
    const live = (await labelled()).filter((k) => k.status === "active");
    expect(live.map((k) => k.apiKey)).toEqual([dotenvKey(envFile).apiKey]);
    expect((await probe(OKX, dotenvKey(envFile).credentials)).status).toBe("alive");
    expect(await h.auditLog().verify()).toMatchObject({ ok: true });
  });

  it("a delivery that fails leaves the old key working and the run resumable; resume finishes it without writing a target twice", async () => {
    const ready = join(t.dir, "ready");
    const out = join(t.dir, "exec-out.json");
    // The second target is a command that fails until `ready` exists (e.g. a secrets manager that is down).
    const { plan, envFile } = await botPlan([`exec:test -e '${ready}' && cat > '${out}'`]);
    const report = keep(await applyPlan(plan, RUN, deps()));
    expect(report.state).toBe("active");
    const [slot] = report.slots;
    expect(slot).toMatchObject({ step: "delivering", outcome: "failed" });
    expect(slot?.error?.message).toMatch(/exec/);
    // The old key was not touched and still authenticates; nothing past delivery was journaled.
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
    expect((await probe(OKX, okxCreds(BOT))).status).toBe("alive");
    expect(await rotationActions(home)).not.toContain("rotation.revoking");
    expect(await rotationActions(home)).toContain("rotation.failed");
    const first = readFileSync(envFile, "utf8");
    expect(dotenvKey(envFile).apiKey).not.toBe(BOT.apiKey);

    writeFileSync(ready, "");
    const resumed = keep(await runRotation(plan.id, deps()));
    expect(resumed).toMatchObject({ state: "finished", summary: { finished: 1, failed: 0 } });
    expect(readFileSync(envFile, "utf8")).toBe(first);
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ apiKey: dotenvKey(envFile).apiKey });
    expect((await rotationActions(home)).filter((a) => a === "rotation.target-written")).toHaveLength(2);
    expect(await control.keyStatus(BOT.apiKey)).toBe("revoked");
  });
});

describe("the journal's claim on a run", () => {
  it("a run another live process holds is refused, as is a second plan for the same key; a claim left by a dead process is taken over by resume", async () => {
    const { plan } = await botPlan();
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "verified")))).rejects.toThrow();
    const h = await t.reopen();
    // What another `keyward rotate` on this host leaves in state.db while it runs.
    const claimBy = (pid: number) =>
      sqliteHandleForTests(h.state())
        .prepare("UPDATE rotation_runs SET lock_pid = ?, lock_host = ? WHERE id = ?")
        .run(pid, hostname(), plan.id);
    const conflict = async (action: Promise<unknown>) => {
      const error = await action.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isKeywardError(error, "ROTATION_CONFLICT"), String(error)).toBe(true);
      return (error as Error).message;
    };

    claimBy(process.ppid); // alive: the process that started this test worker
    expect(await conflict(runRotation(plan.id, deps(h)))).toMatch(`being run by process ${process.ppid}`);
    expect(await conflict(abortRotation(plan.id, deps(h)))).toMatch(`being run by process ${process.ppid}`);
    // A new plan for a key an unfinished run holds is refused before anything is recorded or created.
    const { plan: second } = await botPlan();
    expect(await conflict(applyPlan(second, RUN, deps(h)))).toMatch(`is being rotated by ${plan.id}`);
    expect(await deps(h).journal.run(second.id)).toBeUndefined();
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");

    // The claimant died (SIGKILL, power cut): resume takes the run over and finishes it.
    const gone = spawnSync("true").pid;
    claimBy(gone);
    const report = keep(await runRotation(plan.id, deps(h)));
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    expect(await control.keyStatus(BOT.apiKey)).toBe("revoked");
  });
});

describe("an assisted rotation (Bitfinex)", () => {
  it("waits for the new key's credentials, refuses a key with other permissions, delivers, then proves the old key dead once a person revokes it", async () => {
    const envFile = join(t.dir, "mm.env");
    const plan = await planFor(home, await listed(home, sim, BFX, [MM.apiKey]), [`dotenv:${envFile}`], t.dir);
    expect(plan.slots.map((s) => s.method)).toEqual(["assisted"]);
    const label = plan.slots[0]?.new.label as string;

    // Nobody hands over credentials: the slot waits at awaiting-new-key, and says what to create.
    const requests: CreateRequest[] = [];
    const first = keep(
      await applyPlan(
        plan,
        { ...RUN, manualTimeoutMs: 0 },
        deps(home, {
          askCredentials: async () => undefined,
          onEvent: (e) => {
            if (e.type === "create-steps") requests.push(e.request);
          },
        }),
      ),
    );
    expect(first).toMatchObject({ state: "active", summary: { waiting: 1 } });
    expect(first.slots[0]).toMatchObject({ step: "awaiting-new-key", outcome: "waiting" });
    expect(requests[0]).toMatchObject({ label, exchange: "bitfinex", needsPassphrase: false });
    expect(requests[0]?.permissionsText).toMatch(/orders: read\+write, wallets: read, withdraw: write/);
    expect(requests[0]?.steps.url).toContain(sim.bitfinex);

    // The person makes a key with one permission too many, then the right one.
    const make = (permissions: [string, number, number][]) =>
      control.uiCreate<{ apiKey: string; apiSecret: string }>({
        exchange: "bitfinex",
        userId: BFX_USER,
        label,
        permissions,
        ip: ["127.0.0.1"],
      });
    const wrong = await make([
      ["orders", 1, 1],
      ["wallets", 1, 1],
      ["withdraw", 0, 1],
    ]);
    const right = await make([
      ["orders", 1, 1],
      ["wallets", 1, 0],
      ["withdraw", 0, 1],
    ]);
    madeSecrets.push(wrong.apiSecret, right.apiSecret);
    const given: CredentialsInput[] = [
      { apiKey: wrong.apiKey, secret: wrong.apiSecret },
      { apiKey: right.apiKey, secret: right.apiSecret },
    ];
    const refusals: string[] = [];
    let deliveredWhenAsked: string | undefined;
    const report = keep(
      await runRotation(
        plan.id,
        deps(home, {
          askCredentials: async (_request, attempt) => given[attempt - 1],
          onEvent: (e) => {
            if (e.type === "refused") refusals.push(e.reason);
            if (e.type === "revoke-steps") {
              // Delivered before the person is asked to revoke anything; then the person revokes.
              deliveredWhenAsked = dotenvKey(envFile).apiKey;
              void control.uiRevoke("bitfinex", MM.apiKey);
            }
          },
        }),
        { manualTimeoutMs: 20_000 },
      ),
    );
    expect(refusals).toEqual([
      expect.stringMatching(/its permissions differ: wallets is read\+write, must be read/),
    ]);
    // The refused key is alive and untracked: the person is told to delete it.
    expect(refusals[0]).toMatch(/exists and works: delete it on the exchange's site/);
    expect(deliveredWhenAsked).toBe(right.apiKey);
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    expect(report.slots[0]?.evidence.join("\n")).toMatch(/dead/);
    expect(await control.keyStatus(MM.apiKey)).toBe("revoked");
    expect(dotenvKey(envFile)).toMatchObject({ apiKey: right.apiKey, secret: right.apiSecret });
    expect((await probe(BFX, bfxCreds({ apiKey: right.apiKey, apiSecret: right.apiSecret }))).status).toBe(
      "alive",
    );
    expect(await rotationActions(home)).toEqual(
      expect.arrayContaining([
        "rotation.awaiting-new-key",
        "rotation.new-key-refused",
        "rotation.awaiting-revoke",
        "rotation.old-key-dead",
        "rotation.finished",
      ]),
    );
    // Keyward now knows the new key in place of the old one (Bitfinex lists nothing: it is tracked).
    const keys = await (await home.adapterFor(BFX, adapterOptions(sim))).listKeys();
    expect(keys.map((k) => k.apiKey)).toContain(right.apiKey);
    expect(keys.find((k) => k.apiKey === MM.apiKey)?.state ?? "gone").not.toBe("active");
    expect(await home.auditLog().verify()).toMatchObject({ ok: true });
  });
  it("a long wait for a person to revoke the old key (many poll rounds under one signal) emits no MaxListenersExceededWarning", async () => {
    // Each rest between poll rounds listens on the run's signal: one listener left behind per round would
    // make Node warn of a leak after 11 rounds while a rotation waits for a person.
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const envFile = join(t.dir, "mm.env");
      const plan = await planFor(
        home,
        await listed(home, sim, BFX, [MM.apiKey]),
        [`dotenv:${envFile}`],
        t.dir,
      );
      const right = await control.uiCreate<{ apiKey: string; apiSecret: string }>({
        exchange: "bitfinex",
        userId: BFX_USER,
        label: plan.slots[0]?.new.label as string,
        permissions: [
          ["orders", 1, 1],
          ["wallets", 1, 0],
          ["withdraw", 0, 1],
        ],
        ip: ["127.0.0.1"],
      });
      madeSecrets.push(right.apiSecret);
      const stop = new AbortController();
      let probes = 0;
      let waiting = false;
      let listenersAtStop = -1;
      const base = deps(home, {
        askCredentials: async () => ({ apiKey: right.apiKey, secret: right.apiSecret }),
        onEvent: (e) => {
          // Nobody revokes the old key: the run polls it until stopped.
          if (e.type === "revoke-steps") waiting = true;
        },
        signal: stop.signal,
        timing: { verifyDeadlineMs: 5_000, pollMs: 1, stepRetries: 1, stepBackoffMs: 50 },
      });
      const report = keep(
        await applyPlan(
          plan,
          { ...RUN, manualTimeoutMs: 60_000 },
          {
            ...base,
            adapterFor: async (account) => {
              const adapter = await base.adapterFor(account);
              const probe = adapter.probe.bind(adapter);
              adapter.probe = async (...args) => {
                const result = await probe(...args);
                // About ten probes a round (the old key is probed on each host and kind): 15+ rounds.
                if (waiting && ++probes === 150) {
                  listenersAtStop = getEventListeners(stop.signal, "abort").length;
                  stop.abort();
                }
                return result;
              };
              return adapter;
            },
          },
        ),
      );
      expect(report.slots[0]).toMatchObject({ step: "awaiting-revoke" });
      expect(probes).toBeGreaterThanOrEqual(150);
      // Only the rest under way listens (and none of the earlier rests): nothing piles up on the signal.
      expect(listenersAtStop).toBeGreaterThanOrEqual(0);
      expect(listenersAtStop).toBeLessThanOrEqual(1);
      // A warning is emitted on the next tick: give it one.
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
