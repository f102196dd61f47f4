/** Opens the Keyward home for a command: where it is, how to get the vault passphrase, who acts. */
import { hostname, userInfo } from "node:os";
import { KeywardHome, Secret } from "@keyward/core";
import envPaths from "env-paths";
import { readEnv } from "./env.js";
import { promptSecret } from "./input.js";
import type { GlobalOptions } from "./program.js";

export function homeDir(globals: GlobalOptions): string {
  return globals.home ?? readEnv().KEYWARD_HOME ?? envPaths("keyward", { suffix: "" }).data;
}

const actor = (): string => {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep "unknown".
  }
  return `cli:${user}@${hostname()}`;
};

/** The passphrase from KEYWARD_PASSPHRASE, else a hidden prompt (asked once per run). */
export function passphraseProvider(confirm = false): () => Promise<Secret> {
  let cached: Promise<Secret> | undefined;
  return () => {
    cached ??= (async () => {
      const fromEnv = readEnv().KEYWARD_PASSPHRASE;
      if (fromEnv) return new Secret(fromEnv);
      const first = await promptSecret(
        "Vault passphrase",
        // Named so a script knows what to set, and how without the passphrase on a command line.
        "Set KEYWARD_PASSPHRASE in the environment, read from a file only you can read (mode 0600), e.g. " +
          'KEYWARD_PASSPHRASE="$(cat ~/.keyward-passphrase)" keyward …, or from your password manager; never ' +
          "type it on the command line. Or run on a terminal, where Keyward asks for it.",
      );
      if (confirm && (await promptSecret("Repeat the passphrase")) !== first) {
        const { usageError } = await import("./exit.js");
        throw usageError(
          "the passphrases differ",
          "Run the command again and type the same passphrase twice.",
        );
      }
      return new Secret(first);
    })();
    return cached;
  };
}

export function openHome(globals: GlobalOptions): KeywardHome {
  return KeywardHome.open(homeDir(globals), { passphrase: passphraseProvider(), actor: actor() });
}

export async function initHome(globals: GlobalOptions) {
  const workFactor = readEnv().KEYWARD_TEST_VAULT_WORK_FACTOR;
  return KeywardHome.init(homeDir(globals), {
    passphrase: passphraseProvider(true),
    actor: actor(),
    ...(workFactor === undefined ? {} : { vault: { workFactor } }),
  });
}

/** Runs a command body with the home open, and closes it whatever happens. */
export async function withHome<T>(globals: GlobalOptions, fn: (home: KeywardHome) => Promise<T>): Promise<T> {
  const home = openHome(globals);
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}
