/**
 * A Keyward home: the folder holding `config.json` (accounts, settings; no secrets), `vault.age`
 * (credentials, encrypted) and `state.db` (tracked keys, audit log, caches, later the rotation
 * journal). Both shells (CLI, web) open a home and build adapters through it.
 *
 * The audit log is keyed (see audit/audit-log.ts): its HMAC key lives in the vault, so the home keys
 * the log the first time it opens a vault that has no key yet (`keyward init`, or the first command
 * on a home made before keying), and every append needs the vault open. `audit-head.json`, beside
 * state.db, is the copy of the authenticated head that shows a state.db put back to an older copy.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { AdapterOptions, ExchangeAdapter, TrackedKey } from "../adapters/interface.js";
import { loadAdapterFactory } from "../adapters/registry.js";
import {
  type AuditAppendOptions,
  type AuditEntry,
  type AuditKey,
  AuditLog,
  type AuditLogWriter,
} from "../audit/audit-log.js";
import { type Config, emptyConfig, parseConfig } from "../config/config.js";
import type { AccountKeyUse } from "../domain/account-keys.js";
import { type Credentials, secretsOf } from "../domain/credentials.js";
import type { Account, KeyRecord } from "../domain/schemas.js";
import type { Secret } from "../domain/secret.js";
import { isKeywardError, KeywardError } from "../errors.js";
import { InventoryCache } from "../store/inventory-cache.js";
import { STATE_DB_FILE_NAME } from "../store/sqlite/database.js";
import { SqliteStateStore } from "../store/sqlite/sqlite-state-store.js";
import type { StateStore } from "../store/state-store.js";
import { TrackedKeysRepository } from "../store/tracked-keys.js";
import { writeFileAtomic } from "../vault/atomic-write.js";
import { VAULT_FILE_NAME, Vault, type VaultOptions } from "../vault/vault.js";
import { checkHomePrivacy } from "./privacy.js";

export const CONFIG_FILE_NAME = "config.json";
/** The copy of the audit log's authenticated head, beside state.db. */
export const AUDIT_HEAD_FILE_NAME = "audit-head.json";

export const homePaths = (dir: string) => ({
  dir,
  config: join(dir, CONFIG_FILE_NAME),
  vault: join(dir, VAULT_FILE_NAME),
  state: join(dir, STATE_DB_FILE_NAME),
  auditHead: join(dir, AUDIT_HEAD_FILE_NAME),
});

/** Vault references: one per account, one per tracked key whose secret Keyward holds. */
export const accountRef = (account: string) => `account:${account}`;
export const trackedRef = (account: string, apiKey: string) => `tracked:${account}:${apiKey}`;
/** A key Keyward created or was given by a rotation, by its key id (exchange:account:sub:apiKey). */
export const keyRef = (keyId: string) => `key:${keyId}`;

export interface HomeOptions {
  /** Asked once, when the vault is first needed. */
  passphrase: () => Promise<Secret>;
  vault?: VaultOptions;
  /** Who acts, for the audit log (e.g. `cli:alice@host`). */
  actor: string;
  /** Open state.db read-only (`keyward audit verify`): nothing is written, the log is not keyed. */
  readonlyState?: boolean;
}

const exists = (path: string) => {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
};

export class KeywardHome {
  readonly paths: ReturnType<typeof homePaths>;
  config: Config;
  readonly #options: HomeOptions;
  #vault: Promise<Vault> | undefined;
  /** The running check of `vault()` against the file, shared by concurrent callers. */
  #checking: Promise<Vault> | undefined;
  /** The vault file's stat when it was last found to match the open vault (see `vault()`). */
  #seen: string | undefined;
  /** The vault once open: audit appends are checked against its secrets. */
  #opened: Vault | undefined;
  #state: StateStore | undefined;
  /** Each adapter `adapterFor` built, and the account key it was built with (see `adapterKey`). */
  readonly #builtWith = new WeakMap<ExchangeAdapter, string>();

