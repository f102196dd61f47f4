/**
 * Issue 5, acceptance 1 (and 5): a rotation of OKX sub-account keys survives a crash at every step.
 *
 * The CLI's test seam KEYWARD_TEST_CRASH_AFTER=<step> makes `rotate apply|resume` SIGKILL itself right
 * after the journal records that step (or right after the exchange answered a create / revoke, before
 * that is journaled). Each run ends with `rotate resume` and the invariants of checkRotated(): every
 * slot has exactly one live key, whose secret is in every target (dotenv, json, age, exec) and verified by
 * a probe signed here; no orphan key on the simulator; `audit verify` passes. Then no secret is in the
 * plan file, the command output, the audit entries or state.db.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDb, type RunResult, removeTempDirs, show } from "./helpers.js";
import {
  checkNoSecrets,
  checkRotated,
  outputOf,
  rotationDesk,
  stateBytes,
  targetsFor,
} from "./rotate-helpers.js";

// The homes and targets these tests make live under one temporary folder per file.
afterAll(() => removeTempDirs());

/** Every point the seam knows, in protocol order (`planned` is journaled by apply). */
const POINTS = [
  "creating",
  "create-answered",
  "created",
  "verified",
  "delivering",
  "delivered",
  "checked",
  "revoking",
  "revoke-answered",
  "revoked",
  "dead",
  "finished",
];

const crash = (point: string) => ({ env: { KEYWARD_TEST_CRASH_AFTER: point }, timeoutMs: 60_000 });

describe("rotate: crash recovery", () => {
  it.concurrent("10 OKX sub-account keys, killed with SIGKILL at every journal step in turn, then resumed", {
    timeout: 120_000,
  }, async (context) => {
    const { sim, keys, home, dir } = await rotationDesk(context, 10);
    const targets = await targetsFor(dir, keys);
    const planFile = join(dir, "plan.json");
    const runs: RunResult[] = [];
    const plan = await home.run(["rotate", "plan", "--label", "rbot-*", ...targets.args, "-o", planFile]);
    runs.push(plan);
    expect(plan.code, show(plan)).toBe(0);

    const apply = await home.run(
      ["rotate", "apply", planFile, "--grace", "0s", "--concurrency", "4"],
      crash("planned"),
    );
    runs.push(apply);
    expect(apply.signal, `apply should have been killed after "planned"${show(apply)}`).toBe("SIGKILL");
    for (const point of POINTS) {
      const r = await home.run(["rotate", "resume", "--concurrency", "4"], crash(point));
      runs.push(r);
      expect(r.signal, `resume should have been killed after "${point}"${show(r)}`).toBe("SIGKILL");
    }
    const last = await home.run(["rotate", "resume", "--json"], { timeoutMs: 60_000 });
    runs.push(last);
    expect(last.code, show(last)).toBe(0);

    const secrets = await checkRotated(sim, home, keys, targets);
    const db = openDb(home.state, { readonly: true });
    const audit = JSON.stringify(db.prepare("SELECT * FROM audit_log").all());
    const actions = new Set(
      (db.prepare("SELECT action FROM audit_log").all() as { action: string }[]).map((r) => r.action),
    );
    db.close();
    expect([...actions]).toEqual(
      expect.arrayContaining([
        "rotation.requested",
        "rotation.creating",
        "rotation.new-key-created",
        "rotation.finished",
      ]),
    );
    checkNoSecrets(
      {
        "the plan file": readFileSync(planFile, "utf8"),
        "stdout/stderr": outputOf(runs),
        "the audit log": audit,
        "state.db": stateBytes(home),
      },
      secrets,
    );
  });

  it.concurrent("the exchange drops the answers of writes it applied, then a crash after a create: resume leaves no orphan", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, keys, home, dir } = await rotationDesk(context, 4);
    const targets = await targetsFor(dir, keys);
    const planFile = join(dir, "plan.json");
    const plan = await home.run(["rotate", "plan", "--label", "rbot-*", ...targets.args, "-o", planFile]);
    expect(plan.code, show(plan)).toBe(0);
    // The next 3 creates or deletes are applied, then their connection is cut before the answer.
    await sim.control("POST", "/faults", { exchange: "okx", dropResponses: 3 });
    const apply = await home.run(["rotate", "apply", planFile, "--grace", "0s"], crash("create-answered"));
    expect(apply.signal, show(apply)).toBe("SIGKILL");
    const resume = await home.run(["rotate", "resume"], { timeoutMs: 60_000 });
    expect(resume.code, show(resume)).toBe(0);
    const faults = await sim.control<{ okx: { dropsLeft: number } }>("GET", "/faults");
    expect(faults.okx.dropsLeft).toBe(0);
    await checkRotated(sim, home, keys, targets);
  });

  it.concurrent("a share of requests answered 5xx (not applied), with a crash after the revoke was sent", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, keys, home, dir } = await rotationDesk(context, 4);
    const targets = await targetsFor(dir, keys);
    const planFile = join(dir, "plan.json");
    const plan = await home.run(["rotate", "plan", "--label", "rbot-*", ...targets.args, "-o", planFile]);
    expect(plan.code, show(plan)).toBe(0);
    await sim.control("POST", "/faults", { exchange: "okx", errorRate: 0.25, errorStatus: 503, seed: 7 });
    const apply = await home.run(["rotate", "apply", planFile, "--grace", "0s"], crash("revoking"));
    expect(apply.signal, show(apply)).toBe("SIGKILL");
    const resume = await home.run(["rotate", "resume"], { timeoutMs: 60_000 });
    expect(resume.code, show(resume)).toBe(0);
    const log = await sim.control<{ status: number }[]>("GET", "/requests");
    expect(log.filter((r) => r.status === 503).length, "some requests were answered 503").toBeGreaterThan(0);
    await sim.control("DELETE", "/faults");
    await checkRotated(sim, home, keys, targets);
  });
});
