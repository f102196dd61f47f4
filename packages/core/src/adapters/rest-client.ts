/**
 * What a REST exchange's client does around ccxt, the same for every exchange whose ccxt instance signs
 * and sends (OKX, Bybit): process-wide per-UID-per-endpoint scheduling, retries with backoff
 * (re-acquiring the scheduler on every attempt), one clock resynchronisation per call, zod parsing of
 * every answer, safe error extraction from the raw status and body, and one log entry per request.
 * Each exchange's `client.ts` builds its ccxt instance and says, as data and small functions, what
 * differs: its endpoints and limits, its success envelope, its failure tables (rest-failures.ts) and
 * how it resynchronises its clock.
 *
 * ccxt facts relied on here are in docs/ccxt.md: its throttle is per instance, so it is off
 * (docs/ccxt.md#throttling-is-keywards); its `timeout` stops at response headers, so the dispatcher gets
 * a body timeout too (docs/ccxt.md#timeouts); and its `last_*` fields are shared by concurrent calls, so
 * errors are annotated inside its synchronous handlers (docs/ccxt.md#concurrency-shared-last-answer-fields).
 */
import type { z } from "zod";
import type { Secret } from "../domain/secret.js";
import type { LogSink } from "../log.js";
import type { AdapterOptions } from "./interface.js";
import { type RateLimit, sharedScheduler, shareSchedulers } from "./rate-limiter.js";
import { failureLogFields, type RestFailure, type RestFailureReader } from "./rest-failures.js";
import { TransientFailure, withRetry } from "./retry.js";

/** One endpoint an adapter calls, in its exchange's `limits.ts` table. */
export interface RestEndpoint<B extends string = string, M extends string = string> {
  method: "GET" | "POST";
  path: string;
  bucket: B;
  /** ccxt's implicit method for it. */
  ccxt: M;
  /** Whether the request changes state (a lost answer leaves its outcome unknown). */
  write: boolean;
  /**
   * Endpoints with the same pool share one bucket per owner instead of one per endpoint: for exchanges
   * whose limit is one budget for every method (Deribit's credits, docs/exchanges/deribit.md#rate-limits).
   */
  pool?: string;
}

/** The slice of a ccxt exchange instance the transport touches. */
export type CcxtInstance<M extends string> = Record<
  M,
  (params: Record<string, unknown>) => Promise<unknown>
> & {
  options: Record<string, unknown>;
};

interface Dispatcher {
  close(): Promise<void>;
}

interface CcxtFetch {
  loadFetchImplementation(): Promise<void>;
  getDispatcherOptions(isPlainAgent: boolean): object;
  undiciModule?: { Agent: new (options: object) => Dispatcher };
  fetchDispatcher?: Dispatcher;
}

/**
 * A ccxt instance for one key, as every REST client wants it: ccxt's own throttle off (Keyward's
 * schedulers pace per UID, docs/ccxt.md#throttling-is-keywards), its header timeout set, no user agent,
 * and its errors annotated with the raw status and body. `options` are the exchange's own (key, secret,
 * passphrase, URLs).
 */
export function ccxtInstance<M extends string>(
  Exchange: new (options: object) => object,
  options: object,
  timeoutMs: number,
): CcxtInstance<M> {
  const ex = new Exchange({ ...options, enableRateLimit: false, timeout: timeoutMs, userAgent: "" });
  annotateErrors(ex);
  return ex as CcxtInstance<M>;
}

/**
 * Attaches the HTTP status and raw body to errors thrown by ccxt's response handlers. They run
 * synchronously for the response at hand, so this is safe under concurrency
 * (docs/ccxt.md#concurrency-shared-last-answer-fields).
 */
