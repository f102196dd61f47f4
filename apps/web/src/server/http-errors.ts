/**
 * Errors as the browser sees them: an HTTP status and `{error: {code, message, hint}}`, where the hint
 * always says what to do. Request bodies and queries are checked with zod (core's schemas where they
 * exist); a bad one is a 400 naming the field, never a 500.
 */
import { type ErrorCode, isKeywardError } from "@keyward/core";
import type { z } from "zod";

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 421 | 429 | 500 | 502 | 503;

export interface ApiErrorBody {
  error: { code: string; message: string; hint?: string };
}

/** An error the server answers with as is (status, code, message, hint). */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: HttpStatus,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }

  body(): ApiErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) } };
  }
}

export const badRequest = (message: string, hint?: string) =>
  new HttpError(400, "BAD_REQUEST", message, hint);

/**
 * HTTP status for core's error codes: input problems are 4xx, exchange and storage trouble 5xx. A code
 * core adds later answers 500 until it is listed here.
 */
const STATUS: Partial<Record<ErrorCode, HttpStatus>> = {
  CONFIG_INVALID: 400,
  ACCOUNT_NOT_FOUND: 404,
  KEY_NOT_FOUND: 404,
  NOT_SUPPORTED: 400,
  NOT_MASTER: 400,
  EXCHANGE_AUTH: 502,
  EXCHANGE_PERMISSION: 502,
  EXCHANGE_RATE_LIMITED: 503,
  EXCHANGE_UNAVAILABLE: 502,
  EXCHANGE_REJECTED: 502,
  // The exchange asked for a two-factor code no one gave (or the person cancelled): a conflict with the
  // job's state, not a server fault. A code the exchange refused is bad input.
  SECOND_FACTOR_REQUIRED: 409,
  SECOND_FACTOR_REFUSED: 400,
  CREATE_OUTCOME_UNKNOWN: 502,
  VAULT_MISSING: 503,
  VAULT_EXISTS: 409,
  VAULT_PASSPHRASE: 503,
  VAULT_CORRUPT: 503,
  VAULT_CONFLICT: 409,
  VAULT_IO: 503,
  STATE_UNAVAILABLE: 503,
  AUDIT_UNAVAILABLE: 503,
  AUDIT_INVALID: 500,
  DELIVERY_FAILED: 502,
  VERIFICATION_FAILED: 502,
  ROTATION_CONFLICT: 409,
  JOURNAL_TAMPERED: 409,
  TARGET_NOT_ALLOWED: 400,
  CLI_ONLY: 409,
  NOT_WAITING: 409,
  ACCOUNT_KEY_CHANGED: 409,
  INTERNAL: 500,
};

/** Any thrown value as an HttpError; unknown errors become a 500 that names no internals. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isKeywardError(error)) {
    return new HttpError(STATUS[error.code] ?? 500, error.code, error.message, error.hint);
  }
  return new HttpError(
    500,
    "INTERNAL",
    "internal error in the Keyward web server",
    "This is a bug; the server's terminal shows the details. Please report it with what you clicked.",
  );
}

/**
 * "ids.0: Invalid input…; confirm: is required": each issue under the field it is about, as the person
 * reads the form (never "body: path: …": where the field sits in the request is the server's business).
 * An issue about the input as a whole (not an object, an unknown field) is named by `where` ("body",
 * "query", "id").
 */
export const describeIssues = (error: z.ZodError, where: string): string =>
  error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join(".") || where}: ${i.message}`)
    .join("; ");

/** What to do about a bad request, when its route has nothing more particular to say. */
export const FIX_THE_REQUEST = "Fix the request; the fields are listed in the message.";

/**
 * Parses with a schema or throws a 400 naming the bad fields. `hints`: what to do when the (first) bad
 * field is one of these (e.g. the Scan page's path: "Type the full path…"); else FIX_THE_REQUEST.
 */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: string,
  hints: Readonly<Record<string, string>> = {},
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const field = String(parsed.error.issues[0]?.path[0] ?? "");
    throw badRequest(describeIssues(parsed.error, where), (field && hints[field]) || FIX_THE_REQUEST);
  }
  return parsed.data;
}
