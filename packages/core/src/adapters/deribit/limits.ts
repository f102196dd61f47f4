/**
 * Deribit's rate limit: a credit-based leaky bucket per (sub)account, shared by all of its keys, every
 * method and every program trading on it (docs/exchanges/deribit.md#rate-limits): each request costs 500
 * credits, the bucket holds 50,000 and refills 10,000 a second. The bucket's level is not Keyward's to
 * know (the account's bots spend it too, and may leave it empty), so Keyward assumes it empty and never
 * counts on a burst: it paces at the refill rate, one request every 500 / 10,000 s = 50 ms per account,
 * made 5% slower (52.5 ms) so that the spread of network delays between two requests of a run (a few ms
 * at most, against a margin that grows by 2.5 ms with every request) and a server clock that refills a
 * little slower than ours do not turn into a 10028; a run's first request, whose delay no factor covers,
 * holds the next start until its answer (PacedScheduler in rate-limiter.ts). A window of 20 in any second
 * (before) allowed a burst of 20, which a drained bucket refuses. One `credits` pool for every endpoint,
 * one scheduler per account (client.ts joins the key's first requests to its user id's). A 10028 is
 * retried after a back-off but must not happen in a normal run. ccxt's own throttle is off (rest-client.ts).
 */
import type { PaceLimit, RateLimit } from "../rate-limiter.js";
import type { RestEndpoint } from "../rest-client.js";

/** Bucket names, as `AdapterOptions.rateLimits` overrides them (with a pace, or a window in tests). */
export type DeribitBucket = "credits";

export type DeribitLimits = Record<DeribitBucket, RateLimit>;

/** The refill rate's interval, 500 credits / 10,000 a second (figures UNCONFIRMED secondary). */
export const DERIBIT_REFILL_INTERVAL_MS = (500 * 1_000) / 10_000;

/** The safety factor on the refill interval (see above). */
export const DERIBIT_PACE_FACTOR = 1.05;

export const DERIBIT_LIMITS = {
  credits: { intervalMs: DERIBIT_REFILL_INTERVAL_MS * DERIBIT_PACE_FACTOR } satisfies PaceLimit,
} satisfies DeribitLimits;

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
