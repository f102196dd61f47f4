/**
 * An attacker who can write state.db (no passphrase) against a rotation, through the built `keyward`:
 *
 *   - the audit log cannot be cut back after a rotation: the head copy (audit-head.json) follows the
 *     rotation's entries, and its MAC cannot re-head a log cut back to it; deleting it is reported;
 *   - a stopped run's journal cannot be turned into a command run or a secret sent elsewhere at the next
 *     `rotate resume` / `rotate abort` (the commands the CLI tells the operator to run after a failure).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  auditEntries,
  CANARIES,
  type Home,
  KEYS,
  OKX_ACCOUNT,
  openDb,
  parseJson,
  removeTempDirs,
  show,
} from "./helpers.js";
import { planBots, rotationDesk, statusOf } from "./rotate-helpers.js";

afterAll(() => removeTempDirs());

/** state.db opened as a tamperer would: writable, the audit log's append-only triggers dropped. */
function tamper(home: Home, sql: (db: ReturnType<typeof openDb>) => void): void {
  const db = openDb(home.state);
  try {
    db.exec("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;");
    sql(db);
  } finally {
    db.close();
  }
}

async function planFor(home: Home, dir: string, name: string): Promise<string> {
  const envFile = join(dir, "bots.env");
  if (!existsSync(envFile)) writeFileSync(envFile, "LOG_LEVEL=info\n", { mode: 0o600 });
  return planBots(home, dir, name);
}

const noCanary = (text: string) => {
  for (const canary of CANARIES) expect(text).not.toContain(canary);
};

// Each test runs about eight keyward processes (a few seconds each under load).
const BUDGET = 120_000;

describe("a rotation against a tamperer of state.db", () => {
  it("keeps the audit head copy at the head, so the log cannot be cut back to it", {
    timeout: BUDGET,
  }, async (context) => {
    const { home, dir } = await rotationDesk(context, 2);
    const copyPath = join(home.dir, "audit-head.json");
    const before = JSON.parse(readFileSync(copyPath, "utf8")) as { seq: number; hash: string; mac: string };
    const apply = await home.run(["rotate", "apply", await planFor(home, dir, "p"), "--grace", "0s"], {
      timeoutMs: 60_000,
    });
    expect(apply.code, show(apply)).toBe(0);

    const verified = await home.run(["audit", "verify", "--json"]);
    expect(verified.code, show(verified)).toBe(0);
    const head = parseJson<{ head: { seq: number; hash: string } }>(verified).head;
    expect(head.seq).toBeGreaterThan(before.seq + 10);
    // The copy followed the rotation's entries (written inside the journal's transactions).
    const afterText = readFileSync(copyPath, "utf8");
    const after = JSON.parse(afterText) as { seq: number; hash: string };
    expect({ seq: after.seq, hash: after.hash }).toEqual(head);

    // A deleted copy no longer turns the rollback check off.
    rmSync(copyPath);
    const missing = await home.run(["audit", "verify"]);
    expect(missing.code, show(missing)).toBe(1);
    expect(missing.stdout).toMatch(/BROKEN at entry \d+: head copy missing/);
    expect(missing.stdout).toMatch(/--expect-head/);
    writeFileSync(copyPath, afterText, { mode: 0o600 });
    expect((await home.run(["audit", "verify"])).code).toBe(0);

    // The repro: cut the log back to the copy from before the rotation and re-head it with its MAC.
    tamper(home, (db) => {
      db.prepare("DELETE FROM audit_log WHERE seq > ?").run(before.seq);
      db.prepare("UPDATE audit_head SET seq = ?, hash = ?, mac = ?").run(before.seq, before.hash, before.mac);
    });
    writeFileSync(copyPath, JSON.stringify(before), { mode: 0o600 });
    const cut = await home.run(["audit", "verify"]);
    expect(cut.code, show(cut)).toBe(1);
    expect(cut.stdout).toMatch(/audit log BROKEN at entry \d+: head mismatch/);
  });

  it("refuses to resume or abort a run whose check command was changed, and runs nothing", {
    timeout: BUDGET,
  }, async (context) => {
    const { home, dir } = await rotationDesk(context, 1);
    const apply = await home.run(
      ["rotate", "apply", await planFor(home, dir, "p"), "--grace", "0s", "--check-cmd", "false"],
      { timeoutMs: 60_000 },
    );
    expect(apply.code, show(apply)).toBe(1);
    const id = /keyward rotate resume (rot-[a-z0-9]{6})/.exec(apply.stdout + apply.stderr)?.[1];
    expect(id, show(apply)).toBeDefined();

    const pwned = join(dir, "PWNED");
    tamper(home, (db) => {
      db.prepare("UPDATE rotation_runs SET options = json_set(options, '$.checkCmd', ?) WHERE id = ?").run(
        `id > ${pwned}`,
        id,
      );
    });
    for (const verb of ["resume", "abort"]) {
      const r = await home.run(["rotate", verb, id ?? "-"], { timeoutMs: 60_000 });
      expect(r.code, show(r)).toBe(1);
      expect(r.stderr).toMatch(/rotation rot-[a-z0-9]{6} cannot be trusted: its plan or options/);
      expect(r.stderr).toMatch(/hint: .*by hand.*keyward audit verify/);
      noCanary(r.stdout + r.stderr);
    }
    expect(existsSync(pwned)).toBe(false);
    // Nothing was recorded as resumed or aborted; status still shows the run (it needs no vault).
    const log = await home.run(["audit", "--json"]);
    const actions = auditEntries<{ action: string }>(log).map((e) => e.action);
    expect(actions).not.toContain("rotation.resumed");
    expect(actions).not.toContain("rotation.abort-requested");
    expect((await statusOf(home))[0]?.state).toBe("active");
  });

  it("refuses a slot whose new key was pointed at another vault entry", {
    timeout: BUDGET,
  }, async (context) => {
    const { home, dir } = await rotationDesk(context, 1);
    const apply = await home.run(
      ["rotate", "apply", await planFor(home, dir, "p"), "--grace", "0s", "--check-cmd", "false"],
      { timeoutMs: 60_000 },
    );
    expect(apply.code, show(apply)).toBe(1);
    const before = readFileSync(join(dir, "bots.env"), "utf8");
    // The account's own key (its vault ref and API key are in state.db's tables and the config) as the
    // "new key", at the step before delivery: resume would write it into the bot's file.
    tamper(home, (db) => {
      db.prepare("UPDATE rotation_slots SET new_ref = ?, new_api_key = ?, step = 'verified'").run(
        `account:${OKX_ACCOUNT}`,
        KEYS.okxMaster.apiKey,
      );
    });
    const r = await home.run(["rotate", "resume"], { timeoutMs: 60_000 });
    expect(r.code, show(r)).toBe(1);
    expect(r.stderr).toMatch(/cannot be trusted: slot 1 was changed/);
    expect(readFileSync(join(dir, "bots.env"), "utf8")).toBe(before);
    expect(readFileSync(join(dir, "bots.env"), "utf8")).not.toContain(KEYS.okxMaster.apiKey);
    noCanary(r.stdout + r.stderr);
  });
});
