/**
 * Usage, configuration and input errors: exit 2, a message that says what to fix, and nothing changed,
 * neither in the home (config, vault, audit log, tracked keys) nor on the exchanges (/state, no writes).
 * Several of them run the most destructive command there is, `revoke --all --yes`, to show it.
 */
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BYBIT_ACCOUNT,
  credentialsJson,
  type Desk,
  desk,
  KEYS,
  type RequestLogEntry,
  type RunResult,
  removeTempDirs,
  type Sim,
  show,
  snapshotHome,
  tempDir,
} from "./helpers.js";

afterAll(() => removeTempDirs());

/** Snapshots the home and the exchanges, runs `act`, and checks nothing changed. */
async function changesNothing({ sim, home }: Desk, act: () => Promise<void>): Promise<void> {
  const before = { home: snapshotHome(home), state: await sim.state() };
  const seq = (await sim.requests()).at(-1)?.seq ?? 0;
  await act();
  expect(snapshotHome(home)).toEqual(before.home);
  expect(await sim.state()).toEqual(before.state);
  const writes = (await sim.requests()).filter((r) => r.seq > seq && isWrite(r));
  expect(writes).toEqual([]);
}

/** Requests that change something on an exchange: every OKX POST, Bitfinex `auth/w/…`. */
const isWrite = (r: RequestLogEntry) =>
  (r.exchange === "okx" && r.method === "POST") || r.path.includes("/auth/w/");

/** The `keyward: …` line (the message) of stderr, and the rest (the hint). */
function message(r: RunResult): { line: string; lines: string[] } {
  const lines = r.stderr.trimEnd().split("\n");
  return { line: lines[0] ?? "", lines };
}

function expectUsageError(r: RunResult, pattern: RegExp): void {
  expect(r.code, show(r)).toBe(2);
  const { line, lines } = message(r);
  expect(line, show(r)).toMatch(/^keyward: /);
  expect(line, show(r)).toMatch(pattern);
  // One line of message, then at most one hint line.
  expect(lines.length, show(r)).toBeLessThanOrEqual(2);
  if (lines[1]) expect(lines[1]).toMatch(/^ {2}hint: /);
  expect(r.stdout, show(r)).toBe("");
}

const noRequests = async (sim: Sim) => expect(await sim.requests()).toEqual([]);

