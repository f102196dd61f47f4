/**
 * Secrets stay secret. Every secret and passphrase in the scenario, the vault passphrase, and the wrong
 * secrets typed by mistake are canaries. helpers.ts already fails any CLI run, in any test, whose stdout
 * or stderr holds one; here, after a session (tracking a key, failed attempts, probes, revokes with manual
 * steps, the audit log read back), none may appear in any output, any audit entry, any column of any table
 * of state.db, or any file of the home except inside the encrypted vault (vault.age is checked for plaintext).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  CANARIES,
  credentialsJson,
  desk,
  type Home,
  KEYS,
  MANUAL_KEYS,
  openDb,
  type RunOptions,
  type RunResult,
  removeTempDirs,
  runCli,
  shortKey,
  show,
} from "./helpers.js";

afterAll(() => removeTempDirs());

const WRONG_SECRET = "CANARY-mistyped-secret-b3e81f";
const TYPED_IN_BAD_JSON = "CANARY-bad-json-secret-44d0c6";
const ALL_CANARIES = [...CANARIES, WRONG_SECRET, TYPED_IN_BAD_JSON];

/** Where a canary showed up, for a readable failure. */
function findCanaries(where: string, text: string): string[] {
  return ALL_CANARIES.filter((c) => text.includes(c)).map((c) => `${where}: ${c}`);
}

/** Runs keyward commands in `home`, keeping every output for the scan. */
function recorder(home: Home) {
  const outputs: { what: string; r: RunResult }[] = [];
  const run = async (args: string[], expectCode: number, options?: RunOptions) => {
    const r = await home.run(args, options);
    outputs.push({ what: args.join(" "), r });
    expect(r.code, `keyward ${args.join(" ")}${show(r)}`).toBe(expectCode);
    return r;
  };
  return { outputs, run };
}

/**
 * Every canary found in the outputs, in every value of every column of every table of state.db, and in
 * every file of the home as raw bytes (config.json, vault.age, state.db and its WAL).
 */
function scan(home: Home, outputs: { what: string; r: RunResult }[], trackedKeys: number): string[] {
  const leaks: string[] = [];
  for (const { what, r } of outputs) {
    leaks.push(...findCanaries(`${what} (stdout)`, r.stdout), ...findCanaries(`${what} (stderr)`, r.stderr));
  }
  const db = openDb(home.state, { readonly: true });
  const rowsSeen: Record<string, number> = {};
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[];
      rowsSeen[name] = rows.length;
      rows.forEach((row, i) => {
        for (const [column, value] of Object.entries(row)) {
          const text = Buffer.isBuffer(value) ? value.toString("latin1") : String(value);
          leaks.push(...findCanaries(`state.db ${name}[${i}].${column}`, text));
        }
      });
    }
  } finally {
    db.close();
  }
  // The scan saw the data it is about.
  expect(rowsSeen.audit_log).toBeGreaterThanOrEqual(3);
  expect(rowsSeen.tracked_keys).toBe(trackedKeys);

  const files = readdirSync(home.dir);
  expect(files).toEqual(expect.arrayContaining(["config.json", "vault.age", "state.db"]));
  for (const file of files) {
    leaks.push(...findCanaries(file, readFileSync(join(home.dir, file)).toString("latin1")));
  }
  return leaks;
}

it("the suite-wide check catches a canary in any output", async () => {
  // commander echoes an unknown command: the check in helpers.ts must turn that into a failure.
  await expect(runCli(["CANARY-self-test-of-the-check"])).rejects.toThrow(
    /printed a secret \(CANARY-self-test/,
  );
});

describe.concurrent("canary secrets appear in no output, audit entry, database column or plaintext file", () => {
  // Both start from a copy of the template home, itself made by `init`, `account add` and `key track`
  // (accounts.test.ts checks what `account add` prints for canaries).
  it("tracking a key, mistakes, listing, checking", async ({ onTestFinished }) => {
    const { sim, home } = await desk({ onTestFinished });
    const { outputs, run } = recorder(home);

    await Promise.all([
      run(["key", "track", BFX_ACCOUNT, "--label", "bfx-other", "--credentials-stdin", "--json"], 0, {
        input: credentialsJson(KEYS.bfxUntracked),
      }),
      // Mistakes, which store nothing: a wrong secret, broken JSON.
      run(["account", "add", "okx", "desk-typo", "--endpoint", sim.okx, "--credentials-stdin"], 2, {
        input: JSON.stringify({
          apiKey: KEYS.okxMaster.apiKey,
          secret: WRONG_SECRET,
          passphrase: KEYS.okxMaster.passphrase,
        }),
      }),
      run(["account", "add", "bitfinex", "desk-typo", "--endpoint", sim.bitfinex, "--credentials-stdin"], 2, {
        input: `{"apiKey":"${KEYS.bfxAccount.apiKey}","secret":"${TYPED_IN_BAD_JSON}"`,
      }),
    ]);
    // Probes with every secret: the accounts' keys, and the tracked keys (listing probes them).
    await Promise.all([
      run(["keys", "--json"], 0),
      run(["account", "check", "--json"], 0),
      run(["audit", "--json"], 0),
    ]);
    expect(outputs.find((o) => o.what === "keys --json")?.r.stdout).toContain("bfx-other");

    expect(scan(home, outputs, 2)).toEqual([]);
  });

  it("revoking by API and by hand, then reading the audit log", async ({ onTestFinished }) => {
    const { sim, home } = await desk({ onTestFinished });
    const { outputs, run } = recorder(home);

    await run(["revoke", "--label", "bot-*", "--yes"], 0); // the human report
    const child = home.start(["revoke", "--all", "--yes", "--json"], { timeoutMs: 55_000 });
    for (const { exchange, apiKey } of MANUAL_KEYS) {
      await child.waitFor(new RegExp(`revoke ".*" \\(${shortKey(apiKey)}\\)`));
      await sim.uiRevoke(exchange, apiKey);
    }
    const all = await child.done;
    outputs.push({ what: "revoke --all --yes --json", r: all });
    expect(all.code, show(all)).toBe(0);

    await Promise.all([
      run(["audit"], 0),
      run(["audit", "--json"], 0),
      run(["audit", "verify"], 0),
      run(["audit", "verify", "--json"], 0),
      run(["audit", "head"], 0),
      run(["audit", "head", "--json"], 0),
    ]);

    expect(scan(home, outputs, 1)).toEqual([]);
  }, 60_000);
});