  private constructor(dir: string, config: Config, options: HomeOptions) {
    this.paths = homePaths(dir);
    this.config = config;
    this.#options = options;
  }

  /** Creates whatever of the home is missing; an existing vault must open with the passphrase. */
  static async init(dir: string, options: HomeOptions): Promise<{ home: KeywardHome; created: string[] }> {
    const paths = homePaths(dir);
    const created: string[] = [];
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A folder made earlier under a loose umask (or by hand) is tightened; one another user owns is refused.
    checkHomePrivacy(paths, { fix: true });
    if (!exists(paths.config)) {
      await writeFileAtomic(paths.config, Buffer.from(`${JSON.stringify(emptyConfig(), null, 2)}\n`));
      created.push(paths.config);
    }
    const home = KeywardHome.open(dir, options);
    if (exists(paths.vault)) await home.vault();
    else {
      const stateExisted = exists(paths.state);
      const passphrase = await options.passphrase();
      // A new vault is written once, with the audit key in it, while the audit.keyed entry waits under
      // the database's lock (keyed from the log's first entry, or after what an older state.db holds).
      let vault: Vault | undefined;
      await home.auditLog().keyLog(home.#keyedEntry(), async (key) => {
        vault = await Vault.create(paths.vault, passphrase, options.vault, key);
      });
      if (vault === undefined) throw new Error("unreachable: keyLog resolved without persisting");
      created.push(paths.vault);
      if (!stateExisted) created.push(paths.state);
      home.#vault = Promise.resolve(vault);
      home.#opened = vault;
    }
    if (!exists(paths.state)) created.push(paths.state);
    home.state();
    return { home, created: [...new Set(created)] };
  }

  /** Opens an existing home; a missing or invalid config is a clear error naming what to do. */
  static open(dir: string, options: HomeOptions): KeywardHome {
    const paths = homePaths(dir);
    // Before reading anything: a config another user can write may point an endpoint at them.
    checkHomePrivacy(paths, { fix: false });
    let text: string;
    try {
      text = readFileSync(paths.config, "utf8");
    } catch {
      throw new KeywardError("CONFIG_INVALID", `no Keyward home at ${dir} (${paths.config} is missing)`, {
        hint: "Run `keyward init` first, or point --home / KEYWARD_HOME at your home.",
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new KeywardError(
        "CONFIG_INVALID",
        `${paths.config}: not valid JSON (${(error as Error).message})`,
        {
          hint: "Fix the JSON syntax in the config file.",
        },
      );
    }
    return new KeywardHome(dir, parseConfig(json, paths.config), options);
  }

  /**
   * The vault as it is on disk now, keying the audit log if it is not keyed yet and state.db is writable.
   * Opened (decrypted) once; every later call stats the file and, only when that changed, reads and hashes
   * it: a file another process saved (the CLI's `account set-seed --clear`, a rotation, a key removed) is
   * decrypted again with the passphrase the open vault holds, so a long-lived home (the web server) never
   * answers a challenge from a removed seed or reaches an account with a replaced key (SECURITY.md). Saves
   * use atomic rename (vault/atomic-write.ts), so a read sees the old file or the new one, never half of
   * one. An instance from before such a re-read refuses to save (VAULT_CONFLICT), as it would in another
   * process. A file that cannot be read again (removed, passphrase changed) fails the call: the old
   * contents are not used.
   */
  vault(): Promise<Vault> {
    if (this.#vault === undefined) {
      const opening = this.#openVault(async () =>
        Vault.open(this.paths.vault, await this.#options.passphrase(), this.#options.vault),
      );
      this.#vault = opening;
      return opening;
    }
    // Concurrent callers share one check (and at most one re-read).
    this.#checking ??= this.#currentVault(this.#vault).finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #openVault(read: () => Promise<Vault>): Promise<Vault> {
    // Stat before reading: a save in between shows as a changed stat next time, never the reverse.
    const seen = await this.#vaultStat();
    let vault = await read();
    try {
      await this.#keyAudit(vault);
    } catch (error) {
      if (!isKeywardError(error) || error.code !== "VAULT_CONFLICT") throw error;
      // Another process saved the vault meanwhile, perhaps keying the log itself: read it again.
      vault = await vault.reread(this.#options.vault);
      await this.#keyAudit(vault);
    }
    this.#seen = seen;
    this.#opened = vault;
    return vault;
  }

  async #currentVault(opened: Promise<Vault>): Promise<Vault> {
    const vault = await opened;
    const stat = await this.#vaultStat();
    if (stat !== undefined && stat === this.#seen) return vault;
    // The stat changed: this home's own save, or another process's. The hash tells which (no decryption).
    if (await vault.isCurrent()) {
      this.#seen = stat;
      return vault;
    }
    if (this.#vault !== opened) return this.#vault ?? this.vault(); // reopened meanwhile
    const reading = this.#openVault(() => vault.reread(this.#options.vault));
    this.#vault = reading;
    // A failed re-read is not kept: the next call tries again (and nothing uses the old contents).
    reading.catch(() => {
      if (this.#vault === reading) {
        this.#vault = undefined;
        this.#opened = undefined;
      }
    });
    return reading;
  }

  /** The vault file's identity and version (inode, size, mtime, ctime in ns), or undefined if missing. */
  async #vaultStat(): Promise<string | undefined> {
    try {
      const s = await stat(this.paths.vault, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch {
      return undefined;
    }
  }

  /**
   * Makes the audit key and saves it in the vault, with an `audit.keyed` entry, if the vault has none.
   * Entries already in the log stay un-keyed (their chain is still checked). Skipped when state.db is
   * read-only: appends then refuse anyway.
   */
  async #keyAudit(vault: Vault): Promise<void> {
    if (vault.auditKey() !== undefined || this.#options.readonlyState) return;
    const state = this.state();
    if (!(await state.isWritable())) return;
    try {
      await this.auditLog().keyLog(this.#keyedEntry(), async (key) => {
        vault.setAuditKey(key);
        try {
          await vault.save();
        } catch (error) {
          vault.setAuditKey(undefined);
          throw error;
        }
      });
    } catch (error) {
      // A log that cannot take the entry (inconsistent, locked) stays unkeyed for now: reading still
      // works, and every append refuses (no key) until a later open keys it.
      if (!isKeywardError(error) || error.code !== "AUDIT_UNAVAILABLE") throw error;
    }
  }

  #keyedEntry() {
    return {
      action: "audit.keyed",
      actor: this.#options.actor,
      subject: "audit-log",
      details: { mac: "hmac-sha256" },
    };
  }

  /**
   * Drops the opened vault and reads the file again (after VAULT_CONFLICT: another process saved it).
   * The passphrase provider is asked again; the CLI's caches its answer.
   */
  reopenVault(): Promise<Vault> {
    this.#vault = undefined;
    this.#checking = undefined;
    return this.vault();
  }

  /** The state store (SQLite, `state.db`), opened on first use. */
  state(): StateStore {
    this.#state ??= SqliteStateStore.open(
      this.paths.state,
      this.#options.readonlyState ? { readonly: true } : {},
    );
    return this.#state;
  }

  tracked(): TrackedKeysRepository {
    return new TrackedKeysRepository(this.state());
  }

  /** The last successful inventory per account: what a failed account's keys are shown from. */
  inventoryCache(): InventoryCache {
    return new InventoryCache(this.state());
  }

  /** Each account's own API key (account name → API key), for revoke plans: that key goes last. */
  async accountKeys(): Promise<Map<string, string>> {
    return new Map([...(await this.accountKeyUses())].map(([name, use]) => [name, use.apiKey]));
  }

  /**
   * Each account's own key with its exchange (account name → API key and exchange): revoke plans ask
   * whether ANY Keyward account uses a listed key (domain/account-keys.ts), since two Keyward accounts
   * can reach one exchange account.
   */
  async accountKeyUses(): Promise<Map<string, AccountKeyUse>> {
    const vault = await this.vault();
    const keys = new Map<string, AccountKeyUse>();
    for (const a of this.config.accounts) {
      const apiKey = vault.get(a.credentialsRef)?.apiKey;
      if (apiKey) keys.set(a.name, { apiKey, exchange: a.exchange });
    }
    return keys;
  }

  /**
   * The audit writer. Every append is checked against every secret in the (opened) vault, and needs
   * the vault open: the audit key is in it (an append before `vault()` fails with AUDIT_UNAVAILABLE).
   */
  audit(): AuditLogWriter {
    return this.auditLog().writer(this.#options.actor);
  }

  /**
   * Appends one entry as this home's actor and returns it (its seq, for a workflow that names it later:
   * `keyward scan --revoke`'s revoke records the scan's seq). Checked like `audit()`'s appends, and
   * against `options.secrets` too.
   */
  auditEntry(
    action: string,
    subject: string,
    details: Record<string, unknown>,
    options: AuditAppendOptions = {},
  ): Promise<AuditEntry> {
    return this.auditLog().append({ action, actor: this.#options.actor, subject, details }, options);
  }

  /** The audit log, keyed with the opened vault's key (without the vault open: list and head only). */
  auditLog(): AuditLog {
    return new AuditLog(this.state(), {
      secrets: () => {
        const vault = this.#opened;
        if (!vault) return [];
        return [
          ...vault.refs().flatMap((ref) => {
            const c = vault.get(ref);
            return c ? secretsOf(c) : [];
          }),
          vault.auditKey()?.key,
        ];
      },
      key: (): AuditKey | undefined => this.#opened?.auditKey(),
      headCopyPath: this.paths.auditHead,
    });
  }

  async saveConfig(): Promise<void> {
    await writeFileAtomic(this.paths.config, Buffer.from(`${JSON.stringify(this.config, null, 2)}\n`));
  }

  account(name: string): Account {
    const account = this.config.accounts.find((a) => a.name.toLowerCase() === name.toLowerCase());
    if (!account) {
      const known = this.config.accounts.map((a) => a.name).join(", ") || "none yet";
      throw new KeywardError("ACCOUNT_NOT_FOUND", `no account named "${name}" (accounts: ${known})`, {
        hint: "Run `keyward account list`, or add it with `keyward account add`.",
      });
    }
    return account;
  }

  /** Builds an adapter for an account, with its credentials and its tracked keys from the vault. */
  async adapterFor(name: string, options: AdapterOptions = {}): Promise<ExchangeAdapter> {
    const account = this.account(name);
    // Both at once: the vault's scrypt runs off the main thread while the adapter loads (ccxt, the
    // largest module); one after the other they are most of a command's start-up time.
    const [vault, factory] = await Promise.all([this.vault(), loadAdapterFactory(account.exchange)]);
    const credentials = vault.get(account.credentialsRef);
    if (!credentials) {
      throw new KeywardError("CONFIG_INVALID", `account "${account.name}" has no credentials in the vault`, {
        hint: `Remove the account and add it again: keyward account remove ${account.name}; keyward account add …`,
      });
    }
    const tracked: TrackedKey[] = (await this.tracked().list({ account: account.name })).map((row) => {
      const creds = row.credentialsRef ? vault.get(row.credentialsRef) : undefined;
      return {
        apiKey: row.apiKey,
        label: row.label,
        meta: row.meta,
        ...(creds ? { credentials: creds } : {}),
      };
    });
    const adapter = factory({ account, credentials, tracked }, this.#audited(options));
    this.#builtWith.set(adapter, credentials.apiKey);
    return adapter;
  }

  /**
   * The options with `onSecondFactor` auditing each code the adapter answers a challenge with, before the
   * caller's own hook: `twofactor.answering` before the code is sent, `twofactor.answered` with the
   * exchange's verdict (which account, what for, answered from the vault's seed or by a person, accepted
   * or not; never the code or the seed). The adapter awaits the append: if `twofactor.answering` cannot be
   * written (AUDIT_UNAVAILABLE, …) the code is not sent, as every audited step fails closed. A failed
   * `twofactor.answered` after an accepted code does not discard the exchange's answer (the protected
   * call has happened; AdapterOptions.onSecondFactor): the entry before it records the attempt, and the
   * workflow's next audited step fails closed.
   */
  #audited(options: AdapterOptions): AdapterOptions {
    const callerHook = options.onSecondFactor;
    return {
      ...options,
      onSecondFactor: async (event) => {
        const details = { action: event.action, answeredBy: event.answeredBy };
        if (event.phase === "answering") {
          await this.audit().append("twofactor.answering", event.account, details);
        } else {
          await this.audit().append("twofactor.answered", event.account, {
            ...details,
            accepted: event.accepted,
          });
        }
        await callerHook?.(event);
      },
    };
  }

  /**
   * The API key an adapter from `adapterFor` reaches its account with (undefined for an adapter built
   * elsewhere). Adapters do not expose their credentials; a revoke checks this against the vault's
   * current key, so an adapter kept from before a rotation of the account's own key is never used.
   */
  adapterKey(adapter: ExchangeAdapter): string | undefined {
    return this.#builtWith.get(adapter);
  }

  /**
   * A lookup that builds adapters from the vault as it is at each call (`vault()` follows the file), reusing
   * one per set of account credentials: a rotation can switch an account's own key midway, and later steps
   * must use the new one; a seed set or cleared (here or by another process) must change how a challenge
   * is answered.
   */
  liveAdapterSource(options: AdapterOptions = {}): (account: string) => Promise<ExchangeAdapter> {
    const cache = new Map<string, Promise<ExchangeAdapter>>();
    return async (name) => {
      const account = this.account(name);
      const creds = (await this.vault()).get(account.credentialsRef);
      // Every credential field counts: an in-place reset keeps the API key and changes only the secret, and
      // `account set-seed [--clear]` changes only the TOTP seed. A fingerprint, so the cache's keys hold
      // no secret (absent fields hash as absent, not as empty).
      const fingerprint = creds
        ? createHash("sha256")
            .update(
              JSON.stringify([
                creds.apiKey,
                creds.secret.reveal(),
                creds.passphrase?.reveal() ?? null,
                creds.totpSeed?.reveal() ?? null,
              ]),
            )
            .digest("hex")
            .slice(0, 32)
        : "";
      const id = `${account.name}|${fingerprint}`;
      let adapter = cache.get(id);
      if (!adapter) {
        adapter = this.adapterFor(account.name, options);
        cache.set(id, adapter);
      }
      return adapter;
    };
  }

  /** Adapters for several accounts at once (engines take a synchronous lookup). */
  async adapters(
    names: readonly string[],
    options: AdapterOptions = {},
  ): Promise<Map<string, ExchangeAdapter>> {
    const entries = await Promise.all(
      names.map(async (n) => [n, await this.adapterFor(n, options)] as const),
    );
    return new Map(entries);
  }

  /** The key's own credentials when Keyward holds them: the account's key, or a tracked key's. */
  async credentialsForKey(key: KeyRecord): Promise<Credentials | undefined> {
    const vault = await this.vault();
    const account = this.account(key.account);
    // The account's own key, or the key another Keyward account on the same exchange uses (two Keyward
    // accounts can reach one exchange account, whose listing shows both their keys).
    for (const a of [account, ...this.config.accounts.filter((o) => o.exchange === account.exchange)]) {
      const own = vault.get(a.credentialsRef);
      if (own && own.apiKey === key.apiKey) return own;
    }
    const row = await this.tracked().get(account.name, key.apiKey);
    if (row?.credentialsRef) return vault.get(row.credentialsRef);
    // Keys a rotation created (or was given) keep their credentials under their key id.
    const rotated = vault.get(keyRef(key.id));
    return rotated && rotated.apiKey === key.apiKey ? rotated : undefined;
  }

  async close(): Promise<void> {
    const state = this.#state;
    this.#state = undefined;
    await state?.close();
  }
}
