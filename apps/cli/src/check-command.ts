/**
 * `keyward check`'s command tree: options, help and examples (its implementation, commands/check.ts,
 * loads only when it runs). Kept out of program.ts, which registers it with one line.
 */
import { EXCHANGE_PROFILES } from "@keyward/core/exchanges";
import { type Command, Option } from "commander";
import type { ExitCode } from "./exit.js";
import type { GlobalOptions } from "./program.js";

type Run = <A extends unknown[]>(
  load: () => Promise<(g: GlobalOptions, ...args: A) => Promise<ExitCode>>,
) => (...args: A) => Promise<void>;

const EXCHANGE_RULES = EXCHANGE_PROFILES.flatMap((p) => Object.keys(p.risks));

export function registerCheck(program: Command, run: Run): void {
  program
    .command("check")
    .description("check every key and account against the policy (for cron, CI and monitoring)")
    .option(
      "--policy <file>",
      "the policy file (default: policy.json in the home, else the built-in defaults)",
    )
    .option("--json", "print the findings as JSON (same as --format json)")
    .addOption(
      new Option("--format <format>", "text (one line per finding), json, or prometheus").choices([
        "text",
        "json",
        "prometheus",
      ]),
    )
    .option(
      "-o, --output <file>",
      "write the output to this file atomically (temp file + rename), e.g. for node_exporter's textfile collector",
    )
    .addHelpText(
      "after",
      `
Lists every account live (as \`keyward keys\` does), probes each account's own key, and prints one line
per finding, errors first, then one summary line; with no finding at all, the summary line alone. An
account that cannot be listed is an error finding ("unreachable"), never skipped.

Rules (each "error", "warning" or "off" in the policy; default in brackets):
  no-ip [error]              a key that can trade, transfer or withdraw is bound to no IP address
  withdraw [error]           a key can withdraw funds
  transfer [warning]         a key can move funds between accounts
  old [warning]              older than maxKeyAgeDays (default: settings.maxKeyAgeDays)
  expiring [warning]         expires within expiringWithinDays (default 14), or has expired
  dead-tracked [error]       a tracked key no longer authenticates
  account-unhealthy [error]  an account's own key is dead, cannot be probed, or cannot manage keys
  unverified [warning]       Keyward cannot see a key's permissions
  each exchange's own risk flags [warning]: ${EXCHANGE_RULES.join(", ")}
Always on: unreachable (error: an account that cannot be listed), ignore-expired (warning: an ignore
past its "until" date, which no longer applies), ignore-unknown (warning: an ignore naming a key id the
inventory does not hold, e.g. a typo: it suppresses nothing).
Overrides per exchange and per account (an account's wins), and ignores (a key id and a reason): see the
README's "Policy check" section and docs/policy.example.json. A policy another user may write is refused.

The vault passphrase comes from $KEYWARD_PASSPHRASE (no terminal is needed, e.g. under cron: export it
from a file only you can read, never on the command line).

Exit codes:
  0  no error finding (warnings may be printed)
  1  at least one error finding
  2  usage error, or the policy file is invalid or open to another user (the message names the field)

Examples:
  keyward check
  keyward check --policy ./policy.json --json
  keyward check --format prometheus -o /var/lib/node_exporter/textfile/keyward.prom
  . ~/.keyward.env && keyward check --format prometheus -o /var/lib/node_exporter/keyward.prom   (cron)`,
    )
    .action(run(async () => (await import("./commands/check.js")).check));
}
