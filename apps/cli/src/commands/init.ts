/** `keyward init`: create the home (config, encrypted vault, state database); safe to run again. */
import { EXCHANGE_IDS } from "@keyward/core/exchanges";
import { initHome } from "../context.js";
import { readEnv } from "../env.js";
import { EXIT, type ExitCode } from "../exit.js";
import { err, out } from "../output.js";
import type { GlobalOptions } from "../program.js";

export async function init(globals: GlobalOptions): Promise<ExitCode> {
  const { home, created } = await initHome(globals);
  try {
    if (created.length === 0)
      out(`Keyward home at ${home.paths.dir} is already set up; the vault passphrase is correct.`);
    else {
      out(`Keyward home ready at ${home.paths.dir}`);
      for (const file of created) out(`  created ${file}`);
      const testFactor = readEnv().KEYWARD_TEST_VAULT_WORK_FACTOR;
      if (testFactor !== undefined && created.includes(home.paths.vault))
        err(
          `  note: the vault's scrypt work factor is ${testFactor} (KEYWARD_TEST_VAULT_WORK_FACTOR, for tests only)`,
        );
      out(`Next: keyward account add <${EXCHANGE_IDS.join("|")}> <name>`);
    }
    return EXIT.OK;
  } finally {
    await home.close();
  }
}
