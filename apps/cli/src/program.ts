/**
 * The command tree: names, options, help and examples. Each command's implementation is imported
 * only when it runs, so `keyward --help` never loads ccxt, SQLite or the vault.
 */
import { Command, Option } from "commander";
import type { ExitCode } from "./exit.js";

type Setter = (code: ExitCode) => void;

const EXIT_CODES_HELP = `
Exit codes:
  0  done (for revoke: every key revoked and verified)
  1  something failed
  2  usage, configuration or input error; nothing was changed
  3  revoke: some keys still wait for a person on the exchange's web site`;

export interface GlobalOptions {
  home?: string;
}

export function buildProgram(setExit: Setter): Command {
  const program = new Command("keyward")
    .description("See, revoke and rotate exchange API keys (OKX, Bitfinex) from one place.")
    .option(
      "--home <dir>",
      "where Keyward keeps its state (default: $KEYWARD_HOME, else the platform's data folder)",
    )
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .addHelpText(
      "after",
      `
Secrets are never taken from the command line: Keyward prompts for them on the terminal, or reads
JSON from stdin with --credentials-stdin. The vault passphrase comes from $KEYWARD_PASSPHRASE or a prompt.
${EXIT_CODES_HELP}

Examples:
  keyward init
  echo '{"apiKey":"…","secret":"…","passphrase":"…"}' | keyward account add okx desk-alpha --credentials-stdin
  keyward keys --risky
  keyward revoke --label 'bot-*' --dry-run
  keyward revoke --all --yes --json`,
    );

  const globals = (): GlobalOptions => program.opts<GlobalOptions>();
  const run =
    <A extends unknown[]>(load: () => Promise<(g: GlobalOptions, ...args: A) => Promise<ExitCode>>) =>
    async (...args: A) => {
      const fn = await load();
      setExit(await fn(globals(), ...args));
    };

  program
    .command("init")
    .description("create the Keyward home: config, encrypted vault and local database")
    .addHelpText("after", "\nExamples:\n  keyward init\n  KEYWARD_PASSPHRASE=… keyward --home ./kw init")
    .action(run(async () => (await import("./commands/init.js")).init));

  const account = program
    .command("account")
    .description("manage exchange accounts (their credentials live in the vault)");
  account
    .command("add")
    .description("add an account: verifies the credentials with a probe, then stores them encrypted")
    .argument("<exchange>", "okx or bitfinex")
    .argument("<name>", "a name for the account, e.g. desk-alpha")
    .addOption(
      new Option("--endpoint <url>", "API base URL (a proxy, or the local simulator)").conflicts("region"),
    )
    .addOption(
      new Option("--region <region>", "OKX host: www (okx.com), eea (my.okx.com) or us").choices([
        "www",
        "eea",
        "us",
      ]),
    )
    .option(
      "--credentials-stdin",
      "read {apiKey, secret, passphrase?} as JSON from stdin instead of prompting",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      `
Examples:
  keyward account add okx desk-alpha --region eea
  echo '{"apiKey":"…","secret":"…"}' | keyward account add bitfinex ops --credentials-stdin`,
    )
    .action(run(async () => (await import("./commands/account.js")).accountAdd));
  account
    .command("list")
    .description("list accounts")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./commands/account.js")).accountList));
  account
    .command("check")
    .description("probe each account's key and show its health, permissions and warnings")
    .argument("[name]", "only this account")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./commands/account.js")).accountCheck));
  account
    .command("remove")
    .description("remove an account and its credentials from Keyward (the exchange is not touched)")
    .argument("<name>")
    .action(run(async () => (await import("./commands/account.js")).accountRemove));

  const key = program.command("key").description("keys the exchange API cannot list (every Bitfinex key)");
  key
    .command("track")
    .description("register a key so Keyward can see, probe and revoke it")
    .argument("<account>", "the account the key belongs to")
    .requiredOption("--label <label>", "the key's label on the exchange")
    .option("--credentials-stdin", "read {apiKey, secret} as JSON from stdin instead of prompting")
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `\nExample:\n  echo '{"apiKey":"…","secret":"…"}' | keyward key track ops --label mm-bot --credentials-stdin`,
    )
    .action(run(async () => (await import("./commands/key.js")).keyTrack));
  key
    .command("untrack")
    .description("forget a tracked key (the exchange is not touched)")
    .argument("<id>", "the key id from `keyward keys`, or its API key")
    .action(run(async () => (await import("./commands/key.js")).keyUntrack));

  const selectors = (cmd: Command) =>
    cmd
      .option("--exchange <exchange>", "only this exchange (okx, bitfinex)")
      .option("--account <name>", "only this account")
      .option("--label <glob>", "only keys whose label matches, e.g. 'bot-*'")
      .option("--risky", "only keys with a risk flag");

  selectors(program.command("keys").description("the key inventory across all accounts, fetched live"))
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
Risk flags: withdraw, transfer, no-ip, old (older than settings.maxKeyAgeDays, default 90),
okx-idle-expiry (OKX trade key without IP binding: expires after 14 idle days), unverified.

Examples:
  keyward keys --risky
  keyward keys --exchange okx --label 'mm-*' --json`,
    )
    .action(run(async () => (await import("./commands/keys.js")).keys));

  selectors(
    program
      .command("revoke")
      .description(
        "revoke keys in bulk, by API where possible, guided where only a person can; then prove them dead",
      )
      .argument("[ids...]", "key ids from `keyward keys` (or API keys)"),
  )
    .option("--all", "every key of every account")
    .option("--dry-run", "print the plan and change nothing")
    .option("--yes", "do not ask for confirmation")
    .option("--no-wait", "do not wait for manual steps; report those keys as pending")
    .option("--manual-timeout <duration>", "how long to wait for manual steps, e.g. 15m, 90s", "15m")
    .option("--json", "print a JSON report")
    .addHelpText(
      "after",
      `
Keys that can withdraw go first. Without --yes, keyward asks you to type the number of keys; without a
terminal and without --yes it refuses. Manual keys get a numbered checklist; keyward then probes them
until they are dead or the timeout passes.
${EXIT_CODES_HELP}

Examples:
  keyward revoke --label 'bot-*' --dry-run
  keyward revoke okx:desk-alpha:alphaMM01:0b8c… --yes
  keyward revoke --all --yes --no-wait --json`,
    )
    .action(run(async () => (await import("./commands/revoke.js")).revoke));

  const audit = program
    .command("audit")
    .description("the audit log of every state-changing action (hash-chained)")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./commands/audit.js")).auditList));
  audit
    .command("verify")
    .description("check the hash chain; exits 1 naming the first broken entry")
    .option("--json", "print JSON")
    .action(run(async () => (await import("./commands/audit.js")).auditVerify));

  return program;
}
