/**
 * Shared helpers of the CLI's end-to-end tests. The tests run the BUILT binary (`dist/bin.js`; the turbo
 * test task builds first) as a child process, against a simulator started in-process, each test in a
 * fresh temporary Keyward home. Nothing of Keyward is mocked: results are checked in the simulator's
 * `/state` and request log, and in the home's files, not only in what the CLI prints.
 *
 *   - `runCli` / `startCli`: spawn `node dist/bin.js …` with stdin input, a controlled environment
 *     (KEYWARD_PASSPHRASE set, nothing inherited from the developer's KEYWARD_*) and a hard timeout;
 *     `startCli` also lets a test watch the output while the command runs (manual revoke steps).
 *     Every run, in every test, fails if its stdout or stderr holds a canary (a `CANARY-…` secret).
 *   - `KEYS` / `scenario()`: the shared test desk (`@keyward/simulator/testing`, the web suite's too), a
 *     small desk whose every secret and passphrase is a canary string.
 *   - `Sim`: the desk's simulator plus its control API (/state, /ui/revoke, /faults, /requests).
 *   - `setupHome`: `keyward init` + `account add` for each of the desk's accounts + `key track` for its
 *     tracked key, all through the CLI.
 *     global-setup.ts makes one such home (the template) per run; `desk()` gives a test its own simulator
 *     and a fresh copy of the template pointed at it, so tests run side by side without paying the
 *     set-up (~5 s of CPU: each vault open is an scrypt) again.
 *   - `openDb` / `snapshotHome`: read (or tamper with) state.db through better-sqlite3.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DemoDesk, RequestLogEntry, RunningSimulator, ScenarioInput } from "@keyward/simulator";
import {
  DESK_ACCOUNTS,
  DESK_CANARIES,
  DESK_KEYS,
  DESK_TRACKED_LABEL,
  type DeskKey,
  deskCredentials,
  deskScenario,
  type KeyStatus,
  keyStatuses,
  revokedKeys,
  SimulatorClient,
  startTestDesk,
  urlOf,
} from "@keyward/simulator/testing";
import type BetterSqlite3 from "better-sqlite3";
import { inject, type TestContext } from "vitest";

export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
if (!existsSync(BIN)) {
  throw new Error(`${BIN} is missing: build the CLI first (cd apps/cli && npx tsc -p tsconfig.build.json)`);
}

/**
 * Every secret the tests use, in the scenario or typed by mistake, starts with this, so any of them in any
 * output is caught (see startCli). No API key, label or name contains it.
 */
export const CANARY_PATTERN = /CANARY-[A-Za-z0-9-]*/;

/** The vault passphrase of every test home; a canary too (it must never be printed or stored). */
export const PASSPHRASE = "CANARY-vault-passphrase-6b1f09d2";

/** The scrypt work factor of the vaults the tests' `keyward init` makes (production: 16). */
export const TEST_VAULT_WORK_FACTOR = 10;

// ---------------------------------------------------------------------------------------------------
// Spawning the CLI

export interface RunOptions {
  /** Written to the child's stdin, which is then closed (stdin is never a TTY here). */
  input?: string;
  /** Extra environment; `undefined` removes a variable. KEYWARD_PASSPHRASE defaults to PASSPHRASE. */
  env?: Record<string, string | undefined>;
  /** Kill the child and fail after this long. Default 40 s. */
  timeoutMs?: number;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `pattern` shows in stdout or stderr; rejects if the child exits first or on timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<RunResult>;
}

/** The child's environment: the parent's, minus anything Keyward reads, plus what the test says. */
function childEnv(extra: RunOptions["env"]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith("KEYWARD_") && !k.startsWith("VITEST") && v !== undefined) env[k] = v;
  }
  env.NO_COLOR = "1";
  env.KEYWARD_PASSPHRASE = PASSPHRASE;
  // Vaults made by `keyward init` here cost milliseconds, not ~0.35 s of CPU, per open: hundreds of CLI
  // processes run side by side. vault.test.ts covers the production work factor.
  env.KEYWARD_TEST_VAULT_WORK_FACTOR = String(TEST_VAULT_WORK_FACTOR);
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function startCli(args: string[], options: RunOptions = {}): RunningCli {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: tmpdir(),
    env: childEnv(options.env),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const watchers = new Set<() => void>();
  const changed = () => {
    for (const w of watchers) w();
  };
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
    changed();
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
    changed();
  });
  child.stdin?.on("error", () => {}); // the child may exit before reading stdin
  child.stdin?.end(options.input ?? "");

  const timeoutMs = options.timeoutMs ?? 40_000;
  const done = new Promise<RunResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `keyward ${args.join(" ")} did not finish within ${timeoutMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      changed();
      const leak = CANARY_PATTERN.exec(stdout) ?? CANARY_PATTERN.exec(stderr);
      if (leak) {
        reject(
          new Error(
            `keyward ${args.join(" ")} printed a secret (${leak[0]})\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        );
        return;
      }
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  done.catch(() => {}); // observed through `done` by the caller; avoid an unhandled rejection meanwhile

  const waitFor = (pattern: RegExp, waitMs = 40_000) =>
    new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        watchers.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (pattern.test(stdout) || pattern.test(stderr)) finish();
        else if (child.exitCode !== null || child.signalCode !== null)
          finish(new Error(`keyward exited before printing ${pattern}\n${stdout}\n${stderr}`));
      };
      const timer = setTimeout(
        () =>
          finish(
            new Error(`no ${pattern} within ${waitMs} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`),
          ),
        waitMs,
      );
      watchers.add(check);
      check();
    });

  return { child, stdout: () => stdout, stderr: () => stderr, waitFor, done };
}

