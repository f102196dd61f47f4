/**
 * The Deribit adapter. Deribit's API manages every key of the authenticated (sub)account, the calling key
 * included (docs/exchanges/deribit.md#key-management-by-api): the inventory is list_api_keys, and every
 * key is listed, created, removed, disabled/enabled and reset by API. Key management is behind the
 * account's second factor (docs/exchanges/deribit.md#the-two-factor-challenge): client.ts answers the
 * challenge from the vault's TOTP seed or a person's code. This file holds the adapter class: listing,
 * removing, disabling/enabling and resetting keys. Transport, scheduling and retries live in client.ts;
 * what Deribit's codes mean in errors.ts; creating a key in create.ts; probing a key in probe.ts.
 */
import type { Credentials } from "../../domain/credentials.js";
import type { Account, DisableResult, KeyRecord, ManualSteps, RevokeResult } from "../../domain/schemas.js";
import { shortKey } from "../../domain/schemas.js";
import { Secret } from "../../domain/secret.js";
import { KeywardError } from "../../errors.js";
import type {
  AdapterContext,
  AdapterFactory,
  AdapterOptions,
  CreatedKey,
  ExchangeAdapter,
  NewKeySpec,
  ProbeOptions,
} from "../interface.js";
import { probedKeys, type restAccountErrors, restAdapterParts } from "../rest-adapter.js";
import type { RestClientConfig } from "../rest-client.js";
import { probedKeyRecord } from "../rest-records.js";
import {
  DeribitClient,
  DeribitClock,
  DeribitRejection,
  newTrace,
  ownerFor,
  rememberUid,
  type SecondFactorSource,
} from "./client.js";
import { createDeribitKey } from "./create.js";
import { CODES, type DeribitFailure, describeFailure, isCode, toKeywardError } from "./errors.js";
import { DERIBIT_LIMITS, type DeribitLimits } from "./limits.js";
import { hereOf, type ProbeAnswer, probeDeribitKey, SUMMARY_PARAMS, sawAliveFromHere } from "./probe.js";
import { deribitProfile } from "./profile.js";
import { deribitManualSteps, keyRecord, restBase } from "./records.js";
import {
  AccountSummarySchema,
  ApiKeyListSchema,
  ApiKeySchema,
  CreatedKeySchema,
  type DeribitKey,
  OkSchema,
} from "./schemas.js";

export { MAX_KEYS } from "./create.js";

export const deribitAdapter: AdapterFactory = (context, options = {}) => new DeribitAdapter(context, options);

class DeribitAdapter implements ExchangeAdapter {
  readonly exchange = "deribit" as const;
  readonly #account: Account;
  readonly #apiKey: string;
  readonly #base: string;
  readonly #client: DeribitClient;
  readonly #probeClient: (credentials: Credentials, uid: string | undefined) => DeribitClient;
  readonly #errors: ReturnType<typeof restAccountErrors<DeribitFailure>>;
  readonly #probed: ReturnType<typeof probedKeys>;
  /** The account key's entry in probe.ts's alive-from-here memory. */
  readonly #here: string;
  /** The account's user id, from the account key's get_account_summary. */
  #userId: string | undefined;
  /**
   * The account's keys as this process last listed them, by Client ID. Key methods take Deribit's numeric
   * id, which is only trusted from a listing made here: an id remembered from another run could belong to
   * another key by now (UNCONFIRMED whether Deribit reuses ids), and removing the wrong key is the one
   * mistake a revoke must not make.
   */
  #listed: Map<string, DeribitKey> | undefined;

