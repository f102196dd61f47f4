/**
 * Sets up a Keyward home through core, the way `keyward init`, `account add` and `key track` do: each
 * account's credentials are probed first and stored only if they work; tracked keys are probed and
 * remembered with what the probe learned. Used by the demo, the tests and the performance script.
 */
import {
  addAccount,
  type CredentialsInput,
  CredentialsInputSchema,
  type ExchangeId,
  ExchangeIdSchema,
  KeywardHome,
  Secret,
  toCredentials,
  trackKey,
} from "@keyward/core";

export interface SeedAccount {
  name: string;
  /**
   * Checked against core's adapters when the home is set up: the simulator's desk may list an exchange
   * core has no adapter for (the simulator's exchanges and core's adapters are registered separately).
   */
  exchange: ExchangeId | (string & {});
  endpoint: string;
  credentials: CredentialsInput;
  /** The key's label on the exchange's page, where its API lists none (`account add --label`). */
  label?: string;
}

export interface SeedTrackedKey {
  account: string;
  label: string;
  credentials: CredentialsInput;
}

export interface HomeSeed {
  passphrase: string;
  accounts: SeedAccount[];
  tracked?: SeedTrackedKey[];
  /** scrypt work factor of the new vault (tests use a low one; the default is core's). */
  workFactor?: number;
  actor?: string;
}

/** Creates (or completes) the home at `dir` and returns it open. */
export async function setupHome(dir: string, seed: HomeSeed): Promise<KeywardHome> {
  const { home } = await KeywardHome.init(dir, {
    passphrase: async () => new Secret(seed.passphrase),
    actor: seed.actor ?? "setup:keyward-web",
    ...(seed.workFactor === undefined ? {} : { vault: { workFactor: seed.workFactor } }),
  });
  try {
    for (const a of seed.accounts) {
      await addAccount(
        home,
        {
          name: a.name,
          exchange: ExchangeIdSchema.parse(a.exchange),
          endpoint: a.endpoint,
          ...(a.label === undefined ? {} : { label: a.label }),
        },
        toCredentials(CredentialsInputSchema.parse(a.credentials)),
      );
    }
    for (const t of seed.tracked ?? []) {
      await trackKey(home, t.account, t.label, toCredentials(CredentialsInputSchema.parse(t.credentials)));
    }
    return home;
  } catch (error) {
    await home.close();
    throw error;
  }
}
