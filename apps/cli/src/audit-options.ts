/** `keyward audit`'s options and help (kept out of program.ts, which holds the rest of the tree). */
import type { Command } from "commander";

export function auditListOptions(audit: Command, examples: (...lines: string[]) => string): Command {
  return audit
    .option("--action <ACTION>", "an action (revoke.done) or a whole area (revoke, revoke.*)")
    .option("--account <NAME>", "entries about this account or any of its keys (runs included)")
    .option("--exchange <ID>", "entries about this exchange's accounts and keys")
    .option("--key <ID>", "entries about this key: its id (as `keyward keys` shows it) or its API key")
    .option("--since <TIME>", "at or after: an ISO date or time, or a duration back from now (24h, 7d)")
    .option("--until <TIME>", "at or before: as --since")
    .option("--search <TEXT>", "text in the action, actor, subject, details or the key's label (any case)")
    .option("--limit <N>", "at most N entries, newest first (default 50, at most 5000)")
    .option("--before <SEQ>", "only entries older than SEQ (the footer gives it for the next page)")
    .option("--details", "each entry's details, one field a line, under its row")
    .option(
      "--json",
      "print JSON: {entries (as stored, with `view`: subject and outcome in words), total, next}",
    )
    .addHelpText(
      "after",
      `
Newest first, a page at a time (the footer names the command for older entries). Subjects are
told as people know them (label · account/sub · short key); outcomes in the words of the revoke
summary (an unproven revoke is "unverified", with why). The full entries, hashes included, are in
--json. --account and --exchange also find the entries of a revoke or rotation run that name one of
its keys.

Lists the entries as stored; it does not open the vault and checks nothing: use \`audit verify\`.
${examples(
  "keyward audit",
  "keyward audit --action revoke --account desk-alpha --since 24h",
  "keyward audit --key 40c43a42-… --details",
  "keyward audit --search mm-bot --before 262",
  "keyward audit --since 2026-01-31 --until 2026-02-01 --json",
  "keyward audit verify",
  "keyward audit head",
)}`,
    );
}
