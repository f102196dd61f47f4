/**
 * Pieces every adapter over the shared REST transport (rest-client.ts) wires the same way: its clients'
 * configuration from the adapter options, one probe client per key, tracked keys probed with their own
 * credentials, and failures turned into KeywardErrors in the exchange's words. Functions and small
 * objects, not a base class: each adapter keeps its exchange's facts and decides what to call.
 */
import { createHash } from "node:crypto";
import type { Credentials } from "../domain/credentials.js";
import { type KeyRecord, type ProbeResult, shortKey } from "../domain/schemas.js";
import type { Secret } from "../domain/secret.js";
import { isKeywardError, KeywardError } from "../errors.js";
import { silentLog } from "../log.js";
import type { AdapterOptions, TrackedKey } from "./interface.js";
import type { RateLimit } from "./rate-limiter.js";
import type { RestClientConfig, RestRejection, SigningClock } from "./rest-client.js";
import type { FailureContext, RestFailure } from "./rest-failures.js";

/**
 * The exchange's documented limits, each bucket replaced by `AdapterOptions.rateLimits` when given
 * there (tests shrink them to the simulator's); buckets the exchange does not have are ignored.
 */
export function withOverrides<L extends Record<string, RateLimit>>(
  defaults: L,
  overrides: Record<string, RateLimit> | undefined,
): L {
  const out = { ...defaults };
  for (const bucket of Object.keys(defaults) as (keyof L & string)[]) {
    const given = overrides?.[bucket];
    if (given) out[bucket] = given as L[typeof bucket];
  }
  return out;
}

/** A client's configuration from the adapter's options (the same defaults for every exchange). */
export function restClientConfig<L, C extends SigningClock>(
  account: string,
  base: string,
  options: AdapterOptions,
  limits: L,
  clock: C,
): RestClientConfig<L> & { clock: C } {
  return {
    base,
    account,
    log: options.log ?? silentLog,
    timeoutMs: options.timeoutMs ?? 10_000,
    limits,
    retry: options.retry,
    clock,
  };
}

/**
 * One client per probed key (one ccxt instance each), replaced if the same key comes with other secrets
 * (e.g. a typo fixed). `make` gets a state whose `uid` the cache updates once the key's UID is known,
 * so its requests count against the right rate bucket.
 */
export function probeClients<C>(make: (credentials: Credentials, state: { uid: string | undefined }) => C) {
  const cache = new Map<string, { fingerprint: string; state: { uid: string | undefined }; client: C }>();
  return (credentials: Credentials, uid: string | undefined): C => {
    const fingerprint = createHash("sha256")
      .update(`${credentials.secret.reveal()}\u0000${credentials.passphrase?.reveal() ?? ""}`)
      .digest("hex");
    const cached = cache.get(credentials.apiKey);
    if (cached && cached.fingerprint === fingerprint) {
      if (uid) cached.state.uid = uid;
      return cached.client;
    }
    const state = { uid };
    const client = make(credentials, state);
    cache.set(credentials.apiKey, { fingerprint, state, client });
    return client;
  };
}

/**
 * The keys an adapter knows from their own probes: the account's own key, and the keys a person tracks
 * because no API lists them (other master keys). Each is probed with its own credentials, in parallel
 * (the schedulers pace them per UID); a key whose secret Keyward does not hold, or whose probe fails,
 * is inconclusive.
 */
export function probedKeys<P extends ProbeResult>(spec: {
  own: TrackedKey;
  tracked: readonly TrackedKey[];
  probe(credentials: Credentials): Promise<P>;
  record(key: TrackedKey, probe: P | ProbeResult): KeyRecord;
}) {
  const probeAll = (keys: readonly TrackedKey[]): Promise<KeyRecord[]> =>
    Promise.all(
      keys.map(async (t) => {
        let result: P | ProbeResult = {
          status: "inconclusive",
          reason: "ambiguous",
          evidence: "Keyward holds no secret for this key",
        };
        if (t.credentials) {
          try {
            result = await spec.probe(t.credentials);
          } catch (error) {
            const code = isKeywardError(error) ? error.code : "INTERNAL";
            result = { status: "inconclusive", reason: "exchange-error", evidence: `probe failed (${code})` };
          }
        }
        return spec.record(t, result);
      }),
    );
  return {
    /** The keys the API listed, then the tracked keys it did not list, from their own probes. */
    async besides(listed: KeyRecord[]): Promise<KeyRecord[]> {
      const seen = new Set(listed.map((k) => k.apiKey));
      return [...listed, ...(await probeAll(spec.tracked.filter((t) => !seen.has(t.apiKey))))];
    },
    /** The account's own key and every tracked key, each from its own probe (no listing at all). */
    all(): Promise<KeyRecord[]> {
      const others = spec.tracked.filter((t) => t.apiKey !== spec.own.apiKey);
      return probeAll([spec.own, ...others]);
    },
  };
}

