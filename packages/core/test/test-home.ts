/**
 * A throwaway Keyward home for the engine tests (journal, verified, engine-*): a temporary folder with
 * a vault under a canary passphrase (low scrypt work factor, so a test pays milliseconds for it), and the
 * rotation engine's deps built from it the way the shells build them. One place, so a change to how a
 * home or the engines' deps are made is one change here, not one per test file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AdapterOptions } from "../src/adapters/interface.js";
import { Secret } from "../src/domain/secret.js";
import { KeywardHome } from "../src/home/home.js";
import type { RotationDeps } from "../src/rotation/context.js";
import { RotationJournal } from "../src/rotation/journal.js";

export interface TestHome {
  home: KeywardHome;
  /** The temporary folder: the home is `<dir>/home`, targets and plan files go beside it. */
  dir: string;
  passphrase: string;
  /**
   * The same home opened again (vault included), as a later process opens it: `rotate resume` after a
   * crash, for instance.
   */
  reopen(): Promise<KeywardHome>;
  /** Closes the home's database and removes the folder. */
  remove(): Promise<void>;
}

/** `name` tags the folder, the passphrase canary and the audit actor (`test:<name>`). */
export async function makeTestHome(name: string): Promise<TestHome> {
  const dir = mkdtempSync(join(tmpdir(), `keyward-${name}-`));
  const passphrase = `CANARY-${name}-vault-passphrase`;
  const options = {
    passphrase: async () => new Secret(passphrase),
    actor: `test:${name}`,
    vault: { workFactor: 10 },
  };
  const opened: KeywardHome[] = [];
  const { home } = await KeywardHome.init(join(dir, "home"), options);
  opened.push(home);
  return {
    home,
    dir,
    passphrase,
    async reopen() {
      const again = KeywardHome.open(join(dir, "home"), options);
      opened.push(again);
      await again.vault();
      return again;
    },
    async remove() {
      for (const h of opened) await h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The rotation engine's deps over a home, as `rotate apply|resume|abort` builds them: the journal and
 * the audit writer of that home, adapters built from its vault at each call. Short timings: a broken
 * run fails in seconds rather than the production minute.
 */
export function rotationDeps(
  home: KeywardHome,
  options: AdapterOptions,
  extra: Partial<RotationDeps> = {},
): RotationDeps {
  const audit = home.audit();
  return {
    home,
    journal: new RotationJournal(home.state(), audit),
    audit,
    adapterFor: home.liveAdapterSource(options),
    childEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    timing: { verifyDeadlineMs: 5_000, pollMs: 50, stepRetries: 1, stepBackoffMs: 50 },
    ...extra,
  };
}
