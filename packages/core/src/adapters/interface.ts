/**
 * The exchange-adapter interface: a small required core (list, revoke, probe) and optional
 * capabilities, declared one way only: the method is present or not (as unstorage does with its
 * drivers), and engines check before use. What an exchange is (its facts, as data) is its profile
 * (profile.ts). One adapter instance serves one Keyward account.
 */

import type { Credentials } from "../domain/credentials.js";
import type {
  Account,
  DisableResult,
  KeyRecord,
  ManualSteps,
  Permission,
  ProbeResult,
  RawPermissions,
  RevokeResult,
} from "../domain/schemas.js";
import type { LogSink } from "../log.js";
import type { RateLimit } from "./rate-limiter.js";
import type { ExchangeId } from "./registry.js";

/** A key the user told Keyward about, for keys the exchange's API cannot list (the profile's `keys[...].list`). */
export interface TrackedKey {
  apiKey: string;
  label: string;
  /** Present when Keyward holds the secret (so it can probe the key). */
  credentials?: Credentials;
  /** Adapter-owned facts remembered between runs (e.g. the nonce scheme a key accepts). */
  meta?: Record<string, string>;
}

export interface AdapterContext {
  account: Account;
  /** The account's own credentials (the key Keyward manages the account with). */
  credentials: Credentials;
  tracked?: readonly TrackedKey[];
}

/**
 * A one-time code the exchange asks for before a protected call (a second-factor challenge, e.g.
 * Deribit's TOTP challenge on key management: docs/exchanges/deribit.md). The adapter answers it from
 * the account's `totpSeed` when the vault holds one, and asks the person otherwise.
 */
export interface SecondFactorRequest {
  /** The Keyward account whose second factor is asked for. */
  account: string;
  /** What the exchange is about to do, in words a person recognises: "remove key ab12…9f0c (bot-1)". */
  action: string;
  /** Epoch ms after which the exchange refuses an answer (the person must be quicker). */
  expiresAt: number;
  /** The previous code was refused (wrong or stale): say so when asking again. */
  retry?: boolean;
}

/** How a shell asks a person for a code: the CLI's hidden prompt, the web's code field. */
export interface SecondFactorPrompt {
  /** The code the person typed; rejects (KeywardError) when no one can answer or the person cancels. */
  code(request: SecondFactorRequest): Promise<string>;
}

/**
 * A second-factor challenge the adapter answers, for the audit log (never carries the code or seed): told
 * twice per code, before it is sent (`answering`) and with the exchange's verdict (`answered`).
 */
export type SecondFactorEvent = {
  account: string;
  action: string;
  /** "seed": Keyward computed the code from the vault's seed; "person": a person typed it. */
  answeredBy: "seed" | "person";
} & (
  | {
      /** The code is about to be sent: the protected call happens only if this event is recorded. */
      phase: "answering";
    }
  | {
      /** The exchange has answered the code. */
      phase: "answered";
      /** Whether the exchange accepted the answer (then the protected call was executed). */
      accepted: boolean;
    }
);

export interface AdapterOptions {
  log?: LogSink;
  /** Asks a person for a second-factor code when the account has no seed in the vault. */
  secondFactor?: SecondFactorPrompt;
  /**
   * Told of every challenge the adapter answers (core audits it), awaited each time. Before a code is sent
   * (`answering`) a rejection fails the call with nothing sent: a protected call that could not be audited
   * must not happen (core's audit fails closed). After the exchange accepted the code (`answered`,
   * `accepted: true`) the call has happened and its result (a new key's secret) exists nowhere else: a
   * rejection then is logged (warn, no secret) and the result is returned all the same; the workflow's
   * next audited step fails closed with the result already in hand. After a refused code a rejection
   * fails the call (nothing happened at the exchange).
   */
  onSecondFactor?(event: SecondFactorEvent): void | Promise<void>;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /**
   * Replace documented rate limits by bucket name (tests scale them along with the simulator's): a
   * sliding window (`{limit, windowMs}`) or a pace (`{intervalMs}`), whichever kind the bucket had.
   */
  rateLimits?: Record<string, RateLimit>;
  /** Retries of rate-limited, 5xx and network failures. Default 5, from 200 ms to 5 s. */
  retry?: { retries?: number; minTimeoutMs?: number; maxTimeoutMs?: number };
}

/**
 * Key meta set by Keyward once a key authenticated from this machine (e.g. when it was tracked), so a later
 * process can pass `knownAliveFromHere` from what an earlier one saw: `meta[ALIVE_FROM_HERE_META] === "1"`.
 */
