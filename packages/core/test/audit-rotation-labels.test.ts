/**
 * The labels the audit views give a rotation's entries, from a real rotation's log (the engine test
 * world: an API rotation of an OKX sub-account key, over real HTTP against the simulator). Every
 * `rotation.*` entry is about the OLD key, but its details' `label` is the NEW key's: the old key keeps
 * its own label (here from the inventory cache `keyward keys` left), and the new key gets its label
 * where the details name it (`newKey`).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ExchangeAdapter } from "../src/adapters/interface.js";
import { auditLabels, presentAuditEntry } from "../src/audit/audit-present.js";
import { applyPlan } from "../src/rotation/apply.js";
import { DEFAULT_RUN_OPTIONS } from "../src/rotation/schemas.js";
import { SimControl } from "../src/testing/index.js";
import { listInventory } from "../src/use-cases/list-inventory.js";
import { adapterOptions, addDesk, BOT, listed, OKX, planFor, scenario } from "./engine-world.js";
import { makeTestHome, rotationDeps, type TestHome } from "./test-home.js";

let sim: RunningSimulator;
let control: SimControl;
let t: TestHome;

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  control = new SimControl(sim.control);
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  await control.loadScenario(scenario());
  t = await makeTestHome("audit-rotation-labels");
  await addDesk(t.home, sim);
});
afterEach(async () => {
  await t.remove();
});

describe("a rotation's audit entries in words", () => {
  it("name the old key by its own label, never the new key's, and the new key by the new label", async () => {
    const home = t.home;
    // `keyward keys` first: the inventory cache knows the old key's label.
    await listInventory(home, {
      adapters: async (names) => {
        const m = new Map<string, ExchangeAdapter>();
        for (const n of names) m.set(n, await home.adapterFor(n, adapterOptions(sim)));
        return m;
      },
    });
    const envFile = join(t.dir, "bot.env");
    writeFileSync(envFile, "API_KEY='old'\n", { mode: 0o600 });
    const [old] = await listed(home, sim, OKX, [BOT.apiKey]);
    if (!old) throw new Error("BOT is not listed");
    const plan = await planFor(home, [old], [`dotenv:${envFile}`], t.dir);
    const report = await applyPlan(
      plan,
      { ...DEFAULT_RUN_OPTIONS, graceMs: 0, concurrency: 1 },
      rotationDeps(home, adapterOptions(sim)),
    );
    expect(report.state).toBe("finished");
    const newLabel = `${BOT.label}-${plan.id}-1`;

    const entries = (await home.auditLog().list()).filter((e) => e.action.startsWith("rotation."));
    const labels = await auditLabels(home.state(), entries);
    const ofOld = entries.filter((e) => e.subject === old.id);
    // creating, created, verified, delivering, written, delivered, checked, revoking, revoked, dead, finished
    expect(ofOld.length).toBeGreaterThanOrEqual(10);
    // The entries that carry the new key's label in their details are among them.
    expect(ofOld.filter((e) => e.details.label === newLabel).length).toBeGreaterThanOrEqual(2);
    for (const e of ofOld) {
      const subject = presentAuditEntry(e, labels).subject;
      expect([e.action, subject.label]).toEqual([e.action, BOT.label]);
      expect(subject.text).not.toContain(newLabel);
    }
    const created = entries.find((e) => e.action === "rotation.new-key-created");
    const newKey = presentAuditEntry(created as (typeof entries)[number], labels).fields.find(
      (f) => f.name === "newKey",
    );
    expect(newKey?.value.startsWith(`${newLabel} · `)).toBe(true);
  });
});
