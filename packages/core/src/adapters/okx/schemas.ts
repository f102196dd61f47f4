/**
 * zod schemas for every OKX answer the adapter reads (https://www.okx.com/docs-v5/en/, REST response
 * format). Objects are non-strict on purpose: OKX adds fields over time, and unknown fields are
 * stripped rather than kept. `code` is a string and `data` always an array
 * (docs/exchanges/okx.md#response-envelope-and-http-status).
 */
import { z } from "zod";

/** Epoch milliseconds as OKX sends them: a decimal string. */
const msString = z.string().regex(/^\d{1,16}$/, "expected epoch milliseconds as a string");

/** A success envelope around its `data` (the client asks for an array of items of one shape). */
export const okxSuccess = <T extends z.ZodType>(data: T) =>
  z.object({ code: z.literal("0"), msg: z.string().optional(), data });

/** An error envelope, as ccxt puts it in `"okx " + body`; batch endpoints nest the real code in sCode. */
export const OkxErrorBodySchema = z.object({
  code: z.string().regex(/^\d+$/),
  msg: z.string().optional().default(""),
  data: z
    .array(z.object({ sCode: z.string().optional(), sMsg: z.string().optional() }).loose())
    .optional()
    .catch(undefined),
});

/** #sub-account-rest-api-get-sub-account-list */
export const SubAccountSchema = z.object({
  subAcct: z.string().min(1),
  uid: z.string().min(1),
  ts: msString,
  enable: z.boolean().optional(),
  type: z.string().optional(),
  label: z.string().optional(),
});
export type OkxSubAccount = z.infer<typeof SubAccountSchema>;

/** #sub-account-rest-api-query-the-api-key-of-a-sub-account: never carries a secret. */
export const SubKeySchema = z.object({
  label: z.string(),
  apiKey: z.string().min(1),
  perm: z.string(),
  ip: z.string().default(""),
  ts: msString,
});
export type OkxSubKey = z.infer<typeof SubKeySchema>;

/**
 * #sub-account-rest-api-create-an-api-key-for-a-sub-account: the only answer that ever carries the
 * secret and passphrase. The adapter wraps them in `Secret` at once and never logs this object.
 */
export const CreatedKeySchema = z.object({
  subAcct: z.string().min(1),
  label: z.string(),
  apiKey: z.string().min(1),
  secretKey: z.string().min(1),
  passphrase: z.string().optional(),
  perm: z.string(),
  ip: z.string().default(""),
  ts: msString,
});

/** #sub-account-rest-api-delete-the-api-key-of-sub-accounts */
export const DeletedKeySchema = z.object({ subAcct: z.string() });

/**
 * #trading-account-rest-api-get-account-configuration: describes the calling key (label, perm, ip)
 * and its account (`uid == mainUid` means a master-account key).
 */
export const AccountConfigSchema = z.object({
  uid: z.string().min(1),
  mainUid: z.string().min(1),
  label: z.string().default(""),
  perm: z.string().default(""),
  ip: z.string().default(""),
  type: z.string().optional(),
});
export type OkxAccountConfig = z.infer<typeof AccountConfigSchema>;

/** #public-data-rest-api-get-system-time */
export const PublicTimeSchema = z.object({ ts: msString });
