/** `keyward account set-label`: see account-label-command.ts for its options and help. */
import { setAccountKeyLabel } from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { field, out } from "../output.js";
import type { GlobalOptions } from "../program.js";

export async function accountSetLabel(
  globals: GlobalOptions,
  name: string,
  label: string | undefined,
  opts: { clear?: boolean },
): Promise<ExitCode> {
  if (opts.clear && label !== undefined) throw usageError("--clear and a label: choose one");
  if (!opts.clear && label === undefined)
    throw usageError("<label>: missing", "Give the key's label, or --clear to remove it.");
  return withHome(globals, async (home) => {
    await home.vault();
    const result = await setAccountKeyLabel(home, name, opts.clear ? undefined : label);
    out(
      result.label === undefined
        ? `Removed the key label of "${result.account.name}".`
        : `The key of "${result.account.name}" is labelled ${field(result.label)}.`,
    );
    return EXIT.OK;
  });
}
