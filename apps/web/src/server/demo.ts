/**
 * `npm run demo`: the exchange simulator on the demo scenario (a small trading desk), a throwaway
 * Keyward home set up through core (the same accounts and tracked keys as the CLI demo,
 * `npm run demo:cli`), and the web app over it. Prints the one-time login URL, and the two lines that
 * point the `keyward` command at the same home. Ctrl-C stops everything and deletes the home.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HOW_WORDS, isKeywardError, KeywardHome, Secret } from "@keyward/core";
import { exchangeProfile } from "@keyward/core/exchanges";
import {
  demoText,
  EXCHANGE_IDS,
  loadDemoScenario,
  plantDemoLeak,
  startSimulator,
  UI_PATHS,
} from "@keyward/simulator";
import { demoSeed, DEMO_PASSPHRASE as PASSPHRASE } from "./demo-seed.js";
import { setupHome } from "./home-setup.js";
import { startWebServer, type WebServer } from "./server.js";

const PORT = Number(process.env.KEYWARD_WEB_PORT ?? 7420);

const say = (text: string) => process.stdout.write(`${text}\n`);

async function main(): Promise<void> {
  const scenario = loadDemoScenario();
  const sim = await startSimulator({ scenario });
  const dir = mkdtempSync(join(tmpdir(), "keyward-demo-"));
  // The leaked bot server sits beside the home, as a real one would (apart from Keyward's own files).
  const leakDir = mkdtempSync(join(tmpdir(), "keyward-demo-leak-"));
  let server: WebServer | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await server?.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(leakDir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  try {
    // What the demo says about the desk comes from the desk and the registries: every exchange the
    // simulator has, and only those, without this file naming one.
    const seed = demoSeed(scenario, sim);
    const nameOf = (id: string) => exchangeProfile(id).name;
    const accountsPer = EXCHANGE_IDS.flatMap((id) => {
      const n = seed.accounts.filter((a) => a.exchange === id).length;
      return n ? [`${n} ${nameOf(id)} account${n === 1 ? "" : "s"}`] : [];
    });
    say(demoText(`Keyward demo: a simulated trading desk (${accountsPer.join(", ")}) in the browser.`));
    say(
      demoText(
        `Simulator: ${EXCHANGE_IDS.map((id) => `${nameOf(id)} ${sim[id]}`).join(", ")}, control ${sim.control}`,
      ),
    );
    // The path on the line with "home in": the e2e test finds the home by it.
    say(`Setting up a throwaway Keyward home in ${dir}\n(accounts are probed before they are stored)…`);
    await (await setupHome(dir, seed)).close();
    // A leaked bot server's folder for the Scan page to find (a live key with its secret, an unknown key pair).
    const leak = plantDemoLeak(leakDir, scenario);
    const home = KeywardHome.open(dir, { passphrase: async () => new Secret(PASSPHRASE), actor: "web:demo" });
    // The server's start-up lines (where it serves, the login URL) would land above the instructions:
    // the demo prints them in its closing block instead. Its log lines (the inventory prefetch, later
    // each login's next URL) go through as they come. The guard watches the vault's secrets; the demo
    // passphrase is printed in that block, so it is none.
    let started = false;
    const print = (line: string) => {
      if (started || line.startsWith("[keyward web]")) say(demoText(line));
    };
    const start = (port: number) => startWebServer({ home, port, print, scanDefaultPath: leak.folder });
    try {
      server = await start(PORT);
    } catch (error) {
      if (!isKeywardError(error, "CONFIG_INVALID")) throw error;
      say(`(port ${PORT} is taken; using a free one)`);
      server = await start(0);
    }
    await server.ready;
    // demoText: no line over 120 columns (prose wrapped between words, a command kept whole).
    say(
      demoText(`
Keyward web is serving the demo desk at ${server.origin}. Open this URL to log in (it works once; each
login prints the next one):

  ${server.loginUrl()}

Try: select keys with "mm-" in the label and revoke or rotate them (sub-account keys go by API); revoke a
key whose "How" says "${HOW_WORDS.manual}" and do its step on the simulator's page while Keyward waits.
Deribit's keys are disabled first (a kill switch), then removed behind its two-factor challenge, which
Keyward answers from the vault's TOTP seed. To type the codes yourself in the page's code field, run
\`npx keyward account set-seed desk-deribit --clear\` (with the export below) and read the codes from the
authenticator on the simulator's Deribit page.
A leaked bot server's folder sits at ${leak.folder}:
on the Scan page (its path is filled in), Start finds the live key "${leak.known.label}" with its secret, and an unknown key; "Revoke these" (the live key is ticked) opens the plan that revokes it.
Simulated exchange pages, where a person creates and revokes keys (an assisted rotation's new key is made
there, its secret shown once): ${EXCHANGE_IDS.map((id) => `${sim[id]}${UI_PATHS[id]}`).join(", ")}; state: ${sim.control}/state

The same home from the command line, in another terminal of this repository:

  export KEYWARD_HOME=${dir} KEYWARD_PASSPHRASE=${PASSPHRASE}
  npx keyward keys --risky
  npx keyward audit verify

The command-line demo is \`npm run demo:cli\`. Press Ctrl-C to stop (the throwaway home and the leaked folder are deleted).`),
    );
    started = true;
  } catch (error) {
    process.stderr.write(`demo failed: ${(error as Error).message}\n`);
    await stop(1);
  }
}

await main();
