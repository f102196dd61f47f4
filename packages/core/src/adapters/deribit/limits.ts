/**
 * Deribit's rate limit: a credit-based leaky bucket per (sub)account, shared by all of its keys, every
 * method and every program trading on it (docs/exchanges/deribit.md#rate-limits): each request costs 500
 * credits, the bucket holds 50,000 and refills 10,000 a second. The bucket's level is not Keyward's to
 * know (the account's bots spend it too), so Keyward never counts on its burst: it paces at the refill
 * rate, 20 requests in any second per account (a burst of at most 20: a fifth of the bucket), one
 * `credits` pool for every endpoint. A 10028 is retried after a back-off but must not happen in a normal run.
 * ccxt's own throttle is off (rest-client.ts).
 */
import type { WindowLimit } from "../rate-limiter.js";
import type { RestEndpoint } from "../rest-client.js";

/** Bucket names, as `AdapterOptions.rateLimits` overrides them. */
export type DeribitBucket = "credits";

export type DeribitLimits = Record<DeribitBucket, WindowLimit>;

export const DERIBIT_LIMITS: DeribitLimits = {
  /** 10,000 credits a second / 500 a request = 20 a second (figures UNCONFIRMED secondary). */
  credits: { limit: 20, windowMs: 1_000 },
};

/** The ccxt implicit methods (ccxt deribit.js's api list; `edit_api_key` is added by client.ts). */
export type DeribitMethodName =
  | "publicGetAuth"
  | "privateGetGetAccountSummary"
  | "privateGetListApiKeys"
  | "privateGetCreateApiKey"
  | "privateGetEditApiKey"
  | "privateGetRemoveApiKey"
  | "privateGetDisableApiKey"
  | "privateGetEnableApiKey"
  | "privateGetResetApiKey";

export type DeribitEndpoint = RestEndpoint<DeribitBucket, DeribitMethodName>;

const endpoint = (
  name: string,
  api: "public" | "private",
  ccxt: DeribitMethodName,
  write: boolean,
): DeribitEndpoint => ({
  method: "GET",
  path: `/api/v2/${api}/${name}`,
  bucket: "credits",
  ccxt,
  write,
  // One budget per account for every method: the scheduler keys the bucket by owner only.
  pool: "credits",
});

/** Each entry's page is https://docs.deribit.com/api-reference/…/<public|private>-<name>. */
export const DERIBIT_ENDPOINTS = {
  /** public-auth: `client_signature` proves a key without sending its secret (probes). */
  auth: endpoint("auth", "public", "publicGetAuth", false),
  /** private-get_account_summary: the cheap read that says whose the key is (user id, main or subaccount). */
  accountSummary: endpoint("get_account_summary", "private", "privateGetGetAccountSummary", false),
  /** private-list_api_keys: every key of the caller's account, WITH its secret (dropped by schemas.ts). */
  listKeys: endpoint("list_api_keys", "private", "privateGetListApiKeys", false),
  /** private-create_api_key: two-factor protected; the only answer Keyward keeps a secret from. */
  createKey: endpoint("create_api_key", "private", "privateGetCreateApiKey", true),
  /** private-edit_api_key: scope, name and IP whitelist; two-factor protected; not in ccxt's list. */
  editKey: endpoint("edit_api_key", "private", "privateGetEditApiKey", true),
  /** private-remove_api_key: two-factor protected (UNCONFIRMED). */
  removeKey: endpoint("remove_api_key", "private", "privateGetRemoveApiKey", true),
  /** private-disable_api_key: the kill switch, not protected (UNCONFIRMED). */
  disableKey: endpoint("disable_api_key", "private", "privateGetDisableApiKey", true),
  enableKey: endpoint("enable_api_key", "private", "privateGetEnableApiKey", true),
  /** private-reset_api_key: a new secret for the same id; two-factor protected (UNCONFIRMED). */
  resetKey: endpoint("reset_api_key", "private", "privateGetResetApiKey", true),
} as const satisfies Record<string, DeribitEndpoint>;

export type DeribitEndpointName = keyof typeof DERIBIT_ENDPOINTS;
