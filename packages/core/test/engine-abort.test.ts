/**
 * Abort where it lives (rotation/abort.ts), over real HTTP against the in-process simulator, on runs
 * left where a crash stopped them (the engine's crash seam, as in engine-rotation.test.ts): before the
 * create nothing needs undoing; a create the exchange applied but the journal never learnt of is found
 * by its label and deleted; after the create the new key is deleted and its secret leaves the vault;
 * stuck at delivering, the old secret goes back into every target (Keyward holds it because an earlier
 * rotation made that key); from the revoke on, abort refuses and says why, and resume finishes the key.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { KeywardHome } from "../src/home/home.js";
import { keyRef } from "../src/home/home.js";
import { abortRotation } from "../src/rotation/abort.js";
import { applyPlan } from "../src/rotation/apply.js";
import type { RotationDeps } from "../src/rotation/context.js";
import { runRotation } from "../src/rotation/engine.js";
import { DEFAULT_RUN_OPTIONS, type RotationPlan, type RunOptions } from "../src/rotation/schemas.js";
import { SimControl } from "../src/testing/index.js";
import {
  adapterOptions,
  addDesk,
  BOT,
  canaries,
  crashAt,
  dotenvKey,
  labelledKeys,
  listed,
  OKX,
  planFor,
  rotationActions,
  scenario,
} from "./engine-world.js";
import { makeTestHome, rotationDeps, type TestHome } from "./test-home.js";

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
  t = await makeTestHome("engine-abort");
  home = t.home;
  await addDesk(home, sim);
});
afterEach(async () => {
  const text = seen.join("\n");
  seen = [];
  await t.remove();
  for (const canary of [...canaries, t.passphrase]) expect(text).not.toContain(canary);
});

const RUN: RunOptions = { ...DEFAULT_RUN_OPTIONS, graceMs: 0, concurrency: 1 };
const deps = (h: KeywardHome, extra: Partial<RotationDeps> = {}) =>
  rotationDeps(h, adapterOptions(sim), extra);
const keep = <T>(v: T): T => {
  seen.push(JSON.stringify(v));
  return v;
};
const ENV_BEFORE = "# the bot's settings\nAPI_KEY='old'\n";

/** A plan rotating the key with this API key (listed live now) into `<dir>/bot.env`. */
async function planOf(
  apiKey: string,
  h: KeywardHome = home,
): Promise<{ plan: RotationPlan; envFile: string }> {
  const envFile = join(t.dir, "bot.env");
  return {
    plan: await planFor(h, await listed(h, sim, OKX, [apiKey]), [`dotenv:${envFile}`], t.dir),
    envFile,
  };
}

/** Applies BOT's rotation until the crash at `point`, and returns the home reopened after it. */
async function crashedAt(point: string, nth = 1) {
  const { plan, envFile } = await planOf(BOT.apiKey);
  writeFileSync(envFile, ENV_BEFORE, { mode: 0o600 });
  await expect(applyPlan(plan, RUN, deps(home, crashAt(home, point, nth)))).rejects.toThrow();
  const h = await t.reopen();
  return { plan, envFile, h, newLabel: `${BOT.label}-${plan.id}-1` };
}

