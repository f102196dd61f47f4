/**
 * Sets up a Keyward home through core, the way `keyward init`, `account add` and `key track` do: each
 * account's credentials are probed first and stored only if they work; tracked keys are probed and
 * remembered with what the probe learned. Used by the demo, the tests and the performance script.
 */
import {
  type Account,
  AccountSchema,
  accountHealth,
  accountRef,
  type CredentialsInput,
  CredentialsInputSchema,
  type ExchangeId,
  KeywardError,
  KeywardHome,
  keyId,
  loadAdapterFactory,
  Secret,
  toCredentials,
  trackedRef,
} from "@keyward/core";

export interface SeedAccount {
  name: string;
  exchange: ExchangeId;
  endpoint: string;
  credentials: CredentialsInput;
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
    const vault = await home.vault();
    const audit = home.audit();
    for (const a of seed.accounts) {
      const account: Account = AccountSchema.parse({
        name: a.name,
        exchange: a.exchange,
        endpoint: a.endpoint,
        credentialsRef: accountRef(a.name),
      });
      const credentials = toCredentials(CredentialsInputSchema.parse(a.credentials));
      const adapter = (await loadAdapterFactory(account.exchange))({ account, credentials, tracked: [] });
      const probe = await adapter.probe(credentials);
      const health = accountHealth(account.exchange, probe);
      if (probe.status !== "alive") {
        throw new KeywardError(
          "CONFIG_INVALID",
          `account ${a.name}: the credentials did not work (${health.evidence})`,
        );
      }
      vault.set(account.credentialsRef, credentials);
      await vault.save();
      home.config.accounts.push(account);
      await home.saveConfig();
      audit.append("account.added", account.name, {
        exchange: account.exchange,
        permissions: health.permissions,
        master: health.master,
        warnings: health.warnings,
      });
    }
    for (const t of seed.tracked ?? []) {
      const account = home.account(t.account);
      const credentials = toCredentials(CredentialsInputSchema.parse(t.credentials));
      const probe = await (await home.adapterFor(account.name)).probe(credentials);
      if (probe.status === "dead") {
        throw new KeywardError(
          "CONFIG_INVALID",
          `tracked key ${t.label}: the exchange says it does not exist`,
        );
      }
      const ref = trackedRef(account.name, credentials.apiKey);
      vault.set(ref, credentials);
      await vault.save();
      const meta: Record<string, string> = { ...(probe.meta ?? {}) };
      if (probe.status === "alive") meta.aliveFromHere = "1";
      home.tracked().add({
        account: account.name,
        apiKey: credentials.apiKey,
        label: t.label,
        credentialsRef: ref,
        meta,
      });
      audit.append("key.tracked", keyId(account.exchange, account.name, null, credentials.apiKey), {
        label: t.label,
        probe: probe.status,
      });
    }
    return home;
  } catch (error) {
    home.close();
    throw error;
  }
}
