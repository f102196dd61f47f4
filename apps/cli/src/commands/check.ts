/** `keyward check`: the policy check for cron, CI and monitoring (core's `checkPolicy`). */

import { resolve } from "node:path";
import {
  checkPolicy,
  type Finding,
  homePolicy,
  keyWhere,
  type PolicyReport,
  policyMetrics,
  policySummary,
  writeFileAtomic,
} from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { out, terminalSafe } from "../output.js";
import type { GlobalOptions } from "../program.js";
import { listingProgress } from "../selection.js";

export interface CheckOptions {
  policy?: string;
  json?: boolean;
  format?: "text" | "json" | "prometheus";
  output?: string;
}

/** Every line fits a 120-column terminal; the whole message is in --json. */
const WIDTH = 120;

/** What a finding is about: "okx desk-alpha/alphaArb01 arb-bot 36c0…83b0", or the account alone. */
function subject(f: Finding): string {
  const where = keyWhere(f);
  if (!f.keyId) return where;
  return [where, f.label, f.apiKeyShort].filter(Boolean).join(" ");
}

/** One line per finding, severity and rule aligned; a line past 120 columns ends in "…". */
export function findingLines(findings: readonly Finding[]): string[] {
  const ruleWidth = Math.max(0, ...findings.map((f) => f.rule.length));
  return findings.map((f) => {
    // Labels, account names and exchange messages are outside input: escaped whole, one line each.
    const line = terminalSafe(
      `${f.severity.padEnd(7)}  ${f.rule.padEnd(ruleWidth)}  ${subject(f)}: ${f.message}`,
    );
    return line.length > WIDTH ? `${line.slice(0, WIDTH - 1)}…` : line;
  });
}

export function textReport(report: PolicyReport): string {
  return [...findingLines(report.findings), policySummary(report)].join("\n");
}

export async function check(globals: GlobalOptions, opts: CheckOptions): Promise<ExitCode> {
  if (opts.json && opts.format && opts.format !== "json")
    throw usageError(`--json and --format ${opts.format} contradict each other`, "Give one of them.");
  const format = opts.json ? "json" : (opts.format ?? "text");
  return withHome(globals, async (home) => {
    // The policy first: a bad file ends the command (exit 2) before the vault or any exchange is asked.
    const policy = homePolicy(home, opts.policy === undefined ? undefined : resolve(opts.policy));
    const report = await checkPolicy(home, {
      policy,
      onEvent: listingProgress(format === "text" && opts.output === undefined),
    });
    const text =
      format === "json"
        ? `${JSON.stringify(report, null, 2)}\n`
        : format === "prometheus"
          ? policyMetrics(report)
          : `${textReport(report)}\n`;
    if (opts.output !== undefined) {
      // Readable by others only for the scraper's format (node_exporter runs as its own user).
      await writeFileAtomic(resolve(opts.output), Buffer.from(text), {
        mode: format === "prometheus" ? 0o644 : 0o600,
      });
    } else if (format === "text") out(text);
    else process.stdout.write(text);
    return report.counts.error > 0 ? EXIT.FAILED : EXIT.OK;
  });
}
