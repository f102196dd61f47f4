/**
 * Bybit's rate limits for the endpoints the adapter calls. Bybit counts private requests per UID per
 * second (https://bybit-exchange.github.io/docs/v5/rate-limit), but its table gives no figure for the
 * `/v5/user/*` key endpoints. Keyward assumes what ccxt's bybit class encodes for them (reads cost 5,
 * writes cost 10 against its 20 ms unit: 10 reads and 5 writes per second), as the simulator does
 * (its limits are overridable); docs/exchanges/bybit.md#rate-limits records the choice. Buckets are keyed per UID and endpoint, as
 * OKX's are, and shared process-wide.
 */
import type { WindowLimit } from "../rate-limiter.js";
import type { RestEndpoint } from "../rest-client.js";

/** Bucket names, as `AdapterOptions.rateLimits` overrides them. */
export type BybitBucket = "read" | "write";

export type BybitLimits = Record<BybitBucket, WindowLimit>;

export const BYBIT_LIMITS: BybitLimits = {
  /** query-api, submembers, sub-apikeys: ccxt's 10 / s (UNCONFIRMED by Bybit's docs). */
  read: { limit: 10, windowMs: 1_000 },
  /** create / update / delete a key: ccxt's 5 / s (UNCONFIRMED by Bybit's docs). */
  write: { limit: 5, windowMs: 1_000 },
};

/** The ccxt implicit methods for the endpoints (ccxt `abstract/bybit.d.ts`). */
export type BybitMethodName =
  | "privateGetV5UserQueryApi"
  | "privateGetV5UserSubmembers"
  | "privateGetV5UserSubApikeys"
  | "privatePostV5UserCreateSubApi"
  | "privatePostV5UserDeleteSubApi"
  | "privatePostV5UserDeleteApi";

export type BybitEndpoint = RestEndpoint<BybitBucket, BybitMethodName>;

/** Each entry's comment names its page under https://bybit-exchange.github.io/docs/v5/user/. */
export const BYBIT_ENDPOINTS = {
  /** apikey-info: the calling key, any permission. */
  queryApi: {
    method: "GET",
    path: "/v5/user/query-api",
    bucket: "read",
    ccxt: "privateGetV5UserQueryApi",
    write: false,
  },
  /**
   * page-subuid: the master's sub-members, `pageSize` up to 100, `nextCursor` paging. Not subuid-list
   * (query-sub-members): that one answers at most 10,000 in one page, and a desk beyond it would lose keys.
   */
  subMembers: {
    method: "GET",
    path: "/v5/user/submembers",
    bucket: "read",
    ccxt: "privateGetV5UserSubmembers",
    write: false,
  },
  /** list-sub-apikeys: one sub-member's keys, `limit` 1-20, cursor paging. */
  subKeys: {
    method: "GET",
    path: "/v5/user/sub-apikeys",
    bucket: "read",
    ccxt: "privateGetV5UserSubApikeys",
    write: false,
  },
  /** create-subuid-apikey: the only answer that carries a secret. */
  createSubKey: {
    method: "POST",
    path: "/v5/user/create-sub-api",
    bucket: "write",
    ccxt: "privatePostV5UserCreateSubApi",
    write: true,
  },
  /** rm-sub-apikey: a master deletes a sub-member's key by `apikey`. */
  deleteSubKey: {
    method: "POST",
    path: "/v5/user/delete-sub-api",
    bucket: "write",
    ccxt: "privatePostV5UserDeleteSubApi",
    write: true,
  },
  /** rm-master-apikey: the calling master key deletes itself, at once. */
  deleteOwnKey: {
    method: "POST",
    path: "/v5/user/delete-api",
    bucket: "write",
    ccxt: "privatePostV5UserDeleteApi",
    write: true,
  },
} as const satisfies Record<string, BybitEndpoint>;

export type BybitEndpointName = keyof typeof BYBIT_ENDPOINTS;
