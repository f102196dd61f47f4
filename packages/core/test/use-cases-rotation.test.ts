/**
 * The rotation use cases both shells call (src/use-cases/rotation-*.ts), over real HTTP against the
 * in-process simulator, with a real home (vault, state.db, audit log): plan, apply, resume (and its
 * `rotation.resumed` audit entry), status, abort, the passphrase rule for an assisted slot's new key,
 * answered from outside (the web's form) or by a person at this process (the CLI's prompt), and the
 * refusals (programs where none may run, an audit log that cannot be written).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KeyRecord } from "../src/domain/schemas.js";
import { Secret } from "../src/domain/secret.js";
import { isKeywardError, type KeywardError } from "../src/errors.js";
import { addAccount, trackKey } from "../src/home/accounts.js";
import { KeywardHome, keyRef } from "../src/home/home.js";
import { CredentialStore, DEFAULT_RUN_OPTIONS, type RotationPlan } from "../src/rotation/index.js";
import { SimControl } from "../src/testing/index.js";
import { abortRotationRun } from "../src/use-cases/rotation-abort.js";
import { findRotation, rotationChildEnv } from "../src/use-cases/rotation-common.js";
import { planRotation } from "../src/use-cases/rotation-plan.js";
import { applyRotation, resumeRotation } from "../src/use-cases/rotation-run.js";
import type { RotationSession, RotationSessionEvent } from "../src/use-cases/rotation-session.js";
import { graceOf, rotationStatus } from "../src/use-cases/rotation-status.js";
import { ACCOUNT_SCOPES, creds as bfxCreds, bfxKey, seed as bfxSeed } from "./bitfinex-fixtures.js";
import { canariesOf, creds, seed, seedKey, subName } from "./okx-fixtures.js";

const ADMIN = seedKey("uadmin", "read_only,trade", "127.0.0.1");
const LEGACY = seedKey("ulegacy", "read_only,trade", "127.0.0.1");
const BOT = seedKey("ubot", "read_only,trade", "127.0.0.1");
const BOT2 = seedKey("ubot2", "read_only", "127.0.0.1");
const SUB = subName("usub", 1);
const BFX_ACCOUNT = bfxKey("desk-bfx", ACCOUNT_SCOPES, { ip: ["127.0.0.1"] });
const BFX_MM = bfxKey("mm-bfx", [["orders", 1, 1]], { ip: ["127.0.0.1"] });
const BFX_USER = 8100001;

const scenario = () => ({
  okx: {
    accounts: [
      {
        uid: "7201",
        name: "udesk",
        keys: [seed(ADMIN), seed(LEGACY)],
        subAccounts: [{ name: SUB, uid: "7301", keys: [seed(BOT), seed(BOT2)] }],
      },
    ],
  },
  bitfinex: {
    users: [{ id: BFX_USER, email: "u@example.com", keys: [bfxSeed(BFX_ACCOUNT), bfxSeed(BFX_MM)] }],
  },
});

const PASSPHRASE = "CANARY-use-cases-vault-passphrase";
const CANARIES = [
  ...canariesOf([ADMIN, LEGACY, BOT, BOT2]),
  BFX_ACCOUNT.apiSecret,
  BFX_MM.apiSecret,
  PASSPHRASE,
];

let sim: RunningSimulator;
let control: SimControl;
let dir: string;
let home: KeywardHome;
/** Everything the use cases handed back: reports, events, errors, audit entries; no secret may be in it. */
const seen: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario() });
  control = new SimControl(sim.control);
});
afterAll(async () => {
  await sim?.close();
  const text = seen.join("\n");
  for (const canary of CANARIES) expect(text).not.toContain(canary);
});
beforeEach(async () => {
  await control.loadScenario(scenario());
  dir = mkdtempSync(join(tmpdir(), "keyward-uc-rotation-"));
  ({ home } = await KeywardHome.init(join(dir, "home"), {
    passphrase: async () => new Secret(PASSPHRASE),
    actor: "test:use-cases",
    vault: { workFactor: 10 },
  }));
  await addAccount(home, { name: "udesk", exchange: "okx", endpoint: sim.okx }, creds(ADMIN));
  await addAccount(
    home,
    { name: "ubfx", exchange: "bitfinex", endpoint: sim.bitfinex },
    bfxCreds(BFX_ACCOUNT),
  );
});
afterEach(async () => {
  seen.push(JSON.stringify(await home.auditLog().list()));
  await home?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function keysOf(account: string, apiKeys: string[]): Promise<KeyRecord[]> {
  const adapter = await home.adapterFor(account);
  const keys = (await adapter.listKeys()).filter((k) => apiKeys.includes(k.apiKey));
  expect(keys.map((k) => k.apiKey).sort()).toEqual([...apiKeys].sort());
  return keys;
}

async function planFor(account: string, apiKeys: string[], deliver: string[]): Promise<RotationPlan> {
  const plan = await planRotation(home, {
    keys: await keysOf(account, apiKeys),
    deliver,
    cwd: null,
    allowPrograms: false,
  });
  seen.push(JSON.stringify(plan));
  return plan;
}

const auditOf = async (action: string) => (await home.auditLog().list()).filter((e) => e.action === action);

/** The events of a session, kept for assertions (and the secret check). */
function recorder() {
  const events: RotationSessionEvent[] = [];
  return {
    events,
    onEvent: (e: RotationSessionEvent) => {
      events.push(e);
      seen.push(JSON.stringify(e));
    },
  };
}

async function caught(fn: () => unknown): Promise<KeywardError> {
  try {
    await fn();
  } catch (error) {
    if (isKeywardError(error)) {
      seen.push(JSON.stringify(error));
      return error;
    }
    throw error;
  }
  throw new Error("expected a KeywardError");
}

async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("plan", () => {
  it("plans API and assisted keys with file targets, and names what is refused", async () => {
    await trackKey(home, "udesk", "legacy", creds(LEGACY));
    const plan = await planFor(
      "udesk",
      [BOT.apiKey, LEGACY.apiKey, ADMIN.apiKey],
      [`dotenv:${dir}/{label}.env`],
    );
    const bySlot = Object.fromEntries(plan.slots.map((s) => [s.old.apiKey, s]));
    expect(bySlot[BOT.apiKey]).toMatchObject({ method: "api", old: { accountKey: false } });
    expect(bySlot[LEGACY.apiKey]).toMatchObject({ method: "assisted", old: { accountKey: false } });
    // The account's own key is recognised from the vault: Keyward switches to its new key.
    expect(bySlot[ADMIN.apiKey]).toMatchObject({ method: "assisted", old: { accountKey: true } });
    expect(bySlot[BOT.apiKey]?.deliver).toEqual([
      expect.objectContaining({ kind: "dotenv", path: join(dir, "ubot.env") }),
    ]);
  });

  it("refuses programs where none may run, and relative paths without a directory", async () => {
    const keys = await keysOf("udesk", [BOT.apiKey]);
    const exec = await caught(() =>
      planRotation(home, { keys, deliver: ["exec:/bin/true"], cwd: null, allowPrograms: false }),
    );
    expect(exec.code).toBe("TARGET_NOT_ALLOWED");
    const relative = await caught(() =>
      planRotation(home, { keys, deliver: ["dotenv:bot.env"], cwd: null, allowPrograms: false }),
    );
    expect(relative.code).toBe("CONFIG_INVALID");
    expect(relative.message).toMatch(/relative path/);
    // Where programs may run (the command line), the same exec target plans, relative to its directory.
    const plan = await planRotation(home, {
      keys,
      deliver: ["exec:/bin/true", "dotenv:bot.env"],
      cwd: dir,
      allowPrograms: true,
    });
    expect(plan.slots[0]?.deliver.map((t) => t.kind)).toEqual(["exec", "dotenv"]);
  });

  it("refuses a key that is in another unfinished rotation", async () => {
    const first = await planFor("udesk", [BOT.apiKey], [`dotenv:${dir}/bot.env`]);
    const session = await applyRotation(home, {
      plan: first,
      options: { ...DEFAULT_RUN_OPTIONS, graceMs: 600_000 },
      env: {},
    });
    await until(
      "the grace period",
      async () => graceOf((await rotationStatus(home, { runId: first.id }))[0]?.slots ?? [])[0],
    );
    await session.stop();
    const again = await planFor("udesk", [BOT.apiKey], [`dotenv:${dir}/again.env`]);
    expect(again.slots).toEqual([]);
    expect(again.refused[0]?.reason).toContain(first.id);
  });
});

describe("apply, status, resume", () => {
  it("applies a plan: the new key delivered, the old one proven dead, every step audited", async () => {
    const plan = await planFor("udesk", [BOT.apiKey], [`dotenv:${dir}/bot.env`]);
    const { events, onEvent } = recorder();
    let announced: RotationSession | undefined;
    const session = await applyRotation(home, {
      plan,
      options: { ...DEFAULT_RUN_OPTIONS, graceMs: 0 },
      env: {},
      onEvent,
      // The shell learns of the session before any of its events (the web registers its job here).
      onStart: (s) => {
        expect(events).toEqual([]);
        announced = s;
      },
    });
    expect(announced).toBe(session);
    // Resolved once the run is journaled: status shows it at once.
    expect((await findRotation(home, plan.id))?.state).toBeDefined();
    const report = await session.done;
    seen.push(JSON.stringify(report));
    expect(report.summary).toMatchObject({ total: 1, finished: 1, failed: 0 });
    expect(session.active).toBe(false);
    expect(await control.keyStatus(BOT.apiKey)).toBe("revoked");
    const [status] = await rotationStatus(home, { runId: plan.id });
    expect(status?.status).toMatchObject({
      id: plan.id,
      state: "finished",
      report: { summary: { finished: 1 } },
    });
    const newApiKey = status?.slots[0]?.newApiKey as string;
    expect(await control.keyStatus(newApiKey)).toBe("active");
    expect(readFileSync(join(dir, "bot.env"), "utf8")).toContain(`API_KEY='${newApiKey}'`);
    expect(
      events.filter((e) => e.type === "step").map((e) => (e.type === "step" ? e.slot.step : "")),
    ).toEqual(
      expect.arrayContaining(["creating", "created", "verified", "delivered", "revoked", "dead", "finished"]),
    );
    expect(await auditOf("rotation.requested")).toHaveLength(1);
    expect(
      (await auditOf("rotation.finished")).length + (await auditOf("rotation.old-key-dead")).length,
    ).toBeGreaterThan(0);
  });

  it("resumes a stopped run from where it stood, audits rotation.resumed first, and reports a settled run", async () => {
    const plan = await planFor("udesk", [BOT2.apiKey], [`dotenv:${dir}/bot2.env`]);
    const stopped = new AbortController();
    stopped.abort();
    const first = await applyRotation(home, {
      plan,
      options: { ...DEFAULT_RUN_OPTIONS, graceMs: 0 },
      env: {},
      signal: stopped.signal,
    });
    const interrupted = await first.done;
    expect(interrupted.summary).toMatchObject({ total: 1, active: 1 });
    expect((await rotationStatus(home, { runId: plan.id }))[0]?.slots.map((s) => s.step)).toEqual([
      "planned",
    ]);
    expect(await auditOf("rotation.resumed")).toEqual([]);

    let startedAt: Promise<number> = Promise.resolve(-1);
    const outcome = await resumeRotation(home, {
      runId: plan.id,
      allowPrograms: false,
      from: "web",
      overrides: { concurrency: 2 },
      env: {},
      onStart: () => {
        // Read when the engine is handed the run (the store reads at once when no write is open).
        startedAt = auditOf("rotation.resumed").then((entries) => entries.length);
      },
    });
    expect(outcome.settled).toBeUndefined();
    // rotation.resumed is written before the engine starts, with who resumed and the options given now.
    expect(await startedAt).toBe(1);
    const [resumed] = await auditOf("rotation.resumed");
    expect(resumed).toMatchObject({ subject: plan.id, details: { concurrency: 2, from: "web" } });
    const report = await (outcome.session as RotationSession).done;
    expect(report.summary).toMatchObject({ finished: 1 });
    expect(await control.keyStatus(BOT2.apiKey)).toBe("revoked");

    // A finished run is not run again: its report, and no new audit entry.
    const settled = await resumeRotation(home, { runId: plan.id, allowPrograms: true, env: {} });
    expect(settled.session).toBeUndefined();
    expect(settled.settled).toMatchObject({ runId: plan.id, state: "finished" });
    expect(await auditOf("rotation.resumed")).toHaveLength(1);
  });

  it("status lists the newest runs, and an unknown id shows nothing", async () => {
    expect(await rotationStatus(home)).toEqual([]);
    const plan = await planFor("udesk", [BOT.apiKey], [`dotenv:${dir}/bot.env`]);
    const stopped = new AbortController();
    stopped.abort();
    await (await applyRotation(home, { plan, options: DEFAULT_RUN_OPTIONS, env: {}, signal: stopped.signal }))
      .done;
    const runs = await rotationStatus(home);
    expect(runs.map((r) => r.status.id)).toEqual([plan.id]);
    expect(runs[0]?.status).toMatchObject({ state: "active", report: { summary: { total: 1, active: 1 } } });
    expect(await rotationStatus(home, { runId: "rot-zzzzzz" })).toEqual([]);
  });
});

describe("abort", () => {
  it("undoes a run in its grace period: the old secret back in the target, the new key deleted", async () => {
    const envFile = join(dir, "bot.env");
    writeFileSync(envFile, "# the bot's file\n", { mode: 0o600 });
    const plan = await planFor("udesk", [BOT.apiKey], [`dotenv:${envFile}`]);
    // The old key's secret must be Keyward's to put it back (as for a key an earlier rotation made).
    await new CredentialStore(home).put({ [keyRef(plan.slots[0]?.old.id as string)]: creds(BOT) });
    const session = await applyRotation(home, {
      plan,
      options: { ...DEFAULT_RUN_OPTIONS, graceMs: 600_000 },
      env: {},
    });
    await until(
      "the grace period",
      async () => graceOf((await rotationStatus(home, { runId: plan.id }))[0]?.slots ?? [])[0],
    );
    const newApiKey = (await rotationStatus(home, { runId: plan.id }))[0]?.slots[0]?.newApiKey as string;
    let stoppedFirst = false;
    const report = await abortRotationRun(home, {
      runId: plan.id,
      allowPrograms: false,
      env: {},
      beforeAbort: async () => {
        await session.stop();
        stoppedFirst = !session.active;
      },
    });
    seen.push(JSON.stringify(report));
    expect(stoppedFirst).toBe(true);
    expect(report).toMatchObject({ runId: plan.id, state: "aborted", slots: [{ result: "aborted" }] });
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
    expect(await control.keyStatus(newApiKey)).toBe("revoked");
    expect(readFileSync(envFile, "utf8")).toContain(`API_KEY='${BOT.apiKey}'`);
    expect(await auditOf("rotation.abort-requested")).toHaveLength(1);
  });

  it("never resumes or aborts a run with programs where none may run (CLI_ONLY), and records nothing", async () => {
    const marker = join(dir, "exec-ran");
    const keys = await keysOf("udesk", [BOT.apiKey]);
    const plan = await planRotation(home, {
      keys,
      deliver: [`exec:touch ${marker}`],
      cwd: dir,
      allowPrograms: true,
    });
    const stopped = new AbortController();
    stopped.abort();
    await (
      await applyRotation(home, {
        plan,
        options: { ...DEFAULT_RUN_OPTIONS, checkCmd: "true" },
        env: {},
        signal: stopped.signal,
      })
    ).done;
    for (const act of [
      () => resumeRotation(home, { runId: plan.id, allowPrograms: false, env: {} }),
      () => abortRotationRun(home, { runId: plan.id, allowPrograms: false, env: {} }),
    ]) {
      const error = await caught(act);
      expect(error.code).toBe("CLI_ONLY");
      expect(error.message).toMatch(/exec:.*--check-cmd/);
    }
    expect(existsSync(marker)).toBe(false);
    expect(await auditOf("rotation.resumed")).toEqual([]);
    expect(await auditOf("rotation.abort-requested")).toEqual([]);
    expect((await rotationStatus(home, { runId: plan.id }))[0]?.slots.map((s) => s.step)).toEqual([
      "planned",
    ]);
  });
});

describe("an assisted slot's new key", () => {
  it("answered from outside (the web's form): the passphrase rule refuses before the engine, the slot keeps waiting", async () => {
    await trackKey(home, "udesk", "legacy", creds(LEGACY));
    const plan = await planFor("udesk", [LEGACY.apiKey], [`dotenv:${dir}/legacy.env`]);
    const { events, onEvent } = recorder();
    const session = await applyRotation(home, {
      plan,
      options: { ...DEFAULT_RUN_OPTIONS, graceMs: 0 },
      env: {},
      onEvent,
    });
    const [pending] = await until("the create request", () => {
      const p = session.pendingCreates();
      return p.length > 0 ? p : undefined;
    });
    expect(pending?.request).toMatchObject({ slot: 1, needsPassphrase: true, account: "udesk" });
    expect(events.some((e) => e.type === "ask-credentials")).toBe(true);

    const missing = await caught(() =>
      session.provideCredentials(1, { apiKey: "okx-new-key", secret: "new-secret-value" }),
    );
    expect(missing.code).toBe("CONFIG_INVALID");
    expect(missing.message).toMatch(/passphrase: is required/);
    expect(session.isWaiting(1)).toBe(true);
    const elsewhere = await caught(() =>
      session.provideCredentials(2, { apiKey: "x", secret: "y", passphrase: "z" }),
    );
    expect(elsewhere.code).toBe("NOT_WAITING");
    // Nothing reached the engine: no refusal was journaled, nothing is in the vault.
    expect(await auditOf("rotation.new-key-refused")).toEqual([]);

    await session.stop();
    const report = await session.done;
    expect(report.summary).toMatchObject({ waiting: 1 });
    expect(session.pendingCreates()).toEqual([]);
    expect(await control.keyStatus(LEGACY.apiKey)).toBe("active");
  });

  it("answered by a person here (the CLI's prompt): a passphrase for a key that has none is refused and asked again", async () => {
    const tracked = await trackKey(home, "ubfx", "mm-bfx", bfxCreds(BFX_MM));
    seen.push(JSON.stringify(tracked));
    const plan = await planFor("ubfx", [BFX_MM.apiKey], [`json:${dir}/bfx.json#/keys`]);
    expect(plan.slots[0]?.method).toBe("assisted");
    const { events, onEvent } = recorder();
    let created: { apiKey: string; apiSecret: string } | undefined;
    const answers: (string | null)[] = [];
    const session = await applyRotation(home, {
      plan,
      options: { ...DEFAULT_RUN_OPTIONS, graceMs: 0, manualTimeoutMs: 30_000 },
      env: {},
      onEvent,
      answer: async (request, _attempt, refused) => {
        answers.push(refused);
        created ??= await control.uiCreate<{ apiKey: string; apiSecret: string }>({
          exchange: "bitfinex",
          userId: BFX_USER,
          label: request.label,
          permissions: BFX_MM.permissions,
          ip: ["127.0.0.1"],
        });
        const credentials = { apiKey: created.apiKey, secret: created.apiSecret };
        // First with a passphrase typed into the wrong field, then as asked.
        return answers.length === 1 ? { ...credentials, passphrase: "typed-by-mistake" } : credentials;
      },
    });
    await until("the revoke steps", () => session.revokeSteps()[0]);
    expect(answers).toEqual([null, "passphrase: this exchange's keys have none"]);
    expect(events).toContainEqual({
      type: "credentials-refused",
      slot: 1,
      reason: "passphrase: this exchange's keys have none",
    });
    await control.uiRevoke("bitfinex", BFX_MM.apiKey);
    const report = await session.done;
    seen.push(JSON.stringify(report));
    expect(report.summary).toMatchObject({ finished: 1 });
    const json = JSON.parse(readFileSync(join(dir, "bfx.json"), "utf8")) as { keys: { apiKey: string } };
    expect(json.keys.apiKey).toBe(created?.apiKey);
    seen.push(String(created?.apiKey));
  });
});

describe("refusals before anything happens", () => {
  it("refuses to apply, resume or abort when the audit log cannot be written", async () => {
    const plan = await planFor("udesk", [BOT.apiKey], [`dotenv:${dir}/bot.env`]);
    const stopped = new AbortController();
    stopped.abort();
    await (await applyRotation(home, { plan, options: DEFAULT_RUN_OPTIONS, env: {}, signal: stopped.signal }))
      .done;
    const other = await planFor("udesk", [BOT2.apiKey], [`dotenv:${dir}/bot2.env`]);
    const stateFile = home.paths.state;
    await home.close();
    chmodSync(stateFile, 0o400);
    try {
      home = KeywardHome.open(join(dir, "home"), {
        passphrase: async () => new Secret(PASSPHRASE),
        actor: "test:use-cases",
      });
      const before = await control.state();
      for (const act of [
        () => applyRotation(home, { plan: other, options: DEFAULT_RUN_OPTIONS, env: {} }),
        () => resumeRotation(home, { runId: plan.id, allowPrograms: true, env: {} }),
        () => abortRotationRun(home, { runId: plan.id, allowPrograms: true, env: {} }),
      ]) {
        const error = await caught(act);
        expect(error.code).toBe("AUDIT_UNAVAILABLE");
        expect(error.message).toMatch(/is read-only/);
      }
      expect(await control.state()).toEqual(before);
      expect(await findRotation(home, other.id)).toBeUndefined();
    } finally {
      await home.close();
      chmodSync(stateFile, 0o600);
      home = KeywardHome.open(join(dir, "home"), {
        passphrase: async () => new Secret(PASSPHRASE),
        actor: "test:use-cases",
      });
    }
  });

  it("the programs a run starts never see the vault passphrase", () => {
    const env = rotationChildEnv({
      PATH: "/bin",
      KEYWARD_PASSPHRASE: PASSPHRASE,
      KEYWARD_TEST_CRASH_AFTER: "x",
    });
    expect(env).toEqual({ PATH: "/bin" });
  });
});
