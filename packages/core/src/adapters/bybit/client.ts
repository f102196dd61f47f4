/**
 * The Bybit transport: a ccxt `bybit` instance per API key (ccxt signs and sends: HMAC-SHA256 of
 * timestamp + key + recv_window + query or body, https://bybit-exchange.github.io/docs/v5/guide), on the
 * shared REST transport (rest-client.ts: per-UID-per-endpoint scheduling, retries, zod parsing, safe error
 * extraction from the raw status and body, one log entry per request). What is Bybit's here: the
 * instance, the `{retCode: 0, result}` envelope and the clock resynchronisation from a 10002 refusal's
 * own server time.
 */

import type { z } from "zod";
import { type Credentials, secretsOf } from "../../domain/credentials.js";
import type { Secret } from "../../domain/secret.js";
import ccxt from "../ccxt-modules.js";
import {
  type CallOptions,
  ccxtInstance,
  type RestClientConfig,
  type RestExchange,
  RestRejection,
  RestTransport,
  uidRegistry,
} from "../rest-client.js";
import { type BybitFailure, failures } from "./errors.js";
import {
  BYBIT_ENDPOINTS,
  type BybitEndpoint,
  type BybitEndpointName,
  type BybitLimits,
  type BybitMethodName,
} from "./limits.js";
import { bybitSuccess } from "./schemas.js";

/** Query parameters (GET) or the JSON body (POST): create-sub-api takes numbers and objects. */
type Params = Record<string, unknown>;

/** UIDs learnt from query-api, so a key's requests count against its UID's buckets. */
export const { rememberUid, ownerFor } = uidRegistry();

/**
 * This machine's clock against Bybit's, for the signing timestamp: ccxt signs with
 * `milliseconds() - options.timeDifference`, and Bybit refuses a timestamp outside
 * `server_time - recv_window <= timestamp < server_time + 1000` with 10002
 * (https://bybit-exchange.github.io/docs/v5/guide). Every answer, a refusal too, carries the server's
 * `time`, so the refusal itself resynchronises (no extra request). Shared by the clients of one adapter.
 */
export class ClockOffset {
  offsetMs = 0;
  generation = 0;

  /** From a refusal's server time, sent back at `received`: the request was signed too far off. */
  resync(serverTime: number, received: number): void {
    this.offsetMs = received - serverTime;
    this.generation++;
  }
}

/** The adapter reads a call's trace to judge writes and probes. */
export { type CallTrace, newTrace } from "../rest-client.js";

export interface BybitClientConfig extends RestClientConfig<BybitLimits> {
  clock: ClockOffset;
}

/** A failure that is not worth retrying, with what Bybit said. Its message holds no secret. */
export class BybitRejection extends RestRejection<BybitFailure> {
  override readonly name = "BybitRejection";
}

/** Bybit as the shared transport needs it. */
const BYBIT: RestExchange<BybitFailure> = {
  id: "bybit",
  failures,
  envelope: bybitSuccess,
  payloadKey: "result",
  pathPrefix: "/v5/",
  Rejection: BybitRejection,
};

export class BybitClient {
  readonly #transport: RestTransport<BybitFailure, BybitEndpoint, BybitLimits>;

  constructor(
    readonly config: BybitClientConfig,
    credentials: Credentials,
    /** Whose rate buckets this key's calls count against; asked again on every attempt. */
    readonly owner: () => string,
    /** Names the key in log entries (never a secret). */
    readonly who: string,
  ) {
    this.#transport = new RestTransport(
      BYBIT,
      config,
      ccxtInstance<BybitMethodName>(
        ccxt.bybit,
        {
          apiKey: credentials.apiKey,
          secret: credentials.secret.reveal(),
          urls: { api: { public: config.base, private: config.base } },
        },
        config.timeoutMs,
      ),
      () => owner(),
      who,
      secretsOf(credentials),
      // 10002: the timestamp was outside the window, so the request was not applied: resync from the
      // refusal's own server time, then send again.
      (failure) => {
        if (failure.kind !== "answer" || failure.code !== "10002" || failure.serverTime === undefined) {
          return false;
        }
        config.clock.resync(failure.serverTime, Date.now());
        return true;
      },
    );
  }

  get secrets(): readonly Secret[] {
    return this.#transport.secrets;
  }

  /** Calls one endpoint and returns its parsed `result`, retrying as `options.retry` allows. */
  call<T extends z.ZodType>(
    name: BybitEndpointName,
    params: Params,
    result: T,
    options: CallOptions<BybitFailure>,
  ): Promise<z.output<T>> {
    return this.#transport.call(BYBIT_ENDPOINTS[name], params, result, options);
  }
}
