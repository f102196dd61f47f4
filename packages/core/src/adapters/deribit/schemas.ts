/**
 * zod schemas for every Deribit answer the adapter reads (docs/exchanges/deribit.md#json-rpc-envelope-and-error-codes).
 * Objects are non-strict on purpose (Deribit adds fields; unknown ones are stripped). A success is
 * `{"jsonrpc":"2.0","result":…,"usIn","usOut","usDiff","testnet"}`; an error has `error: {code, message, data?}`.
 *
 * `list_api_keys` answers with every key's `client_secret` (docs/exchanges/deribit.md#listing-keys): the
 * key schema has no such field, so zod strips it here, at the boundary, and no record, cache, log line or
 * error can carry it. Only `create_api_key` and `reset_api_key` keep it (CreatedKeySchema), for the key
 * Keyward itself makes and delivers.
 */
import { z } from "zod";

/** A success envelope around a result of one shape. */
export const deribitSuccess = <T extends z.ZodType>(result: T) => z.object({ result });

/** An error envelope, read from the raw body (ccxt's message is `"deribit " + body`). */
export const DeribitErrorBodySchema = z.object({
  error: z.object({
    code: z.number().int(),
    message: z.string().optional().default(""),
    data: z.object({ reason: z.string().optional() }).passthrough().optional().catch(undefined),
  }),
  /** The server's clock when it answered (µs): used to resync a signing clock after a 13009. */
  usOut: z.number().optional().catch(undefined),
});

/** Deribit's answer to a protected call made without a code (docs/exchanges/deribit.md#the-two-factor-challenge). */
export const ChallengeSchema = z.object({
  security_key_authorization_required: z.literal(true),
  challenge: z.string().min(1),
});
export type Challenge = z.infer<typeof ChallengeSchema>;

/** Labels are the exchange's data: kept inert (no control characters, bounded length). */
const label = z
  .string()
  .default("")
  .transform((s) => s.replace(/\p{Cc}/gu, " ").slice(0, 64));

/** A key as list_api_keys, edit_api_key, disable/enable_api_key describe it, WITHOUT its secret. */
export const ApiKeySchema = z.object({
  id: z.number().int(),
  client_id: z.string().min(1),
  name: label,
  max_scope: z.string().default(""),
  enabled: z.boolean(),
  timestamp: z.number().optional(),
  ip_whitelist: z
    .array(z.string())
    .nullish()
    .transform((v) => v ?? []),
});
export type DeribitKey = z.infer<typeof ApiKeySchema>;

export const ApiKeyListSchema = z.array(ApiKeySchema);

/** create_api_key and reset_api_key: the key with its (new) secret. */
export const CreatedKeySchema = ApiKeySchema.extend({ client_secret: z.string().min(1) });

/** public/auth: only the scope is read; the tokens it also carries are stripped and never kept. */
export const AuthSchema = z.object({ scope: z.string() });

/** get_account_summary: whose the key is. */
export const AccountSummarySchema = z.object({
  id: z.union([z.number(), z.string()]).transform(String),
  username: z.string().optional(),
  type: z.string().optional(),
});

/** remove_api_key: "ok". */
export const OkSchema = z.unknown();
