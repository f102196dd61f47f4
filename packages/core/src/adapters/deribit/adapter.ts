/**
 * The Deribit adapter. Deribit's API manages every key of the authenticated (sub)account, the calling key
 * included (docs/exchanges/deribit.md#key-management-by-api): the inventory is list_api_keys, and every
 * key is listed, created, removed, disabled/enabled and reset by API. Key management is behind the
 * account's second factor (docs/exchanges/deribit.md#the-two-factor-challenge): client.ts answers the
 * challenge from the vault's TOTP seed or a person's code. Transport, scheduling and retries live in
 * client.ts; what Deribit's codes mean lives in errors.ts.
 */
import { createHash } from "node:crypto";
import type { Credentials } from "../../domain/credentials.js";
import type {
  Account,
  DisableResult,
  KeyRecord,
  ManualSteps,
  Permission,
  ProbeResult,
  RevokeResult,
} from "../../domain/schemas.js";
import { shortKey } from "../../domain/schemas.js";
import { Secret } from "../../domain/secret.js";
import { isKeywardError, KeywardError } from "../../errors.js";
import type {
  AdapterContext,
  AdapterFactory,
  AdapterOptions,
  CreatedKey,
  ExchangeAdapter,
  NewKeySpec,
  ProbeOptions,
} from "../interface.js";
import { ALIVE_FROM_HERE_META } from "../interface.js";
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
import {
  CODES,
  type DeribitFailure,
  describeFailure,
  IP_NOT_ALLOWED,
  isCode,
  probeVerdict,
  toKeywardError,
} from "./errors.js";
import { DERIBIT_LIMITS, type DeribitLimits } from "./limits.js";
import { canonicalScope, levelOf, normaliseScope, parseScope, scopeFor } from "./permissions.js";
import { deribitName, deribitProfile } from "./profile.js";
import { deribitManualSteps, keyRecord, restBase, USER_META } from "./records.js";
import {
  AccountSummarySchema,
  ApiKeyListSchema,
  ApiKeySchema,
  CreatedKeySchema,
  type DeribitKey,
  OkSchema,
} from "./schemas.js";

/** "Max number of API keys per (sub)account: 8" (docs/exchanges/deribit.md#limits). */
export const MAX_KEYS = 8;

/** The currency get_account_summary is asked about: any will do, the answer's user id is what is read. */
const SUMMARY_PARAMS = { currency: "BTC" } as const;

/**
 * Keys that authenticated from this process, by REST base, Client ID and a hash of the secret: a later
 * 13004 for the same credentials is not a wrong secret (the same secret worked), so the key is removed or
 * disabled (docs/exchanges/deribit.md#probes). The account's own key counts once its signed calls
 * succeeded. Engines pass what they remember across runs as `ProbeOptions.knownAliveFromHere`.
 */
const aliveFromHere = new Set<string>();
const hereOf = (base: string, credentials: Credentials): string =>
  `${base}|${credentials.apiKey}|${createHash("sha256").update(credentials.secret.reveal()).digest("hex")}`;

