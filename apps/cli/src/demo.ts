/**
 * `npm run demo`: the exchange simulator on the demo scenario (a small trading desk), a throwaway
 * Keyward home with the desk's accounts and tracked keys, then the inventory and a dry-run revoke,
 * each run as the real `keyward` command. The simulator keeps running so you can try any command.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoDesk, loadDemoScenario, startSimulator } from "@keyward/simulator";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, "bin.js");
const PASSPHRASE = "open-sesame-vault";

const scenario = loadDemoScenario();
const sim = await startSimulator({ scenario });
const desk = demoDesk(scenario, sim);
const home = mkdtempSync(join(tmpdir(), "keyward-demo-"));
const env = { ...process.env, KEYWARD_HOME: home, KEYWARD_PASSPHRASE: PASSPHRASE };

const say = (text: string) => process.stdout.write(`${text}\n`);
/** Runs the real CLI as a child (async: the simulator answering it lives in this process). */
async function keyward(args: string[], input?: unknown): Promise<number> {
  say(`\n$ keyward ${args.join(" ")}${input ? "   # credentials piped as JSON on stdin" : ""}`);
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "inherit", "inherit"] });
  child.stdin.end(input === undefined ? "" : JSON.stringify(input));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  // 1 is fine for `account check` and `keys` (a warning, or one account failing); 2 means a demo bug.
  if (code === 2) throw new Error(`keyward ${args[0]} failed (exit ${code})`);
  return code;
}

try {
  say("Keyward demo: a simulated trading desk with two OKX master accounts and two Bitfinex users.");
  say(`Simulator: OKX ${sim.okx}, Bitfinex ${sim.bitfinex}, control ${sim.control}`);
  await keyward(["init"]);
  // OKX: each desk's admin (master, IP-bound, trade) key manages its sub-accounts. Bitfinex: one
  // read-only key per user for the account, the others tracked (no API lists them).
  for (const account of desk.accounts) {
    await keyward(
      [
        "account",
        "add",
        account.exchange,
        account.name,
        "--endpoint",
        account.endpoint,
        "--credentials-stdin",
      ],
      account.credentials,
    );
  }
  for (const key of desk.tracked) {
    await keyward(
      ["key", "track", key.account, "--label", key.label, "--credentials-stdin"],
      key.credentials,
    );
  }
  await keyward(["account", "check"]);
  await keyward(["keys"]);
  await keyward(["revoke", "--risky", "--dry-run"]);
  say(`
The simulator keeps running. In another terminal, from this repository:

  export KEYWARD_HOME=${home} KEYWARD_PASSPHRASE=${PASSPHRASE}
  npx keyward keys --risky
  npx keyward revoke --label 'mm-*' --yes          # OKX sub-account keys, by API
  npx keyward revoke --exchange bitfinex --label '*-bfx' --yes   # guided: revoke on ${sim.bitfinex}/api, Keyward proves it
                                                  # (the tracked keys; Keyward keeps its own access)
  npx keyward audit && npx keyward audit verify

Simulated exchange pages: ${sim.okx}/account/my-api and ${sim.bitfinex}/api; state: ${sim.control}/state
Press Ctrl-C to stop (the throwaway home is deleted).`);
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  await sim.close();
  rmSync(home, { recursive: true, force: true });
  process.exit(1);
}

const stop = () => {
  void sim.close().then(() => {
    rmSync(home, { recursive: true, force: true });
    process.exit(0);
  });
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
