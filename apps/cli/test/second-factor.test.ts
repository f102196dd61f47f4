/**
 * The account's second factor in the CLI (issue 13), against the test desk's simulator (its Deribit
 * module checks two-factor codes itself): `account add deribit` with and without `totpSeed`, the seed
 * rule (refused for OKX, refused when it is not a seed), `account set-seed` (stdin, --clear), the 2FA
 * column of `account list`, and a revoke that meets the challenge with no seed and no terminal
 * (SECOND_FACTOR_REQUIRED, exit 1, its hint) and with the seed (answered, audited). The seed is not a
 * `CANARY-` string (base32), so every run here is also checked for it by hand.
 */
import { DESK_TOTP_SEED, urlOf } from "@keyward/simulator/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  credentialsJson,
  type Home,
  initHome,
  KEYS,
  parseJson,
  type RunResult,
  removeTempDirs,
  Sim,
  show,
  statuses,
} from "./helpers.js";

afterAll(() => removeTempDirs());

const ACCOUNT = "desk-deribit";
const noSeed = (r: RunResult): RunResult => {
  expect(`${r.stdout}${r.stderr}`, show(r)).not.toContain(DESK_TOTP_SEED);
  return r;
};

let sim: Sim;
let deribit: string;
beforeAll(async () => {
  sim = await Sim.start();
  deribit = urlOf(sim.running, "deribit");
});
afterAll(async () => {
  await sim?.close();
});

const withSeed = (seed: string) =>
  JSON.stringify({ ...JSON.parse(credentialsJson(KEYS.deribitAccount)), totpSeed: seed });

const addDeribit = async (home: Home, input: string) =>
  noSeed(
    await home.run(["account", "add", "deribit", ACCOUNT, "--endpoint", deribit, "--credentials-stdin"], {
      input,
    }),
  );

describe("the TOTP seed in the CLI", () => {
  it("account add deribit takes totpSeed on stdin; account list says the seed is held, never the seed", async () => {
    const home = await initHome();
    const added = await addDeribit(home, withSeed(DESK_TOTP_SEED));
    expect(added.code, show(added)).toBe(0);
    const list = noSeed(await home.run(["account", "list"]));
    expect(list.stdout).toMatch(/2FA/);
    expect(list.stdout).toMatch(/desk-deribit\s+deribit.*seed in vault/);
    const json = parseJson<{ name: string; secondFactor: string | null }[]>(
      noSeed(await home.run(["account", "list", "--json"])),
    );
    expect(json).toEqual([expect.objectContaining({ name: ACCOUNT, secondFactor: "seed" })]);
  });

  it("refuses a seed for OKX and a value that is not a seed, naming the field; nothing is stored", async () => {
    const home = await initHome();
    const okx = await home.run(
      ["account", "add", "okx", "desk-okx", "--endpoint", sim.okx, "--credentials-stdin"],
      { input: JSON.stringify({ ...JSON.parse(credentialsJson(KEYS.okxMaster)), totpSeed: DESK_TOTP_SEED }) },
    );
    noSeed(okx);
    expect(okx.code, show(okx)).toBe(2);
    expect(okx.stderr).toMatch(/totpSeed: OKX asks for no second-factor code/);
    const bad = await addDeribit(home, withSeed("123456"));
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toMatch(/totpSeed: is not base32/);
    expect(bad.stderr).not.toContain("123456");
    const list = await home.run(["account", "list", "--json"]);
    expect(parseJson(list)).toEqual([]);
  });

  it("no seed and no terminal: the revoke meets the challenge and fails with SECOND_FACTOR_REQUIRED (exit 1); set-seed, then it succeeds", async () => {
    const home = await initHome();
    const added = await addDeribit(home, credentialsJson(KEYS.deribitAccount));
    expect(added.code, show(added)).toBe(0);
    expect((await home.run(["account", "list"])).stdout).toMatch(/asks for codes/);

    const args = ["revoke", "--account", ACCOUNT, "--label", "bot_old", "--yes", "--json"];
    const refused = noSeed(await home.run(args));
    expect(refused.code, show(refused)).toBe(1);
    const report = parseJson<{ results: { outcome: string; error?: { code: string; hint?: string } }[] }>(
      refused,
    );
    expect(report.results).toEqual([
      expect.objectContaining({
        outcome: "failed",
        error: expect.objectContaining({ code: "SECOND_FACTOR_REQUIRED" }),
      }),
    ]);
    expect(report.results[0]?.error?.hint).toMatch(/totpSeed|terminal/);
    expect(statuses(await sim.state()).get(KEYS.deribitOld.apiKey)).toBe("active");

    // The seed stored for this account from stdin (its key untouched).
    const set = noSeed(
      await home.run(["account", "set-seed", ACCOUNT, "--stdin"], { input: `${DESK_TOTP_SEED}\n` }),
    );
    expect(set.code, show(set)).toBe(0);
    expect(set.stdout).toMatch(/Stored the TOTP seed/);
    const done = noSeed(await home.run(args));
    expect(done.code, show(done)).toBe(0);
    expect(statuses(await sim.state()).get(KEYS.deribitOld.apiKey)).toBe("revoked");
    const audit = noSeed(await home.run(["audit", "--json"]));
    expect(audit.stdout).toMatch(/twofactor\.answered/);
    expect(audit.stdout).toMatch(/"answeredBy": ?"seed"/);
    expect(audit.stdout).toMatch(/account\.seed-set/);

    const cleared = noSeed(await home.run(["account", "set-seed", ACCOUNT, "--clear"]));
    expect(cleared.code, show(cleared)).toBe(0);
    expect((await home.run(["account", "list"])).stdout).toMatch(/asks for codes/);
  });
});