function annotateErrors(ex: object): void {
  const target = ex as Record<string, unknown>;
  const wrap = (name: "handleErrors" | "handleHttpStatusCode", bodyIndex: number) => {
    const original = target[name] as (...args: unknown[]) => unknown;
    target[name] = function (this: unknown, ...args: unknown[]) {
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

async function boundBodyTimeout(instance: object, timeoutMs: number): Promise<void> {
  const ex = instance as CcxtFetch;
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

/**
 * UIDs learnt from a key's own description, so a key's requests count against its UID's buckets. One
 * registry per exchange (process-wide), keyed by REST base and API key.
 */
export function uidRegistry() {
  const known = new Map<string, string>();
  return {
    rememberUid(base: string, apiKey: string, uid: string): void {
      known.set(`${base}|${apiKey}`, uid);
    },
    /** `uid:<uid>` when known (given, or learnt earlier in this process), else `key:<apiKey>`. */
    ownerFor(base: string, apiKey: string, uid?: string): `uid:${string}` | `key:${string}` {
      const found = uid ?? known.get(`${base}|${apiKey}`);
      return found ? `uid:${found}` : `key:${apiKey}`;
    },
  };
}

/**
 * The transport's bucket ids start `<exchange>|<base>|<owner>|`: once a key's owner is learnt (its UID),
 * the buckets its requests used under `key:<apiKey>` become the UID's too, where the UID has none yet, so
 * the requests before and after draw on one history (rate-limiter.ts `shareSchedulers`).
 */
export function shareOwnerSchedulers(exchange: string, base: string, from: string, to: string): void {
  shareSchedulers(`${exchange}|${base}|${from}|`, `${exchange}|${base}|${to}|`);
}

/** What happened across the attempts of one call (the adapter reads it to judge writes and probes). */
export interface CallTrace<F extends RestFailure = RestFailure> {
  /** Some attempt of a write failed in a way that may have applied it (lost answer, timeout, 5xx). */
  ambiguous: boolean;
  last: F | undefined;
  attempts: number;
  resynced: boolean;
}

export const newTrace = <F extends RestFailure = RestFailure>(): CallTrace<F> => ({
  ambiguous: false,
  last: undefined,
  attempts: 0,
  resynced: false,
});

export interface CallOptions<F extends RestFailure = RestFailure> {
  /**
   * `transient`: retry rate limits, busy answers, 5xx and network failures (reads, and writes that are
   * safe to repeat: a repeated delete is reconciled by the adapter). `unapplied`: retry only answers
   * proving the request was not applied, and stop at anything ambiguous: creating a key twice would
   * orphan a key whose secret nobody saw.
   */
  retry: "transient" | "unapplied";
  trace?: CallTrace<F>;
}

/** A call's final, non-retryable failure. The message is built by the transport and holds no secret. */
export class RestRejection<F extends RestFailure = RestFailure> extends Error {
  constructor(
    readonly failure: F,
    message: string,
  ) {
    super(message);
  }
}

/** A signing clock: the offset ccxt subtracts, and a count of resyncs (so concurrent ones collapse). */
export interface SigningClock {
  offsetMs: number;
  generation: number;
}

export interface RestClientConfig<L> {
  base: string;
  /** The Keyward account name, for logs and messages. */
  account: string;
  log: LogSink;
  timeoutMs: number;
  limits: L;
  retry: AdapterOptions["retry"];
  clock: SigningClock;
}

/** What differs between exchanges, given once per exchange by its `client.ts`. */
export interface RestExchange<F extends RestFailure> {
  /** The exchange id, for logs and bucket ids. */
  id: string;
  /** Its reading of failures (rest-failures.ts over its `errors.ts` tables). */
  failures: RestFailureReader<F>;
  /** Its success envelope around a payload schema, e.g. `{code: "0", data}`. */
  envelope(payload: z.ZodType): z.ZodType;
  /** The envelope's payload field: `data`, `result`. */
  payloadKey: string;
  /** The paths' common prefix, left out of retry messages (`GET users/subaccount/list`). */
  pathPrefix: string;
  /** Its rejection class (adapters tell its failures apart with `instanceof`). */
  Rejection: new (
    failure: F,
    message: string,
  ) => RestRejection<F>;
}

/**
 * Where an answer broke the schemas, for a "malformed" failure: at most three paths, never zod's
 * messages (they may quote input).
 */
export const issueWhere = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((i) => i.path.map(String).join(".") || "(root)")
    .join(", ");

export type Attempt<T, F> = { ok: true; value: T } | { ok: false; failure: F };

/**
 * One key's transport. `resync` is asked after a failure whether the exchange refused the request's
 * timestamp (so it was not applied); when it resynchronised the clock it answers true and the request is
 * sent again, at most once per call.
 */
export class RestTransport<
  F extends RestFailure,
  E extends RestEndpoint,
  L extends Record<string, RateLimit>,
> {
  #ready: Promise<void> | undefined;

  constructor(
    readonly exchange: RestExchange<F>,
    readonly config: RestClientConfig<L>,
    readonly ex: CcxtInstance<E["ccxt"]>,
    /** Whose rate buckets a request counts against; asked again on every attempt. */
    readonly owner: (endpoint: E) => string,
    /** Names the key in log entries (never a secret), e.g. `account key` or `probe abcd…wxyz`. */
    readonly who: string,
    readonly secrets: readonly Secret[],
    readonly resync: (failure: F, generation: number) => boolean | Promise<boolean>,
  ) {}

  /** Calls one endpoint and returns its parsed payload, retrying as `options.retry` allows. */
  async call<T extends z.ZodType>(
    endpoint: E,
    params: Record<string, unknown>,
    schema: T,
    options: CallOptions<F>,
  ): Promise<z.output<T>> {
    const trace = options.trace ?? newTrace<F>();
    const what = `${endpoint.method} ${endpoint.path.replace(this.exchange.pathPrefix, "")}`;
    this.#ready ??= boundBodyTimeout(this.ex, this.config.timeoutMs).catch(() => undefined);
    await this.#ready;
    const retryContext = {
      exchange: this.exchange.id,
      account: this.config.account,
      what,
      log: this.config.log,
      options: this.config.retry,
    };
    const { isAmbiguous, describeFailure, transientKind } = this.exchange.failures;
    return withRetry(retryContext, async (attemptNumber) => {
      for (;;) {
        const generation = this.config.clock.generation;
        const result = await this.once(endpoint, params, schema, attemptNumber);
        if (result.ok) return result.value;
        const { failure } = result;
        trace.last = failure;
        trace.attempts++;
        // A refused timestamp: resync once per call, then send again (not yet applied).
        if (!trace.resynced && (await this.resync(failure, generation))) {
          trace.resynced = true;
          continue;
        }
        const ambiguous = isAmbiguous(failure);
        if (endpoint.write && ambiguous) trace.ambiguous = true;
        const text = describeFailure(failure, this.secrets);
        const kind = transientKind(failure);
        if (kind !== undefined && (options.retry === "transient" || !ambiguous)) {
          // withRetry backs off and calls this again, which re-acquires the scheduler.
          throw new TransientFailure(kind, text, failure.kind === "answer" ? failure.code : undefined);
        }
        throw new this.exchange.Rejection(failure, `${what}: ${text}`);
      }
    });
  }

  /** One request, no retry: scheduled, sent, parsed and logged. */
  async once<T extends z.ZodType>(
    endpoint: E,
    params: Record<string, unknown>,
    schema: T,
    attempt: number,
  ): Promise<Attempt<z.output<T>, F>> {
    // The slot counts until the answer is back: the exchange counts the request somewhere in between.
    // The id's prefix is shareOwnerSchedulers' too.
    const scheduler = sharedScheduler(
      `${this.exchange.id}|${this.config.base}|${this.owner(endpoint)}|${endpoint.pool ?? `${endpoint.method} ${endpoint.path}`}`,
      this.config.limits[endpoint.bucket] as RateLimit,
    );
    const done = await scheduler.acquireSlot();
    this.ex.options.timeDifference = this.config.clock.offsetMs;
    const started = Date.now();
    let failure: F;
    try {
      const raw = await this.ex[endpoint.ccxt as E["ccxt"]](params);
      const parsed = this.exchange.envelope(schema).safeParse(raw);
      if (parsed.success) {
        this.#log(endpoint, started, attempt, undefined);
        const value = (parsed.data as Record<string, unknown>)[this.exchange.payloadKey] as z.output<T>;
        return { ok: true, value };
      }
      failure = { kind: "malformed", where: issueWhere(parsed.error) } as F;
    } catch (error) {
      failure = this.exchange.failures.extractFailure(error);
    } finally {
      done();
    }
    // Over the limit although this process kept to it: another process spends the same UID's budget.
    if (this.exchange.failures.transientKind(failure) === "rate-limited") scheduler.saturated();
    this.#log(endpoint, started, attempt, failure);
    return { ok: false, failure };
  }

  #log(endpoint: E, started: number, attempt: number, failure: F | undefined): void {
    this.config.log({
      ...failureLogFields(failure),
      event: "request",
      exchange: this.exchange.id,
      account: this.config.account,
      method: endpoint.method,
      path: endpoint.path,
      ms: Date.now() - started,
      attempt,
      detail: this.who,
    });
  }
}
