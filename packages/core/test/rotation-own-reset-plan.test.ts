/**
 * Planning the two rotations issue 13 adds, at the plan level: an in-place reset (`--reset-in-place`)
 * refused, naming why, for keys whose exchange has no reset; a disabled key refused (a rotation must not
 * undo a kill switch); a plan with resets applied only when the person accepts them again; an old plan
 * file (no `reset`) still loads. The end-to-end runs against the Deribit simulator are in
 * engine-own-key-reset.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  buildRotationPlan,
  checkResetAccepted,
  type KeyRecord,
  KeywardError,
  type PlanInput,
  readPlanFile,
  writePlanFile,
} from "../src/index.js";
import { RESET_STEPS, stepsOf } from "../src/rotation/steps.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-plan-reset-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function key(over: Partial<KeyRecord> & Pick<KeyRecord, "apiKey" | "label">): KeyRecord {
  const subAccount = over.subAccount === undefined ? "bots01" : over.subAccount;
  const location = over.location ?? (subAccount ? "sub-account" : "master");
  const api = location === "sub-account";
  return {
    id: `okx:desk:${subAccount ?? "-"}:${over.apiKey}`,
    exchange: "okx",
    account: "desk",
    subAccount,
    permissions: ["read", "trade"],
    rawPermissions: "read_only,trade",
    ip: ["127.0.0.1"],
    createdAt: null,
    expiresAt: null,
    location,
    actions: { revoke: api ? "api" : "manual", create: api ? "api" : "manual" },
    probeable: true,
    state: "active",
    meta: {},
    ...over,
  };
}

const input = (keys: KeyRecord[], over: Partial<PlanInput> = {}): PlanInput => ({
  keys,
  deliver: ["dotenv:/srv/bots.env#{label}"],
  cwd: dir,
  home: join(dir, "home"),
  isAccountKey: (k) => k.location === "master",
  holdsSecret: () => true,
  id: "rot-abc123",
  ...over,
});

describe("in-place reset planning", () => {
  it("refuses every key of an exchange without a reset, naming why, and plans nothing", async () => {
    const plan = await buildRotationPlan(
      input(
        [
          key({ apiKey: "sub-1", label: "bot-1" }),
          key({ apiKey: "master-1", label: "desk-master", subAccount: null, location: "master" }),
        ],
        { resetInPlace: true },
      ),
    );
    expect(plan.slots).toEqual([]);
    const reasons = Object.fromEntries(plan.refused.map((r) => [r.apiKey, r.reason]));
    expect(reasons["sub-1"]).toMatch(
      /OKX cannot give sub-account keys a new secret in place by API .*plan without --reset-in-place/,
    );
    expect(reasons["master-1"]).toMatch(/OKX cannot give an account's own keys a new secret in place/);
  });

  it("without the option the same keys are planned as before (a new key each, no reset flag)", async () => {
    const plan = await buildRotationPlan(input([key({ apiKey: "sub-1", label: "bot-1" })]));
    expect(plan.slots).toHaveLength(1);
    expect(plan.slots[0]?.reset).toBeUndefined();
    expect(plan.slots[0]?.method).toBe("api");
    expect(stepsOf("api", false, false)).not.toContain("resetting");
  });

  it("refuses a disabled key: a new or reset key would undo someone's kill switch", async () => {
    const plan = await buildRotationPlan(
      input([
        key({ apiKey: "sub-off", label: "off", state: "disabled" }),
        key({ apiKey: "sub-on", label: "on" }),
      ]),
    );
    expect(plan.slots.map((s) => s.old.apiKey)).toEqual(["sub-on"]);
    expect(plan.refused[0]?.reason).toMatch(/switched off on the exchange \(disabled\)/);
  });

  it("the reset path has no grace and no revoke: resetting is its write-ahead step", () => {
    expect(RESET_STEPS).toEqual([
      "planned",
      "resetting",
      "created",
      "verified",
      "delivering",
      "delivered",
      "checked",
      "finished",
    ]);
    expect(stepsOf("api", false, true)).toBe(RESET_STEPS);
  });
});

describe("accepting a plan's resets", () => {
  it("a plan with a reset slot is refused unless accepted; a plan without one needs nothing", async () => {
    const plan = await buildRotationPlan(input([key({ apiKey: "sub-1", label: "bot-1" })]));
    expect(() => checkResetAccepted(plan, false)).not.toThrow();
    const withReset = { ...plan, slots: plan.slots.map((s) => ({ ...s, reset: true as const })) };
    let error: unknown;
    try {
      checkResetAccepted(withReset, false);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeywardError);
    expect((error as KeywardError).code).toBe("CONFIG_INVALID");
    expect((error as KeywardError).message).toMatch(/old secret dies the moment the new one exists/);
    expect((error as KeywardError).hint).toMatch(/--reset-in-place/);
    expect(() => checkResetAccepted(withReset, true)).not.toThrow();
  });

  it("an old plan file (no reset field) still loads, and a reset slot round-trips", async () => {
    const plan = await buildRotationPlan(input([key({ apiKey: "sub-1", label: "bot-1" })]));
    const oldFile = join(dir, "old.json");
    writeFileSync(oldFile, JSON.stringify(plan), { mode: 0o600 });
    expect((await readPlanFile(oldFile)).slots[0]?.reset).toBeUndefined();
    const file = join(dir, "plan.json");
    await writePlanFile(file, { ...plan, slots: plan.slots.map((s) => ({ ...s, reset: true as const })) });
    expect((await readPlanFile(file)).slots[0]?.reset).toBe(true);
  });
});
