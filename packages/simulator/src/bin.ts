#!/usr/bin/env node
/**
 * keyward-sim: runs the exchange simulator until SIGINT/SIGTERM.
 * Prints one JSON line with the listeners' URLs when ready. Exit codes: 0 clean stop, 1 failure to
 * start (e.g. port in use), 2 bad arguments or scenario.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { z } from "zod";
import { formatZodError, parseScenarioText, ScenarioError } from "./scenario.js";
import { readyLine, startSimulator } from "./simulator.js";
import { MODULES } from "./world.js";

/** `--<id>-port`: one per exchange module. */
const portFlags = MODULES.map((m) => ({ flag: `${m.id}-port`, id: m.id, help: m.portHelp }));

const option = (flag: string, help: string) => `  ${flag.padEnd(23)}${help}`;

const USAGE = `Usage: keyward-sim --scenario FILE [options]

Runs a local simulator of the ${MODULES.map((m) => m.title).join(" and ")} API-key management surfaces on 127.0.0.1.
When ready it prints ${readyLineShape()} on one line.

Options:
${[
  option("--scenario FILE", "world to start with (JSON; see the package README)"),
  ...portFlags.map((p, i) =>
    option(`--${p.flag} N`, `${p.help}${i === 0 ? ", 0 = any free port" : ""} (default 0)`),
  ),
  option("--control-port N", "control API port (default 0)"),
  option("--latency-ms N", "latency added to every exchange request (default 0)"),
  option("--rate-scale F", "multiply every rate-limit window by F, e.g. 0.1 (default 1)"),
  option("--state-file FILE", "persist the world to FILE and reload it on start"),
  option("-V, --version", "print the version and exit"),
  option("-h, --help", "show this help"),
].join("\n")}

Exit codes: 0 stopped by SIGINT/SIGTERM; 1 could not start; 2 bad arguments or scenario.`;

/** `{"<id>":URL,…,"control":URL,"<extra>":{...},…}`, from the registry. */
function readyLineShape(): string {
  const urls = [...MODULES.map((m) => `"${m.id}":URL`), `"control":URL`];
  const extras = MODULES.flatMap((m) => m.readyLineExtras ?? []).map((name) => `"${name}":{...}`);
  return `{${[...urls, ...extras].join(",")}}`;
}

const port = z.coerce.number().int().min(0).max(65535);
const ArgsSchema = z.object({
  scenario: z.string().min(1, "is required"),
  ...Object.fromEntries(portFlags.map((p) => [p.flag, port.default(0)])),
  "control-port": port.default(0),
  "latency-ms": z.coerce.number().int().min(0).max(60_000).default(0),
  "rate-scale": z.coerce.number().positive().max(1000).default(1),
  "state-file": z.string().min(1).optional(),
});

function fail(message: string, code: number): never {
  process.stderr.write(`keyward-sim: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: "string" },
        ...Object.fromEntries(portFlags.map((p) => [p.flag, { type: "string" as const }])),
        "control-port": { type: "string" },
        "latency-ms": { type: "string" },
        "rate-scale": { type: "string" },
        "state-file": { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
      strict: true,
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${USAGE}`, 2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.version) {
    // From package.json (src/ and dist/ are both one level below it): the simulator is not started.
    const pkg = createRequire(import.meta.url)("../package.json") as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return;
  }
  const args = ArgsSchema.safeParse({ scenario: "", ...values });
  if (!args.success) fail(`${formatZodError(args.error).replace(/^(\S+):/, "--$1")}\n\n${USAGE}`, 2);
  const opts = args.data as z.output<typeof ArgsSchema> & Record<string, number>;

  let text: string;
  try {
    text = readFileSync(opts.scenario, "utf8");
  } catch (error) {
    fail(
      `cannot read scenario ${opts.scenario}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      2,
    );
  }
  let scenario: ReturnType<typeof parseScenarioText>;
  try {
    scenario = parseScenarioText(text, opts.scenario);
  } catch (error) {
    if (error instanceof ScenarioError) fail(`invalid scenario: ${error.message}`, 2);
    throw error;
  }

  let sim: Awaited<ReturnType<typeof startSimulator>>;
  try {
    sim = await startSimulator({
      scenario,
      ...Object.fromEntries(portFlags.map((p) => [`${p.id}Port`, opts[p.flag]])),
      controlPort: opts["control-port"],
      latencyMs: opts["latency-ms"],
      rateScale: opts["rate-scale"],
      ...(opts["state-file"] ? { stateFile: opts["state-file"] } : {}),
    });
  } catch (error) {
    fail(`could not start: ${(error as Error).message}`, 1);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void sim.close().then(() => process.exit(0));
  };
  // Before the ready line: a caller may signal as soon as it reads it, and without a handler the
  // default action kills the process by the signal instead of exiting 0.
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  process.stdout.write(`${JSON.stringify(readyLine(sim))}\n`);
}

void main();
