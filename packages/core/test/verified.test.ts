/**
 * "Verified" means proven, not claimed: against a simulator whose OKX answers "done" without it being
 * true (hollow deletes, flawed creates), revoke must report a key that still authenticates as not proven
 * dead, and a rotation must never revoke the old key when the new one does not work as asked. Over real
 * HTTP against the in-process simulator, through core's public engines (runRevoke, applyPlan).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdapterOptions } from "../src/adapters/interface.js";
import type { Credentials } from "../src/domain/credentials.js";
import type { KeyRecord } from "../src/domain/schemas.js";
import { addAccount } from "../src/home/accounts.js";
import type { KeywardHome } from "../src/home/home.js";
import { planRevoke } from "../src/revoke/plan.js";
import { type RevokeEvent, type RevokeReport, runRevoke } from "../src/revoke/run.js";
import { applyPlan } from "../src/rotation/apply.js";
import type { RotationReport } from "../src/rotation/engine.js";
import { buildRotationPlan } from "../src/rotation/plan.js";
import { DEFAULT_RUN_OPTIONS } from "../src/rotation/schemas.js";
import { SimControl } from "../src/testing/index.js";
import {
  adapterFor,
  canariesOf,
  creds,
  type OkxSeedKey,
  seed,
  seedKey,
  simOkxLimits,
  subName,
} from "./okx-fixtures.js";
import { makeTestHome, rotationDeps, type TestHome } from "./test-home.js";

const ADMIN = seedKey("vadmin", "read_only,trade", "127.0.0.1");
const BOT = seedKey("vbot", "read_only,trade", "127.0.0.1");
const READER = seedKey("vreader", "read_only", "");
/** Bound to an IP that is not this machine's: its probe stops at 50110, so OKX's listing speaks for it. */
const FAR = seedKey("vfar", "read_only,trade", "10.9.9.9");
const SUB = subName("vsub", 1);
const FAR_SUB = subName("vsub", 2);
const ALL: OkxSeedKey[] = [ADMIN, BOT, READER, FAR];

const scenario = () => ({
  okx: {
    accounts: [
      {
        uid: "7001",
        name: "vdesk",
        keys: [seed(ADMIN)],
        subAccounts: [
          { name: SUB, uid: "7101", keys: [seed(BOT), seed(READER)] },
          { name: FAR_SUB, uid: "7102", keys: [seed(FAR)] },
        ],
      },
    ],
  },
});

interface AuditRow {
  action: string;
  subject: string;
  details?: Record<string, unknown>;
}

