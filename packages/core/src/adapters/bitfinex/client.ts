/**
 * The Bitfinex transport: ccxt signs and sends (HMAC-SHA384 over `/api/v2/<path><nonce><body>`,
 * docs/exchanges/bitfinex.md#signing-and-auth-headers); this module adds what ccxt does not do safely for us:
 *
 * - per-key serialisation and the nonce scheme (nonce.ts): the nonce is generated inside the key's queue
 *   slot, right before the request is signed, and handed to ccxt through `ex.nonce`;
 * - the per-IP, per-endpoint rate limit (limits.ts), one slot per HTTP request, taken right before sending;
 * - retries of rate limits, 5xx and network failures (`withRetry`, outside the key's slot so other callers
 *   of the key are not held up by a backoff);
 * - capture of every raw answer (status + body) in ccxt's `onRestResponse` hook, matched to the request by
 *   its nonce, so thrown ccxt errors never need to be trusted or passed on, and error arrays that ccxt
 *   returns as data (HTTP 400/401, docs/exchanges/bitfinex.md#error-codes) are caught;
 * - one LogEntry per HTTP request (method, path, code, status, ms, attempt; the key shortened, no secret).
 *
 * ccxt instances are cached process-wide per (secret object, host, API key): building one costs ~3 ms and
 * each has its own connection pool. Per-key serialisation means an instance never has two requests in flight.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type Credentials, secretsOf } from "../../domain/credentials.js";
import { shortKey } from "../../domain/schemas.js";
import type { Secret } from "../../domain/secret.js";
import { isKeywardError, type KeywardError } from "../../errors.js";
import type { LogSink } from "../../log.js";
import { isBackground } from "../background-work.js";
import ccxt from "../ccxt-modules.js";
import type { AdapterOptions } from "../interface.js";
import { withRetry } from "../retry.js";
import { type BitfinexFailure, type Classified, classify, transientOf } from "./errors.js";
import { endpointScheduler } from "./limits.js";
import { keyQueue, nonceBook } from "./nonce.js";

export type BitfinexPath = "auth/r/permissions" | "auth/r/info/user";

/** The ccxt implicit method for each endpoint (ccxt `abstract/bitfinex.d.ts`, cost 2.7 each). */
const METHODS = {
  "auth/r/permissions": "privatePostAuthRPermissions",
  "auth/r/info/user": "privatePostAuthRInfoUser",
} as const satisfies Record<BitfinexPath, string>;

type Bfx = InstanceType<typeof ccxt.bitfinex>;

interface Transport {
  ex: Bfx;
  /** The nonce the next signed request uses (ccxt calls `ex.nonce()` inside `sign()`). */
  nonce: number;
  /** The last raw answer, tagged with the nonce of the request it answered. */
  seen: { nonce: string; status: number; body: string } | undefined;
}

const transports = new WeakMap<Secret, Map<string, Transport>>();

function transportFor(base: string, credentials: Credentials): Transport {
  let byKey = transports.get(credentials.secret);
  if (!byKey) {
    byKey = new Map();
    transports.set(credentials.secret, byKey);
  }
  const id = `${base}|${credentials.apiKey}`;
  const cached = byKey.get(id);
  if (cached) return cached;
  const ex = new ccxt.bitfinex({
    apiKey: credentials.apiKey,
    // The one place the secret is revealed: ccxt needs it to sign.
    secret: credentials.secret.reveal(),
    urls: { api: { public: base, private: base } },
    enableRateLimit: false,
    userAgent: "",
  });
  const transport: Transport = { ex, nonce: 0, seen: undefined };
  ex.nonce = () => transport.nonce;
  ex.onRestResponse = (
    status: number,
    _statusText: unknown,
    _url: unknown,
    _method: unknown,
    _headers: unknown,
    body: unknown,
    requestHeaders: Record<string, unknown> | undefined,
  ) => {
    const text = typeof body === "string" ? body : "";
    transport.seen = { nonce: String(requestHeaders?.["bfx-nonce"] ?? ""), status, body: text };
    return text.trim();
  };
  byKey.set(id, transport);
  return transport;
}

/** The raw answer to the request signed with `nonce`, if one arrived (a late answer to an earlier request is ignored). */
function answerTo(transport: Transport, nonce: number): Transport["seen"] {
  const seen = transport.seen;
  return seen?.nonce === String(nonce) ? seen : undefined;
}

/** ccxt's timeout covers only the wait for headers (docs/ccxt.md#timeouts); this bounds the whole request. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error("deadline");
      error.name = "RequestTimeout";
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A failed call; `error` is set when retries ran out (withRetry's KeywardError, with its hint). */
export type CallResult = Classified | { ok: false; failure: BitfinexFailure; error?: KeywardError };

export class BitfinexClient {
  readonly #log: LogSink;
  readonly #timeoutMs: number;

