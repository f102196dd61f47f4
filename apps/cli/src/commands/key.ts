/** `keyward key track|untrack`: keys the exchange API cannot list (every Bitfinex key). */
import { KeywardError, keyId, toCredentials, trackedRef } from "@keyward/core";
import { openHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { credentialsFromPrompt, credentialsFromStdin } from "../input.js";
import { err, out, printJson } from "../output.js";
import type { GlobalOptions } from "../program.js";

export async function keyTrack(
  globals: GlobalOptions,
  accountName: string,
  opts: { label: string; credentialsStdin?: boolean; json?: boolean },
): Promise<ExitCode> {
  const home = openHome(globals);
  try {
    const account = home.account(accountName);
    if (!opts.label.trim()) throw usageError("--label: must not be empty");
    const vault = await home.vault();
    const needsPassphrase = account.exchange === "okx";
    const credentials = toCredentials(
      opts.credentialsStdin
        ? await credentialsFromStdin(needsPassphrase)
        : await credentialsFromPrompt(needsPassphrase),
    );
    if (home.tracked().get(account.name, credentials.apiKey)) {
      throw usageError(
        `that key is already tracked for "${account.name}"`,
        "Untrack it first to replace its credentials.",
      );
    }
    const adapter = await home.adapterFor(account.name);
    const probe = await adapter.probe(credentials);
    if (probe.status === "dead") {
      throw new KeywardError(
        "CONFIG_INVALID",
        `the exchange says this key does not exist (${probe.evidence})`,
        {
          hint: "Nothing was stored. Check the API key and secret; the key may already be revoked.",
        },
      );
    }
    const ref = trackedRef(account.name, credentials.apiKey);
    vault.set(ref, credentials);
    await vault.save();
    // Remember what the probe learned (e.g. the nonce scheme the key accepts, and that it answered from here).
    const meta: Record<string, string> = { ...(probe.meta ?? {}) };
    if (probe.status === "alive") meta.aliveFromHere = "1";
    home.tracked().add({
      account: account.name,
      apiKey: credentials.apiKey,
      label: opts.label,
      credentialsRef: ref,
      meta,
    });
    const id = keyId(account.exchange, account.name, null, credentials.apiKey);
    home.audit().append("key.tracked", id, { label: opts.label, probe: probe.status });
    if (opts.json)
      printJson({
        id,
        label: opts.label,
        probe: probe.status === "alive" ? { status: "alive", permissions: probe.permissions } : probe,
      });
    else {
      out(`Tracking ${id} ("${opts.label}").`);
      if (probe.status === "alive") out(`  key can: ${probe.permissions.join(", ") || "nothing"}`);
      else
        err(
          `  warning: the probe was inconclusive (${probe.reason}: ${probe.evidence}); Keyward will keep trying.`,
        );
    }
    return EXIT.OK;
  } finally {
    home.close();
  }
}

export async function keyUntrack(globals: GlobalOptions, id: string): Promise<ExitCode> {
  const home = openHome(globals);
  try {
    const apiKey = id.split(":").at(-1) ?? id;
    const row = home
      .tracked()
      .list()
      .find((r) => r.apiKey === apiKey && (id === apiKey || id.includes(`:${r.account}:`)));
    if (!row)
      throw new KeywardError("KEY_NOT_FOUND", `no tracked key "${id}"`, {
        hint: "Run `keyward keys` to see tracked keys and their ids.",
      });
    if (row.credentialsRef) {
      const vault = await home.vault();
      vault.delete(row.credentialsRef);
      await vault.save();
    }
    home.tracked().remove(row.account, row.apiKey);
    home.audit().append("key.untracked", `${row.account}:${row.apiKey}`, { label: row.label });
    out(`No longer tracking "${row.label}" of ${row.account}. The exchange was not touched.`);
    return EXIT.OK;
  } finally {
    home.close();
  }
}
