/**
 * The rotation journal is authenticated: whoever can write state.db (without the vault's passphrase)
 * must not choose what `resume` or `abort` runs or where a new secret goes. A run is stopped by a failing
 * check command (it stays active, as after any failure the CLI names `rotate resume` for), then its rows
 * are changed as an attacker would; resume, abort and apply's claim must refuse with JOURNAL_TAMPERED and
 * run nothing. Over real HTTP against the in-process simulator, through core's public engines; and the
 * audit log's head copy follows the rotation's entries (they are written inside the journal's
 * transactions).
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdapterOptions } from "../src/adapters/interface.js";
import { isKeywardError } from "../src/errors.js";
import { addAccount } from "../src/home/accounts.js";
import { accountRef, type KeywardHome } from "../src/home/home.js";
import { abortRotation } from "../src/rotation/abort.js";
import { applyPlan } from "../src/rotation/apply.js";
import type { RotationDeps } from "../src/rotation/context.js";
import { runRotation } from "../src/rotation/engine.js";
import { RotationJournal } from "../src/rotation/journal.js";
import { buildRotationPlan } from "../src/rotation/plan.js";
import { DEFAULT_RUN_OPTIONS, type RotationPlan } from "../src/rotation/schemas.js";
import { sqliteHandleForTests } from "../src/store/sqlite/sqlite-state-store.js";
import { SimControl } from "../src/testing/index.js";
import { canariesOf, creds, seed, seedKey, simOkxLimits, subName } from "./okx-fixtures.js";
import { makeTestHome, rotationDeps, type TestHome } from "./test-home.js";

const ADMIN = seedKey("jadmin", "read_only,trade", "127.0.0.1");
const BOT = seedKey("jbot", "read_only,trade", "127.0.0.1");
const SUB = subName("jsub", 1);

const scenario = () => ({
  okx: {
    accounts: [
      {
        uid: "7201",
        name: "jdesk",
        keys: [seed(ADMIN)],
        subAccounts: [{ name: SUB, uid: "7301", keys: [seed(BOT)] }],
      },
    ],
  },
});

let sim: RunningSimulator;
let control: SimControl;
let testHome: TestHome;
let dir: string;
let home: KeywardHome;
const options = (): AdapterOptions => ({
  rateLimits: simOkxLimits(sim),
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
  testHome = await makeTestHome("journal");
  ({ home, dir } = testHome);
  await addAccount(home, { name: "jdesk", exchange: "okx", endpoint: sim.okx }, creds(ADMIN));
});
afterEach(async () => {
  await testHome?.remove();
});

const deps = (): RotationDeps => rotationDeps(home, options());

/** BOT rotated to a dotenv file with a check command that fails: the run stops at `delivered`, active. */
async function stoppedRun(): Promise<{ plan: RotationPlan; envFile: string }> {
  const envFile = join(dir, "bot.env");
  writeFileSync(envFile, "API_KEY='x'\n", { mode: 0o600 });
  const adapter = await home.adapterFor("jdesk", options());
  const keys = (await adapter.listKeys()).filter((k) => k.apiKey === BOT.apiKey);
  const plan = await buildRotationPlan({
    keys,
    deliver: [`dotenv:${envFile}`],
    cwd: dir,
    home: home.paths.dir,
    isAccountKey: () => false,
    holdsSecret: () => false,
  });
  const report = await applyPlan(plan, { ...DEFAULT_RUN_OPTIONS, graceMs: 0, checkCmd: "false" }, deps());
  expect(report.state).toBe("active");
  expect(report.slots[0]).toMatchObject({ step: "delivered", outcome: "failed" });
  return { plan, envFile };
}

/** The attacker: state.db only, with SQL. */
const sql = (text: string, ...params: unknown[]) =>
  sqliteHandleForTests(home.state())
    .prepare(text)
    .run(...params);

async function refused(action: Promise<unknown>): Promise<string> {
  try {
    await action;
  } catch (error) {
    if (isKeywardError(error, "JOURNAL_TAMPERED")) return error.describe();
    throw error;
  }
  throw new Error("expected JOURNAL_TAMPERED");
}