describe.concurrent("exit 2, nothing changed", () => {
  it("config.json that is not JSON", async ({ onTestFinished }) => {
    const d = await desk({ onTestFinished });
    writeFileSync(d.home.config, '{"version": 1, "accounts": [');
    await changesNothing(d, async () => {
      expectUsageError(await d.home.run(["revoke", "--all", "--yes"]), /config\.json: not valid JSON/);
    });
    await noRequests(d.sim);
  });

  it("config.json with a bad field names the field", async ({ onTestFinished }) => {
    const d = await desk({ onTestFinished });
    const config = JSON.parse(readFileSync(d.home.config, "utf8"));
    const cases = [
      {
        edit: (c: typeof config) => {
          c.settings.maxKeyAgeDays = "ninety";
        },
        field: /config\.json: settings\.maxKeyAgeDays: /,
      },
      {
        edit: (c: typeof config) => {
          c.accounts[0].endpoint = "not a url";
        },
        field: /config\.json: accounts\[0\]\.endpoint: /,
      },
      {
        edit: (c: typeof config) => {
          c.accounts[1].exchange = "kraken";
        },
        field: /config\.json: accounts\[1\]\.exchange: /,
      },
    ];
    for (const { edit, field } of cases) {
      const bad = structuredClone(config);
      edit(bad);
      writeFileSync(d.home.config, JSON.stringify(bad));
      await changesNothing(d, async () => {
        expectUsageError(await d.home.run(["revoke", "--all", "--yes"]), field);
        expectUsageError(await d.home.run(["keys"]), field);
      });
    }
    await noRequests(d.sim);
  });

  // Seven `keyward` runs, each listing the keys and opening the vault: budgeted at 15 s each under load.
  it("a delivery target leading into the home, planned or edited into the plan file", {
    timeout: 105_000,
  }, async ({ onTestFinished }) => {
    const d = await desk({ onTestFinished });
    const bots = tempDir("bots-");
    symlinkSync(d.home.vault, join(bots, "vault-link.env"));
    await changesNothing(d, async () => {
      const targets = [
        `dotenv:${d.home.vault}`,
        `json:${d.home.config}#/exchange`,
        `dotenv:${bots}/vault-link.env`,
        // Relative paths are the command line's: against its current directory (the OS temp folder here).
        `dotenv:${relative(tmpdir(), d.home.vault)}`,
      ];
      const runs = await Promise.all(
        targets.map((target) => d.home.run(["rotate", "plan", "--label", "bot-1", "--deliver", target])),
      );
      for (const r of runs) expectUsageError(r, /Keyward's home/);
    });
    const planFile = join(bots, "plan.json");
    const planned = await d.home.run([
      "rotate",
      "plan",
      "--label",
      "bot-1",
      "--deliver",
      `dotenv:${bots}/{label}.env`,
      "-o",
      planFile,
    ]);
    expect(planned.code, show(planned)).toBe(0);
    const plan = JSON.parse(readFileSync(planFile, "utf8"));
    await changesNothing(d, async () => {
      plan.slots[0].deliver[0].path = d.home.vault;
      writeFileSync(planFile, JSON.stringify(plan));
      expectUsageError(await d.home.run(["rotate", "apply", planFile, "--grace", "0s"]), /Keyward's home/);
      plan.slots[0].deliver[0].path = "vault.age";
      writeFileSync(planFile, JSON.stringify(plan));
      expectUsageError(await d.home.run(["rotate", "apply", planFile, "--grace", "0s"]), /absolute path/);
    });
  });

  it("unknown account", async ({ onTestFinished }) => {
    const d = await desk({ onTestFinished });
    await changesNothing(d, async () => {
      const [keys, revoke] = await Promise.all([
        d.home.run(["keys", "--account", "nope"]),
        d.home.run(["revoke", "--account", "nope", "--yes"]),
      ]);
      expectUsageError(keys, /no account named "nope"/);
      expectUsageError(revoke, /no account named "nope"/);
    });
    await noRequests(d.sim);
  });

  it("bad selector", async ({ onTestFinished }) => {
    const d = await desk({ onTestFinished });
    await changesNothing(d, async () => {
      const [keys, revoke, unknownId] = await Promise.all([
        d.home.run(["keys", "--exchange", "kraken"]),
        d.home.run(["revoke", "--exchange", "kraken", "--yes"]),
        d.home.run(["revoke", "okx:desk-okx:deskBots01:no-such-key", "--yes"]),
      ]);
      expectUsageError(keys, /--exchange: /);
      expectUsageError(revoke, /--exchange: /);
      // A typo in a key id must not revoke less than asked: nothing at all is revoked.
      expectUsageError(unknownId, /no key with id or API key "okx:desk-okx:deskBots01:no-such-key"/);
    });
  });

  it("wrong vault passphrase", async ({ onTestFinished }) => {
    const d = await desk({ onTestFinished });
    const env = { KEYWARD_PASSPHRASE: "not-the-passphrase" };
    await changesNothing(d, async () => {
      const [keys, revoke] = await Promise.all([
        d.home.run(["keys"], { env }),
        d.home.run(["revoke", "--all", "--yes"], { env }),
      ]);
      expectUsageError(keys, /passphrase .*is wrong/);
      expectUsageError(revoke, /passphrase .*is wrong/);
    });
    await noRequests(d.sim);
  });

  it("malformed stdin for --credentials-stdin: says what to fix, never echoes the input", async ({
    onTestFinished,
  }) => {
    const d = await desk({ onTestFinished });
    const secret = "CANARY-typed-secret-0e5d7a";
    const attempts = [
      {
        input: `{"apiKey":"abc","secret":"${secret}",`,
        problem: /stdin: not valid JSON/,
        hint: /JSON object/,
      },
      {
        input: JSON.stringify({ apiKey: "abc", secret, passphrase: secret, note: secret }),
        problem: /stdin: .*"note"/,
        hint: /Expected/,
      },
      {
        input: JSON.stringify({ apiKey: "abc", secret }),
        problem: /stdin: passphrase: is required for OKX keys/,
        hint: /passphrase/,
      },
    ];
    await changesNothing(d, async () => {
      for (const { input, problem, hint } of attempts) {
        const r = await d.home.run(
          ["account", "add", "okx", "desk-new", "--endpoint", d.sim.okx, "--credentials-stdin"],
          { input },
        );
        expectUsageError(r, problem);
        expect(message(r).lines[1] ?? "", show(r)).toMatch(hint);
        expect(r.stdout + r.stderr).not.toContain(secret);
      }
      const track = await d.home.run(["key", "track", "desk-bfx", "--label", "x", "--credentials-stdin"], {
        input: `{"apiKey":"k","secret":"${secret}"`,
      });
      expectUsageError(track, /stdin: not valid JSON/);
      expect(track.stdout + track.stderr).not.toContain(secret);
    });
    await noRequests(d.sim);
  });
});

describe.concurrent("credential hints follow the exchange's profile", () => {
  it("a Bybit add with bad stdin JSON is shown Bybit's fields, no passphrase; an OKX add is shown OKX's", async ({
    onTestFinished,
  }) => {
    const d = await desk({ onTestFinished });
    await changesNothing(d, async () => {
      const add = (exchange: string, url: string, input: string) =>
        d.home.run(["account", "add", exchange, "desk-new", "--endpoint", url, "--credentials-stdin"], {
          input,
        });
      const bybitBad = await add("bybit", d.sim.bybit, '{"apiKey":');
      expectUsageError(bybitBad, /stdin: not valid JSON/);
      expect(message(bybitBad).lines[1], show(bybitBad)).toContain(
        '{"apiKey":"…","secret":"…"} for Bybit keys',
      );
      expect(bybitBad.stderr).not.toMatch(/passphrase/);
      const bybitExtra = await add(
        "bybit",
        d.sim.bybit,
        JSON.stringify({ apiKey: "a", secret: "b", note: "c" }),
      );
      expectUsageError(bybitExtra, /stdin: .*"note"/);
      expect(bybitExtra.stderr).not.toMatch(/passphrase/);
      const okxBad = await add("okx", d.sim.okx, '{"apiKey":');
      expect(message(okxBad).lines[1], show(okxBad)).toContain(
        '{"apiKey":"…","secret":"…","passphrase":"…"}',
      );
    });
  });

  it("credentials a Bybit probe refuses: the hint names the API key and secret, no passphrase", async ({
    onTestFinished,
  }) => {
    const d = await desk({ onTestFinished });
    const before = snapshotHome(d.home);
    const r = await d.home.run(
      ["account", "add", "bybit", "desk-new", "--endpoint", d.sim.bybit, "--credentials-stdin"],
      { input: JSON.stringify({ apiKey: "BYNOSUCHKEY00", secret: "not-a-secret-of-any-key" }) },
    );
    expectUsageError(r, /the credentials did not work/);
    expect(message(r).lines[1], show(r)).toMatch(/Check the API key and API secret, /);
    expect(r.stderr).not.toMatch(/passphrase/);
    expect(snapshotHome(d.home)).toEqual(before);
  });

  it("key track without a terminal says to use --credentials-stdin, with the exchange's fields", async ({
    onTestFinished,
  }) => {
    const d = await desk({ onTestFinished });
    await changesNothing(d, async () => {
      const r = await d.home.run(["key", "track", BYBIT_ACCOUNT, "--label", "x"], { input: "" });
      expectUsageError(r, /API key: no terminal to ask on/);
      expect(message(r).lines[1], show(r)).toMatch(
        /hint: Send the credentials as JSON with --credentials-stdin, e\.g\. \{"apiKey":"…","secret":"…"\}/,
      );
    });
  });
});

describe.concurrent("one API key, one account", () => {
  it("account add refuses a key already added under another name (exit 2, naming that account), before probing", async ({
    onTestFinished,
  }) => {
    const d = await desk({ onTestFinished });
    await changesNothing(d, async () => {
      const seq = (await d.sim.requests()).at(-1)?.seq ?? 0;
      const r = await d.home.run(
        ["account", "add", "bybit", "bybit-again", "--endpoint", d.sim.bybit, "--credentials-stdin"],
        { input: credentialsJson(KEYS.bybitMaster) },
      );
      expectUsageError(r, new RegExp(`this API key is already the key of account "${BYBIT_ACCOUNT}"`));
      expect(message(r).lines[1], show(r)).toContain(`keyward account remove ${BYBIT_ACCOUNT}`);
      expect((await d.sim.requests()).filter((q) => q.seq > seq)).toEqual([]);
      const okx = await d.home.run(
        ["account", "add", "okx", "okx-again", "--endpoint", d.sim.okx, "--credentials-stdin"],
        { input: credentialsJson(KEYS.okxMaster) },
      );
      expectUsageError(okx, /this API key is already the key of account "desk-okx"/);
    });
  });
});