describe("rotate abort", () => {
  it("before the create: nothing to undo; the run ends aborted and a later resume does nothing", async () => {
    const { plan, envFile, h, newLabel } = await crashedAt("planned");
    const report = keep(await abortRotation(plan.id, deps(h)));
    expect(report).toMatchObject({ runId: plan.id, state: "aborted" });
    expect(report.slots).toEqual([
      expect.objectContaining({
        slot: 1,
        step: "planned",
        result: "aborted",
        explanation: "nothing had been created",
      }),
    ]);
    expect((await rotationActions(h)).slice(-3)).toEqual([
      "rotation.abort-requested",
      "rotation.aborted",
      "rotation.run-aborted",
    ]);
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
    expect(await labelledKeys(control, newLabel)).toEqual([]);
    expect(readFileSync(envFile, "utf8")).toBe(ENV_BEFORE);
    // An aborted run is over: running it again touches no exchange.
    const seq = await control.lastSeq();
    expect(keep(await runRotation(plan.id, deps(h)))).toMatchObject({
      state: "aborted",
      summary: { aborted: 1 },
    });
    expect(await control.requests(seq)).toEqual([]);
    expect(await h.auditLog().verify()).toMatchObject({ ok: true });
  });

  it("a create the exchange applied but the journal never recorded: abort finds the key by its label and deletes it", async () => {
    const { plan, h, newLabel } = await crashedAt("create-answered");
    expect((await labelledKeys(control, newLabel)).map((k) => k.status)).toEqual(["active"]);
    const report = keep(await abortRotation(plan.id, deps(h)));
    expect(report.state).toBe("aborted");
    expect(report.slots[0]).toMatchObject({
      step: "creating",
      result: "aborted",
      explanation: "deleted 1 key(s) a lost create had left",
    });
    expect((await labelledKeys(control, newLabel)).map((k) => k.status)).toEqual(["revoked"]);
    expect(await rotationActions(h)).toContain("rotation.orphan-deleted");
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
  });

  it("after the create: the new key is deleted and its secret leaves the vault; the targets and the old key are untouched", async () => {
    const { plan, envFile, h, newLabel } = await crashedAt("verified");
    const [created] = await labelledKeys(control, newLabel);
    const slot = await deps(h).journal.slot(plan.id, 1);
    expect(slot.newApiKey).toBe(created?.apiKey);
    expect((await h.vault()).get(keyRef(slot.newKeyId as string))).toBeDefined();

    const report = keep(await abortRotation(plan.id, deps(h)));
    expect(report.state).toBe("aborted");
    expect(report.slots[0]).toMatchObject({ step: "verified", result: "aborted" });
    expect(report.slots[0]?.explanation).toMatch(/^the new key was deleted \(/);
    expect(await control.keyStatus(created?.apiKey as string)).toBe("revoked");
    expect((await h.reopenVault()).get(keyRef(slot.newKeyId as string))).toBeUndefined();
    expect(await control.keyStatus(BOT.apiKey)).toBe("active");
    expect(readFileSync(envFile, "utf8")).toBe(ENV_BEFORE);
  });

  it("stuck at delivering: the old secret goes back into every target and still works, the new key is deleted", async () => {
    // Rotation 1 runs through, so Keyward holds the secret of the key now in the bot's file.
    const { plan: first, envFile } = await planOf(BOT.apiKey);
    writeFileSync(envFile, ENV_BEFORE, { mode: 0o600 });
    expect(keep(await applyPlan(first, RUN, deps(home))).state).toBe("finished");
    const previous = dotenvKey(envFile);

    // Rotation 2 of that key dies after the file got the newer key (the second pass of `delivering`).
    const { plan } = await planOf(previous.apiKey);
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "delivering", 2)))).rejects.toThrow();
    const h = await t.reopen();
    const stuck = await deps(h).journal.slot(plan.id, 1);
    expect(stuck.step).toBe("delivering");
    expect(dotenvKey(envFile).apiKey).toBe(stuck.newApiKey);

    const report = keep(await abortRotation(plan.id, deps(h)));
    expect(report.state).toBe("aborted");
    expect(report.slots[0]).toMatchObject({ step: "delivering", result: "aborted" });
    expect(report.slots[0]?.explanation).toMatch(
      /^the old secret is back in every target; the new key was deleted/,
    );
    expect(dotenvKey(envFile)).toMatchObject({ apiKey: previous.apiKey, secret: previous.secret });
    const adapter = await h.adapterFor(OKX, adapterOptions(sim));
    expect((await adapter.probe(previous.credentials)).status).toBe("alive");
    expect(await control.keyStatus(stuck.newApiKey as string)).toBe("revoked");
    expect(await rotationActions(h)).toContain("rotation.target-restored");
    expect(await h.auditLog().verify()).toMatchObject({ ok: true });
  });

  it("from the revoke on: abort refuses and says why, the run stays active, and resume finishes the key", async () => {
    const { plan, envFile, h } = await crashedAt("revoking");
    const report = keep(await abortRotation(plan.id, deps(h)));
    expect(report.state).toBe("active");
    expect(report.slots[0]).toMatchObject({ step: "revoking", result: "not-undone" });
    expect(report.slots[0]?.explanation).toMatch(
      /cannot be undone: the old key was \(or may have been\) revoked already\. Run `keyward rotate resume`/,
    );
    expect(await rotationActions(h)).toContain("rotation.abort-refused");
    expect(await rotationActions(h)).not.toContain("rotation.aborted");
    const resumed = keep(await runRotation(plan.id, deps(h)));
    expect(resumed).toMatchObject({ state: "finished", summary: { finished: 1 } });
    expect(await control.keyStatus(BOT.apiKey)).toBe("revoked");
    expect(dotenvKey(envFile).apiKey).not.toBe(BOT.apiKey);
  });
});
