/**
 * Issue 5, acceptance 3 (and 5): an assisted Bitfinex rotation end to end, the person's part done through
 * the simulator's control API (`POST /ui/create` is the site's "Create New Key", `POST /ui/revoke` its
 * "Revoke"). Credentials whose permissions differ from the old key's are refused; the right ones are
 * delivered; Keyward waits while the person revokes the old key and proves it dead by probing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "dotenv";
import { afterAll, describe, expect, it } from "vitest";
import { BFX_ACCOUNT, KEYS, openDb, type RunResult, removeTempDirs, show } from "./helpers.js";
import { bfxProbe, checkNoSecrets, outputOf, rotationDesk, stateBytes, statusOf } from "./rotate-helpers.js";

// The homes and targets these tests make live under one temporary folder per file.
afterAll(() => removeTempDirs());

const USER_ID = 7000001;

describe("rotate: assisted (Bitfinex)", () => {
  it("tells the person what to create, refuses other permissions, delivers, then proves the old key dead", {
    timeout: 60_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 0);
    const envFile = join(dir, "mm.env");
    const planFile = join(dir, "plan.json");
    const runs: RunResult[] = [];
    const plan = await home.run([
      "rotate",
      "plan",
      "--exchange",
      "bitfinex",
      "--label",
      "bfx-mm",
      "--deliver",
      `dotenv:${envFile}#MM`,
      "-o",
      planFile,
    ]);
    runs.push(plan);
    expect(plan.code, show(plan)).toBe(0);
    expect(plan.stdout).toContain("by a person");
    const planDoc = JSON.parse(readFileSync(planFile, "utf8")) as {
      slots: { method: string; new: { label: string; rawPermissions: [string, number, number][] } }[];
    };
    expect(planDoc.slots).toHaveLength(1);
    expect(planDoc.slots[0]?.method).toBe("assisted");
    const label = planDoc.slots[0]?.new.label ?? "";
    expect(label).toMatch(/^bfx-mm-rot-[a-z0-9]{6}-1$/);

    // The person makes a key with one permission too many (wallets write), and hands it over.
    const wrong = await sim.control<{ apiKey: string; apiSecret: string }>("POST", "/ui/create", {
      exchange: "bitfinex",
      userId: USER_ID,
      label,
      permissions: [
        ["orders", 1, 1],
        ["wallets", 1, 1],
        ["withdraw", 0, 1],
      ],
      ip: ["127.0.0.1"],
    });
    const refused = await home.run(
      ["rotate", "apply", planFile, "--grace", "0s", "--credentials-stdin", "--manual-timeout", "1s"],
      {
        input: JSON.stringify({ apiKey: wrong.apiKey, secret: wrong.apiSecret }),
      },
    );
    runs.push(refused);
    expect(refused.code, show(refused)).toBe(3);
    const instructions = refused.stdout;
    expect(instructions).toContain(`label:       ${label}`);
    expect(instructions).toMatch(/permissions: orders: read\+write, wallets: read, withdraw: write/);
    expect(instructions).toContain(`${sim.bitfinex}/api`);
    expect(instructions).toMatch(
      /refused the credentials for slot 1: its permissions differ: wallets is read\+write, must be read/,
    );
    const [waiting] = await statusOf(home);
    expect(waiting?.slots[0]?.step).toBe("awaiting-new-key");

    // Now exactly the key asked for; the CLI delivers it, then waits for the old key's revocation.
    const right = await sim.control<{ apiKey: string; apiSecret: string }>("POST", "/ui/create", {
      exchange: "bitfinex",
      userId: USER_ID,
      label,
      permissions: [
        ["orders", 1, 1],
        ["wallets", 1, 0],
        ["withdraw", 0, 1],
      ],
      ip: ["127.0.0.1"],
    });
    const resume = home.start(["rotate", "resume", "--credentials-stdin", "--manual-timeout", "30s"], {
      input: JSON.stringify({ slot: 1, apiKey: right.apiKey, secret: right.apiSecret }),
      timeoutMs: 50_000,
    });
    await resume.waitFor(/now revoke the OLD key "bfx-mm"/, 30_000);
    // Delivered before the person is asked to revoke anything.
    expect(parse(readFileSync(envFile, "utf8"))).toEqual({
      MM_API_KEY: right.apiKey,
      MM_API_SECRET: right.apiSecret,
    });
    await sim.control("POST", "/ui/revoke", { exchange: "bitfinex", apiKey: KEYS.bfxMm.apiKey });
    const done = await resume.done;
    runs.push(done);
    expect(done.code, show(done)).toBe(0);

    const [run] = await statusOf(home);
    expect(run?.state).toBe("finished");
    expect(run?.slots[0]).toMatchObject({
      step: "finished",
      newApiKey: right.apiKey,
      oldApiKey: KEYS.bfxMm.apiKey,
    });
    // The new key works (a probe signed here), the old one is gone, and Keyward now tracks the new one.
    const probe = await bfxProbe(sim.bitfinex, { apiKey: right.apiKey, secret: right.apiSecret });
    expect(Array.isArray(probe) && probe[0] !== "error", JSON.stringify(probe)).toBe(true);
    const state = await sim.state();
    const user = state.bitfinex.users.find((u) => u.id === USER_ID);
    expect(user?.keys.find((k) => k.apiKey === KEYS.bfxMm.apiKey)?.status).toBe("revoked");
    const keys = await home.run(["keys", "--exchange", "bitfinex", "--json"]);
    runs.push(keys);
    const listed = (JSON.parse(keys.stdout) as { keys: { apiKey: string; label: string; account: string }[] })
      .keys;
    expect(listed.map((k) => k.apiKey)).toContain(right.apiKey);
    expect(listed.map((k) => k.apiKey)).not.toContain(KEYS.bfxMm.apiKey);
    expect(listed.find((k) => k.apiKey === right.apiKey)).toMatchObject({ label, account: BFX_ACCOUNT });
    const verify = await home.run(["audit", "verify"]);
    expect(verify.code, show(verify)).toBe(0);

    const db = openDb(home.state, { readonly: true });
    const audit = db
      .prepare("SELECT action, details FROM audit_log WHERE action LIKE 'rotation.%'")
      .all() as {
      action: string;
      details: string;
    }[];
    db.close();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "rotation.new-key-refused",
        "rotation.awaiting-revoke",
        "rotation.old-key-dead",
        "rotation.finished",
      ]),
    );
    checkNoSecrets(
      {
        "the plan file": readFileSync(planFile, "utf8"),
        "stdout/stderr": outputOf(runs),
        "the audit log": JSON.stringify(audit),
        "state.db": stateBytes(home),
      },
      [right.apiSecret, wrong.apiSecret],
    );
  });
});