/**
 * The account key's failures as KeywardErrors: the exchange's rejections through its `toKeywardError`,
 * KeywardErrors as they are, anything else a Keyward bug (its message is not copied: it may quote input).
 */
export function restAccountErrors<F extends RestFailure>(options: {
  /** As messages name the exchange: "OKX". */
  name: string;
  account: string;
  Rejection: abstract new (...args: never[]) => RestRejection<F>;
  toKeywardError(f: F, ctx: FailureContext): KeywardError;
  secrets: () => readonly Secret[];
}) {
  const { name, account } = options;
  // `secrets`: another key's (one that acts with its own credentials, e.g. deleting itself) to redact.
  const asError = (error: unknown, what: string, secrets = options.secrets()): KeywardError => {
    if (isKeywardError(error)) return error;
    if (error instanceof options.Rejection) {
      return options.toKeywardError(error.failure, { what, account, secrets });
    }
    const kind = error instanceof Error ? error.name : "error";
    return new KeywardError("INTERNAL", `${name}: ${what} for account "${account}" failed (${kind})`, {
      hint: "This is a Keyward bug; please report it.",
    });
  };
  return {
    asError,
    /** Runs `fn`, turning what it throws into a KeywardError about `what`. */
    async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
      try {
        return await fn();
      } catch (error) {
        throw asError(error, what);
      }
    },
    /** A successful answer without what it should hold (an empty list, a paging that loops). */
    unexpected(what: string): KeywardError {
      return new KeywardError(
        "EXCHANGE_UNAVAILABLE",
        `${name}: ${what} for account "${account}": unexpected answer`,
        {
          hint: `${name} answered in a form Keyward does not know; if it persists, report it with this message.`,
        },
      );
    },
  };
}

/**
 * An adapter's transport parts, wired the same way for every REST exchange: the clients' configuration,
 * the account key's client (its rate buckets the key's UID once known), one client per probed key, and
 * the account key's failures in the exchange's words.
 */
export function restAdapterParts<
  F extends RestFailure,
  L extends Record<string, RateLimit>,
  K extends SigningClock,
  O,
  C extends { secrets: readonly Secret[] },
>(spec: {
  name: string;
  account: string;
  base: string;
  credentials: Credentials;
  options: AdapterOptions;
  /** The exchange's documented limits; `options.rateLimits` overrides them bucket by bucket. */
  limits: L;
  clock: K;
  Client: new (
    config: RestClientConfig<L> & { clock: K },
    credentials: Credentials,
    owner: () => O,
    who: string,
  ) => C;
  ownerFor(base: string, apiKey: string, uid?: string): O;
  Rejection: abstract new (...args: never[]) => RestRejection<F>;
  toKeywardError(f: F, ctx: FailureContext): KeywardError;
}) {
  const { base, Client, ownerFor } = spec;
  const limits = withOverrides(spec.limits, spec.options.rateLimits);
  const config = restClientConfig(spec.account, base, spec.options, limits, spec.clock);
  const client = new Client(
    config,
    spec.credentials,
    () => ownerFor(base, spec.credentials.apiKey),
    "account key",
  );
  const probeClient = probeClients(
    (credentials, state) =>
      new Client(
        config,
        credentials,
        () => ownerFor(base, credentials.apiKey, state.uid),
        `probe ${shortKey(credentials.apiKey)}`,
      ),
  );
  const errors = restAccountErrors({
    name: spec.name,
    account: spec.account,
    Rejection: spec.Rejection,
    toKeywardError: spec.toKeywardError,
    secrets: () => client.secrets,
  });
  return { config, client, probeClient, errors };
}
