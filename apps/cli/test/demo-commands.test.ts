/**
 * `npm run demo:cli` prints commands to try "in another terminal": each one must work verbatim. The demo
 * runs as a child (its own simulator and throwaway home); the test reads what it printed and runs every
 * command with bash, as printed (a long one continued with a trailing " \\"), with the printed `export` and
 * a HOME of its own. No printed line is over 120 columns. Each exits 0, except
 * `keyward check`, which exits 1 on the demo desk (the desk breaks the default policy on purpose), and
 * `keyward scan` of the demo's leaked folder, which exits 1 (it finds a live key and its secret there; its
 * `--revoke --dry-run` would revoke that key). The guided Bitfinex revoke waits for a person: the test
 * plays that person on the simulator's page.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { demoDesk, loadDemoScenario } from "@keyward/simulator";
import { SimulatorClient } from "@keyward/simulator/testing";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs, tempDir } from "./helpers.js";

const DEMO = fileURLToPath(new URL("../dist/demo.js", import.meta.url));
const REPO = fileURLToPath(new URL("../../../", import.meta.url));

let demo: ChildProcess | undefined;
afterAll(async () => {
  if (demo && demo.exitCode === null) {
    const closed = new Promise((resolve) => demo?.on("close", resolve));
    demo.kill("SIGTERM");
    await closed;
  }
  removeTempDirs();
});

/** Starts the demo and resolves with what it printed once it says the simulator keeps running. */
function startDemo(home: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith("KEYWARD_")) delete env[k];
  demo = spawn(process.execPath, [DEMO], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    demo?.stdout?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      if (out.includes("Press Ctrl-C to stop")) resolve(out);
    });
    demo?.stderr?.setEncoding("utf8").on("data", (s: string) => {
      out += s;
    });
    demo?.on("close", (code) => reject(new Error(`the demo ended (exit ${code}):\n${out}`)));
  });
}

interface Ran {
  code: number;
  output: string;
}

/** Runs one printed line with bash after the printed `export`; `onOutput` sees the output as it comes. */
function bash(
  exportLine: string,
  line: string,
  home: string,
  onOutput?: (all: string) => void,
): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith("KEYWARD_")) delete env[k];
  const child = spawn("bash", ["-c", `set -e\n${exportLine}\n${line}`], {
    cwd: REPO,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const add = (s: string) => {
    output += s;
    onOutput?.(output);
  };
  child.stdout.setEncoding("utf8").on("data", add);
  child.stderr.setEncoding("utf8").on("data", add);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? 1, output })));
}

describe("the CLI demo's printed commands", () => {
  it("each works verbatim: exit 0, and 1 for `keyward check` and `keyward scan`", {
    timeout: 300_000,
  }, async () => {
    const home = tempDir("demo-user-");
    const printed = await startDemo(home);
    // Everything the demo prints (its own lines and the keyward commands it runs) fits 120 columns.
    for (const line of printed.split("\n")) expect(line.length, line).toBeLessThanOrEqual(120);
    const block = printed.slice(printed.indexOf("In another terminal"));
    // A command too long for one line continues on the next after a trailing " \\": it is run as
    // printed, its lines together, for bash to join as sh would.
    const lines = block
      .split("\n")
      .slice(1)
      .join("\n")
      .split("\n\n")[0]
      ?.split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .reduce<string[]>((all, l) => {
        const last = all.at(-1);
        if (last?.endsWith(" \\")) all[all.length - 1] = `${last}\n${l}`;
        else all.push(l);
        return all;
      }, []);
    expect(lines?.[0]).toMatch(/^export KEYWARD_HOME=\S+ KEYWARD_PASSPHRASE=\S+$/);
    // The key create line is too long for 120 columns: it is printed continued, and runs as printed.
    expect(lines?.find((l) => l.startsWith("npx keyward key create"))).toContain(" \\\n");
    const [exportLine = "", ...commands] = lines ?? [];
    for (const wanted of [
      /^npx keyward check\b/,
      /^npx keyward scan \S+leaky-server\b/,
      /^npx keyward scan \S+leaky-server --revoke --dry-run$/,
      /^npx keyward key create /,
      /^npx keyward audit --action revoke --limit 5$/,
    ]) {
      expect(
        commands.some((c) => wanted.test(c)),
        `${wanted} in\n${block}`,
      ).toBe(true);
    }
    const control = /state:\s+(http:\/\/\S+)\/state/.exec(printed)?.[1];
    expect(control).toBeDefined();
    const sim = new SimulatorClient(control ?? "");
    // The tracked Bitfinex keys the guided revoke selects: the test revokes them on the exchange's page.
    const bfx = demoDesk(loadDemoScenario(), {} as never)
      .tracked.filter((t) => /-bfx$/.test(t.account) && /-bfx$/.test(t.label))
      .map((t) => t.credentials.apiKey);
    expect(bfx.length).toBeGreaterThan(0);

    for (const command of commands) {
      let person: Promise<unknown> | undefined;
      const guided = /--exchange bitfinex/.test(command);
      const ran = await bash(exportLine, command, home, (all) => {
        if (guided && !person && /Waiting for \d+ manual/.test(all)) {
          person = Promise.all(bfx.map((apiKey) => sim.uiRevoke("bitfinex", apiKey)));
        }
      });
      await person;
      if (guided) expect(person, ran.output).toBeDefined();
      const expected = /^npx keyward (check|scan)\b/.test(command) ? 1 : 0;
      expect(ran.code, `${command}\n${ran.output}`).toBe(expected);
      // The scan names the live key planted in the leaked folder, and the unknown pair beside it.
      if (/^npx keyward scan\b/.test(command))
        expect(ran.output).toMatch(/known key\+secret\+passphrase .*mm-bot-1[\s\S]*unknown \(high\)/);
      // Its secret leaked with it: the dry run would revoke it (a key id alone is only offered, not chosen).
      if (/^npx keyward scan .*--revoke --dry-run$/.test(command)) {
        expect(ran.output).toMatch(/Would revoke 1 key\(s\)/);
        expect(ran.output).toMatch(/^1 +by API +okx +desk-alpha +alphaMM01 +mm-bot-1 /m);
      }
    }
    // The key create's line delivered the new key into the folder the printed mkdir made private.
    const env = join(home, "keyward-demo-keys", "mm-bot-3.env");
    expect(existsSync(env)).toBe(true);
    expect(readFileSync(env, "utf8")).toMatch(/^API_KEY=/m);
  });
});
