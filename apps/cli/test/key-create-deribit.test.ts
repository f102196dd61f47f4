/**
 * Issue 14, key creation on Deribit: keys are created in the account itself (the profile's
 * `keys.master.create` "api"), behind Deribit's second factor, answered from the account's TOTP seed in
 * the vault (as `rotate apply` does); a label Deribit would store differently is refused before any request.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DESK_TOTP_SEED, urlOf } from "@keyward/simulator/testing";
import { parse } from "dotenv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  credentialsJson,
  type Home,
  initHome,
  KEYS,
  openDb,
  removeTempDirs,
  Sim,
  show,
  tempDir,
} from "./helpers.js";

afterAll(() => removeTempDirs());

const ACCOUNT = "desk-deribit";

describe("key create on Deribit", () => {
  let sim: Sim;
  let home: Home;
  beforeAll(async () => {
    sim = await Sim.start();
    home = await initHome();
    const r = await home.run(
      [
        "account",
        "add",
        "deribit",
        ACCOUNT,
        "--endpoint",
        urlOf(sim.running, "deribit"),
        "--credentials-stdin",
      ],
      {
        input: JSON.stringify({
          ...JSON.parse(credentialsJson(KEYS.deribitAccount)),
          totpSeed: DESK_TOTP_SEED,
        }),
      },
    );
    expect(r.code, show(r)).toBe(0);
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("creates a key in the account itself, answering the second factor from the seed; a label Deribit would change is refused first", async () => {
    const dir = tempDir("create-deribit-");
    const envFile = join(dir, "bot.env");
    const deliver = ["--deliver", `dotenv:${envFile}`];
    const before = (await sim.requests()).length;
    const bad = await home.run([
      "key",
      "create",
      ACCOUNT,
      "--label",
      "mm-bot-2",
      "--perm",
      "read,trade",
      "--ip",
      "127.0.0.1",
      ...deliver,
    ]);
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toMatch(/Deribit would store it as/);
    expect((await sim.requests()).length).toBe(before);

    const r = await home.run(
      [
        "key",
        "create",
        ACCOUNT,
        "--label",
        "mmbot2",
        "--perm",
        "read,trade",
        "--ip",
        "127.0.0.1",
        ...deliver,
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, show(r)).toBe(0);
    const state = (await sim.state()) as unknown as {
      deribit: {
        accounts: { keys: { name: string; apiKey: string; status: string; ip_whitelist: string[] }[] }[];
      };
    };
    const made = state.deribit.accounts
      .flatMap((a) => a.keys)
      .filter((k) => k.name === "mmbot2" && k.status === "active");
    expect(made).toHaveLength(1);
    expect(made[0]?.ip_whitelist).toEqual(["127.0.0.1"]);
    expect(parse(readFileSync(envFile, "utf8")).API_KEY).toBe(made[0]?.apiKey);
    const db = openDb(home.state, { readonly: true });
    const actions = (db.prepare("SELECT action FROM audit_log").all() as { action: string }[]).map(
      (x) => x.action,
    );
    db.close();
    expect(actions).toEqual(expect.arrayContaining(["key.created", "key.finished"]));
    expect(actions).toContain("twofactor.answered");
  });
});