export const runCli = (args: string[], options: RunOptions = {}): Promise<RunResult> =>
  startCli(args, options).done;

/** For failure messages: what the command printed. */
export const show = (r: Pick<RunResult, "stdout" | "stderr">): string =>
  `\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

/** Parses the command's stdout as JSON, failing with the output when it is not. */
export function parseJson<T = unknown>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${r.code})${show(r)}`);
  }
}

/** `keyward audit --json`'s entries, oldest first (it prints a page newest first, with total and next). */
export function auditEntries<T = unknown>(r: RunResult): T[] {
  return [...parseJson<{ entries: T[] }>(r).entries].reverse();
}

// ---------------------------------------------------------------------------------------------------
// The scenario: the shared test desk (@keyward/simulator/testing), every secret a canary

/** The desk's keys (see DESK_KEYS for who is who). */
export const KEYS = DESK_KEYS;

/** Keyward's names for the three accounts and the tracked key. */
export const OKX_ACCOUNT = DESK_ACCOUNTS.okx;
export const BFX_ACCOUNT = DESK_ACCOUNTS.bitfinex;
export const BYBIT_ACCOUNT = DESK_ACCOUNTS.bybit;
export const TRACKED_LABEL = DESK_TRACKED_LABEL;

/** The OKX sub-account keys (revocable by API) and the keys only a person can revoke. */
export const OKX_SUB_KEYS = [KEYS.bot1, KEYS.bot2, KEYS.bot3, KEYS.opsReader];
/** The Bybit sub-account keys (revocable by API). */
export const BYBIT_SUB_KEYS = [KEYS.bybitScalp1, KEYS.bybitScalp2, KEYS.bybitReader];
/**
 * What `revoke --all` revokes by API: the OKX and Bybit sub-account keys. Not the Bybit master key Keyward
 * manages its account with: a key revoked by API that ends Keyward's access is held back unless named.
 */
export const API_KEYS = [...OKX_SUB_KEYS, ...BYBIT_SUB_KEYS];
export const MANUAL_KEYS = [
  { exchange: "okx" as const, apiKey: KEYS.okxMaster.apiKey },
  { exchange: "bitfinex" as const, apiKey: KEYS.bfxAccount.apiKey },
  { exchange: "bitfinex" as const, apiKey: KEYS.bfxMm.apiKey },
];

export const scenario = (): ScenarioInput => deskScenario();

/** Every secret in the scenario, plus the vault passphrase. */
export const CANARIES: string[] = [PASSPHRASE, ...DESK_CANARIES];

/** `{apiKey, secret, passphrase?}` for `--credentials-stdin`. */
export const credentialsJson = (key: DeskKey): string => JSON.stringify(deskCredentials(key));

/** How a key shows in checklists and tables: first 4 … last 4 characters. */
export const shortKey = (apiKey: string) => `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`;

// ---------------------------------------------------------------------------------------------------
// The simulator and its control API

export type { KeyStatus, RequestLogEntry };

export class Sim extends SimulatorClient {
  private constructor(
    readonly running: RunningSimulator,
    /** The accounts and the tracked key of the desk, pointed at this simulator. */
    readonly seed: DemoDesk,
  ) {
    super(running.control);
  }

  /** The desk's simulator (rateScale 0.05, see startTestDesk). */
  static async start(): Promise<Sim> {
    const desk = await startTestDesk();
    return new Sim(desk.running, desk.seed);
  }

  get okx(): string {
    return this.running.okx;
  }
  get bitfinex(): string {
    return this.running.bitfinex;
  }
  get bybit(): string {
    return this.running.bybit;
  }

  close(): Promise<void> {
    return this.running.close();
  }
}

/** Every key's status in a /state view, by API key. */
export const statuses = keyStatuses;

export { revokedKeys };

// ---------------------------------------------------------------------------------------------------
// Keyward homes

/** This test file's temporary root, made on first use. */
let tempRoot: string | undefined;

/** A new, empty directory for a home (removed by `removeTempDirs`). */
export function tempDir(prefix = "home-"): string {
  tempRoot ??= mkdtempSync(join(tmpdir(), "keyward-cli-e2e-"));
  return mkdtempSync(join(tempRoot, prefix));
}