export const ALIVE_FROM_HERE_META = "aliveFromHere";

export interface ProbeOptions {
  /**
   * The key was seen alive from this machine before. Some answers mean "dead" only then; otherwise they
   * could also mean "this IP is not whitelisted" (e.g. docs/exchanges/bitfinex.md#probes).
   */
  knownAliveFromHere?: boolean;
  /**
   * Remembered facts about the key (TrackedKey.meta, carried in KeyRecord.meta), opaque outside its
   * adapter: exchange-specific probe inputs travel here (e.g. the account id whose rate bucket a probe
   * counts against). The probe may return updated ones. `ALIVE_FROM_HERE_META` counts as
   * `knownAliveFromHere` unless that is given.
   */
  meta?: Record<string, string>;
}

export interface NewKeySpec {
  /**
   * The sub-account to create the key in; null: the account itself (a key beside Keyward's own, where the
   * profile says `keys.master.create` is "api", e.g. Deribit). Adapters that create keys only in
   * sub-accounts refuse null (NOT_SUPPORTED).
   */
  subAccount: string | null;
  label: string;
  permissions: Permission[];
  ip: string[];
  /**
   * The exact grants the new key must have, as the exchange reports them (the replaced key's), for
   * exchanges whose profile compares raw permissions (`comparePermissions`): there the normalised
   * `permissions` cannot say which of several equivalent grants to create. Adapters may ignore it.
   */
  rawPermissions?: RawPermissions;
}

export interface CreatedKey {
  record: KeyRecord;
  credentials: Credentials;
}

export interface ExchangeAdapter {
  readonly exchange: ExchangeId;
  /**
   * Which keys of this account the exchange cannot list by API, in one plain sentence the inventory
   * shows beside the account, or undefined when the exchange lists every key. Exchange-specific wording
   * lives here (or in the profile), never in core or the shells.
   */
  readonly unlisted?: string;
  /** Every key of the account that the exchange (or the tracked list) knows. */
  listKeys(): Promise<KeyRecord[]>;
  /**
   * The account's own key and its tracked keys, each probed with its OWN credentials only: what can
   * still be known when `listKeys` fails because the account's key died or its IP binding no longer
   * matches. Records whose probe is not conclusive have state "unknown". Never throws for an exchange's
   * answer.
   */
  listTrackedKeys?(): Promise<KeyRecord[]>;
  /** Revokes by API where possible; otherwise returns the steps a person must take. */
  revokeKey(key: KeyRecord): Promise<RevokeResult>;
  /** What a person must do on the exchange's site for an action the API cannot do. */
  manualSteps(key: KeyRecord, action: "revoke" | "create"): ManualSteps;
  /** Asks the exchange about a key using that key's own credentials. Never throws for exchange answers. */
  probe(
    credentials: Credentials,
    options?: ProbeOptions,
  ): Promise<ProbeResult & { meta?: Record<string, string> }>;
  /**
   * The key these credentials are deletes itself, by API (e.g. Bybit's delete-api). Present exactly when
   * the profile says the account's own (master) key is revoked by API. It takes the credentials rather
   * than using the account's: a rotation of the account's own key switches Keyward to the new key before
   * the old one is deleted, and only the old key's own credentials may delete the old key. A key already
   * gone is "already-revoked" (or "revoked" when an earlier answer was lost); proof of death is a probe.
   */
  revokeSelf?(credentials: Credentials): Promise<RevokeResult>;
  /**
   * The kill switch: the key fails authentication at once, until `enableKey` (e.g. Deribit's
   * disable_api_key). Present exactly when the profile says some kind of key has `disable: "api"`.
   */
  disableKey?(key: KeyRecord): Promise<DisableResult>;
  /** Undoes `disableKey`; present together with it. */
  enableKey?(key: KeyRecord): Promise<void>;
  /**
   * A new secret for the same key id, the old secret dead at once (e.g. Deribit's reset_api_key): the
   * returned record is the key as it is now. Present exactly when the profile says some kind of key has
   * `resetInPlace: "api"`.
   */
  resetKey?(key: KeyRecord): Promise<CreatedKey>;
  /** Creates a key by API; present exactly when the profile says some kind of key is created by API. */
  createKey?(spec: NewKeySpec): Promise<CreatedKey>;
  /** The keys of one sub-account only (one query instead of listing the whole account). */
  listSubAccountKeys?(subAccount: string): Promise<KeyRecord[]>;
}

export type AdapterFactory = (context: AdapterContext, options?: AdapterOptions) => ExchangeAdapter;
