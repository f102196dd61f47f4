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
import { exchangeProfile } from "@keyward/core/exchanges";
import {
  demoDesk,
  demoText,
  EXCHANGE_IDS,
  loadDemoScenario,
  plantDemoLeak,
  startSimulator,
  UI_PATHS,
} from "@keyward/simulator";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, "bin.js");
const PASSPHRASE = "open-sesame-vault";

const scenario = loadDemoScenario();
const sim = await startSimulator({ scenario });
const desk = demoDesk(scenario, sim);
const home = mkdtempSync(join(tmpdir(), "keyward-demo-"));
// The leaked bot server sits beside the home, as a real one would (apart from Keyward's own files).
const leakDir = mkdtempSync(join(tmpdir(), "keyward-demo-leak-"));
const env = { ...process.env, KEYWARD_HOME: home, KEYWARD_PASSPHRASE: PASSPHRASE };

const say = (text: string) => process.stdout.write(`${text}\n`);

// What the demo prints about the desk comes from the desk and the registries, so it names every exchange
// the simulator has, and only those, without this file naming one.
const nameOf = (id: string) => exchangeProfile(id).name;
const accountsPer = EXCHANGE_IDS.flatMap((id) => {
  const n = desk.accounts.filter((a) => a.exchange === id).length;
  return n ? [`${n} ${nameOf(id)} account${n === 1 ? "" : "s"}`] : [];
});
const listeners = EXCHANGE_IDS.map((id) => `${nameOf(id)} ${sim[id]}`).join(", ");
const pages = EXCHANGE_IDS.map((id) => `${sim[id]}${UI_PATHS[id]}`).join(", ");
/** Runs the real CLI as a child (async: the simulator answering it lives in this process). */
async function keyward(args: string[], input?: unknown): Promise<number> {
  say(
    demoText(
      `\n$ keyward ${args.join(" ")}${input ? "   # the demo writes the credentials to stdin itself; you: the hidden prompt, or < key.json (mode 0600)" : ""}`,
    ),
  );
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ["pipe", "inherit", "inherit"] });
  child.stdin.end(input === undefined ? "" : JSON.stringify(input));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
  // 1 is fine for `account check` and `keys` (a warning, or one account failing); 2 means a demo bug.
  if (code === 2) throw new Error(`keyward ${args[0]} failed (exit ${code})`);
  return code;
}

try {
  say(demoText(`Keyward demo: a simulated trading desk with ${accountsPer.join(", ")}.`));
  say(demoText(`Simulator: ${listeners}, control ${sim.control}`));
  await keyward(["init"]);
  // Each exchange module of the simulator says which demo key manages each account (a master's IP-bound
  // admin key, a read-only key where no API lists keys) and which keys are tracked (no API lists them).
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
        // Where the exchange's API lists no labels (Bitfinex), the person names the key: the inventory shows it.
        ...(account.label ? ["--label", account.label] : []),
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
  // A leaked bot server's folder for `keyward scan` to find (a live key with its secret, an unknown key pair).
  const leak = plantDemoLeak(leakDir, scenario);
  // demoText: no line over 120 columns; a comment goes above its command, a long command continues with " \".
  say(
    demoText(`
The simulator keeps running. In another terminal, from this repository:

  export KEYWARD_HOME=${home} KEYWARD_PASSPHRASE=${PASSPHRASE}
  npx keyward keys --risky
  # exits 1: finds the live key, with its secret, and the unknown key planted there
  npx keyward scan ${leak.folder}
  # the revoke it would make: the live key (its secret leaked); the unknown key is its exchange's to revoke
  npx keyward scan ${leak.folder} --revoke --dry-run
  # exits 1 here: the demo desk breaks the default policy on purpose
  npx keyward check
  # market-making sub-account keys, by API
  npx keyward revoke --label 'mm-*' --yes
  # guided: revoke on ${sim.bitfinex}/api, Keyward proves it (the tracked keys; Keyward keeps its own access)
  npx keyward revoke --exchange bitfinex --label '*-bfx' --yes
  # Deribit: kill switch first, then removal behind its two-factor challenge, answered from the vault's TOTP seed
  npx keyward revoke --exchange deribit --label 'bot_*' --yes
  npx keyward rotate plan --account desk-deribit --label 'keyward*' -o ~/deribit-own-plan.json
  # Keyward's own Deribit key, rotated by API
  npx keyward rotate apply ~/deribit-own-plan.json
  # a private folder for the new key's credentials
  mkdir -p -m 700 ~/keyward-demo-keys
  npx keyward key create desk-alpha --sub alphaMM01 --label mm-bot-3 --perm read,trade --ip 127.0.0.1 --deliver dotenv:$HOME/keyward-demo-keys/mm-bot-3.env
  npx keyward audit --action revoke --limit 5
  npx keyward audit && npx keyward audit verify

A leaked bot server's folder sits at ${leak.folder} (a live key, "${leak.known.label}", with its secret, and an unknown key): \`keyward scan\` finds both.
Simulated exchange pages, where a person creates and revokes keys (an assisted rotation's new key is made there, its secret shown once): ${pages}; state: ${sim.control}/state
Press Ctrl-C to stop (the throwaway home is deleted).`),
  );
} catch (error) {
  process.stderr.write(`demo failed: ${(error as Error).message}\n`);
  await sim.close();
  rmSync(home, { recursive: true, force: true });
  rmSync(leakDir, { recursive: true, force: true });
  process.exit(1);
}

const stop = () => {
  void sim.close().then(() => {
    rmSync(home, { recursive: true, force: true });
    rmSync(leakDir, { recursive: true, force: true });
    process.exit(0);
  });
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