describe("the rotation journal is authenticated", () => {
  it("refuses to resume or abort a run whose check command was changed, and runs nothing", async () => {
    const { plan } = await stoppedRun();
    const pwned = join(dir, "PWNED");
    const original = (
      sqliteHandleForTests(home.state())
        .prepare("SELECT options FROM rotation_runs WHERE id = ?")
        .get(plan.id) as {
        options: string;
      }
    ).options;
    sql(
      "UPDATE rotation_runs SET options = json_set(options, '$.checkCmd', ?) WHERE id = ?",
      `id > ${pwned}`,
      plan.id,
    );

    const message = await refused(runRotation(plan.id, deps()));
    expect(message).toMatch(/rotation rot-[a-z0-9]{6} cannot be trusted: its plan or options/);
    expect(message).toMatch(/hint: .*by hand.*keyward audit verify/);
    expect(await refused(abortRotation(plan.id, deps()))).toMatch(/cannot be trusted/);
    expect(existsSync(pwned)).toBe(false);
    // Nothing was claimed or recorded for it.
    expect((await home.auditLog().list()).map((e) => e.action)).not.toContain("rotation.abort-requested");

    // Put back as Keyward wrote it: resume is allowed again (and the genuine check fails again).
    sql("UPDATE rotation_runs SET options = ? WHERE id = ?", original, plan.id);
    const again = await runRotation(plan.id, deps());
    expect(again.slots[0]).toMatchObject({ outcome: "failed", error: { code: "VERIFICATION_FAILED" } });
    // Abort runs too (Keyward never held BOT's old secret, so it leaves the new key in place and says so).
    const abort = await abortRotation(plan.id, deps());
    expect(abort.slots[0]).toMatchObject({
      result: "not-undone",
      explanation: expect.stringMatching(/old key's secret/),
    });
    expect(await home.auditLog().verify()).toMatchObject({ ok: true });
  });

  it("refuses a run whose delivery targets or recipient were changed", async () => {
    const { plan } = await stoppedRun();
    const other = join(dir, "attacker.env");
    sql(
      "UPDATE rotation_runs SET plan = json_set(plan, '$.slots[0].deliver[0].path', ?) WHERE id = ?",
      other,
      plan.id,
    );
    expect(await refused(runRotation(plan.id, deps()))).toMatch(/delivery targets/);
    sql("UPDATE rotation_runs SET plan = ? WHERE id = ?", JSON.stringify(plan), plan.id);
    sql(
      "UPDATE rotation_runs SET plan = json_set(plan, '$.recipient', 'age1attacker') WHERE id = ?",
      plan.id,
    );
    expect(await refused(abortRotation(plan.id, deps()))).toMatch(/cannot be trusted/);
    expect(existsSync(other)).toBe(false);
  });

  it("refuses a slot whose new key's vault reference, step or delivered targets were changed", async () => {
    const { plan, envFile } = await stoppedRun();
    const before = readFileSync(envFile, "utf8");
    const slot = sqliteHandleForTests(home.state())
      .prepare("SELECT * FROM rotation_slots WHERE run_id = ?")
      .get(plan.id) as Record<string, unknown>;
    // Redirect: the account's own (master) key as the "new key", to be delivered into the bot's file.
    sql(
      "UPDATE rotation_slots SET new_ref = ?, new_api_key = ?, step = 'verified' WHERE run_id = ?",
      accountRef("jdesk"),
      ADMIN.apiKey,
      plan.id,
    );
    expect(await refused(runRotation(plan.id, deps()))).toMatch(/slot 1 was changed/);
    expect(await refused(abortRotation(plan.id, deps()))).toMatch(/slot 1 was changed/);
    expect(readFileSync(envFile, "utf8")).toBe(before);
    expect(readFileSync(envFile, "utf8")).not.toContain(ADMIN.secretKey);
    // Skipping ahead to the revoke (the bot would lose its working key) is refused as well.
    sql(
      "UPDATE rotation_slots SET new_ref = ?, new_api_key = ?, step = 'checked' WHERE run_id = ?",
      slot.new_ref,
      slot.new_api_key,
      plan.id,
    );
    expect(await refused(runRotation(plan.id, deps()))).toMatch(/slot 1 was changed/);
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
    // Evidence and the last error decide nothing: changing them is not a break.
    sql(
      "UPDATE rotation_slots SET step = ?, evidence = '[]', error = NULL WHERE run_id = ?",
      slot.step,
      plan.id,
    );
    const report = await runRotation(plan.id, deps());
    expect(report.slots[0]).toMatchObject({ outcome: "failed", error: { code: "VERIFICATION_FAILED" } });
  });

  it("refuses a run with a slot removed, and a run journaled without a MAC (an older Keyward's)", async () => {
    const { plan } = await stoppedRun();
    const { mac } = sqliteHandleForTests(home.state())
      .prepare("SELECT mac FROM rotation_runs WHERE id = ?")
      .get(plan.id) as {
      mac: string;
    };
    sql("UPDATE rotation_runs SET mac = NULL WHERE id = ?", plan.id);
    expect(await refused(runRotation(plan.id, deps()))).toMatch(/has no MAC/);
    // The claim every resume, abort and apply makes refuses it.
    const journal = new RotationJournal(home.state(), home.audit());
    await expect(journal.lock(plan.id)).rejects.toThrow(/cannot be trusted/);
    sql("UPDATE rotation_runs SET mac = ? WHERE id = ?", mac, plan.id);
    expect((await journal.verifiedRun(plan.id)).id).toBe(plan.id);
    sql("DELETE FROM rotation_slots WHERE run_id = ?", plan.id);
    await expect(journal.verifiedRun(plan.id)).rejects.toThrow(/slots were added or removed/);
  });

  it("keeps the audit log's head copy at the head after a rotation (its entries are written in the journal's transactions)", async () => {
    await stoppedRun();
    const head = await home.auditLog().head();
    expect(head?.seq).toBeGreaterThan(5);
    const copy = JSON.parse(readFileSync(home.paths.auditHead, "utf8")) as { seq: number; hash: string };
    expect({ seq: copy.seq, hash: copy.hash }).toEqual(head);
    expect(await home.auditLog().verify()).toMatchObject({ ok: true, headCopy: true });
  });

  it("carries no secret in the journal's rows or MACs", async () => {
    await stoppedRun();
    const rows = JSON.stringify([
      sqliteHandleForTests(home.state()).prepare("SELECT * FROM rotation_runs").all(),
      sqliteHandleForTests(home.state()).prepare("SELECT * FROM rotation_slots").all(),
    ]);
    for (const canary of [...canariesOf([ADMIN, BOT]), testHome.passphrase])
      expect(rows).not.toContain(canary);
    const key = (await home.vault()).auditKey()?.key.reveal() ?? "no key";
    expect(rows).not.toContain(key);
  });
});
