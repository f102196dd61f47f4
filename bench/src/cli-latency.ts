/**
 * `npm run bench` (CLI latency part; alone: `npm run bench:cli -w @keyward/bench`): the wall time of
 * everyday `keyward` commands, each a fresh process as a person runs it, against the simulator on the
 * demo desk (latency 0), median of 5, beside `keyward --help` (the floor: Node start-up and the command
 * tree). The home is set up through the real CLI at the production scrypt work factor, so every figure
 * includes what a user pays: opening the vault where the command needs it, loading ccxt, the probes.
 * Flags: --json.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { demoDesk, loadDemoScenario, startSimulator } from "@keyward/simulator";

const RUNS = 5;
/** `keyward keys` on the demo desk: the target of issue 10.12. */
const KEYS_TARGET_MS = 1000;

const { values } = parseArgs({ options: { json: { type: "boolean" }, quick: { type: "boolean" } } });
const log = (s: string) => {
  if (!values.json) process.stderr.write(`${s}\n`);
};

// The `keyward` command as npm links it (apps/cli/bin/keyward.js, which loads dist/bin.js).
const BIN = join(
  dirname(createRequire(import.meta.url).resolve("@keyward/cli/package.json")),
  "bin/keyward.js",
);

const COMMANDS: { name: string; args: string[]; vault: boolean }[] = [
  { name: "keyward --help", args: ["--help"], vault: false },
  { name: "keyward keys", args: ["keys"], vault: true },
  { name: "keyward account list", args: ["account", "list"], vault: false },
  { name: "keyward audit", args: ["audit"], vault: false },
  { name: "keyward rotate status", args: ["rotate", "status"], vault: false },
];

const home = mkdtempSync(join(tmpdir(), "keyward-bench-cli-"));
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: "1" };
env.KEYWARD_HOME = home;
env.KEYWARD_PASSPHRASE = "keyward-bench";

/** Runs the CLI as a child (async: the simulator answering it lives in this process); wall ms. */
function keyward(args: string[], input?: unknown): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  child.stdin.end(input === undefined ? "" : JSON.stringify(input));
  return new Promise((resolve, reject) =>
    child.on("close", (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`keyward ${args.join(" ")} exited ${code}: ${stderr}`));
    }),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
};

const scenario = loadDemoScenario();
const sim = await startSimulator({ scenario });
const results: { name: string; vault: boolean; medianMs: number; minMs: number; maxMs: number }[] = [];
try {
  log(`CLI latency: setting up the demo desk through the CLI (production scrypt work factor) ...`);
  const desk = demoDesk(scenario, sim);
  await keyward(["init"]);
  for (const a of desk.accounts) {
    await keyward(
      ["account", "add", a.exchange, a.name, "--endpoint", a.endpoint, "--credentials-stdin"],
      a.credentials,
    );
  }
  for (const k of desk.tracked) {
    await keyward(["key", "track", k.account, "--label", k.label, "--credentials-stdin"], k.credentials);
  }
  log(`CLI latency: ${COMMANDS.length} commands x ${RUNS} runs (after one warm-up each) ...`);
  for (const c of COMMANDS) await keyward(c.args);
  const times = new Map<string, number[]>(COMMANDS.map((c) => [c.name, []]));
  // Interleaved, so a burst of load elsewhere on the machine does not land on one command only.
  for (let i = 0; i < RUNS; i++) for (const c of COMMANDS) times.get(c.name)?.push(await keyward(c.args));
  for (const c of COMMANDS) {
    const ms = times.get(c.name) ?? [];
    results.push({
      name: c.name,
      vault: c.vault,
      medianMs: median(ms),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
    });
  }
} finally {
  await sim.close();
  rmSync(home, { recursive: true, force: true });
}

const floor = results[0]?.medianMs ?? Number.NaN;
const keys = results.find((r) => r.name === "keyward keys");
if (values.json) {
  process.stdout.write(
    `${JSON.stringify({ cliLatency: { runs: RUNS, targetKeysMs: KEYS_TARGET_MS, commands: results } }, null, 2)}\n`,
  );
} else {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  process.stdout.write(
    `\nCLI latency on the demo desk (simulator latency 0), median of ${RUNS}:\n` +
      `${"".padEnd(24)}   median     min-max         over --help  opens the vault\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(24)} ${s(r.medianMs).padStart(8)}  ${`${s(r.minMs)}-${s(r.maxMs)}`.padStart(14)}  ${
        r === results[0] ? "(floor)".padStart(11) : `+${s(r.medianMs - floor)}`.padStart(11)
      }  ${r.vault ? "yes" : "no"}\n`,
    );
  }
  if (keys)
    process.stdout.write(
      `\nkeyward keys: ${s(keys.medianMs)} (target < ${s(KEYS_TARGET_MS)}: ${keys.medianMs < KEYS_TARGET_MS ? "met" : "NOT met"})\n`,
    );
}