/** Removes every directory this module made (call in afterAll). */
export function removeTempDirs(): void {
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });
  tempRoot = undefined;
}

export class Home {
  constructor(readonly dir: string) {}

  get config(): string {
    return join(this.dir, "config.json");
  }
  get vault(): string {
    return join(this.dir, "vault.age");
  }
  get state(): string {
    return join(this.dir, "state.db");
  }

  /** `keyward --home DIR …` */
  run(args: string[], options?: RunOptions): Promise<RunResult> {
    return runCli(["--home", this.dir, ...args], options);
  }

  start(args: string[], options?: RunOptions): RunningCli {
    return startCli(["--home", this.dir, ...args], options);
  }
}

/** Runs a set-up step that must succeed. */
async function must(home: Home, args: string[], options?: RunOptions): Promise<RunResult> {
  const r = await home.run(args, options);
  if (r.code !== 0) throw new Error(`set-up step keyward ${args.join(" ")} exited ${r.code}${show(r)}`);
  return r;
}

/** `keyward init` in a new temporary directory. */
export async function initHome(): Promise<Home> {
  const home = new Home(tempDir());
  await must(home, ["init"]);
  return home;
}

/**
 * A home with both accounts and the tracked Bitfinex key, all added through the CLI:
 * `init`, `account add okx|bitfinex … --credentials-stdin`, `key track … --credentials-stdin`.
 */
export async function setupHome(sim: Sim): Promise<Home> {
  const home = await initHome();
  // One after the other: each of these saves the vault.
  for (const account of sim.seed.accounts) {
    await must(
      home,
      [
        "account",
        "add",
        account.exchange,
        account.name,
        "--endpoint",
        account.endpoint,
        "--credentials-stdin",
      ],
      { input: JSON.stringify(account.credentials) },
    );
  }
  for (const key of sim.seed.tracked) {
    await must(home, ["key", "track", key.account, "--label", key.label, "--credentials-stdin"], {
      input: JSON.stringify(key.credentials),
    });
  }
  return home;
}

/**
 * A fresh copy of a prepared home (config, vault, state.db and its WAL) whose accounts point at `sim`.
 * The endpoint is the one thing that differs between simulators, and config.json is the plain, secret-free
 * file where Keyward keeps it (as a person moving an account to another proxy would edit it).
 */
export function cloneHome(templateDir: string, sim: Sim): Home {
  const home = new Home(tempDir("home-"));
  cpSync(templateDir, home.dir, { recursive: true });
  const config = JSON.parse(readFileSync(home.config, "utf8")) as {
    accounts: { exchange: string; endpoint?: string }[];
  };
  for (const account of config.accounts) account.endpoint = urlOf(sim.running, account.exchange);
  writeFileSync(home.config, `${JSON.stringify(config, null, 2)}\n`);
  return home;
}

export interface Desk {
  sim: Sim;
  home: Home;
}

/**
 * For one test: its own simulator (the seeded world) and a fresh home with both accounts and the tracked
 * key (a copy of the template global-setup.ts made through the CLI). The simulator stops when the test ends.
 */
export async function desk(context: Pick<TestContext, "onTestFinished">): Promise<Desk> {
  const sim = await Sim.start();
  context.onTestFinished(() => sim.close());
  return { sim, home: cloneHome(inject("templateHome"), sim) };
}

// ---------------------------------------------------------------------------------------------------
// state.db

// better-sqlite3 is a dependency of @keyward/core; resolve it from there.
const requireFromCore = createRequire(createRequire(import.meta.url).resolve("@keyward/core"));
const Sqlite = requireFromCore("better-sqlite3") as typeof BetterSqlite3;

export function openDb(path: string, options: { readonly?: boolean } = {}): BetterSqlite3.Database {
  return new Sqlite(path, { readonly: options.readonly ?? false, fileMustExist: true });
}

export interface HomeSnapshot {
  config: string;
  vaultSha256: string;
  /**
   * Every row of every table of state.db (audit log, its head, tracked keys, …), by table, except the
   * inventory cache: every successful listing refreshes it (a dry run too), and it is what an account
   * that can no longer be listed is shown from, so it is meant to change.
   */
  tables: Record<string, unknown[]>;
}

/** What a command that must change nothing could have changed in the home. */
export function snapshotHome(home: Home): HomeSnapshot {
  const db = openDb(home.state, { readonly: true });
  try {
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[];
    const tables: Record<string, unknown[]> = {};
    for (const { name } of names) {
      if (name !== "inventory_cache") tables[name] = db.prepare(`SELECT * FROM "${name}"`).all();
    }
    return {
      config: readFileSync(home.config, "utf8"),
      vaultSha256: createHash("sha256").update(readFileSync(home.vault)).digest("hex"),
      tables,
    };
  } finally {
    db.close();
  }
}
