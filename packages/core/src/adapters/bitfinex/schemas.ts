/**
 * Bitfinex v2 answers as zod schemas (docs/exchanges/bitfinex.md#endpoints-keyward-uses,
 * docs/exchanges/bitfinex.md#error-codes). Everything the adapter reads from the exchange goes through one of
 * these; anything else is "an unexpected answer".
 */
import { z } from "zod";

/** `POST /v2/auth/r/permissions`: `[[SCOPE, READ 0/1, WRITE 0/1], …]`. */
export const PermissionTripleSchema = z.tuple([z.string().min(1), z.number().int(), z.number().int()]);
export const PermissionsAnswerSchema = z.array(PermissionTripleSchema);
export type PermissionTriple = z.infer<typeof PermissionTripleSchema>;

/**
 * `POST /v2/auth/r/info/user`: a positional array; [0] ID, [1] EMAIL, [2] USERNAME, …
 * (docs/exchanges/bitfinex.md#endpoints-keyward-uses). Only the first two are used; the rest may be anything.
 */
export const UserInfoAnswerSchema = z.tuple(
  [z.union([z.number().int(), z.string().min(1)]), z.string().nullable().optional()],
  z.unknown(),
);

/**
 * `["error", CODE, "message"]`. CODE is normally a number; one observed rate-limit answer has `null`
 * there (`["error", null, "ERR_RATE_LIMIT"]`, ccxt PR #18601), so it is taken loosely.
 */
export const ErrorArraySchema = z.tuple(
  [z.literal("error"), z.union([z.number(), z.string()]).nullable().optional(), z.unknown().optional()],
  z.unknown(),
);
export type ErrorArray = z.infer<typeof ErrorArraySchema>;

/** Object-shaped errors: `{"error":"ERR_RATE_LIMIT"}` (ccxt/ccxt#6467), `{"error":"temporarily_unavailable"}`. */
export const ErrorObjectSchema = z.looseObject({
  error: z.string().optional(),
  message: z.string().optional(),
});

/**
 * ccxt returns 400/401 error arrays as data instead of throwing (docs/exchanges/bitfinex.md#error-codes):
 * always check.
 */
export const isErrorArray = (value: unknown): value is ErrorArray =>
  Array.isArray(value) && value[0] === "error";
