/**
 * `keyward account set-label <name> [TEXT] [--clear]`: the name the account's own key has on the
 * exchange's page, for exchanges whose API does not list it (the inventory shows it for that key).
 * Its command tree lives here, registered from program.ts with one line; the work is in account-label.ts,
 * loaded only when the command runs (as program.ts loads every command).
 */
import type { Command } from "commander";
import type { ExitCode } from "../exit.js";
import type { GlobalOptions } from "../program.js";

type Runner = <A extends unknown[]>(
  load: () => Promise<(g: GlobalOptions, ...args: A) => Promise<ExitCode>>,
) => (...args: A) => Promise<void>;

export function registerAccountSetLabel(account: Command, run: Runner): void {
  account
    .command("set-label")
    .description("set (or with --clear remove) the label the account's own key has on the exchange's page")
    .argument("<name>", "the account, as `keyward account list` names it")
    .argument("[label]", "the key's name as the exchange's page shows it (1-64 characters, one line)")
    .option("--clear", "remove the label")
    .addHelpText(
      "after",
      `
For exchanges whose API does not return a key's label: the inventory (keyward keys, the web app) then
shows this one for the account's own key, where it would show none. It is not a secret. It belongs to
the key the account uses now: after a rotation switches the account to a new key it is no longer shown
(it named the old key); set it again for the new one. The same as \`account add … --label TEXT\`.
Refused (exit 2, nothing stored) where the exchange lists the key with a label of its own (OKX).

Examples:
  keyward account set-label desk-bfx 'keyward-ops'
  keyward account set-label desk-bfx --clear`,
    )
    .action(run(async () => (await import("./account-label.js")).accountSetLabel));
}
