/**
 * OKX's documented rate limits and the endpoints the adapter calls, in one table.
 *
 * Private REST limits are counted per User ID and per endpoint ("Rate limit rule: User ID",
 * https://www.okx.com/docs-v5/en/#overview-rate-limits): every key of one UID shares a bucket, and the
 * sub-account list, the key query, create, modify and delete each have their own. So the adapter keys
 * its client-side schedulers the same way (`okx|<base>|uid:<uid>|<METHOD path>`) and shares them
 * process-wide through `sharedScheduler`: two adapter instances using one master draw from one budget.
 * ccxt's own throttle is per instance and a leaky bucket, so it is switched off
 * (docs/exchanges/okx.md#rate-limits).
 */
import type { WindowLimit } from "../rate-limiter.js";
import type { RestEndpoint } from "../rest-client.js";

/** Bucket names, as `AdapterOptions.rateLimits` overrides them (tests shrink them with the simulator's). */
export type OkxBucket = "read" | "write" | "config" | "publicTime";

export type OkxLimits = Record<OkxBucket, WindowLimit>;

export const OKX_LIMITS: OkxLimits = {
  /** users/subaccount/list and users/subaccount/apikey (GET): 20 / 2 s per UID each. The list was
   * documented as 2 / 2 s until Sep 2025 (docs/exchanges/okx.md#rate-limits); 20 / 2 s is the current
   * figure. */
  read: { limit: 20, windowMs: 2_000 },
  /** create / modify / delete a sub-account key: 1 / s per UID each. */
  write: { limit: 1, windowMs: 1_000 },
  /** account/config: 5 / 2 s per UID. */
  config: { limit: 5, windowMs: 2_000 },
  /** public/time: 10 / 2 s per IP (https://www.okx.com/docs-v5/en/#public-data-rest-api-get-system-time). */
  publicTime: { limit: 10, windowMs: 2_000 },
};

/** The ccxt implicit methods the adapter uses (ccxt `abstract/okx.d.ts`). */
export type OkxMethodName =
  | "privateGetUsersSubaccountList"
  | "privateGetUsersSubaccountApikey"
  | "privatePostUsersSubaccountApikey"
  | "privatePostUsersSubaccountDeleteApikey"
  | "privateGetAccountConfig"
  | "publicGetPublicTime";

export type OkxEndpoint = RestEndpoint<OkxBucket, OkxMethodName>;

/** Keyed by a short name; each entry's comment names its section of https://www.okx.com/docs-v5/en/ (the anchor). */
export const OKX_ENDPOINTS = {
  /** #sub-account-rest-api-get-sub-account-list */
  subAccounts: {
    method: "GET",
    path: "/api/v5/users/subaccount/list",
    bucket: "read",
    ccxt: "privateGetUsersSubaccountList",
    write: false,
  },
  /** #sub-account-rest-api-query-the-api-key-of-a-sub-account */
  subKeys: {
    method: "GET",
    path: "/api/v5/users/subaccount/apikey",
    bucket: "read",
    ccxt: "privateGetUsersSubaccountApikey",
    write: false,
  },
  /** #sub-account-rest-api-create-an-api-key-for-a-sub-account */
  createKey: {
    method: "POST",
    path: "/api/v5/users/subaccount/apikey",
    bucket: "write",
    ccxt: "privatePostUsersSubaccountApikey",
    write: true,
  },
  /** #sub-account-rest-api-delete-the-api-key-of-sub-accounts */
  deleteKey: {
    method: "POST",
    path: "/api/v5/users/subaccount/delete-apikey",
    bucket: "write",
    ccxt: "privatePostUsersSubaccountDeleteApikey",
    write: true,
  },
  /** #trading-account-rest-api-get-account-configuration: the only endpoint describing the calling key. */
  accountConfig: {
    method: "GET",
    path: "/api/v5/account/config",
    bucket: "config",
    ccxt: "privateGetAccountConfig",
    write: false,
  },
  /** #public-data-rest-api-get-system-time: for resynchronising after 50102. */
  publicTime: {
    method: "GET",
    path: "/api/v5/public/time",
    bucket: "publicTime",
    ccxt: "publicGetPublicTime",
    write: false,
  },
} as const satisfies Record<string, OkxEndpoint>;

export type OkxEndpointName = keyof typeof OKX_ENDPOINTS;

/**
 * Who a request counts against: `uid:<uid>` once the caller's UID is known, else `key:<apiKey>` (a key
 * belongs to one UID, so this is never looser than the exchange), or `ip` for public endpoints. The
 * shared transport keys its schedulers `okx|<base>|<owner>|<METHOD path>`.
 */
export type BucketOwner = `uid:${string}` | `key:${string}` | "ip";
