/** `keyward key track|untrack`: keys the exchange API cannot list (the profile's `keys[...].list`). */
import { exchangeProfile, toCredentials, trackKey, untrackKey } from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { credentialsFromPrompt, credentialsFromStdin } from "../input.js";
import { err, field, out, printJson } from "../output.js";
import type { GlobalOptions } from "../program.js";

export async function keyTrack(
  globals: GlobalOptions,
  accountName: string,
  opts: { label: string; credentialsStdin?: boolean; json?: boolean },
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const account = home.account(accountName);
    if (!opts.label.trim()) throw usageError("--label: must not be empty");
    await home.vault(); // a wrong passphrase fails before anyone types credentials
    const profile = exchangeProfile(account.exchange);
    const credentials = toCredentials(
      opts.credentialsStdin ? await credentialsFromStdin(profile) : await credentialsFromPrompt(profile),
    );
    const { id, probe } = await trackKey(home, account.name, opts.label, credentials);
    if (opts.json) {
      printJson({
        id,
        label: opts.label,
        probe: probe.status === "alive" ? { status: "alive", permissions: probe.permissions } : probe,
      });
    } else {
      out(`Tracking ${id} ("${field(opts.label)}").`);
      if (probe.status === "alive") out(`  key can: ${probe.permissions.join(", ") || "nothing"}`);
      else if (probe.status === "inconclusive") {
        err(
          `  warning: the probe was inconclusive (${probe.reason}: ${probe.evidence}); Keyward will keep trying.`,
        );
      }
    }
    return EXIT.OK;
  });
}

export async function keyUntrack(globals: GlobalOptions, id: string): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const { account, label } = await untrackKey(home, id);
    out(`No longer tracking "${field(label)}" of ${account}. The exchange was not touched.`);
    return EXIT.OK;
  });
}
