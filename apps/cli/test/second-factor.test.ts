/**
 * The account's second factor in the CLI (issue 13), against the test desk's simulator (its Deribit
 * module checks two-factor codes itself): `account add deribit` with and without `totpSeed`, the seed
 * rule (refused for OKX, refused when it is not a seed), `account set-seed` (stdin, --clear), the 2FA
 * column of `account list`, and a revoke that meets the challenge with no seed and no terminal
 * (SECOND_FACTOR_REQUIRED, exit 1, its hint) and with the seed (answered, audited). The seed is not a
 * `CANARY-` string (base32), so every run here is also checked for it by hand.
 */
import { spawn, spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { DESK_TOTP_SEED, urlOf } from "@keyward/simulator/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BIN,
  credentialsJson,
  type Home,
  initHome,
  KEYS,
  PASSPHRASE,
  parseJson,
  type RunResult,
  removeTempDirs,
  Sim,
  show,
  statuses,
  TEST_VAULT_WORK_FACTOR,
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
    // The seed given is said, as `account list` says it; the advice to give one is not.
    expect(added.stdout).toMatch(/^ {2}2FA: seed in vault$/m);
    expect(added.stdout).not.toMatch(/give its account's TOTP seed/);
    const dry = noSeed(await home.run(["revoke", "--account", ACCOUNT, "--label", "bot_*", "--dry-run"]));
    expect(dry.code, show(dry)).toBe(0);
    expect(dry.stdout).not.toMatch(/holds no TOTP seed/);
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
    // The stdin hint names the optional field; a wrong secret's hint never names the seed (no probe uses it).
    const notJson = await addDeribit(home, "{");
    expect(notJson.code, show(notJson)).toBe(2);
    expect(notJson.stderr).toContain('{"apiKey":"…","secret":"…"} (optional: "totpSeed")');
    const wrong = await addDeribit(
      home,
      JSON.stringify({ apiKey: KEYS.deribitAccount.apiKey, secret: "CANARY-wrong-secret-0000" }),
    );
    expect(wrong.code, show(wrong)).not.toBe(0);
    expect(wrong.stderr).toMatch(/Check the Client ID and Client Secret,/);
    expect(wrong.stderr).not.toMatch(/TOTP seed/);
    const list = await home.run(["account", "list", "--json"]);
    expect(parseJson(list)).toEqual([]);
  });

  it("no seed and no terminal: the revoke meets the challenge and fails with SECOND_FACTOR_REQUIRED (exit 1); set-seed, then it succeeds", async () => {
    const home = await initHome();
    const added = await addDeribit(home, credentialsJson(KEYS.deribitAccount));
    expect(added.code, show(added)).toBe(0);
    expect(added.stdout).not.toMatch(/seed in vault/);
    // Notes and warnings are wrapped at 120 columns: each read as one line (continuations rejoined).
    const unwrapped = (text: string) => text.replace(/\n {2,}/g, " ");
    expect(unwrapped(added.stdout)).toMatch(/note: .*give its account's TOTP seed as totpSeed/);
    expect((await home.run(["account", "list"])).stdout).toMatch(/asks for codes/);

    // The dry run says codes will be needed, one line for the account, in text and in --json.
    const dry = noSeed(await home.run(["revoke", "--account", ACCOUNT, "--label", "bot_*", "--dry-run"]));
    expect(dry.code, show(dry)).toBe(0);
    const lines = unwrapped(dry.stdout)
      .split("\n")
      .filter((l) => l.includes("holds no TOTP seed"));
    expect(lines, dry.stdout).toHaveLength(1);
    expect(lines[0]).toMatch(
      /desk-deribit holds no TOTP seed: each removal asks for a two-factor code \(\d+ key\(s\)\); with no one to type them \(no terminal, a script\) they end DISABLED, not removed/,
    );
    const dryJson = parseJson<{ warnings: string[] }>(
      noSeed(await home.run(["revoke", "--account", ACCOUNT, "--label", "bot_*", "--dry-run", "--json"])),
    );
    expect(dryJson.warnings.filter((w) => w.startsWith("desk-deribit holds no TOTP seed"))).toHaveLength(1);

    const args = ["revoke", "--account", ACCOUNT, "--label", "bot_old", "--yes", "--json"];
    const refused = noSeed(await home.run(args));
    expect(refused.code, show(refused)).toBe(1);
    const report = parseJson<{ results: { outcome: string; error?: { code: string; hint?: string } }[] }>(
      refused,
    );
    // Disabled first (the kill switch asks for no code), then its removal met the challenge: DISABLED, as
    // the dry run said.
    expect(report.results).toEqual([
      expect.objectContaining({
        outcome: "disabled",
        error: expect.objectContaining({ code: "SECOND_FACTOR_REQUIRED" }),
      }),
    ]);
    expect(report.results[0]?.error?.hint).toMatch(/totpSeed|terminal/);
    expect(statuses(await sim.state()).get(KEYS.deribitOld.apiKey)).toBe("disabled");

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

/** util-linux `script` runs a command on a pseudo-terminal: the CLI sees a terminal and prompts. */
const hasScript = spawnSync("script", ["--version"]).status === 0;

/** `keyward --home DIR args…` on a terminal; `type` writes to it as a person typing. */
function onTerminal(home: Home, args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KEYWARD_") && !k.startsWith("VITEST") && v !== undefined) env[k] = v;
  }
  Object.assign(env, {
    NO_COLOR: "1",
    KEYWARD_PASSPHRASE: PASSPHRASE,
    KEYWARD_TEST_VAULT_WORK_FACTOR: String(TEST_VAULT_WORK_FACTOR),
  });
  const command = [process.execPath, BIN, "--home", home.dir, ...args].join(" ");
  const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd: tmpdir(), env });
  let screen = "";
  child.stdout.setEncoding("utf8").on("data", (t: string) => {
    screen += t;
  });
  const done = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const waitFor = async (pattern: RegExp, from = 0) => {
    const until = Date.now() + 40_000;
    while (!pattern.test(screen.slice(from))) {
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${pattern} on:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return {
    screen: () => screen,
    waitFor,
    type: (text: string) => child.stdin.write(text),
    done,
  };
}

describe.skipIf(!hasScript)("the hidden prompt on a terminal", () => {
  it("asks for the code (exchange, account, action, time left), says when one was refused, and the revoke goes on", async () => {
    const home = await initHome();
    expect((await addDeribit(home, credentialsJson(KEYS.deribitAccount))).code).toBe(0);
    const term = onTerminal(home, ["revoke", "--account", ACCOUNT, "--label", "treasury", "--yes"]);
    await term.waitFor(
      /Deribit asks for a two-factor code for desk-deribit to remove key [\s\S]*\(treasury\)[\s\S]*\(\d+ s left\)/,
    );
    const right = await sim.totp("desk_deribit");
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
    const before = term.screen().length;
    term.type(`${wrong}\r`);
    await term.waitFor(/That code was refused/, before);
    term.type(`${await sim.totp("desk_deribit")}\r`);
    expect(await term.done, term.screen()).toBe(0);
    // Hidden: the typed codes never show on the screen.
    expect(term.screen()).not.toContain(wrong);
    expect(statuses(await sim.state()).get(KEYS.deribitTreasury.apiKey)).toBe("revoked");
    const audit = await home.run(["audit", "--json"]);
    expect(audit.stdout).toMatch(/"answeredBy": ?"person"/);
  });
});
