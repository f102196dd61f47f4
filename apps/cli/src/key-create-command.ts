/**
 * `keyward key create`'s command tree: options, help and examples (the implementation is
 * commands/key-create.ts, loaded only when it runs).
 */

import { PERMISSIONS } from "@keyward/core/browser";
import { EXCHANGE_PROFILES } from "@keyward/core/exchanges";
import type { Command } from "commander";
import type { ExitCode } from "./exit.js";
import type { GlobalOptions } from "./program.js";

type Run = <A extends unknown[]>(
  load: () => Promise<(g: GlobalOptions, ...args: A) => Promise<ExitCode>>,
) => (...args: A) => Promise<void>;

const list = (text: string): string[] =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
const collect = (text: string, previous: string[] = []): string[] => [...previous, ...list(text)];

/** "OKX sub-account keys", "Deribit keys": the kinds `key create` makes (profiles' `keys[kind].create`). */
const creatable = (): string[] =>
  EXCHANGE_PROFILES.flatMap((p) =>
    Object.entries(p.keys)
      .filter(([, facts]) => facts?.create === "api")
      .map(([kind]) => (kind === "master" ? `${p.name} account keys` : `${p.name} ${kind} keys`)),
  );

/** Registers `key create`; returns it so program.ts can add the target kinds' own options from core. */
export function registerKeyCreate(key: Command, run: Run): Command {
  return key
    .command("create")
    .description(
      `create a key by API (${creatable().join(", ")}), its secret straight into the vault and targets`,
    )
    .argument("<account>", "the Keyward account to create the key in")
    .option("--sub <name>", "the sub-account to create it in (without: the account itself)")
    .requiredOption(
      "--label <label>",
      "the new key's label, unique in the (sub-)account: Keyward finds the key by it after a crash",
    )
    .requiredOption(
      "--perm <list>",
      `permissions, comma-separated, from ${PERMISSIONS.join(", ")} (e.g. read,trade)`,
      collect,
    )
    .option("--ip <list>", "IP addresses or CIDR ranges to bind the key to, comma-separated", collect)
    .option("--no-ip", "no IP binding for a trade key (refused without it; `keyward check` flags such keys)")
    .option(
      "--deliver <target...>",
      "where the secret goes: dotenv:PATH[#PREFIX], json:PATH#POINTER, age:DIR or exec:CMD, as for `rotate plan` (repeatable; not needed with --dry-run)",
    )
    .option("--allow-withdraw", "accept the withdraw permission (refused without it)")
    .option("--show-secret-once", "print the secret once at the end (only to a terminal, never with --json)")
    .option("--dry-run", "check everything and show what would be created; no request is made")
    .option("--json", "print the outcome as JSON (never the secret)")
    .addHelpText(
      "after",
      `
Each step is written to the rotation journal before it is taken (the create gets a run id, rot-…), so a
crash leaves nothing behind: if the command is interrupted, run the SAME command again (or
\`keyward rotate resume <id>\`). A key already made with the label whose secret was lost is deleted and
made anew. The same label with other permissions, IPs or targets is refused while that create is
unfinished. \`keyward rotate status\` lists creates too, as "(new) LABEL".
A target Keyward refuses (a folder other users can write, a path into Keyward's home) is checked before
any key is made: fix it, then run the same \`keyward key create\` again.
The secret goes only into the vault and the --deliver targets; it is never printed, except once with
--show-secret-once on a terminal. Without a target, --show-secret-once is required: Keyward cannot
hand out an existing secret later (a rotation would make a new key).
Kinds created only by a person (e.g. OKX master keys, Bitfinex): create them on the exchange's site, then
\`keyward key track\`.

A relative target path is taken from the working directory and shown in full; the folder must exist.
--dry-run needs no target (it says a real run needs one).

Examples:
  mkdir -p bots
  keyward key create desk-alpha --sub alphaMM01 --label mm-bot-5 --perm read,trade --ip 203.0.113.7 --deliver 'dotenv:./bots/mm-bot-5.env'
  keyward key create desk-alpha --sub alphaMM01 --label reporter --perm read --deliver 'json:./bots/reporter.json#/okx' --json
  keyward key create desk-alpha --sub alphaMM01 --label mm-bot-6 --perm read,trade --ip 203.0.113.0/24 --dry-run`,
    )
    .action(run(async () => (await import("./commands/key-create.js")).keyCreate));
}
