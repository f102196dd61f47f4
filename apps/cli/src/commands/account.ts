/** `keyward account add|list|check|remove`. */
import {
  AccountNameSchema,
  AccountSchema,
  addAccount,
  checkAccounts,
  EXCHANGE_IDS,
  EXCHANGE_PROFILES,
  ExchangeIdSchema,
  exchangeProfile,
  listAccounts,
  type NewAccount,
  removeAccount,
  Secret,
  setAccountSeed,
  takesTotpSeed,
  toCredentials,
} from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { credentialsFromPrompt, credentialsFromStdin, promptSecret, readStdin } from "../input.js";
import { err, field, orList, out, paragraph, printJson, table } from "../output.js";
import type { GlobalOptions } from "../program.js";

interface AddOptions {
  endpoint?: string;
  region?: string;
  /** `--region testnet`, for an exchange whose profile has a region of that name. */
  testnet?: boolean;
  credentialsStdin?: boolean;
  /** The key's name on the exchange's page, for exchanges whose API does not list it. */
  label?: string;
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
  const profile = exchangeProfile(exchange.data);
  if (opts.testnet && !Object.hasOwn(profile.regions?.hosts ?? {}, "testnet")) {
    const withTestnet = EXCHANGE_PROFILES.filter((p) => Object.hasOwn(p.regions?.hosts ?? {}, "testnet"));
    throw usageError(
      `--testnet: ${profile.name} has no testnet`,
      withTestnet.length
        ? `Only ${orList(withTestnet.map((p) => `${p.name} (${p.id})`))} has one here; for ${profile.name}, leave --testnet out or use --endpoint.`
        : "No exchange Keyward supports has one; use --endpoint.",
    );
  }
  const region = (opts.testnet ? "testnet" : opts.region) as NewAccount["region"];
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
    const input = opts.credentialsStdin
      ? await credentialsFromStdin(profile, { account: true })
      : await credentialsFromPrompt(profile, { account: true });
    const { account, health } = await addAccount(
      home,
      {
        name,
        exchange: exchange.data,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        ...(region ? { region } : {}),
        ...(opts.label !== undefined ? { label: opts.label } : {}),
      },
      toCredentials(input),
    );
    if (opts.json)
      printJson({
        account: account.name,
        exchange: account.exchange,
        ...(account.region ? { region: account.region } : {}),
        ...(account.keyLabel ? { label: account.keyLabel.text } : {}),
        health,
        ...(profile.accountKeyAdvice ? { advice: profile.accountKeyAdvice } : {}),
      });
    else {
      out(`Added ${account.exchange} account "${account.name}".`);
      if (account.keyLabel) out(`  key label: ${field(account.keyLabel.text)}`);
      out(`  key can: ${health.permissions.join(", ") || "nothing reported"}`);
      out(
        `  IP binding: ${health.ip === null ? "not reported by the exchange" : health.ip.join(", ") || "none"}`,
      );
      if (health.master !== null) out(`  master-account key: ${health.master ? "yes" : "no"}`);
      for (const w of health.warnings) err(`  warning: ${w}`);
      // The seed given is said as `account list` says it; the advice (which asks for the seed) only without one.
      const seeded = input.totpSeed !== undefined;
      if (seeded) out("  2FA: seed in vault");
      if (profile.accountKeyAdvice && !seeded) out(`  ${paragraph(`note: ${profile.accountKeyAdvice}.`, 4)}`);
    }
    return EXIT.OK;
  });
}

export async function accountList(globals: GlobalOptions, opts: { json?: boolean }): Promise<ExitCode> {
  return withHome(globals, async (home) => {
    // How each account's second-factor challenges are answered (opens the vault only if some exchange asks).
    const rows = (await listAccounts(home, { secondFactor: true })).map(({ tracked, ...a }) => ({
      ...a,
      trackedKeys: tracked.length,
    }));
    const twoFactor = rows.some((r) => r.secondFactor != null);
    if (opts.json) printJson(rows);
    else if (rows.length === 0)
      out(`No accounts yet. Add one: keyward account add <${EXCHANGE_IDS.join("|")}> <name>`);
    else {
      out(
        table(
          ["NAME", "EXCHANGE", "KEY LABEL", "WHERE", "TRACKED KEYS", ...(twoFactor ? ["2FA"] : [])],
          rows.map((r) => [
            r.name,
            r.exchange,
            r.keyLabel ?? "-",
            r.endpoint ?? (r.region ? `region ${r.region}` : "default"),
            String(r.trackedKeys),
            ...(twoFactor
              ? [
                  r.secondFactor === "seed"
                    ? "seed in vault"
                    : r.secondFactor === "prompt"
                      ? "asks for codes"
                      : "-",
                ]
              : []),
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
    const checks = await checkAccounts(home, name ? { account: name } : {});
    const results = checks.map((r) => {
      // A probe that threw (not an exchange's answer: probes never throw for those) ends the command.
      if (r.problem?.kind === "failed") throw r.problem.error;
      return {
        account: r.account,
        exchange: r.exchange,
        health: r.health,
        error: r.problem ? "no credentials in the vault" : null,
      };
    });
    if (opts.json) printJson(results);
    else {
      out(
        table(
          // What the probe found in words (core's accountHealthWords); the raw evidence is in --json.
          ["ACCOUNT", "EXCHANGE", "HEALTH", "WARNINGS"],
          results.map((r) => [
            r.account,
            r.exchange,
            r.health ? r.health.summary : `error: ${r.error}`,
            r.health?.warnings.join("; ") ?? "",
          ]),
          { fit: true },
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

/**
 * `keyward account set-seed <name> [--stdin] [--clear]`: the account's TOTP seed into (or out of) the
 * vault, its key untouched. The seed comes from a hidden prompt or stdin, never from argv.
 */
export async function accountSetSeed(
  globals: GlobalOptions,
  name: string,
  opts: { stdin?: boolean; clear?: boolean },
): Promise<ExitCode> {
  if (opts.clear && opts.stdin) throw usageError("--clear and --stdin: choose one");
  return withHome(globals, async (home) => {
    const account = home.account(name);
    const profile = exchangeProfile(account.exchange);
    if (!opts.clear && !takesTotpSeed(profile)) {
      throw usageError(
        `totpSeed: ${profile.name} asks for no second-factor code through its API, so Keyward has no use for a seed`,
        "Nothing was stored.",
      );
    }
    await home.vault(); // a wrong passphrase fails before anyone types the seed
    let seed: Secret | undefined;
    if (!opts.clear) {
      const text = opts.stdin
        ? (await readStdin()).trim()
        : await promptSecret(
            `TOTP seed for ${account.name} (the base32 text under the QR code)`,
            `Pipe it on stdin: printf '%s' "$SEED" | keyward account set-seed ${account.name} --stdin`,
          );
      if (text === "")
        throw usageError("totpSeed: is empty", "Nothing was stored. To remove the seed, use --clear.");
      seed = new Secret(text);
    }
    const result = await setAccountSeed(home, account.name, seed);
    out(
      result.seed === "stored"
        ? `Stored the TOTP seed of "${account.name}" in the vault: Keyward answers ${profile.name}'s code challenges itself (each one audited).`
        : result.seed === "removed"
          ? `Removed the TOTP seed of "${account.name}" from the vault: Keyward asks for a code each time.`
          : `"${account.name}" had no TOTP seed in the vault; nothing changed.`,
    );
    return EXIT.OK;
  });
}
