/**
 * The OKX transport: a ccxt `okx` instance per API key (ccxt signs and sends), on the shared REST
 * transport (rest-client.ts: per-UID-per-endpoint scheduling, retries, zod parsing, safe error
 * extraction, one log entry per request). What is OKX's here: the instance (passphrase, regional host),
 * the `{code: "0", data: [...]}` envelope, the `public/time` endpoint (counted per IP) and the clock
 * resynchronisation after 50102.
 */

import { z } from "zod";
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
import { failures, type OkxFailure } from "./errors.js";
import {
  type BucketOwner,
  OKX_ENDPOINTS,
  type OkxEndpoint,
  type OkxEndpointName,
  type OkxLimits,
  type OkxMethodName,
} from "./limits.js";
import { okxSuccess, PublicTimeSchema } from "./schemas.js";

type Params = Record<string, string>;

/** UIDs learnt from `account/config`, so a key's requests count against its UID's buckets. */
export const { rememberUid, ownerFor } = uidRegistry();

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

/** The adapter reads a call's trace to judge writes and probes. */
export { type CallTrace, newTrace } from "../rest-client.js";

export interface OkxClientConfig extends RestClientConfig<OkxLimits> {
  clock: ClockSync;
}

/** A call's final, non-retryable failure. The message is built by the transport and holds no secret. */
export class OkxRejection extends RestRejection<OkxFailure> {
  override readonly name = "OkxRejection";
}

/** OKX as the shared transport needs it. */
const OKX: RestExchange<OkxFailure> = {
  id: "okx",
  failures,
  envelope: okxSuccess,
  payloadKey: "data",
  pathPrefix: "/api/v5/",
  Rejection: OkxRejection,
};

export class OkxClient {
  readonly #transport: RestTransport<OkxFailure, OkxEndpoint, OkxLimits>;

  constructor(
    readonly config: OkxClientConfig,
    credentials: Credentials,
    /** Whose rate buckets this key's private calls count against; asked again on every attempt. */
    readonly owner: () => BucketOwner,
    /** Names the key in log entries (never a secret), e.g. `account key` or `probe abcd…wxyz`. */
    readonly who: string,
  ) {
    this.#transport = new RestTransport(
      OKX,
      config,
      ccxtInstance<OkxMethodName>(
        ccxt.okx,
        {
          apiKey: credentials.apiKey,
          secret: credentials.secret.reveal(),
          password: credentials.passphrase?.reveal(),
          urls: { api: { rest: config.base } },
        },
        config.timeoutMs,
      ),
      // public/time counts per IP, the private endpoints per UID.
      (endpoint) => (endpoint.bucket === "publicTime" ? "ip" : owner()),
      who,
      secretsOf(credentials),
      // 50102 "Timestamp request expired": resync from public/time, then send again (not yet applied).
      async (failure, generation) => {
        if (failure.kind !== "answer" || failure.code !== "50102") return false;
        await config.clock.resync(() => this.#serverTime(), generation);
        return true;
      },
    );
  }

  get secrets(): readonly Secret[] {
    return this.#transport.secrets;
  }

  /** Calls one endpoint and returns its parsed `data` items, retrying as `options.retry` allows. */
  call<T extends z.ZodType>(
    name: OkxEndpointName,
    params: Params,
    item: T,
    options: CallOptions<OkxFailure>,
  ): Promise<z.output<T>[]> {
    return this.#transport.call(OKX_ENDPOINTS[name], params, z.array(item), options);
  }

  async #serverTime(): Promise<number | undefined> {
    const result = await this.#transport.once(OKX_ENDPOINTS.publicTime, {}, z.array(PublicTimeSchema), 1);
    const ts = result.ok ? result.value[0]?.ts : undefined;
    return ts === undefined ? undefined : Number(ts);
  }
}
