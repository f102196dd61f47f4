/**
 * The rotation's access to the vault. A new key's secret is stored the moment the exchange (or the
 * person) hands it over, before the journal moves on: the vault is saved (encrypted, atomic, fsynced)
 * and only then is `created` journaled. Concurrent slots share saves: every change made while a save
 * is waiting to start goes into that one save (one scrypt run for many keys). If another keyward process
 * saved the vault meanwhile (VAULT_CONFLICT), the vault is read again and the changes re-applied.
 */
import type { Credentials } from "../domain/credentials.js";
import { isKeywardError } from "../errors.js";
import { type KeywardHome, keyRef } from "../home/home.js";
import { prepareEncryption } from "../vault/encrypt-pool.js";
import type { PlanKey } from "./schemas.js";

type Change = Credentials | null;

export class CredentialStore {
  readonly #home: KeywardHome;
  readonly #pending = new Map<string, Change>();
  #next: Promise<void> | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(home: KeywardHome) {
    this.#home = home;
    // The first secret must not wait for the encryption thread to start.
    void prepareEncryption();
  }

  async get(ref: string): Promise<Credentials | undefined> {
    return (await this.#home.vault()).get(ref);
  }

  /** Sets (or, with null, deletes) entries and resolves once they are saved to disk. */
  put(changes: Record<string, Change>): Promise<void> {
    for (const [ref, value] of Object.entries(changes)) this.#pending.set(ref, value);
    if (!this.#next) {
      const run = this.#chain.then(() => {
        this.#next = undefined;
        return this.#save();
      });
      this.#next = run;
      this.#chain = run.catch(() => {});
    }
    return this.#next;
  }

  async #save(): Promise<void> {
    const changes = new Map(this.#pending);
    this.#pending.clear();
    for (let attempt = 1; ; attempt++) {
      const vault = attempt === 1 ? await this.#home.vault() : await this.#home.reopenVault();
      for (const [ref, value] of changes) {
        if (value === null) vault.delete(ref);
        else vault.set(ref, value);
      }
      try {
        await vault.save();
        return;
      } catch (error) {
        if (!isKeywardError(error, "VAULT_CONFLICT") || attempt >= 4) throw error;
      }
    }
  }

  /**
   * The old key's credentials, where Keyward holds them: saved for the rotation (or by an earlier one)
   * under the key's id, the account's own credentials when it is the account key, or a tracked key's.
   */
  async oldCredentials(old: PlanKey): Promise<Credentials | undefined> {
    const vault = await this.#home.vault();
    const match = (c: Credentials | undefined) => (c && c.apiKey === old.apiKey ? c : undefined);
    const byId = match(vault.get(keyRef(old.id)));
    if (byId) return byId;
    const account = this.#home.config.accounts.find((a) => a.name === old.account);
    if (account) {
      const own = match(vault.get(account.credentialsRef));
      if (own) return own;
    }
    const row = await this.#home.tracked().get(old.account, old.apiKey);
    return row?.credentialsRef ? match(vault.get(row.credentialsRef)) : undefined;
  }
}
