/**
 * `keyward scan`'s command tree: options, help and examples (its implementation, commands/scan.ts, loads
 * only when it runs). Kept out of program.ts, which registers it with one line.
 */
import { EXCHANGE_PROFILES } from "@keyward/core/exchanges";
import { type Command, Option } from "commander";
import type { ExitCode } from "./exit.js";
import type { GlobalOptions } from "./program.js";

type Run = <A extends unknown[]>(
  load: () => Promise<(g: GlobalOptions, ...args: A) => Promise<ExitCode>>,
) => (...args: A) => Promise<void>;

/** The exchanges whose leaked keys are recognised by their shape (profiles' `leaks`). */
const PATTERNED = EXCHANGE_PROFILES.filter((p) => p.leaks).map((p) => p.name);

export function registerScan(program: Command, run: Run): void {
  program
    .command("scan")
    .description(
      "find leaked exchange keys in files, folders and git history, match them to what Keyward knows, revoke them",
    )
    .argument("<paths...>", "files or folders to read (a repository's folder with --git for its history)")
    .option(
      "--git",
      "also read the whole history of the repository each path is in (every blob of every ref; paths from its top)",
    )
    .option("--json", "print the report as JSON (no secret, unknown keys redacted)")
    .option("--sarif", "print the report as SARIF 2.1.0, for code-scanning tools and CI")
    .option(
      "--revoke",
      "hand every live known key whose secret was found to the revoke workflow (as `keyward revoke`)",
    )
    .option(
      "--revoke-ids-alone",
      "with --revoke: also keys found by their id alone, no secret with it (anyone can plant an id)",
    )
    .option(
      "--verify",
      "probe each unknown key found with its secret at its exchange (SENDS the key there; off by default)",
    )
    .option("--offline", "ask no exchange: search for the keys of the last inventory only")
    .option("--no-secrets", "do not search for the secrets the vault holds")
    .option(
      "--no-vault",
      "scan without the vault on purpose: no held secret, no live listing (the last inventory), not audited",
    )
    .addOption(
      new Option("--min-confidence <level>", "leave out unknown keys below this confidence")
        .choices(["high", "medium", "low"])
        .default("medium"),
    )
    .option(
      "--max-file-size <size>",
      "skip files a folder walk meets (and blobs) larger than this, e.g. 64M, 512K; a file named is always read",
      "64M",
    )
    .option("--binary", "read files that look binary too (skipped by default)")
    .option(
      "--exclude <glob...>",
      "leave out paths matching these globs (as .gitignore lines, under each path)",
    )
    .option("--yes", "with --revoke: do not ask for confirmation")
    .option("--dry-run", "with --revoke: print the revoke plan and change nothing")
    .option(
      "--no-disable-first",
      "with --revoke: remove keys directly instead of disabling them first (as `keyward revoke`)",
    )
    .option("--no-wait", "with --revoke: do not wait for manual steps")
    .option("--manual-timeout <duration>", "with --revoke: how long to wait for manual steps", "15m")
    .addHelpText(
      "after",
      `
Known keys first: every API key id Keyward knows (the live inventory, the last inventory, tracked keys,
keys in the rotation journal, keys the audit log records as revoked) is searched for exactly, so a hit
names the account, sub-account, label, permissions and risk, with no false positive. The secrets the vault
holds are searched for too (a leaked secret next to a rotated-away key id still matters) and are never
printed: a hit says "secret of" its key. The vault passphrase comes from $KEYWARD_PASSPHRASE or a hidden
prompt. A vault that cannot be opened (no passphrase, a wrong one) stops the scan before anything is read
(exit 2, SCAN_VAULT_LOCKED): without it no held secret is searched for, no account is listed live and the
scan is not audited. To scan without it on purpose (a machine without the passphrase), give --no-vault: the
keys of the last inventory are searched for and the summary says what was not used. --no-secrets keeps
the vault (live listing, audit) but searches for no secret; --offline lists no account live.
Then unknown keys by their exchange's key shapes (${PATTERNED.length > 0 ? PATTERNED.join(", ") : "each exchange's"}), with the exchange's
name required nearby where a shape has no prefix; each says how confident it is (high, medium, low;
--min-confidence, default medium).
--verify asks the exchange about each unknown key found with its secret: alive (and what it can do), dead,
or unknown. It sends the key to the exchange, as anyone who found it could: use it on your own leaks.

Keys are shown by their first and last four characters. Keyward's own files (directly in its home) are
never reported: they hold every key id by design. Each scan is audited (scan.done: paths, counts, the
known key ids found, unknown keys redacted; never a secret). --revoke hands every live known key whose secret
was found (each printed with why: "secret found at .env:4"; keys found by their id alone only with
--revoke-ids-alone, since anyone can plant an id) to the same plan, confirmation, rate-limited revocation, manual steps and
proof of death as \`keyward revoke\` (--yes, --dry-run, --no-wait, --manual-timeout, --no-disable-first as
there); its revoke.requested entry names the scan's entry. It ends with one paragraph: what was revoked
(with --dry-run: what would be), what was not and why, and what to do for each key Keyward cannot revoke
(an unknown key: on its exchange's web site, or add its account and scan again). --revoke is for a person or a script reading text: not
with --json or --sarif.

A finding is LIVE when it could still work: a known key Keyward does not hold dead (rotated away or revoked
and proven dead), the secret of such a key, or an unknown key not verified dead.

Exit codes:
  0  nothing live was found in what was read (with --revoke: every live key found is now revoked and proven
     dead). Files and blobs NOT read (over --max-file-size, binary without --binary, unreadable) do not
     change the code: the summary and warnings name them (--json: stats.skippedSources; SARIF: tool
     execution notifications) and never call the scan clean
  1  a live key or secret was found (with --revoke: a revoke failed, or a live key found was not revoked:
     an unknown key, one found by its id alone, one no longer listed, any with --dry-run, or all when the
     scan could not be audited); or the scan failed after it started (SCAN_GIT_FAILED: git could not read
     a history; the message says why): a failed scan is never reported clean
  2  usage error (a path that does not exist, a bad flag, a vault that could not be opened without
     --no-vault); nothing was read
  3  --revoke: some keys still wait for a person on the exchange's web site

Examples:
  keyward scan /srv/bot
  keyward scan ~/src/trading-bot --git --sarif > keyward.sarif
  keyward scan /srv --exclude 'node_modules/' --exclude '*.log' --json
  keyward scan /mnt/leaked-disk --offline
  keyward scan /mnt/leaked-disk --no-vault
  keyward scan ./ticket-attachments --verify
  keyward scan /srv/bot --revoke --yes`,
    )
    .action(run(async () => (await import("./commands/scan.js")).scan));
}
