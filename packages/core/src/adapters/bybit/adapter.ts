/**
 * The Bybit v5 adapter. A master key lists, creates and deletes its sub-accounts' keys and can delete
 * itself; no endpoint lists or deletes the master's other keys (https://bybit-exchange.github.io/docs/v5/user/rm-master-apikey).
 * So the inventory is the calling key (query-api) plus every key of every sub-member, and the master's
 * other keys are tracked. Transport, scheduling and retries live in client.ts; what Bybit's codes mean
 * lives in errors.ts.
 */
import { createHash } from "node:crypto";
import type { Credentials } from "../../domain/credentials.js";
import type { Account, KeyRecord, ManualSteps, ProbeResult, RevokeResult } from "../../domain/schemas.js";
import { shortKey } from "../../domain/schemas.js";
import { Secret } from "../../domain/secret.js";
import { isKeywardError, KeywardError } from "../../errors.js";
import { silentLog } from "../../log.js";
import type {
  AdapterContext,
  AdapterFactory,
  AdapterOptions,
  CreatedKey,
  ExchangeAdapter,
  NewKeySpec,
  ProbeOptions,
  TrackedKey,
} from "../interface.js";
import {
  BybitClient,
  type BybitClientConfig,
  BybitRejection,
  ClockOffset,
  newTrace,
  ownerFor,
  rememberUid,
} from "./client.js";
import { type BybitFailure, describeFailure, probeVerdict, toKeywardError } from "./errors.js";
import { resolveLimits } from "./limits.js";
import { normalisePermissions, parseRaw, rawPermissionsOf } from "./permissions.js";
import { EXPIRES_META } from "./profile.js";
import {
  bindingOf,
  bybitManualSteps,
  masterRecord,
  probedRecord,
  restBase,
  subRecord,
  UID_META,
} from "./records.js";
import {
  type BybitApiInfo,
  type BybitSubKey,
  type BybitSubMember,
  CreatedKeySchema,
  EmptyResultSchema,
  QueryApiSchema,
  SubKeysPageSchema,
  SubMembersSchema,
} from "./schemas.js";

/** list-sub-apikeys' page size maximum. */
const PAGE = 20;

/** Bybit's grants for the permissions Keyward creates by API (https://bybit-exchange.github.io/docs/v5/user/create-subuid-apikey). */
const TRADE_GRANTS: Readonly<Record<string, string[]>> = {
  ContractTrade: ["Order", "Position"],
  Spot: ["SpotTrade"],
};

export const bybitAdapter: AdapterFactory = (context, options = {}) => new BybitAdapter(context, options);

class BybitAdapter implements ExchangeAdapter {
  readonly exchange = "bybit" as const;
  readonly unlisted: string;
  readonly #account: Account;
  readonly #apiKey: string;
  readonly #credentials: Credentials;
  readonly #tracked: readonly TrackedKey[];
  readonly #config: BybitClientConfig;
  readonly #client: BybitClient;
  readonly #probes = new Map<
    string,
    { fingerprint: string; state: { uid: string | undefined }; client: BybitClient }
  >();
  #master: BybitApiInfo | undefined;

