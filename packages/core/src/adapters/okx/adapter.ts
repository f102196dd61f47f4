/**
 * The OKX v5 adapter. OKX lets a master-account key list, create and delete sub-account keys by API; master keys themselves are web-only (docs/exchanges/okx.md#what-has-no-api-manual-steps), so they
 * are listed from the calling key's own `account/config` and revoked through manual steps.
 *
 * Transport, scheduling and retries live in client.ts; what OKX's codes mean lives in errors.ts.
 */
import type { Credentials } from "../../domain/credentials.js";
import type { Account, KeyRecord, ManualSteps, ProbeResult, RevokeResult } from "../../domain/schemas.js";
import { shortKey } from "../../domain/schemas.js";
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
import { probedKeys, type restAccountErrors, restAdapterParts } from "../rest-adapter.js";
import {
  type CallTrace,
  ClockSync,
  newTrace,
  OkxClient,
  type OkxClientConfig,
  OkxRejection,
  ownerFor,
  rememberUid,
} from "./client.js";
import { createSubAccountKey } from "./create.js";
import { describeFailure, type OkxFailure, probeVerdict, toKeywardError } from "./errors.js";
import { OKX_LIMITS } from "./limits.js";
import {
  masterRecord,
  normalisePerm,
  okxManualSteps,
  probedRecord,
  restBase,
  splitIps,
  subRecord,
} from "./records.js";
import {
  AccountConfigSchema,
  DeletedKeySchema,
  type OkxAccountConfig,
  type OkxSubAccount,
  SubAccountSchema,
  SubKeySchema,
} from "./schemas.js";

/** Key meta: the UID of the (sub-)account a key belongs to, set by records.ts. */
const UID_META = "uid";

/** OKX's page size maximum for users/subaccount/list. */
const PAGE = 100;

export const okxAdapter: AdapterFactory = (context, options = {}) => new OkxAdapter(context, options);

class OkxAdapter implements ExchangeAdapter {
  readonly exchange = "okx" as const;
  readonly unlisted: string;
  readonly #account: Account;
  readonly #apiKey: string;
  readonly #config: OkxClientConfig;
  readonly #client: OkxClient;
  readonly #probeClient: (credentials: Credentials, uid: string | undefined) => OkxClient;
  readonly #probed: ReturnType<typeof probedKeys>;
  readonly #errors: ReturnType<typeof restAccountErrors<OkxFailure>>;
  /** The account key's own config once it proved to be a master key. */
  #master: OkxAccountConfig | undefined;

