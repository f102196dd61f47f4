/**
 * `npm run demo`: the exchange simulator on the demo scenario (a small trading desk), a throwaway
 * Keyward home with the desk's accounts and tracked keys, then the inventory and a dry-run revoke,
 * each run as the real `keyward` command. The simulator keeps running so you can try any command.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startSimulator } from "@keyward/simulator";
import { z } from "zod";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, "bin.js");
const SCENARIO = fileURLToPath(import.meta.resolve("@keyward/simulator/scenarios/demo.json"));
const PASSPHRASE = "keyward-demo";

// Only the fields the demo needs; the simulator validates the whole file.
const DemoScenario = z.object({
  okx: z.object({
    accounts: z.array(
      z.object({
        name: z.string(),
        keys: z.array(z.object({ apiKey: z.string(), secretKey: z.string(), passphrase: z.string() })),
      }),
    ),
  }),
  bitfinex: z.object({
    users: z.array(
      z.object({
        email: z.string(),
        keys: z.array(z.object({ apiKey: z.string(), apiSecret: z.string(), label: z.string() })),
      }),
    ),
  }),
});

const scenarioText = readFileSync(SCENARIO, "utf8");
const scenario = DemoScenario.parse(JSON.parse(scenarioText));
const sim = await startSimulator({ scenario: JSON.parse(scenarioText) });
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
  // OKX: each desk's admin (master, IP-bound, trade) key manages its sub-accounts.
  for (const account of scenario.okx.accounts) {
    const admin = account.keys[0];
    if (!admin) continue;
    await keyward(["account", "add", "okx", account.name, "--endpoint", sim.okx, "--credentials-stdin"], {
      apiKey: admin.apiKey,
      secret: admin.secretKey,
      passphrase: admin.passphrase,
    });
  }
  // Bitfinex: one read-only key per user for the account, the others tracked (no API lists them).
  for (const [i, user] of scenario.bitfinex.users.entries()) {
    const name = `${user.email.split("@")[1]?.split(".")[0] ?? `user${i}`}-bfx`;
    const readOnly = (label: string) => Number(/read|report/.test(label));
    const [accountKey, ...others] = [...user.keys].sort((a, b) => readOnly(b.label) - readOnly(a.label));
    if (!accountKey) continue;
    await keyward(["account", "add", "bitfinex", name, "--endpoint", sim.bitfinex, "--credentials-stdin"], {
      apiKey: accountKey.apiKey,
      secret: accountKey.apiSecret,
    });
    for (const key of others) {
      await keyward(["key", "track", name, "--label", key.label, "--credentials-stdin"], {
        apiKey: key.apiKey,
        secret: key.apiSecret,
      });
    }
  }
  await keyward(["account", "check"]);
  await keyward(["keys"]);
  await keyward(["revoke", "--risky", "--dry-run"]);
  say(`
The simulator keeps running. In another terminal, from this repository:

  export KEYWARD_HOME=${home} KEYWARD_PASSPHRASE=${PASSPHRASE}
  npx keyward keys --risky
  npx keyward revoke --label 'mm-*' --yes          # OKX sub-account keys, by API
  npx keyward revoke --exchange bitfinex --yes     # guided: revoke on ${sim.bitfinex}/api, Keyward proves it
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
