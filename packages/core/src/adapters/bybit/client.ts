/**
 * The Bybit transport: a ccxt `bybit` instance per API key (ccxt signs and sends: HMAC-SHA256 of
 * timestamp + key + recv_window + query or body, https://bybit-exchange.github.io/docs/v5/guide), wrapped with what ccxt
 * does not do for us: process-wide per-UID-per-endpoint scheduling, retries with backoff (re-acquiring
 * the scheduler on every attempt), zod parsing of every answer, safe error extraction from the raw
 * status and body, and one log entry per request. Same shape and reasons as the OKX client
 * (docs/ccxt.md#throttling-is-keywards: ccxt's throttle is per instance so it is off; its `last_*` fields are shared, so errors
 * are annotated inside its synchronous handlers).
 */

import type { z } from "zod";
import { type Credentials, secretsOf } from "../../domain/credentials.js";
import type { Secret } from "../../domain/secret.js";
import type { LogSink } from "../../log.js";
import ccxt from "../ccxt-modules.js";
import type { AdapterOptions } from "../interface.js";
import { sharedScheduler } from "../rate-limiter.js";
import { failureLogFields } from "../rest-failures.js";
import { TransientFailure, withRetry } from "../retry.js";
import { type BybitFailure, describeFailure, extractFailure, isAmbiguous, transientKind } from "./errors.js";
import {
  BYBIT_ENDPOINTS,
  type BybitEndpoint,
  type BybitEndpointName,
  type BybitLimits,
  type BybitMethodName,
  bucketId,
} from "./limits.js";
import { bybitSuccess } from "./schemas.js";

/** Query parameters (GET) or the JSON body (POST): create-sub-api takes numbers and objects. */
type Params = Record<string, unknown>;

/** The slice of ccxt's bybit class the client touches (naming the methods makes a typo a compile error). */
type CcxtBybit = Record<BybitMethodName, (params: Params) => Promise<unknown>> & {
  options: Record<string, unknown>;
};

/** Attaches the HTTP status and raw body to errors thrown by ccxt's (synchronous) response handlers. */
function annotateErrors(ex: Record<string, unknown>): void {
  const wrap = (name: "handleErrors" | "handleHttpStatusCode", bodyIndex: number) => {
    const original = ex[name] as (...args: unknown[]) => unknown;
    ex[name] = function (this: unknown, ...args: unknown[]) {
      try {
        return original.apply(this, args);
      } catch (error) {
        if (typeof error === "object" && error !== null) {
          Object.assign(error, { httpStatus: args[0], httpBody: args[bodyIndex] });
        }
        throw error;
      }
    };
  };
  wrap("handleErrors", 5);
  wrap("handleHttpStatusCode", 4);
}

/** UIDs learnt from query-api, so a key's requests count against its UID's buckets. */
const knownUids = new Map<string, string>();

export const rememberUid = (base: string, apiKey: string, uid: string): void => {
  knownUids.set(`${base}|${apiKey}`, uid);
};

/** `uid:<uid>` when known (given, or learnt earlier in this process), else `key:<apiKey>`. */
export const ownerFor = (base: string, apiKey: string, uid?: string): string => {
  const known = uid ?? knownUids.get(`${base}|${apiKey}`);
  return known ? `uid:${known}` : `key:${apiKey}`;
};

/**
 * This machine's clock against Bybit's, for the signing timestamp: ccxt signs with
 * `milliseconds() - options.timeDifference`, and Bybit refuses a timestamp outside
 * `server_time - recv_window <= timestamp < server_time + 1000` with 10002
 * (https://bybit-exchange.github.io/docs/v5/guide). Every answer, a refusal too, carries the server's
 * `time`, so the refusal itself resynchronises (no extra request). Shared by the clients of one adapter.
 */
export class ClockOffset {
  offsetMs = 0;

  /** From a refusal's server time, sent back at `received`: the request was signed too far off. */
  resync(serverTime: number, received: number): void {
    this.offsetMs = received - serverTime;
  }
}

export interface BybitClientConfig {
  base: string;
  account: string;
  log: LogSink;
  timeoutMs: number;
  limits: BybitLimits;
  retry: AdapterOptions["retry"];
  clock: ClockOffset;
}

/** What happened across the attempts of one call. */
export interface CallTrace {
  /** Some attempt of a write failed in a way that may have applied it (lost answer, timeout, 5xx). */
  ambiguous: boolean;
  last: BybitFailure | undefined;
  attempts: number;
  resynced: boolean;
}

export const newTrace = (): CallTrace => ({
  ambiguous: false,
  last: undefined,
  attempts: 0,
  resynced: false,
});

export interface CallOptions {
  /**
   * "transient": retry whatever may succeed on a second try (reads, and deletes, which are idempotent:
   * a repeat of an applied delete answers "no such key", reconciled by the adapter); "not-applied": retry
   * only failures that certainly did not apply (creates).
   */
  retry: "transient" | "not-applied";
  trace?: CallTrace;
}