describe("verified is proven, not claimed", () => {
  let sim: RunningSimulator;
  let control: SimControl;
  const seen: string[] = [];
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
    // Nothing this suite saw (reports, evidence, audit entries, errors) carries a secret.
    const text = seen.join("\n");
    for (const canary of canariesOf(ALL)) expect(text).not.toContain(canary);
  });
  beforeEach(async () => {
    await control.loadScenario(scenario());
    await control.resetFaults();
  });

  describe("revoke", () => {
    /** Revokes the sub-account keys by API as the CLI and web do: listed live, planned, run. */
    async function revokeSubKeys(
      held: readonly OkxSeedKey[],
    ): Promise<{ report: RevokeReport; audit: AuditRow[]; events: RevokeEvent[] }> {
      const adapter = adapterFor(sim.okx, ADMIN, options(), "vdesk");
      const keys = (await adapter.listKeys()).filter((k) => k.subAccount === SUB);
      expect(keys.map((k) => k.apiKey).sort()).toEqual([BOT.apiKey, READER.apiKey].sort());
      const secrets = new Map<string, Credentials>(held.map((k) => [k.apiKey, creds(k)]));
      const audit: AuditRow[] = [];
      const events: RevokeEvent[] = [];
      const report = await runRevoke(planRevoke(keys), {
        adapterFor: () => adapter,
        credentialsFor: (key: KeyRecord) => secrets.get(key.apiKey),
        audit: {
          append: async (action, subject, details) => {
            audit.push({ action, subject, ...(details ? { details } : {}) });
          },
        },
        onEvent: (e) => events.push(e),
        manual: { wait: false, timeoutMs: 0, pollMs: 10 },
      });
      seen.push(JSON.stringify(report), JSON.stringify(audit), JSON.stringify(events));
      return { report, audit, events };
    }
    const resultFor = (report: RevokeReport, key: OkxSeedKey) =>
      report.results.find((r) => r.apiKey === key.apiKey);
    const actionsFor = (audit: AuditRow[], report: RevokeReport, key: OkxSeedKey) =>
      audit.filter((a) => a.subject === resultFor(report, key)?.id).map((a) => a.action);

    it("a real revoke is verified: not listed, and the key's own probe answers dead", async () => {
      const { report, audit } = await revokeSubKeys([BOT, READER]);
      expect(report.summary).toMatchObject({ total: 2, revoked: 2, verified: 2, unverified: 0 });
      expect(resultFor(report, BOT)?.evidence).toEqual([
        expect.stringContaining("OKX delete-apikey answered 0"),
        "list: no longer listed by the exchange",
        expect.stringMatching(/^probe: dead/),
      ]);
      expect(actionsFor(audit, report, BOT)).toEqual(["revoke.done", "revoke.verified"]);
    });

    it("a delete answered 0 that changed nothing: still listed, still authenticating, reported unverified", async () => {
      await control.faults({ exchange: "okx", hollowDeletes: 1 });
      const { report, audit, events } = await revokeSubKeys([BOT, READER]);
      // Keys that can trade go first: the hollow delete is BOT's.
      expect(await control.keyStatus(BOT.apiKey)).toBe("active");
      const bot = resultFor(report, BOT);
      expect(bot).toMatchObject({ outcome: "revoked", verified: false });
      expect(bot?.evidence).toContain("list: STILL LISTED by the exchange");
      expect(bot?.evidence.at(-1)).toMatch(/^probe: alive/);
      expect(actionsFor(audit, report, BOT)).toEqual(["revoke.done", "revoke.unverified"]);
      expect(resultFor(report, READER)).toMatchObject({ outcome: "revoked", verified: true });
      expect(report.summary).toMatchObject({ revoked: 2, verified: 1, unverified: 1 });
      expect(audit.at(-1)).toMatchObject({ action: "revoke.finished", details: { unverified: 1 } });
      // The event the CLI and web render says so too.
      const verifiedEvent = events.find((e) => e.type === "verified" && e.result.apiKey === BOT.apiKey);
      expect(verifiedEvent).toMatchObject({ result: { verified: false } });
    });

    it("a key the exchange stopped listing that still authenticates is not proven dead (only its probe shows it)", async () => {
      await control.faults({ exchange: "okx", hollowDeletes: 2, hollowDeleteShape: "unlisted" });
      const { report, audit } = await revokeSubKeys([BOT, READER]);
      for (const key of [BOT, READER]) {
        const result = resultFor(report, key);
        expect(result).toMatchObject({ outcome: "revoked", verified: false });
        expect(result?.evidence).toContain("list: no longer listed by the exchange");
        expect(result?.evidence.at(-1)).toMatch(/^probe: alive/);
        expect(actionsFor(audit, report, key)).toEqual(["revoke.done", "revoke.unverified"]);
      }
      expect(report.summary).toMatchObject({ revoked: 2, verified: 0, unverified: 2 });
    });

    it("without the key's secret the listing is the only proof, and the evidence says so", async () => {
      await control.faults({ exchange: "okx", hollowDeletes: 1, hollowDeleteShape: "unlisted" });
      const { report } = await revokeSubKeys([]);
      // The limit of a proof without the secret: an exchange that unlists a live key is believed.
      for (const key of [BOT, READER]) {
        expect(resultFor(report, key)?.evidence.slice(-2)).toEqual([
          "list: no longer listed by the exchange",
          "probe: none, Keyward holds no secret for this key (the listing is the only proof)",
        ]);
      }
    });
  });

  describe("rotation: the old key is revoked only after the new one is proven as asked", () => {
    let testHome: TestHome;
    let dir: string;
    let home: KeywardHome;

    beforeEach(async () => {
      testHome = await makeTestHome("verified");
      ({ home, dir } = testHome);
      await addAccount(home, { name: "vdesk", exchange: "okx", endpoint: sim.okx }, creds(ADMIN));
    });
    afterEach(async () => {
      await testHome?.remove();
    });

    async function rotateBot(
      old: OkxSeedKey = BOT,
    ): Promise<{ report: RotationReport; envFile: string; env: string }> {
      const envFile = join(dir, "bot.env");
      const env = "# the bot's file\nAPI_KEY=old\n";
      writeFileSync(envFile, env, { mode: 0o600 });
      const adapter = await home.adapterFor("vdesk", options());
      const keys = (await adapter.listKeys()).filter((k) => k.apiKey === old.apiKey);
      const plan = await buildRotationPlan({
        keys,
        deliver: [`dotenv:${envFile}`],
        cwd: dir,
        home: home.paths.dir,
        isAccountKey: () => false,
        holdsSecret: () => false,
      });
      expect(plan.slots.map((s) => s.method)).toEqual(["api"]);
      // A flawed key answers "dead" or a mismatch at once; the deadline only bounds a broken run.
      const report = await applyPlan(
        plan,
        { ...DEFAULT_RUN_OPTIONS, graceMs: 0 },
        rotationDeps(home, options()),
      );
      seen.push(JSON.stringify(report));
      return { report, envFile, env };
    }

    const auditActions = async () => (await home.auditLog().list()).map((e) => e.action);

    it("without faults the rotation finishes and the old key is dead", async () => {
      const { report, envFile } = await rotateBot();
      expect(report.summary).toMatchObject({ total: 1, finished: 1, failed: 0 });
      expect(await control.keyStatus(BOT.apiKey)).toBe("revoked");
      expect(readFileSync(envFile, "utf8")).not.toContain("API_KEY=old");
    });

    it("a new key that does not authenticate stops the rotation before delivery: the old key is not revoked", async () => {
      await control.faults({ exchange: "okx", flawedCreates: 1 });
      const { report, envFile, env } = await rotateBot();
      expect(report.summary).toMatchObject({ total: 1, finished: 0, failed: 1 });
      const [slot] = report.slots;
      expect(slot?.step).toBe("created");
      expect(slot?.error).toMatchObject({ code: "VERIFICATION_FAILED" });
      expect(slot?.error?.message).toContain("does not authenticate");
      expect(await control.keyStatus(BOT.apiKey)).toBe("active");
      expect(readFileSync(envFile, "utf8")).toBe(env);
      expect(await auditActions()).not.toContain("rotation.revoking");
      expect(await auditActions()).not.toContain("rotation.new-key-verified");
    });

    it("a new key with other permissions than asked stops the rotation: the old key is not revoked", async () => {
      await control.faults({ exchange: "okx", flawedCreates: 1, flawedCreateShape: "other-permissions" });
      const { report, envFile, env } = await rotateBot();
      const [slot] = report.slots;
      expect(slot).toMatchObject({ outcome: "failed", step: "created" });
      expect(slot?.error?.code).toBe("VERIFICATION_FAILED");
      expect(slot?.error?.message).toMatch(/its permissions are read, must be read,trade/);
      expect(await control.keyStatus(BOT.apiKey)).toBe("active");
      expect(readFileSync(envFile, "utf8")).toBe(env);
    });

    it("a new key bound to other IPs is judged by OKX's listing: other permissions there stop the rotation too", async () => {
      await control.faults({ exchange: "okx", flawedCreates: 1, flawedCreateShape: "other-permissions" });
      const { report, envFile, env } = await rotateBot(FAR);
      const [slot] = report.slots;
      expect(slot).toMatchObject({ outcome: "failed", step: "created" });
      expect(slot?.error?.message).toMatch(/its permissions are read, must be read,trade/);
      expect(await control.keyStatus(FAR.apiKey)).toBe("active");
      expect(readFileSync(envFile, "utf8")).toBe(env);
    });

    it("an old key still listed after OKX answered its delete is not taken for dead: the slot stops at revoked", async () => {
      await control.faults({ exchange: "okx", hollowDeletes: 1 });
      const { report } = await rotateBot();
      const [slot] = report.slots;
      expect(slot).toMatchObject({ outcome: "failed", step: "revoked" });
      expect(slot?.error?.code).toBe("VERIFICATION_FAILED");
      expect(slot?.error?.message).toMatch(/could not be proven dead: list: STILL LISTED/);
      expect(await control.keyStatus(BOT.apiKey)).toBe("active");
      expect(await auditActions()).not.toContain("rotation.old-key-dead");
    });
  });
});
