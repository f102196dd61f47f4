/**
 * The OKX transport: a ccxt `okx` instance per API key (ccxt signs and sends), wrapped with what ccxt
 * does not do for us: process-wide per-UID-per-endpoint scheduling, retries with backoff (re-acquiring
 * the scheduler on every attempt), clock resynchronisation after 50102, zod parsing of every answer,
 * safe error extraction, and one log entry per request.
 *
 * ccxt facts relied on here are in docs/ccxt.md: its throttle is per instance, so it is off
 * (docs/ccxt.md#throttling-is-keywards); its `timeout` stops at response headers, so the dispatcher gets
 * a body timeout too (docs/ccxt.md#timeouts); and its `last_*` fields are shared by concurrent calls, so
 * errors are annotated inside its synchronous handlers (docs/ccxt.md#concurrency-shared-last-answer-fields).
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
import { describeFailure, extractFailure, isAmbiguous, type OkxFailure, transientKind } from "./errors.js";
import {
  type BucketOwner,
  bucketId,
  OKX_ENDPOINTS,
  type OkxEndpoint,
  type OkxEndpointName,
  type OkxLimits,
  type OkxMethodName,
} from "./limits.js";
import { issueWhere, okxSuccess, PublicTimeSchema } from "./schemas.js";

type Params = Record<string, string>;

interface Dispatcher {
  close(): Promise<void>;
}

/**
 * The slice of ccxt's okx class the client touches. ccxt's `Exchange` has an `any` index signature,
 * so naming the methods here is what makes a typo a compile error.
 */
type CcxtOkx = Record<OkxMethodName, (params: Params) => Promise<unknown>> & {
  options: Record<string, unknown>;
  loadFetchImplementation(): Promise<void>;
  getDispatcherOptions(isPlainAgent: boolean): object;
  undiciModule?: { Agent: new (options: object) => Dispatcher };
  fetchDispatcher?: Dispatcher;
};

/**
 * Attaches the HTTP status and raw body to errors thrown by ccxt's response handlers. They run
 * synchronously for the response at hand, so this is safe under concurrency
 * (docs/ccxt.md#concurrency-shared-last-answer-fields).
 */
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
  wrap("handleErrors", 5); // (status, reason, url, method, resHeaders, body, parsed, reqHeaders, reqBody)
  wrap("handleHttpStatusCode", 4); // (status, reason, url, method, body)
}

/**
 * ccxt's `timeout` only covers the wait for response headers; a body that stalls would hang for
 * undici's default 300 s. One shared undici Agent per timeout (process-wide) bounds the body too.
 */
const boundedDispatchers = new Map<number, Dispatcher>();

async function boundBodyTimeout(ex: CcxtOkx, timeoutMs: number): Promise<void> {
  await ex.loadFetchImplementation();
  const Agent = ex.undiciModule?.Agent;
  if (!Agent) return; // ccxt fell back to the global fetch: its own timeout is all there is
  let dispatcher = boundedDispatchers.get(timeoutMs);
  if (!dispatcher) {
    dispatcher = new Agent({
      ...ex.getDispatcherOptions(true),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    boundedDispatchers.set(timeoutMs, dispatcher);
  }
  const own = ex.fetchDispatcher;
  ex.fetchDispatcher = dispatcher;
  if (own && own !== dispatcher) await own.close();
}

/** UIDs learnt from `account/config`, so a key's requests count against its UID's buckets. */
const knownUids = new Map<string, string>();

export const rememberUid = (base: string, apiKey: string, uid: string): void => {
  knownUids.set(`${base}|${apiKey}`, uid);
};

/** `uid:<uid>` when known (given, or learnt earlier in this process), else `key:<apiKey>`. */
export const ownerFor = (base: string, apiKey: string, uid?: string): BucketOwner => {
  const known = uid ?? knownUids.get(`${base}|${apiKey}`);
  return known ? `uid:${known}` : `key:${apiKey}`;
};

/**
 * This machine's clock against OKX's, for the signing timestamp: ccxt signs with
 * `milliseconds() - options.timeDifference` (okx.js nonce()), and OKX rejects timestamps more than
 * ~30 s off with 50102 (https://www.okx.com/docs-v5/en/#overview-rest-authentication). Shared by the
 * clients of one adapter; concurrent resyncs collapse into one `public/time` call.
 */
export class ClockSync {
  offsetMs = 0;
  generation = 0;
  #inflight: Promise<void> | undefined;

  /** Resyncs unless someone did since `seen` (the generation the failed request was signed under). */
  resync(serverTime: () => Promise<number | undefined>, seen: number): Promise<void> {
    if (this.generation !== seen) return Promise.resolve();
    this.#inflight ??= (async () => {
      const before = Date.now();
      const ts = await serverTime();
      const after = Date.now();
      if (ts !== undefined) this.offsetMs = Math.round((before + after) / 2) - ts;
      this.generation++;
    })().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }
}

export interface OkxClientConfig {
  base: string;
  /** The Keyward account name, for logs and messages. */
  account: string;
  log: LogSink;
  timeoutMs: number;
  limits: OkxLimits;
  retry: AdapterOptions["retry"];
  clock: ClockSync;
}

