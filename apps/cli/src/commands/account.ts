/** `keyward account add|list|check|remove`. */
import {
  AccountNameSchema,
  AccountSchema,
  accountHealth,
  addAccount,
  ExchangeIdSchema,
  type NewAccount,
  removeAccount,
  toCredentials,
} from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { credentialsFromPrompt, credentialsFromStdin } from "../input.js";
import { err, out, printJson, table } from "../output.js";
import type { GlobalOptions } from "../program.js";

interface AddOptions {
  endpoint?: string;
  region?: string;
  credentialsStdin?: boolean;
  json?: boolean;
}

export async function accountAdd(
  globals: GlobalOptions,
  exchangeArg: string,
  name: string,
  opts: AddOptions,
): Promise<ExitCode> {
  const exchange = ExchangeIdSchema.safeParse(exchangeArg);
  if (!exchange.success)
    throw usageError(
      `<exchange>: "${exchangeArg}" is not supported`,
      `Use one of: ${ExchangeIdSchema.options.join(", ")}.`,
    );
  if (!AccountNameSchema.safeParse(name).success) {
    throw usageError(
      `<name>: "${name}" is not a valid account name`,
      "Use 1-64 letters, digits, '.', '_' or '-'.",
    );
  }
  const region = opts.region as NewAccount["region"];
  const probeCheck = AccountSchema.safeParse({
    name,
    exchange: exchange.data,
    credentialsRef: "-",
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(region ? { region } : {}),
  });
  if (!probeCheck.success) {
    const issue = probeCheck.error.issues[0];
    throw usageError(`--${String(issue?.path[0] ?? "input")}: ${issue?.message ?? "invalid"}`);
  }
  return withHome(globals, async (home) => {
    if (home.config.accounts.some((a) => a.name.toLowerCase() === name.toLowerCase())) {
      throw usageError(
        `an account named "${name}" already exists`,
        `Pick another name, or remove it first: keyward account remove ${name}`,
      );
    }
    await home.vault(); // a wrong passphrase fails before anyone types credentials
    const needsPassphrase = exchange.data === "okx";
    const input = opts.credentialsStdin
      ? await credentialsFromStdin(needsPassphrase)
      : await credentialsFromPrompt(needsPassphrase);
    const { account, health } = await addAccount(
      home,
      {
        name,
        exchange: exchange.data,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        ...(region ? { region } : {}),
      },
      toCredentials(input),
    );
    if (opts.json) printJson({ account: account.name, exchange: account.exchange, health });
    else {
      out(`Added ${account.exchange} account "${account.name}".`);
      out(`  key can: ${health.permissions.join(", ") || "nothing reported"}`);
      out(
        `  IP binding: ${health.ip === null ? "not reported by the exchange" : health.ip.join(", ") || "none"}`,
      );
      if (health.master !== null) out(`  master-account key: ${health.master ? "yes" : "no"}`);
      for (const w of health.warnings) err(`  warning: ${w}`);
    }
    return EXIT.OK;
  });
}

export async function accountList(globals: GlobalOptions, opts: { json?: boolean }): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const tracked = await home.tracked().list();
    const rows = home.config.accounts.map((a) => ({
      name: a.name,
      exchange: a.exchange,
      endpoint: a.endpoint ?? null,
      region: a.region ?? null,
      trackedKeys: tracked.filter((t) => t.account === a.name).length,
    }));
    if (opts.json) printJson(rows);
    else if (rows.length === 0) out("No accounts yet. Add one: keyward account add <okx|bitfinex> <name>");
    else {
      out(
        table(
          ["NAME", "EXCHANGE", "WHERE", "TRACKED KEYS"],
          rows.map((r) => [
            r.name,
            r.exchange,
            r.endpoint ?? (r.region ? `region ${r.region}` : "default"),
            String(r.trackedKeys),
          ]),
        ),
      );
    }
    return EXIT.OK;
  });
}

export async function accountCheck(
  globals: GlobalOptions,
  name: string | undefined,
  opts: { json?: boolean },
): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const accounts = name ? [home.account(name)] : home.config.accounts;
    const vault = await home.vault();
    const results = await Promise.all(
      accounts.map(async (account) => {
        const credentials = vault.get(account.credentialsRef);
        if (!credentials)
          return {
            account: account.name,
            exchange: account.exchange,
            health: null,
            error: "no credentials in the vault",
          };
        const adapter = await home.adapterFor(account.name);
        const health = accountHealth(account.exchange, await adapter.probe(credentials));
        return { account: account.name, exchange: account.exchange, health, error: null };
      }),
    );
    if (opts.json) printJson(results);
    else {
      out(
        table(
          ["ACCOUNT", "EXCHANGE", "HEALTH", "PERMISSIONS", "WARNINGS"],
          results.map((r) => [
            r.account,
            r.exchange,
            r.health ? r.health.status : "error",
            r.health?.permissions.join(",") ?? "",
            r.error ??
              (r.health?.warnings.length
                ? r.health.warnings.join("; ")
                : r.health?.status === "alive"
                  ? ""
                  : (r.health?.evidence ?? "")),
          ]),
        ),
      );
    }
    return results.every((r) => r.health?.status === "alive") ? EXIT.OK : EXIT.FAILED;
  });
}

export async function accountRemove(globals: GlobalOptions, name: string): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    const { account, trackedKeys } = await removeAccount(home, name);
    out(
      `Removed account "${account.name}" and its ${trackedKeys} tracked key(s) from Keyward. The exchange was not touched.`,
    );
    return EXIT.OK;
  });
}
