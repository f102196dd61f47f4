/**
 * `keyward rotate plan --reset-in-place` and `rotate apply`'s acceptance of it, through the built binary
 * against the desk's simulator: the plan shows RESET and says the old secret dies at once (no grace),
 * the plan file carries it, `rotate apply` without --reset-in-place refuses it (exit 2) before anything
 * reaches the exchange, and keys of an exchange without an in-place reset are refused, naming why. (The
 * reset itself, end to end, is in packages/core/test/engine-own-key-reset.test.ts.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DESK_ACCOUNTS, urlOf } from "@keyward/simulator/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  credentialsJson,
  type Home,
  initHome,
  KEYS,
  OKX_ACCOUNT,
  removeTempDirs,
  Sim,
  show,
  statuses,
  tempDir,
} from "./helpers.js";

afterAll(() => removeTempDirs());

const DERIBIT = DESK_ACCOUNTS.deribit;
const BOT_ID = `deribit:${DERIBIT}:-:${KEYS.deribitBot.apiKey}`;

describe("rotate plan --reset-in-place", () => {
  let sim: Sim;
  let home: Home;
  beforeAll(async () => {
    sim = await Sim.start();
    home = await initHome();
    for (const [exchange, name, key] of [
      ["deribit", DERIBIT, KEYS.deribitAccount],
      ["okx", OKX_ACCOUNT, KEYS.okxMaster],
    ] as const) {
      const r = await home.run(
        ["account", "add", exchange, name, "--endpoint", urlOf(sim.running, exchange), "--credentials-stdin"],
        { input: credentialsJson(key) },
      );
      expect(r.code, show(r)).toBe(0);
    }
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("plans a reset for a Deribit key, says the old secret dies at once, and apply refuses it without --reset-in-place", async () => {
    const dir = tempDir("reset-");
    const planFile = join(dir, "plan.json");
    const r = await home.run([
      "rotate",
      "plan",
      BOT_ID,
      "--reset-in-place",
      "--deliver",
      `dotenv:${join(dir, "bot.env")}`,
      "-o",
      planFile,
    ]);
    expect(r.code, show(r)).toBe(0);
    expect(r.stdout).toMatch(/\bRESET\b/);
    // Read as one line: the plan's notes wrap at 120 columns.
    expect(r.stdout.replace(/\s+/g, " ")).toMatch(/OLD SECRET DIES THE MOMENT THE NEW ONE EXISTS/);
    expect(r.stdout).toMatch(/no grace period/);
    // A plan of resets only: no grace period promised after the API part, whose estimate is never "0 ms".
    expect(r.stdout).not.toMatch(/plus the grace period/);
    expect(r.stdout).not.toMatch(/about \d+ ms/);
    expect(r.stdout).toMatch(/The API part takes under a second/);
    expect(r.stdout).toContain(`keyward rotate apply ${planFile} --reset-in-place`);
    const plan = JSON.parse(readFileSync(planFile, "utf8")) as {
      slots: { reset?: boolean; notes: string[]; old: { id: string } }[];
    };
    expect(plan.slots).toHaveLength(1);
    expect(plan.slots[0]).toMatchObject({ reset: true, old: { id: BOT_ID } });
    expect(plan.slots[0]?.notes.join(" ")).toMatch(/no grace period/);

    const before = await sim.requests();
    const refused = await home.run(["rotate", "apply", planFile]);
    expect(refused.code, show(refused)).toBe(2);
    expect(refused.stderr).toMatch(/old secret dies the moment the new one exists/);
    expect(refused.stderr).toMatch(/--reset-in-place/);
    // Nothing reached the exchange, and the key is as it was.
    const after = await sim.requests();
    expect(after.length).toBe(before.length);
    expect(statuses(await sim.state()).get(KEYS.deribitBot.apiKey)).toBe("active");
  });

  it("refuses keys of an exchange without an in-place reset, naming why", async () => {
    const r = await home.run([
      "rotate",
      "plan",
      "--account",
      OKX_ACCOUNT,
      "--label",
      "bot-1",
      "--reset-in-place",
      "--deliver",
      `dotenv:${join(tempDir("reset-okx-"), "bot.env")}`,
    ]);
    // Every key refused: the input is refused, nothing changed (exit 2, as README's exit codes say).
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toMatch(/OKX cannot give sub-account keys a new secret in place by API/);
    expect(r.stdout).toMatch(/plan without --reset-in-place/);
  });
});