  constructor(
    readonly base: string,
    readonly account: string,
    readonly options: AdapterOptions,
  ) {
    this.#log = options.log ?? (() => {});
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** One authenticated call, retried while the answer says "try again". Throws only for Keyward bugs. */
  async call(credentials: Credentials, path: BitfinexPath): Promise<CallResult> {
    let last: BitfinexFailure | undefined;
    try {
      return await withRetry(
        {
          exchange: "bitfinex",
          account: this.account,
          what: `${path} with key ${shortKey(credentials.apiKey)}`,
          log: this.#log,
          options: this.options.retry,
        },
        async (attempt) => {
          const nonce = { rejections: 0 };
          for (;;) {
            // Background work (a wait for a person) takes its rate slot before it queues behind the key,
            // each time: waiting for the slot inside the key's queue would hold back every other request
            // with this key (Verify now, a live listing that probes it) until the background share frees
            // (adapters/background-work.ts). So its nonce retries queue again too, after their pause.
            const reserved = isBackground()
              ? await endpointScheduler(this.base, `/v2/${path}`, this.options).acquireSlot()
              : undefined;
            const step = await keyQueue.run(credentials.apiKey, () =>
              this.#inQueue(credentials, path, attempt, nonce, reserved),
            );
            if ("again" in step) {
              if (step.pauseMs > 0) await sleep(step.pauseMs);
              continue;
            }
            if (!step.ok) {
              last = step.failure;
              const transient = transientOf(step.failure, path);
              if (transient) throw transient;
            }
            return step;
          }
        },
      );
    } catch (error) {
      if (isKeywardError(error) && last) return { ok: false, failure: last, error };
      throw error;
    }
  }

  /**
   * Runs inside the key's queue slot: a request, retried here while its nonce answer says a retry fixes
   * it (after a pause, or at once in the new scheme), so that no other request of the key comes between
   * (docs/exchanges/bitfinex.md#nonce-rules: at most two refusals when a key's scheme is learnt).
   * Background work instead leaves the queue with `again` and queues anew, its rate slot first (see
   * `call`). `nonce` counts the refusals across the retries of one attempt.
   */
  async #inQueue(
    credentials: Credentials,
    path: BitfinexPath,
    attempt: number,
    nonce: { rejections: number },
    reserved?: () => void,
  ): Promise<Classified | { again: true; pauseMs: number }> {
    const apiKey = credentials.apiKey;
    let slot = reserved;
    for (;;) {
      const result = await this.#once(credentials, path, attempt, slot);
      slot = undefined;
      if (result.ok) {
        nonceBook.accepted(apiKey);
        return result;
      }
      const { failure } = result;
      // These answers come after the exchange's nonce check: the nonce was accepted.
      if (failure.kind === "permission" || failure.kind === "params") nonceBook.accepted(apiKey);
      if (failure.kind !== "nonce-small") return result;

      nonce.rejections++;
      const decision = nonceBook.onNonceSmall(apiKey, nonce.rejections);
      if (decision.action === "retry") {
        if (isBackground()) return { again: true, pauseMs: decision.pauseMs };
        await sleep(decision.pauseMs);
        continue;
      }
      if (decision.action === "switched-to-us") {
        nonce.rejections = 0;
        this.#log({
          level: "warn",
          event: "nonce-scheme",
          exchange: "bitfinex",
          account: this.account,
          path: `/v2/${path}`,
          code: failure.code,
          detail: `key ${shortKey(apiKey)} rejects millisecond nonces; switched it to microseconds (docs/exchanges/bitfinex.md#nonce-rules)`,
        });
        if (isBackground()) return { again: true, pauseMs: 0 };
        continue;
      }
      return { ok: false, failure: { ...failure, note: decision.why } };
    }
  }

  /** Exactly one HTTP request: rate-limit slot (unless one was `reserved`), nonce, send, classify, log. */
  async #once(
    credentials: Credentials,
    path: BitfinexPath,
    attempt: number,
    reserved?: () => void,
  ): Promise<Classified> {
    const transport = transportFor(this.base, credentials);
    const scheduler = endpointScheduler(this.base, `/v2/${path}`, this.options);
    // The slot counts until the answer is back, as in the OKX client: the exchange counts the request on
    // arrival, somewhere in between, and on a busy machine a request that started early can arrive late.
    const done = reserved ?? (await scheduler.acquireSlot());
    const nonce = await nonceBook.next(credentials.apiKey);
    const scheme = nonceBook.scheme(credentials.apiKey);
    transport.nonce = nonce;
    transport.seen = undefined;
    transport.ex.timeout = this.#timeoutMs;
    const started = performance.now();
    let value: unknown;
    let thrown: unknown;
    try {
      value = await withDeadline(transport.ex[METHODS[path]]({}), this.#timeoutMs + 2_000);
    } catch (error) {
      thrown = error ?? new Error("unknown failure");
    } finally {
      done();
    }
    const ms = Math.round(performance.now() - started);
    const seen = answerTo(transport, nonce);
    const result = classify({
      ...(thrown === undefined ? { value } : { thrown }),
      ...(seen ? { response: { status: seen.status, body: seen.body } } : {}),
      secrets: secretsOf(credentials),
    });
    // Over the limit although this process kept to it: another process on this IP spends the same
    // budget. Hold every request back for a window rather than retry into an IP block.
    if (!result.ok && result.failure.kind === "rate-limited") scheduler.saturated();
    const status = result.ok ? result.status : (result.failure.status ?? seen?.status);
    this.#log({
      level: result.ok ? "debug" : "info",
      event: "request",
      exchange: "bitfinex",
      account: this.account,
      method: "POST",
      path: `/v2/${path}`,
      code: result.ok ? "0" : result.failure.code,
      ...(status === undefined ? {} : { status }),
      ms,
      attempt,
      detail: `key ${shortKey(credentials.apiKey)}, ${scheme} nonce`,
    });
    return result;
  }
}
