/**
 * The Bybit v5 adapter. A master key lists, creates and deletes its sub-accounts' keys and can delete
 * itself; no endpoint lists or deletes the master's other keys (https://bybit-exchange.github.io/docs/v5/user/rm-master-apikey).
 * So the inventory is the calling key (query-api) plus every key of every sub-member, and the master's
 * other keys are tracked. Transport, scheduling and retries live in client.ts; what Bybit's codes mean
 * lives in errors.ts.
 */
import type { Credentials } from "../../domain/credentials.js";
import type { Account, KeyRecord, ManualSteps, ProbeResult, RevokeResult } from "../../domain/schemas.js";
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
import { probedKeys, type restAccountErrors, restAdapterParts } from "../rest-adapter.js";
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
import { BYBIT_LIMITS } from "./limits.js";
import { normalisePermissions, parseRaw, rawPermissionsOf } from "./permissions.js";
import {
  bindingOf,
  bybitManualSteps,
  isoOrNull,
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
  SubMembersPageSchema,
} from "./schemas.js";

/** list-sub-apikeys' page size maximum. */
const PAGE = 20;

/** page-subuid's page size maximum. */
const MEMBERS_PAGE = 100;
/**
 * More pages than a real answer needs: 100,000 sub-members (ten times the most query-sub-members answers,
 * docs/exchanges/bybit.md#list-sub-members), or 20,000 keys of one sub-member.
 */
const MAX_PAGES = 1_000;

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
  readonly #config: BybitClientConfig;
  readonly #client: BybitClient;
  readonly #probeClient: (credentials: Credentials, uid: string | undefined) => BybitClient;
  readonly #probed: ReturnType<typeof probedKeys>;
  readonly #errors: ReturnType<typeof restAccountErrors<BybitFailure>>;
  #master: BybitApiInfo | undefined;

  constructor(context: AdapterContext, options: AdapterOptions) {
    const { account, credentials } = context;
    if (account.exchange !== "bybit") {
      throw new KeywardError("CONFIG_INVALID", `account "${account.name}" is not a Bybit account`);
    }
    this.#account = account;
    this.#apiKey = credentials.apiKey;
    this.#credentials = credentials;
    this.unlisted = `the master account's other API keys (not the one Keyward uses) are not visible by API: track them with \`keyward key track ${account.name} --label LABEL\``;
    const parts = restAdapterParts({
      name: "Bybit",
      account: account.name,
      base: restBase(account),
      credentials,
      options,
      limits: BYBIT_LIMITS,
      clock: new ClockOffset(),
      Client: BybitClient,
      ownerFor,
      Rejection: BybitRejection,
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
      // Only the account's own key is a "master" record (records.ts#probedRecord).
      record: (t, probe) =>
        probedRecord(
          account,
          t.apiKey,
          t.label,
          probe,
          t.credentials !== undefined,
          t.apiKey === credentials.apiKey,
        ),
    });
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
    return this.#probed.besides(listed);
  }

  async listTrackedKeys(): Promise<KeyRecord[]> {
    return this.#probed.all();
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
    // Another key than the account's (the old one after a rotation's switch) acts through its per-key
    // client, the one its probes use: the same credentials, UID bucket and secrets to redact.
    const client =
      credentials.apiKey === this.#apiKey ? this.#client : this.#probeClient(credentials, undefined);
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
    const expiresAt = isoOrNull(info.expiredAt);
    return {
      status: "alive",
      permissions: normalisePermissions(info.permissions, info.readOnly === 1),
      rawPermissions: rawPermissionsOf(info.permissions, info.readOnly === 1),
      ip: bindingOf(info.ips),
      label: info.note,
      accountId: info.userID,
      ...(masterId ? { masterId } : {}),
      ...(expiresAt ? { expiresAt } : {}),
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
    if (spec.subAccount === null) {
      // Bybit's create-sub-api makes sub-account keys only; the master's own keys are made on its site.
      throw new KeywardError("NOT_SUPPORTED", "Bybit creates keys by API only in sub-accounts", {
        hint: "Create the master account's key on Bybit's site (an assisted rotation plans that).",
      });
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
          retry: "unapplied",
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

  /**
   * Every sub-member of the master, paged (page-subuid has no 10,000 cap, unlike query-sub-members:
   * docs/exchanges/bybit.md#list-sub-members); "0" is its last page's cursor.
   */
  async #subMembers(): Promise<BybitSubMember[]> {
    return this.#allPages(
      "listing sub-accounts",
      (cursor) => ({ pageSize: String(MEMBERS_PAGE), ...(cursor ? { nextCursor: cursor } : {}) }),
      async (what, params) => {
        const page = await this.#guard(what, () =>
          this.#client.call("subMembers", params, SubMembersPageSchema, { retry: "transient" }),
        );
        return { items: page.subMembers, next: page.nextCursor === "0" ? "" : page.nextCursor };
      },
      (member) => member.uid,
    );
  }

  /** Every key of one sub-member; "" is its last page's cursor. */
  async #subKeys(sub: BybitSubMember): Promise<BybitSubKey[]> {
    return this.#allPages(
      `listing the keys of sub-account ${sub.username}`,
      (cursor) => ({ subMemberId: sub.uid, limit: String(PAGE), ...(cursor ? { cursor } : {}) }),
      async (what, params) => {
        const page = await this.#guard(what, () =>
          this.#client.call("subKeys", params, SubKeysPageSchema, { retry: "transient" }),
        );
        return { items: page.result, next: page.nextPageCursor };
      },
      (key) => key.apiKey,
    );
  }

  /**
   * Follows Bybit's opaque cursors until an empty one or an empty page. Items are deduplicated (a row may
   * move between pages). A hostile or broken answer must not page forever (listing, and so every revoke
   * of the account, would never end): a cursor seen twice, a page that brings nothing new, or more pages
   * than Bybit can have (MAX_PAGES) is an unexpected answer.
   */
  async #allPages<T>(
    what: string,
    paramsFor: (cursor: string) => Record<string, string>,
    fetchPage: (what: string, params: Record<string, string>) => Promise<{ items: T[]; next: string }>,
    idOf: (item: T) => string,
  ): Promise<T[]> {
    const all = new Map<string, T>();
    const cursors = new Set<string>();
    let cursor = "";
    for (let pages = 1; ; pages++) {
      const page = await fetchPage(what, paramsFor(cursor));
      const before = all.size;
      for (const item of page.items) if (!all.has(idOf(item))) all.set(idOf(item), item);
      if (!page.next || page.items.length === 0) break;
      if (cursors.has(page.next) || all.size === before || pages >= MAX_PAGES)
        throw this.#unexpected(`${what} (paging did not advance)`);
      cursors.add(page.next);
      cursor = page.next;
    }
    return [...all.values()];
  }

  #guard<T>(what: string, run: () => Promise<T>): Promise<T> {
    return this.#errors.guard(what, run);
  }

  #asError(error: unknown, what: string, secrets?: readonly Secret[]): KeywardError {
    return this.#errors.asError(error, what, secrets);
  }

  #unexpected(what: string): KeywardError {
    return this.#errors.unexpected(what);
  }
}