  constructor(context: AdapterContext, options: AdapterOptions) {
    const { account, credentials } = context;
    if (account.exchange !== "okx") {
      throw new KeywardError("CONFIG_INVALID", `account "${account.name}" is not an OKX account`);
    }
    requirePassphrase(credentials, `account "${account.name}"`);
    this.#account = account;
    this.#apiKey = credentials.apiKey;
    // account/config shows only the calling key; OKX has no API listing a master account's keys.
    this.unlisted = `keys created on okx.com for the master account (other than the one Keyward uses) are not visible by API: track them with \`keyward key track ${account.name} --label LABEL\``;
    const parts = restAdapterParts({
      name: "OKX",
      account: account.name,
      base: restBase(account),
      credentials,
      options,
      limits: OKX_LIMITS,
      clock: new ClockSync(),
      Client: OkxClient,
      ownerFor,
      Rejection: OkxRejection,
      toKeywardError,
    });
    this.#config = parts.config;
    this.#client = parts.client;
    this.#probeClient = parts.probeClient;
    this.#errors = parts.errors;
    this.#probed = probedKeys({
      own: { apiKey: credentials.apiKey, label: "", credentials },
      tracked: context.tracked ?? [],
      probe: (keyCredentials) => this.probe(keyCredentials),
      record: (t, probe) => probedRecord(account, t.apiKey, t.label, probe, t.credentials !== undefined),
    });
  }

  async listKeys(): Promise<KeyRecord[]> {
    const master = await this.#checkMaster();
    const subs = await this.#subAccounts();
    // All queries start at once; the shared scheduler paces them to OKX's per-UID limit.
    const perSub = await Promise.all(
      subs.map(async (sub) =>
        (await this.#subKeys(sub.subAcct)).map((k) =>
          subRecord(this.#account, sub.subAcct, sub.uid, k, false),
        ),
      ),
    );
    const listed = [masterRecord(this.#account, this.#apiKey, master), ...perSub.flat()];
    // Tracked keys the API cannot list (other master keys) are shown too, from their own probes.
    return this.#probed.besides(listed);
  }

  async listTrackedKeys(): Promise<KeyRecord[]> {
    return this.#probed.all();
  }

  async revokeKey(key: KeyRecord): Promise<RevokeResult> {
    if (key.location !== "sub-account" || key.subAccount === null) {
      return { outcome: "manual", steps: this.manualSteps(key, "revoke") };
    }
    await this.#masterOnce();
    const what = `revoking key ${shortKey(key.apiKey)} of sub-account ${key.subAccount}`;
    const body = { subAcct: key.subAccount, apiKey: key.apiKey };
    const trace = newTrace();
    try {
      await this.#client.call("deleteKey", body, DeletedKeySchema, { retry: "transient", trace });
      return {
        outcome: "revoked",
        evidence: `OKX delete-apikey answered 0 for ${key.subAccount}/${shortKey(key.apiKey)}`,
      };
    } catch (error) {
      const failure = error instanceof OkxRejection ? error.failure : undefined;
      if (failure?.kind !== "answer" || failure.code !== "59506") throw this.#asError(error, what);
    }
    // 59506 "APIKey does not exist": confirm with a filtered query before calling it gone.
    const listed = await this.#guard(what, () =>
      this.#client.call("subKeys", body, SubKeySchema, { retry: "transient" }),
    );
    if (listed.some((k) => k.apiKey === key.apiKey)) {
      throw new KeywardError(
        "EXCHANGE_REJECTED",
        `OKX: ${what} for account "${this.#account.name}" failed: OKX answers 59506 yet still lists the key`,
        { hint: "Revoke it on OKX's web site and report this answer.", exchangeCode: "59506" },
      );
    }
    // An earlier attempt of this call may have been applied with its answer lost (dropped, timed out, 5xx).
    return trace.ambiguous
      ? {
          outcome: "revoked",
          evidence: `an earlier answer was lost; OKX now answers 59506 and no longer lists ${shortKey(key.apiKey)}`,
        }
      : {
          outcome: "already-revoked",
          evidence: `OKX 59506 "APIKey does not exist"; sub-account ${key.subAccount} no longer lists ${shortKey(key.apiKey)}`,
        };
  }

  manualSteps(key: KeyRecord, action: "revoke" | "create"): ManualSteps {
    return okxManualSteps(this.#account, key, action);
  }

  async probe(
    credentials: Credentials,
    options: ProbeOptions = {},
  ): Promise<ProbeResult & { meta?: Record<string, string> }> {
    requirePassphrase(credentials, `the key ${shortKey(credentials.apiKey)}`);
    // The UID the key belongs to (KeyRecord.meta, opaque to the engines), so the probe counts against
    // the right rate bucket from its first call.
    const client = this.#probeClient(credentials, options.meta?.[UID_META]);
    const trace = newTrace();
    let config: OkxAccountConfig | undefined;
    try {
      [config] = await client.call("accountConfig", {}, AccountConfigSchema, { retry: "transient", trace });
    } catch (error) {
      return this.#probeFailure(error, trace, client);
    }
    if (!config) {
      return {
        status: "inconclusive",
        reason: "exchange-error",
        evidence: "OKX account/config answered no data",
      };
    }
    rememberUid(this.#config.base, credentials.apiKey, config.uid);
    return {
      status: "alive",
      permissions: normalisePerm(config.perm),
      rawPermissions: config.perm,
      ip: splitIps(config.ip),
      label: config.label,
      accountId: config.uid,
      masterId: config.mainUid,
      evidence: `OKX account/config answered 0 for ${shortKey(credentials.apiKey)} (UID ${config.uid})`,
      // Where the key sits, as its listed record says (records.ts): a rotation compares the two.
      meta: { [UID_META]: config.uid },
    };
  }

  async createKey(spec: NewKeySpec): Promise<CreatedKey> {
    return createSubAccountKey(
      {
        account: this.#account,
        client: this.#client,
        log: this.#config.log,
        checkMaster: () => this.#masterOnce(),
        subAccount: (name, what) => this.#subAccount(name, what),
        subKeys: (subAcct) => this.#subKeys(subAcct),
        revoke: (key) => this.revokeKey(key),
        asError: (error, what) => this.#asError(error, what),
      },
      spec,
    );
  }

  async listSubAccountKeys(subAccount: string): Promise<KeyRecord[]> {
    await this.#masterOnce();
    return (await this.#subKeys(subAccount)).map((k) =>
      subRecord(this.#account, subAccount, undefined, k, false),
    );
  }

  /** account/config with the account's key; it must be a master key (uid == mainUid). */
  async #checkMaster(): Promise<OkxAccountConfig> {
    const [config] = await this.#guard("checking the account's key", () =>
      this.#client.call("accountConfig", {}, AccountConfigSchema, { retry: "transient" }),
    );
    if (!config) throw this.#unexpected("checking the account's key");
    rememberUid(this.#config.base, this.#apiKey, config.uid);
    if (config.uid !== config.mainUid) {
      throw new KeywardError(
        "NOT_MASTER",
        `OKX account "${this.#account.name}": the key ${shortKey(this.#apiKey)} belongs to sub-account UID ${config.uid}, not to its master (UID ${config.mainUid})`,
        {
          hint: `Keyward manages OKX keys through a key of the main account (UID ${config.mainUid}): create one there with Read and Trade, bound to this machine's IP, and use it for this account.`,
        },
      );
    }
    this.#master = config;
    return config;
  }

  async #masterOnce(): Promise<OkxAccountConfig> {
    return this.#master ?? this.#checkMaster();
  }

  /** Every sub-account, newest first, paging with `after` = the last creation time until a short page. */
  async #subAccounts(): Promise<OkxSubAccount[]> {
    const all = new Map<string, OkxSubAccount>();
    let after: string | undefined;
    for (;;) {
      const params: Record<string, string> = { limit: String(PAGE), ...(after ? { after } : {}) };
      const page = await this.#guard("listing sub-accounts", () =>
        this.#client.call("subAccounts", params, SubAccountSchema, { retry: "transient" }),
      );
      for (const sub of page) if (!all.has(sub.subAcct)) all.set(sub.subAcct, sub);
      const last = page.at(-1);
      if (page.length < PAGE || !last) break;
      // `after` is exclusive; a page that does not move back in time would loop forever.
      if (after !== undefined && Number(last.ts) >= Number(after)) {
        throw this.#unexpected("listing sub-accounts (paging did not advance)");
      }
      after = last.ts;
    }
    return [...all.values()];
  }

  async #subAccount(name: string, what: string): Promise<OkxSubAccount> {
    const found = await this.#guard(what, () =>
      this.#client.call("subAccounts", { subAcct: name }, SubAccountSchema, { retry: "transient" }),
    );
    const sub = found.find((s) => s.subAcct === name);
    if (!sub) {
      throw new KeywardError(
        "ACCOUNT_NOT_FOUND",
        `OKX account "${this.#account.name}" has no sub-account "${name}"`,
        {
          hint: "Check the sub-account name (it is case-sensitive); list the keys to see the sub-accounts.",
        },
      );
    }
    return sub;
  }

  #subKeys(subAcct: string) {
    return this.#guard(`listing the keys of sub-account ${subAcct}`, () =>
      this.#client.call("subKeys", { subAcct }, SubKeySchema, { retry: "transient" }),
    );
  }

  #probeFailure(error: unknown, trace: CallTrace, client: OkxClient): ProbeResult {
    if (error instanceof OkxRejection && error.failure.kind !== "internal") {
      return probeVerdict(error.failure, describeFailure(error.failure, client.secrets));
    }
    // withRetry gave up on rate limits, 5xx or the network.
    if (
      (isKeywardError(error, "EXCHANGE_RATE_LIMITED") || isKeywardError(error, "EXCHANGE_UNAVAILABLE")) &&
      trace.last
    ) {
      const evidence = `${describeFailure(trace.last, client.secrets)}, ${trace.attempts} attempts`;
      return probeVerdict(trace.last, evidence);
    }
    throw this.#asError(error, client.who);
  }

  #guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.#errors.guard(what, fn);
  }

  #asError(error: unknown, what: string): KeywardError {
    return this.#errors.asError(error, what);
  }

  #unexpected(what: string): KeywardError {
    return this.#errors.unexpected(what);
  }
}

function requirePassphrase(credentials: Credentials, whose: string): void {
  if (!credentials.passphrase) {
    throw new KeywardError("CONFIG_INVALID", `OKX credentials of ${whose} have no passphrase`, {
      hint: "OKX keys come with a passphrase chosen when the key was created: add it to the credentials.",
    });
  }
}