type ProbeAnswer = ProbeResult & { meta?: Record<string, string> };

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
  /** The account key's entry in `aliveFromHere`. */
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

  /**
   * The key proves itself with public/auth `client_signature` (its own credentials only; its secret never
   * travels), which grants its scope. A key that may read the account (account:read) then says whose it
   * is (get_account_summary) and its own IP whitelist and name (list_api_keys). 13004 is Deribit's answer
   * for an unknown or removed key, a wrong secret and a disabled key alike (docs/exchanges/deribit.md#probes).
   */
  async probe(credentials: Credentials, options: ProbeOptions = {}): Promise<ProbeAnswer> {
    const client = this.#probeClient(credentials, options.meta?.[USER_META]);
    const here = hereOf(this.#base, credentials);
    const knownAlive =
      options.knownAliveFromHere ?? (aliveFromHere.has(here) || options.meta?.[ALIVE_FROM_HERE_META] === "1");
    const trace = newTrace<DeribitFailure>();
    let granted: string;
    try {
      granted = (await client.auth({ retry: "transient", trace })).scope;
    } catch (error) {
      return this.#probeFailure(error, credentials.apiKey, knownAlive, client.secrets, trace.last);
    }
    aliveFromHere.add(here);
    const scope = canonicalScope(granted);
    const main = granted.split(/\s+/).includes("mainaccount");
    let userId: string | undefined;
    let own: DeribitKey | undefined;
    let seen = "";
    if (levelOf(scope, "account") !== "none") {
      try {
        userId = (
          await client.call("accountSummary", SUMMARY_PARAMS, AccountSummarySchema, { retry: "transient" })
        ).id;
        rememberUid(this.#base, credentials.apiKey, userId);
        own = (await client.call("listKeys", {}, ApiKeyListSchema, { retry: "transient" })).find(
          (k) => k.client_id === credentials.apiKey,
        );
        seen = `; list_api_keys shows its IP whitelist${own?.ip_whitelist.length ? "" : " (empty)"}`;
      } catch {
        // public/auth already proved the key alive; what it may read beyond that is a bonus.
        seen = "; its account and IP whitelist could not be read";
      }
    }
    return {
      status: "alive",
      permissions: normaliseScope(scope),
      rawPermissions: scope,
      // Reported only by list_api_keys, which needs account:read: null (not known) without it.
      ip: own ? [...own.ip_whitelist] : null,
      ...(own ? { label: own.name } : {}),
      ...(userId ? { accountId: userId, ...(main ? { masterId: userId } : {}) } : {}),
      evidence: `Deribit public/auth (client_signature) granted ${shortKey(credentials.apiKey)} the scope "${scope || "none"}"${main ? " on a main account" : ""}${seen}`,
      meta: userId ? { [USER_META]: userId } : {},
    };
  }

  /**
   * A key of the account's own by API (NewKeySpec.subAccount null: the account itself, where Deribit
   * creates keys). The name (deribitName of the label) is the idempotency token: it is checked free first,
   * so after a lost answer a key found with it is ours, and is removed (its secret was never seen) before
   * one retry. Then edit_api_key sets the IP whitelist (create_api_key takes none) and the exact scope,
   * and the answer is checked; a key that cannot be made right is removed.
   */
  async createKey(spec: NewKeySpec): Promise<CreatedKey> {
    // NewKeySpec.subAccount null is the account itself (typed so on the rotation's branch).
    const sub: string | null = spec.subAccount;
    if (sub !== null) {
      throw new KeywardError(
        "NOT_SUPPORTED",
        `Deribit: Keyward creates keys in the account itself, not in subaccount "${sub}"`,
        { hint: "Add the subaccount to Keyward as its own account, with a key of that subaccount." },
      );
    }
    const scope = this.#scopeFor(spec);
    const name = deribitName(spec.label);
    const what = `creating key "${name}"`;
    const before = await this.#list();
    const clash = before.find((k) => k.name === name);
    if (clash) {
      throw new KeywardError(
        "CONFIG_INVALID",
        `Deribit account "${this.#account.name}" already has a key named "${name}" (${shortKey(clash.client_id)})`,
        { hint: "Choose another label, or revoke that key first." },
      );
    }
    if (before.length >= MAX_KEYS) {
      throw new KeywardError(
        "EXCHANGE_REJECTED",
        `Deribit account "${this.#account.name}" already has ${before.length} keys, Deribit's most per account`,
        { hint: "Revoke a key the account no longer needs, then create again." },
      );
    }
    const action = `create key "${name}" with scope ${scope}`;
    let created: DeribitKey & { client_secret: string };
    for (let attempt = 1; ; attempt++) {
      const trace = newTrace<DeribitFailure>();
      try {
        // "unapplied" even for the call without a code: were create ever unprotected, a blind retry would
        // make a second key whose secret nobody sees.
        created = await this.#client.protectedCall(
          "createKey",
          { max_scope: scope, name },
          CreatedKeySchema,
          {
            retry: "unapplied",
            trace,
            action,
          },
        );
        break;
      } catch (error) {
        if (!(error instanceof DeribitRejection && trace.ambiguous)) throw this.#errors.asError(error, what);
        if (attempt === 2) {
          throw new KeywardError(
            "CREATE_OUTCOME_UNKNOWN",
            `Deribit: ${what} for account "${this.#account.name}": twice no answer (${describeFailure(error.failure)})`,
            {
              hint: `A key named "${name}" may now exist without Keyward holding its secret: list the keys, revoke any key with that name, then create again.`,
            },
          );
        }
        const orphan = (await this.#list()).find((k) => k.name === name);
        if (orphan) await this.#remove(orphan.client_id, orphan.name);
      }
    }
    const credentials: Credentials = { apiKey: created.client_id, secret: new Secret(created.client_secret) };
    const { client_secret: _, ...described } = created;
    let final: DeribitKey = described;
    try {
      const needsEdit =
        spec.ip.length > 0 ||
        canonicalScope(described.max_scope) !== scope ||
        described.ip_whitelist.length > 0;
      if (needsEdit) {
        final = await this.#errors.guard(`${what} (setting its IP whitelist)`, () =>
          this.#client.protectedCall(
            "editKey",
            { id: described.id, max_scope: scope, ip_whitelist: JSON.stringify(spec.ip) },
            ApiKeySchema,
            {
              retry: "transient",
              action: `set the IP whitelist of new key "${name}" to ${spec.ip.join(", ") || "none"}`,
            },
          ),
        );
      }
      const wrong = mismatch(final, scope, spec.ip);
      if (wrong) throw this.#errors.unexpected(`${what} (${wrong})`);
    } catch (error) {
      // A key Keyward cannot make right must not live on: remove it (its secret is known only here).
      await this.#remove(described.client_id, name).catch(() => undefined);
      throw error;
    }
    this.#listed?.set(final.client_id, final);
    return { record: keyRecord(this.#account, final, this.#userId, true), credentials };
  }

  /** The exact scope to create: the replaced key's (rawPermissions), else the one for the permissions. */
  #scopeFor(spec: NewKeySpec): string {
    const refused = spec.permissions.filter((p): p is Permission => !deribitProfile.apiGrantable.includes(p));
    const raw =
      typeof spec.rawPermissions === "string" && spec.rawPermissions !== ""
        ? canonicalScope(spec.rawPermissions)
        : undefined;
    const moves = raw
      ? [...parseScope(raw)].filter(
          ([area, level]) => (area === "wallet" || area === "custody") && level === "read_write",
        )
      : [];
    if (refused.length > 0 || moves.length > 0) {
      throw new KeywardError(
        "NOT_SUPPORTED",
        `Keyward does not grant ${[...refused, ...moves.map(([area]) => `${area}:read_write`)].join(", ")} to a Deribit key by API`,
        {
          hint: "Keyward creates Deribit keys without wallet or custody write access; create such a key on Deribit's site.",
        },
      );
    }
    return raw ?? scopeFor(spec.permissions);
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
    aliveFromHere.add(this.#here);
    return keys;
  }

  /** The account's user id (get_account_summary with the account's key), once per adapter. */
  async #accountUser(): Promise<string> {
    if (this.#userId) return this.#userId;
    const summary = await this.#errors.guard("checking the account's key", () =>
      this.#client.call("accountSummary", SUMMARY_PARAMS, AccountSummarySchema, { retry: "transient" }),
    );
    rememberUid(this.#base, this.#apiKey, summary.id);
    aliveFromHere.add(this.#here);
    this.#userId = summary.id;
    return summary.id;
  }

  /** What a probe concludes from its public/auth failing (docs/exchanges/deribit.md#probes). */
  async #probeFailure(
    error: unknown,
    apiKey: string,
    knownAlive: boolean,
    secrets: readonly Secret[],
    last: DeribitFailure | undefined,
  ): Promise<ProbeAnswer> {
    if (isKeywardError(error)) {
      return {
        status: "inconclusive",
        reason: error.code === "EXCHANGE_RATE_LIMITED" ? "rate-limited" : "network",
        evidence: last ? describeFailure(last, secrets) : error.code,
      };
    }
    if (!(error instanceof DeribitRejection)) throw error;
    const f = error.failure;
    const said = describeFailure(f, secrets);
    if (f.kind === "answer" && f.code === CODES.UNAUTHORIZED) {
      return f.reason === IP_NOT_ALLOWED
        ? {
            status: "inconclusive",
            reason: "ip-not-whitelisted",
            evidence: `${said}: this machine is not in the key's IP whitelist`,
          }
        : {
            status: "inconclusive",
            reason: "clock-skew",
            evidence: `${said}: Deribit refused the signature's time`,
          };
    }
    if (!(f.kind === "answer" && f.code === CODES.INVALID_CREDENTIALS)) return probeVerdict(f, said);
    // 13004: unknown or removed, wrong secret, or disabled. The account's own listing tells them apart
    // when it can be read (not when the probed key is the account's own: it would get 13004 too).
    if (apiKey !== this.#apiKey) {
      const listed = await this.#list().then(
        (keys) => keys.find((k) => k.client_id === apiKey) ?? null,
        () => undefined,
      );
      if (listed === null) {
        return {
          status: "dead",
          evidence: `${said}, and account "${this.#account.name}" no longer lists ${shortKey(apiKey)}`,
        };
      }
      if (listed) {
        return listed.enabled
          ? {
              status: "inconclusive",
              reason: "wrong-secret",
              evidence: `${said}, yet the account lists ${shortKey(apiKey)} as enabled: the secret Keyward holds is wrong (or was reset)`,
            }
          : {
              status: "inconclusive",
              reason: "frozen",
              evidence: `${said}: the account lists ${shortKey(apiKey)} as disabled (it works again once enabled)`,
            };
      }
    }
    return knownAlive
      ? {
          status: "dead",
          evidence: `${said} for a key that authenticated from here before with the same secret: Deribit no longer accepts it (removed; a disabled key is answered alike, docs/exchanges/deribit.md#probes)`,
        }
      : {
          status: "inconclusive",
          reason: "ambiguous",
          evidence: `${said}: Deribit answers alike for an unknown or removed key, a wrong secret and a disabled key, and this key was never seen alive from here`,
        };
  }
}

/** Why a key is not what was asked for, or undefined. */
function mismatch(key: DeribitKey, scope: string, ip: readonly string[]): string | undefined {
  if (canonicalScope(key.max_scope) !== scope)
    return `its scope is ${canonicalScope(key.max_scope) || "none"}, not ${scope}`;
  const want = [...ip].sort().join(",");
  const got = [...key.ip_whitelist].sort().join(",");
  return want === got ? undefined : `its IP whitelist is ${got || "empty"}, not ${want || "empty"}`;
}