  constructor(context: AdapterContext, options: AdapterOptions) {
    const { account, credentials } = context;
    if (account.exchange !== "deribit") {
      throw new KeywardError("CONFIG_INVALID", `account "${account.name}" is not a Deribit account`);
    }
    this.#account = account;
    this.#apiKey = credentials.apiKey;
    this.#base = restBase(account);
    this.#here = hereOf(this.#base, credentials);
    // The seed is the account's: every client of this adapter (the per-key ones too) answers with it.
    const tfa: SecondFactorSource = {
      account: account.name,
      seed: credentials.totpSeed,
      prompt: options.secondFactor,
      onEvent: options.onSecondFactor?.bind(options),
    };
    class Client extends DeribitClient {
      constructor(
        config: RestClientConfig<DeribitLimits> & { clock: DeribitClock },
        keyCredentials: Credentials,
        owner: () => string,
        who: string,
      ) {
        super({ ...config, tfa }, keyCredentials, owner, who);
      }
    }
    const parts = restAdapterParts({
      name: "Deribit",
      account: account.name,
      base: this.#base,
      credentials,
      options,
      limits: DERIBIT_LIMITS,
      clock: new DeribitClock(),
      Client,
      ownerFor,
      Rejection: DeribitRejection,
      toKeywardError,
    });
    this.#client = parts.client;
    this.#probeClient = parts.probeClient;
    this.#errors = parts.errors;
    this.#probed = probedKeys({
      own: { apiKey: credentials.apiKey, label: "", credentials },
      tracked: [],
      probe: (keyCredentials) => this.probe(keyCredentials),
      record: (t, probe) =>
        probedKeyRecord(
          "deribit",
          deribitProfile,
          account,
          { apiKey: t.apiKey, label: t.label, probeable: true },
          probe,
          "master",
          "meta" in probe && probe.meta ? probe.meta : {},
        ),
    });
  }

  async listKeys(): Promise<KeyRecord[]> {
    const userId = await this.#accountUser();
    const keys = await this.#list();
    return keys.map((k) => keyRecord(this.#account, k, userId, k.client_id === this.#apiKey));
  }

  /** The account's own key from its own probe: what can be known when listing fails. */
  async listTrackedKeys(): Promise<KeyRecord[]> {
    return this.#probed.all();
  }

  async revokeKey(key: KeyRecord): Promise<RevokeResult> {
    return this.#remove(key.apiKey, key.label);
  }

  /**
   * The key these credentials are, removed by API. Deribit lets the account's key remove any key of the
   * account, itself included, so this removes it with the account's key (the old key after a rotation's
   * switch is removed by the new one: it sits in the same account, where the old key created it); the
   * credentials only name the key. A key the account no longer lists is already revoked.
   */
  async revokeSelf(credentials: Credentials): Promise<RevokeResult> {
    return this.#remove(credentials.apiKey, "");
  }

  /** The kill switch (disable_api_key): the key fails authentication at once, until enableKey. */
  async disableKey(key: KeyRecord): Promise<DisableResult> {
    if (key.apiKey === this.#apiKey) {
      // A disabled key cannot authenticate, so it could neither remove nor enable anything again.
      throw new KeywardError(
        "NOT_SUPPORTED",
        `Deribit: Keyward does not disable the key it uses for account "${this.#account.name}" (${shortKey(key.apiKey)})`,
        {
          hint: "Disabled, that key could no longer remove or re-enable any key of the account: revoke it instead, after the account's other keys.",
        },
      );
    }
    const listed = await this.#find(key.apiKey);
    if (!listed) {
      return { outcome: "already-revoked", evidence: `Deribit no longer lists ${shortKey(key.apiKey)}` };
    }
    if (!listed.enabled) {
      return { outcome: "already-disabled", evidence: `Deribit lists ${shortKey(key.apiKey)} as disabled` };
    }
    const what = `disabling key ${shortKey(key.apiKey)}`;
    try {
      const after = await this.#client.protectedCall("disableKey", { id: listed.id }, ApiKeySchema, {
        retry: "transient",
        action: `disable key ${this.#named(key.apiKey, listed.name)}`,
      });
      this.#listed?.set(after.client_id, after);
      if (after.enabled) throw this.#errors.unexpected(`${what} (still enabled)`);
      return {
        outcome: "disabled",
        evidence: `Deribit disable_api_key answered enabled: false for ${shortKey(key.apiKey)}`,
      };
    } catch (error) {
      if (error instanceof DeribitRejection && isCode(error.failure, CODES.NOT_FOUND)) {
        this.#listed?.delete(key.apiKey);
        return { outcome: "already-revoked", evidence: `Deribit 13020: no key ${shortKey(key.apiKey)}` };
      }
      throw this.#errors.asError(error, what);
    }
  }

  /** Undoes disableKey (enable_api_key): "the API key can be used immediately after being enabled". */
  async enableKey(key: KeyRecord): Promise<void> {
    const listed = await this.#find(key.apiKey);
    const what = `enabling key ${shortKey(key.apiKey)}`;
    if (!listed) {
      throw new KeywardError(
        "KEY_NOT_FOUND",
        `Deribit: ${what} for account "${this.#account.name}": the account no longer lists it`,
        {
          hint: "The key was removed: it cannot be enabled again. Create a new one.",
        },
      );
    }
    const after = await this.#errors.guard(what, () =>
      this.#client.protectedCall("enableKey", { id: listed.id }, ApiKeySchema, {
        retry: "transient",
        action: `enable key ${this.#named(key.apiKey, listed.name)}`,
      }),
    );
    this.#listed?.set(after.client_id, after);
    if (!after.enabled) throw this.#errors.unexpected(`${what} (still disabled)`);
  }

  /**
   * A new secret for the same key (reset_api_key): the old secret dies at once. Of the account's own key,
   * this adapter's clients hold the dead secret afterwards: the caller must make a new adapter with the
   * returned credentials. A lost answer leaves a key whose new secret nobody saw.
   */
  async resetKey(key: KeyRecord): Promise<CreatedKey> {
    const listed = await this.#find(key.apiKey);
    const what = `resetting the secret of key ${shortKey(key.apiKey)}`;
    if (!listed) {
      throw new KeywardError(
        "KEY_NOT_FOUND",
        `Deribit: ${what} for account "${this.#account.name}": the account no longer lists it`,
        {
          hint: "List the keys again: the key was removed.",
        },
      );
    }
    const trace = newTrace<DeribitFailure>();
    try {
      const reset = await this.#client.protectedCall("resetKey", { id: listed.id }, CreatedKeySchema, {
        retry: "transient",
        trace,
        action: `reset the secret of key ${this.#named(key.apiKey, listed.name)} (its current secret stops working at once)`,
      });
      const { client_secret, ...described } = reset;
      this.#listed?.set(described.client_id, described);
      return {
        record: keyRecord(this.#account, described, this.#userId, true),
        credentials: { apiKey: described.client_id, secret: new Secret(client_secret) },
      };
    } catch (error) {
      if (trace.ambiguous) {
        throw new KeywardError(
          "CREATE_OUTCOME_UNKNOWN",
          `Deribit: ${what} for account "${this.#account.name}": no answer (${trace.last ? describeFailure(trace.last) : "lost"})`,
          {
            hint: "The key may now have a new secret no one saw, and its old secret may be dead: reset it again (or remove it) from a key of the account.",
          },
        );
      }
      throw this.#errors.asError(error, what);
    }
  }

  manualSteps(key: KeyRecord, action: "revoke" | "create"): ManualSteps {
    return deribitManualSteps(this.#account, key, action);
  }

  /** The key proves itself with its own credentials (probe.ts); the account's listing helps decide 13004. */
  async probe(credentials: Credentials, options: ProbeOptions = {}): Promise<ProbeAnswer> {
    return probeDeribitKey(
      {
        account: this.#account,
        apiKey: this.#apiKey,
        base: this.#base,
        probeClient: this.#probeClient,
        list: () => this.#list(),
      },
      credentials,
      options,
    );
  }

  /**
   * A key of the account's own by API, the name as idempotency token, the IP whitelist and exact scope
   * set and checked after (create.ts).
   */
  async createKey(spec: NewKeySpec): Promise<CreatedKey> {
    return createDeribitKey(
      {
        account: this.#account,
        client: this.#client,
        errors: this.#errors,
        list: () => this.#list(),
        remove: (apiKey, label) => this.#remove(apiKey, label),
        remember: (key) => this.#listed?.set(key.client_id, key),
        userId: () => this.#userId,
      },
      spec,
    );
  }

  /** remove_api_key of the key with this Client ID, by the account's key; an unlisted key is already revoked. */
  async #remove(apiKey: string, label: string): Promise<RevokeResult> {
    const what = `revoking key ${shortKey(apiKey)}`;
    let lost = false;
    for (let attempt = 1; ; attempt++) {
      const listed = await this.#find(apiKey, attempt > 1);
      if (!listed) {
        return lost
          ? {
              outcome: "revoked",
              evidence: `an earlier answer was lost; Deribit no longer lists ${shortKey(apiKey)}`,
            }
          : {
              outcome: "already-revoked",
              evidence: `Deribit account "${this.#account.name}" does not list ${shortKey(apiKey)}`,
            };
      }
      const trace = newTrace<DeribitFailure>();
      try {
        await this.#client.protectedCall("removeKey", { id: listed.id }, OkSchema, {
          retry: "transient",
          trace,
          action: `remove key ${this.#named(apiKey, listed.name || label)}`,
        });
        this.#listed?.delete(apiKey);
        return {
          outcome: "revoked",
          evidence: `Deribit remove_api_key answered ok for ${shortKey(apiKey)} (id ${listed.id})`,
        };
      } catch (error) {
        if (error instanceof DeribitRejection && isCode(error.failure, CODES.NOT_FOUND)) {
          this.#listed?.delete(apiKey);
          return lost || trace.ambiguous
            ? {
                outcome: "revoked",
                evidence: `an earlier answer was lost; Deribit now answers 13020 for ${shortKey(apiKey)}`,
              }
            : { outcome: "already-revoked", evidence: `Deribit 13020: no key ${shortKey(apiKey)}` };
        }
        // A lost answer: the removal may have happened; a fresh listing decides (three tries in all).
        if (error instanceof DeribitRejection && trace.ambiguous && attempt < 3) {
          lost = true;
          continue;
        }
        throw this.#errors.asError(error, what);
      }
    }
  }

  /** How a person recognises the key in a second-factor prompt: "abcd…wxyz (bot_1)". */
  #named(apiKey: string, name: string): string {
    return name ? `${shortKey(apiKey)} (${name})` : shortKey(apiKey);
  }

  /** The listed key with this Client ID, from this process's last listing unless `fresh` (or unknown). */
  async #find(apiKey: string, fresh = false): Promise<DeribitKey | undefined> {
    if (!fresh && this.#listed?.has(apiKey)) return this.#listed.get(apiKey);
    return (await this.#list()).find((k) => k.client_id === apiKey);
  }

  async #list(): Promise<DeribitKey[]> {
    const keys = await this.#errors.guard("listing keys", () =>
      this.#client.call("listKeys", {}, ApiKeyListSchema, { retry: "transient" }),
    );
    this.#listed = new Map(keys.map((k) => [k.client_id, k]));
    sawAliveFromHere(this.#here);
    return keys;
  }

  /** The account's user id (get_account_summary with the account's key), once per adapter. */
  async #accountUser(): Promise<string> {
    if (this.#userId) return this.#userId;
    const summary = await this.#errors.guard("checking the account's key", () =>
      this.#client.call("accountSummary", SUMMARY_PARAMS, AccountSummarySchema, { retry: "transient" }),
    );
    rememberUid(this.#base, this.#apiKey, summary.id);
    sawAliveFromHere(this.#here);
    this.#userId = summary.id;
    return summary.id;
  }
}