/** A failure that is not worth retrying, with what Bybit said. Its message holds no secret. */
export class BybitRejection extends Error {
  override readonly name = "BybitRejection";
  constructor(
    readonly failure: BybitFailure,
    message: string,
  ) {
    super(message);
  }
}

type Attempt<T> = { ok: true; result: T } | { ok: false; failure: BybitFailure };

export class BybitClient {
  readonly #ex: CcxtBybit;
  readonly #secrets: Secret[];

  constructor(
    readonly config: BybitClientConfig,
    credentials: Credentials,
    /** Whose rate buckets this key's calls count against; asked again on every attempt. */
    readonly owner: () => string,
    /** Names the key in log entries (never a secret). */
    readonly who: string,
  ) {
    this.#secrets = secretsOf(credentials);
    const ex = new ccxt.bybit({
      apiKey: credentials.apiKey,
      secret: credentials.secret.reveal(),
      urls: { api: { public: config.base, private: config.base } },
      enableRateLimit: false,
      timeout: config.timeoutMs,
      userAgent: "",
    });
    annotateErrors(ex as unknown as Record<string, unknown>);
    this.#ex = ex as unknown as CcxtBybit;
  }

  get secrets(): readonly Secret[] {
    return this.#secrets;
  }

  /** Calls one endpoint and returns its parsed `result`, retrying as `options.retry` allows. */
  async call<T extends z.ZodType>(
    name: BybitEndpointName,
    params: Params,
    result: T,
    options: CallOptions,
  ): Promise<z.output<T>> {
    const endpoint: BybitEndpoint = BYBIT_ENDPOINTS[name];
    const trace = options.trace ?? newTrace();
    const what = `${endpoint.method} ${endpoint.path.replace("/v5/", "")}`;
    const retryContext = {
      exchange: "bybit",
      account: this.config.account,
      what,
      log: this.config.log,
      options: this.config.retry,
    };
    return withRetry(retryContext, async (attemptNumber) => {
      let attempt = await this.#once(endpoint, params, result, attemptNumber);
      // 10002: the timestamp was outside the window, so the request was not applied: resync once per
      // call from the refusal's own server time, then send again.
      if (
        !attempt.ok &&
        attempt.failure.kind === "answer" &&
        attempt.failure.code === "10002" &&
        attempt.failure.serverTime !== undefined &&
        !trace.resynced
      ) {
        trace.resynced = true;
        this.config.clock.resync(attempt.failure.serverTime, Date.now());
        attempt = await this.#once(endpoint, params, result, attemptNumber);
      }
      if (attempt.ok) return attempt.result;
      const { failure } = attempt;
      trace.last = failure;
      trace.attempts++;
      const ambiguous = isAmbiguous(failure);
      if (endpoint.write && ambiguous) trace.ambiguous = true;
      const text = describeFailure(failure, this.#secrets);
      const kind = transientKind(failure);
      if (kind !== undefined && (options.retry === "transient" || !ambiguous)) {
        throw new TransientFailure(kind, text, failure.kind === "answer" ? failure.code : undefined);
      }
      throw new BybitRejection(failure, `${what}: ${text}`);
    });
  }

  async #once<T extends z.ZodType>(
    endpoint: BybitEndpoint,
    params: Params,
    result: T,
    attempt: number,
  ): Promise<Attempt<z.output<T>>> {
    // The slot counts until the answer is back: Bybit counts the request somewhere in between.
    const scheduler = sharedScheduler(
      bucketId(this.config.base, this.owner(), endpoint),
      this.config.limits[endpoint.bucket],
    );
    const done = await scheduler.acquireSlot();
    this.#ex.options.timeDifference = this.config.clock.offsetMs;
    const started = Date.now();
    let failure: BybitFailure;
    try {
      const raw = await this.#ex[endpoint.ccxt](params);
      const parsed = bybitSuccess(result).safeParse(raw);
      if (parsed.success) {
        this.#log(endpoint, started, attempt, undefined);
        return { ok: true, result: (parsed.data as { result: z.output<T> }).result };
      }
      failure = { kind: "malformed", where: parsed.error.issues[0]?.path.join(".") || "top level" };
    } catch (error) {
      failure = extractFailure(error);
    } finally {
      done();
    }
    // Over the limit although this process kept to it: another process spends the same UID's budget.
    if (transientKind(failure) === "rate-limited") scheduler.saturated();
    this.#log(endpoint, started, attempt, failure);
    return { ok: false, failure };
  }

  #log(endpoint: BybitEndpoint, started: number, attempt: number, failure: BybitFailure | undefined): void {
    this.config.log({
      ...failureLogFields(failure),
      event: "request",
      exchange: "bybit",
      account: this.config.account,
      method: endpoint.method,
      path: endpoint.path,
      ms: Date.now() - started,
      attempt,
      detail: this.who,
    });
  }
}