  constructor(context: AdapterContext, options: AdapterOptions) {
    const { account, credentials } = context;
    if (account.exchange !== "bybit") {
      throw new KeywardError("CONFIG_INVALID", `account "${account.name}" is not a Bybit account`);
    }
    this.#account = account;
    this.#apiKey = credentials.apiKey;
    this.#credentials = credentials;
    this.#tracked = context.tracked ?? [];
    this.unlisted = `the master account's other API keys (not the one Keyward uses) are not visible by API: track them with \`keyward key track ${account.name} --label LABEL\``;
    const base = restBase(account);
    this.#config = {
      base,
      account: account.name,
      log: options.log ?? silentLog,
      timeoutMs: options.timeoutMs ?? 10_000,
      limits: resolveLimits(options.rateLimits),
      retry: options.retry,
      clock: new ClockOffset(),
    };
    this.#client = new BybitClient(
      this.#config,
      credentials,
      () => ownerFor(base, credentials.apiKey),
      "account key",
    );
  }

  async listKeys(): Promise<KeyRecord[]> {
    const master = await this.#checkMaster();
    const members = await this.#subMembers();
    const perSub = await Promise.all(
      members.map(async (sub) =>
        (await this.#subKeys(sub)).map((k) => subRecord(this.#account, sub, k, false)),
      ),
    );
    const listed = [masterRecord(this.#account, master), ...perSub.flat()];
    const seen = new Set(listed.map((k) => k.apiKey));
    const tracked = await this.#probeTracked(this.#tracked.filter((t) => !seen.has(t.apiKey)));
    return [...listed, ...tracked];
  }

  async listTrackedKeys(): Promise<KeyRecord[]> {
    const own: TrackedKey = { apiKey: this.#apiKey, label: "", credentials: this.#credentials };
    return this.#probeTracked([own, ...this.#tracked.filter((t) => t.apiKey !== this.#apiKey)]);
  }

  #probeTracked(keys: readonly TrackedKey[]): Promise<KeyRecord[]> {
    return Promise.all(
      keys.map(async (t) => {
        let probe: ProbeResult & { meta?: Record<string, string> } = {
          status: "inconclusive",
          reason: "ambiguous",
          evidence: "Keyward holds no secret for this key",
        };
        if (t.credentials) {
          try {
            probe = await this.probe(t.credentials);
          } catch (error) {
            const code = isKeywardError(error) ? error.code : "INTERNAL";
            probe = { status: "inconclusive", reason: "exchange-error", evidence: `probe failed (${code})` };
          }
        }
        const own = t.apiKey === this.#apiKey;
        return probedRecord(this.#account, t.apiKey, t.label, probe, t.credentials !== undefined, own);
      }),
    );
  }

  async revokeKey(key: KeyRecord): Promise<RevokeResult> {
    if (key.location === "master" && key.apiKey === this.#apiKey) return this.revokeSelf(this.#credentials);
    const uid = key.meta[UID_META];
    if (key.location !== "sub-account" || key.subAccount === null || !uid) {
      return { outcome: "manual", steps: this.manualSteps(key, "revoke") };
    }
    await this.#masterOnce();
    const what = `revoking key ${shortKey(key.apiKey)} of sub-account ${key.subAccount}`;
    const trace = newTrace();
    let refusal: BybitFailure | undefined;
    try {
      // delete-sub-api is idempotent in effect: a repeat of an applied delete is refused, then reconciled below.
      await this.#client.call("deleteSubKey", { apikey: key.apiKey }, EmptyResultSchema, {
        retry: "transient",
        trace,
      });
      return {
        outcome: "revoked",
        evidence: `Bybit delete-sub-api answered 0 for ${key.subAccount}/${shortKey(key.apiKey)}`,
      };
    } catch (error) {
      // Which retCode Bybit gives for a key it no longer has is UNCONFIRMED: any refusal is checked
      // against the sub-account's own list before it is believed or reported.
      if (!(error instanceof BybitRejection) || error.failure.kind !== "answer")
        throw this.#asError(error, what);
      refusal = error.failure;
    }
    const sub: BybitSubMember = { uid, username: key.subAccount };
    const listed = await this.#subKeys(sub);
    if (listed.some((k) => k.apiKey === key.apiKey))
      throw this.#asError(new BybitRejection(refusal, what), what);
    const said = describeFailure(refusal);
    return trace.ambiguous
      ? {
          outcome: "revoked",
          evidence: `an earlier answer was lost; Bybit now answers ${said} and sub-account ${key.subAccount} no longer lists ${shortKey(key.apiKey)}`,
        }
      : {
          outcome: "already-revoked",
          evidence: `Bybit ${said}; sub-account ${key.subAccount} no longer lists ${shortKey(key.apiKey)}`,
        };
  }

  /**
   * The key these credentials are deletes itself (delete-api: "invalid immediately"): the account's own
   * key in a revoke (which puts it last in its account and proves it by probing, as nothing can list the
   * account afterwards), or the OLD own key after a rotation switched Keyward to the new one.
   */
  async revokeSelf(credentials: Credentials): Promise<RevokeResult> {
    const client =
      credentials.apiKey === this.#apiKey
        ? this.#client
        : new BybitClient(
            this.#config,
            credentials,
            () => ownerFor(this.#config.base, credentials.apiKey),
            `key ${shortKey(credentials.apiKey)} deleting itself`,
          );
    const what = `revoking the key ${shortKey(credentials.apiKey)} with its own credentials`;
    const trace = newTrace();
    try {
      await client.call("deleteOwnKey", {}, EmptyResultSchema, { retry: "transient", trace });
      return {
        outcome: "revoked",
        evidence: `Bybit delete-api answered 0 for ${shortKey(credentials.apiKey)}`,
      };
    } catch (error) {
      // 10003 "invalid key": the key is gone (deleted by a lost earlier attempt, or before).
      const failure = error instanceof BybitRejection ? error.failure : undefined;
      if (failure?.kind !== "answer" || failure.code !== "10003")
        throw this.#asError(error, what, client.secrets);
    }
    return trace.ambiguous
      ? {
          outcome: "revoked",
          evidence: `an earlier answer was lost; Bybit now answers 10003 for ${shortKey(credentials.apiKey)}`,
        }
      : {
          outcome: "already-revoked",
          evidence: `Bybit 10003: the key ${shortKey(credentials.apiKey)} no longer exists`,
        };
  }

  manualSteps(key: KeyRecord, action: "revoke" | "create"): ManualSteps {
    return bybitManualSteps(this.#account, key, action);
  }

  async probe(
    credentials: Credentials,
    options: ProbeOptions = {},
  ): Promise<ProbeResult & { meta?: Record<string, string> }> {
    const client = this.#probeClient(credentials, options.meta?.[UID_META]);
    const trace = newTrace();
    let info: BybitApiInfo;
    try {
      info = await client.call("queryApi", {}, QueryApiSchema, { retry: "transient", trace });
    } catch (error) {
      if (error instanceof BybitRejection) {
        return probeVerdict(error.failure, describeFailure(error.failure, client.secrets));
      }
      if (isKeywardError(error)) {
        return {
          status: "inconclusive",
          reason: error.code === "EXCHANGE_RATE_LIMITED" ? "rate-limited" : "network",
          evidence: trace.last ? describeFailure(trace.last, client.secrets) : error.code,
        };
      }
      throw error;
    }
    rememberUid(this.#config.base, credentials.apiKey, info.userID);
    const masterId = info.isMaster ? info.userID : info.parentUid;
    const meta: Record<string, string> = { [UID_META]: info.userID };
    if (info.expiredAt && !Number.isNaN(Date.parse(info.expiredAt))) {
      meta[EXPIRES_META] = new Date(Date.parse(info.expiredAt)).toISOString();
    }
    return {
      status: "alive",
      permissions: normalisePermissions(info.permissions, info.readOnly === 1),
      rawPermissions: rawPermissionsOf(info.permissions, info.readOnly === 1),
      ip: bindingOf(info.ips),
      label: info.note,
      accountId: info.userID,
      ...(masterId ? { masterId } : {}),
      evidence: `Bybit query-api answered 0 for ${shortKey(credentials.apiKey)} (UID ${info.userID})`,
      meta,
    };
  }

  /**
   * A sub-account key by API. The note is the idempotency token: it is checked free first, so after a
   * lost answer a key found with it is ours, and is deleted (its secret was never seen) before one retry.
   */
  async createKey(spec: NewKeySpec): Promise<CreatedKey> {
    const refused = spec.permissions.filter((p) => p !== "read" && p !== "trade");
    if (refused.length > 0) {
      throw new KeywardError(
        "NOT_SUPPORTED",
        `Keyward does not grant ${refused.join(", ")} to a Bybit key by API`,
        {
          hint: "Keyward creates Bybit sub-account keys with read and trade only; create others on Bybit's site.",
        },
      );
    }
    await this.#masterOnce();
    const what = `creating key "${spec.label}" in sub-account ${spec.subAccount}`;
    const sub = (await this.#subMembers()).find((m) => m.username === spec.subAccount);
    if (!sub) {
      throw new KeywardError(
        "ACCOUNT_NOT_FOUND",
        `Bybit account "${this.#account.name}" has no sub-account "${spec.subAccount}"`,
        {
          hint: "Check the sub-account name (its username); list the keys to see the sub-accounts.",
        },
      );
    }
    const clash = (await this.#subKeys(sub)).find((k) => k.note === spec.label);
    if (clash) {
      throw new KeywardError(
        "CONFIG_INVALID",
        `Bybit sub-account ${spec.subAccount} already has a key named "${spec.label}" (${shortKey(clash.apiKey)})`,
        { hint: "Choose another label, or revoke that key first." },
      );
    }
    const trade = spec.permissions.includes("trade");
    // The replaced key's exact grants when given (a rotation keeps them: the profile compares raw
    // permissions); otherwise the trading grants for "trade".
    const exact = typeof spec.rawPermissions === "string" ? parseRaw(spec.rawPermissions) : undefined;
    const body = {
      subuid: sub.uid,
      note: spec.label,
      readOnly: exact ? (exact.readOnly ? 1 : 0) : trade ? 0 : 1,
      ...(spec.ip.length > 0 ? { ips: spec.ip.join(",") } : {}),
      permissions: exact ? exact.permissions : trade ? TRADE_GRANTS : {},
    };
    for (let attempt = 1; ; attempt++) {
      const trace = newTrace();
      try {
        const created = await this.#client.call("createSubKey", body, CreatedKeySchema, {
          retry: "not-applied",
          trace,
        });
        const key: BybitSubKey = {
          id: created.id,
          apiKey: created.apiKey,
          note: created.note,
          ips: spec.ip,
          readOnly: created.readOnly === 1,
          permissions: created.permissions,
          createdAt: new Date().toISOString(),
          // Bybit sets an expiry on keys without an IP binding; the next listing reports it.
          expiredAt: undefined,
        };
        return {
          record: subRecord(this.#account, sub, key, true),
          credentials: { apiKey: created.apiKey, secret: new Secret(created.secret) },
        };
      } catch (error) {
        if (!(error instanceof BybitRejection && trace.ambiguous)) throw this.#asError(error, what);
        if (attempt === 2) {
          throw new KeywardError(
            "CREATE_OUTCOME_UNKNOWN",
            `Bybit: ${what} for account "${this.#account.name}": twice no answer (${describeFailure(error.failure)})`,
            {
              hint: `A key named "${spec.label}" may now exist in sub-account ${spec.subAccount} without Keyward holding its secret: list the keys, revoke any key with that name, then create again.`,
            },
          );
        }
        this.#config.log({
          level: "warn",
          event: "create-outcome-unknown",
          exchange: "bybit",
          account: this.#account.name,
          detail: `${what}: ${describeFailure(error.failure)}; looking for an orphan`,
        });
        const orphan = (await this.#subKeys(sub)).find((k) => k.note === spec.label);
        if (orphan) await this.revokeKey(subRecord(this.#account, sub, orphan, false));
      }
    }
  }

  async listSubAccountKeys(subAccount: string): Promise<KeyRecord[]> {
    await this.#masterOnce();
    const sub = (await this.#subMembers()).find((m) => m.username === subAccount);
    if (!sub) return [];
    return (await this.#subKeys(sub)).map((k) => subRecord(this.#account, sub, k, false));
  }

  /** query-api with the account's key; it must be a master key. */
  async #checkMaster(): Promise<BybitApiInfo> {
    const info = await this.#guard("checking the account's key", () =>
      this.#client.call("queryApi", {}, QueryApiSchema, { retry: "transient" }),
    );
    rememberUid(this.#config.base, this.#apiKey, info.userID);
    if (!info.isMaster) {
      throw new KeywardError(
        "NOT_MASTER",
        `Bybit account "${this.#account.name}": the key ${shortKey(this.#apiKey)} belongs to sub-account UID ${info.userID}, not to its master${info.parentUid ? ` (UID ${info.parentUid})` : ""}`,
        {
          hint: "Keyward manages Bybit keys through a key of the master account with Account Transfer or Subaccount Transfer permission, bound to this machine's IP.",
        },
      );
    }
    this.#master = info;
    return info;
  }

  async #masterOnce(): Promise<BybitApiInfo> {
    return this.#master ?? this.#checkMaster();
  }

  /** Every sub-member of the master (query-sub-members answers up to 10,000 in one page). */
  async #subMembers(): Promise<BybitSubMember[]> {
    const { subMembers } = await this.#guard("listing sub-accounts", () =>
      this.#client.call("subMembers", {}, SubMembersSchema, { retry: "transient" }),
    );
    return subMembers;
  }

  /** Every key of one sub-member, following `nextPageCursor` until Bybit returns none. */
  async #subKeys(sub: BybitSubMember): Promise<BybitSubKey[]> {
    const all = new Map<string, BybitSubKey>();
    const cursors = new Set<string>();
    let cursor = "";
    for (;;) {
      const params: Record<string, string> = {
        subMemberId: sub.uid,
        limit: String(PAGE),
        ...(cursor ? { cursor } : {}),
      };
      const page = await this.#guard(`listing the keys of sub-account ${sub.username}`, () =>
        this.#client.call("subKeys", params, SubKeysPageSchema, { retry: "transient" }),
      );
      for (const key of page.result) if (!all.has(key.apiKey)) all.set(key.apiKey, key);
      if (!page.nextPageCursor || page.result.length === 0) break;
      if (cursors.has(page.nextPageCursor))
        throw this.#unexpected(`listing the keys of ${sub.username} (paging did not advance)`);
      cursors.add(page.nextPageCursor);
      cursor = page.nextPageCursor;
    }
    return [...all.values()];
  }

  #probeClient(credentials: Credentials, uid: string | undefined): BybitClient {
    const fingerprint = createHash("sha256").update(credentials.secret.reveal()).digest("hex");
    const cached = this.#probes.get(credentials.apiKey);
    if (cached && cached.fingerprint === fingerprint) {
      if (uid) cached.state.uid = uid;
      return cached.client;
    }
    const base = this.#config.base;
    const state = { uid };
    const client = new BybitClient(
      this.#config,
      credentials,
      () => ownerFor(base, credentials.apiKey, state.uid),
      `probe ${shortKey(credentials.apiKey)}`,
    );
    this.#probes.set(credentials.apiKey, { fingerprint, state, client });
    return client;
  }

  async #guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw this.#asError(error, what);
    }
  }

  #asError(error: unknown, what: string, secrets = this.#client.secrets): KeywardError {
    if (isKeywardError(error)) return error;
    if (error instanceof BybitRejection) {
      return toKeywardError(error.failure, {
        what,
        account: this.#account.name,
        secrets,
      });
    }
    return new KeywardError("INTERNAL", `Bybit: ${what} for account "${this.#account.name}" failed`, {
      hint: "This is a Keyward bug; please report it.",
    });
  }

  #unexpected(what: string): KeywardError {
    return new KeywardError(
      "EXCHANGE_UNAVAILABLE",
      `Bybit: ${what} for account "${this.#account.name}" failed`,
      {
        hint: "Bybit answered in a form Keyward does not know; if it persists, report it with this message.",
      },
    );
  }
}