/** What happened across the attempts of one call (the adapter reads it to judge writes and probes). */
export interface CallTrace {
  /** Some attempt of a write failed in a way that may have applied it (lost answer, timeout, 5xx). */
  ambiguous: boolean;
  last: OkxFailure | undefined;
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
   * `transient`: retry rate limits, busy answers, 5xx and network failures (reads, and writes that
   * are safe to repeat). `unapplied`: retry only answers proving the request was not applied, and
   * stop at anything ambiguous: creating a key twice would orphan a key whose secret nobody saw.
   */
  retry: "transient" | "unapplied";
  trace?: CallTrace;
}

/** A call's final, non-retryable failure. The message is built here and holds no secret. */
export class OkxRejection extends Error {
  override readonly name = "OkxRejection";
  constructor(
    readonly failure: OkxFailure,
    message: string,
  ) {
    super(message);
  }
}

type Attempt<T> = { ok: true; data: T[] } | { ok: false; failure: OkxFailure };

export class OkxClient {
  readonly #ex: CcxtOkx;
  readonly #secrets: Secret[];
  #ready: Promise<void> | undefined;

  constructor(
    readonly config: OkxClientConfig,
    credentials: Credentials,
    /** Whose rate buckets this key's private calls count against; asked again on every attempt. */
    readonly owner: () => BucketOwner,
    /** Names the key in log entries (never a secret), e.g. `account key` or `probe abcd…wxyz`. */
    readonly who: string,
  ) {
    this.#secrets = secretsOf(credentials);
    const ex = new ccxt.okx({
      apiKey: credentials.apiKey,
      secret: credentials.secret.reveal(),
      password: credentials.passphrase?.reveal(),
      urls: { api: { rest: config.base } },
      enableRateLimit: false,
      timeout: config.timeoutMs,
      userAgent: "",
    });
    annotateErrors(ex as unknown as Record<string, unknown>);
    this.#ex = ex as unknown as CcxtOkx;
  }

  get secrets(): readonly Secret[] {
    return this.#secrets;
  }

  /** Calls one endpoint and returns its parsed `data` items, retrying as `options.retry` allows. */
  async call<T extends z.ZodType>(
    name: OkxEndpointName,
    params: Params,
    item: T,
    options: CallOptions,
  ): Promise<z.output<T>[]> {
    const endpoint: OkxEndpoint = OKX_ENDPOINTS[name];
    const trace = options.trace ?? newTrace();
    const what = `${endpoint.method} ${endpoint.path.replace("/api/v5/", "")}`;
    this.#ready ??= boundBodyTimeout(this.#ex, this.config.timeoutMs).catch(() => undefined);
    await this.#ready;
    const retryContext = {
      exchange: "okx",
      account: this.config.account,
      what,
      log: this.config.log,
      options: this.config.retry,
    };
    return withRetry(retryContext, async (attemptNumber) => {
      for (;;) {
        const generation = this.config.clock.generation;
        const result = await this.#once(endpoint, params, item, attemptNumber);
        if (result.ok) return result.data;
        const { failure } = result;
        trace.last = failure;
        trace.attempts++;
        // 50102 "Timestamp request expired": resync once per call, then send again (not yet applied).
        if (failure.kind === "answer" && failure.code === "50102" && !trace.resynced) {
          trace.resynced = true;
          await this.config.clock.resync(() => this.#serverTime(), generation);
          continue;
        }
        const ambiguous = isAmbiguous(failure);
        if (endpoint.write && ambiguous) trace.ambiguous = true;
        const text = describeFailure(failure, this.#secrets);
        const kind = transientKind(failure);
        if (kind !== undefined && (options.retry === "transient" || !ambiguous)) {
          // withRetry backs off and calls this again, which re-acquires the scheduler.
          throw new TransientFailure(kind, text, failure.kind === "answer" ? failure.code : undefined);
        }
        throw new OkxRejection(failure, `${what}: ${text}`);
      }
    });
  }

  async #once<T extends z.ZodType>(
    endpoint: OkxEndpoint,
    params: Params,
    item: T,
    attempt: number,
  ): Promise<Attempt<z.output<T>>> {
    const owner: BucketOwner = endpoint.bucket === "publicTime" ? "ip" : this.owner();
    // The slot counts until the answer is back: OKX counts the request on arrival, somewhere in between.
    const scheduler = sharedScheduler(
      bucketId(this.config.base, owner, endpoint),
      this.config.limits[endpoint.bucket],
    );
    const done = await scheduler.acquireSlot();
    this.#ex.options.timeDifference = this.config.clock.offsetMs;
    const started = Date.now();
    let failure: OkxFailure;
    try {
      const raw = await this.#ex[endpoint.ccxt](params);
      const parsed = okxSuccess(item).safeParse(raw);
      if (parsed.success) {
        this.#log(endpoint, started, attempt, undefined);
        return { ok: true, data: parsed.data.data };
      }
      failure = { kind: "malformed", where: issueWhere(parsed.error) };
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

  async #serverTime(): Promise<number | undefined> {
    const result = await this.#once(OKX_ENDPOINTS.publicTime, {}, PublicTimeSchema, 1);
    const ts = result.ok ? result.data[0]?.ts : undefined;
    return ts === undefined ? undefined : Number(ts);
  }

  #log(endpoint: OkxEndpoint, started: number, attempt: number, failure: OkxFailure | undefined): void {
    this.config.log({
      ...failureLogFields(failure),
      event: "request",
      exchange: "okx",
      account: this.config.account,
      method: endpoint.method,
      path: endpoint.path,
      ms: Date.now() - started,
      attempt,
      detail: this.who,
    });
  }
}
