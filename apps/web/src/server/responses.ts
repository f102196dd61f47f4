/**
 * How the server answers: JSON that has passed the secret guard, API errors as `{error}` JSON, and the
 * few plain HTML pages a browser lands on directly (login outcomes, 404). Nothing here is cached.
 */
import type { Context, TypedResponse } from "hono";
import type { JSONParsed } from "hono/utils/types";
import { HttpError } from "./http-errors.js";
import type { SecretGuard } from "./secret-guard.js";

/**
 * A JSON answer, withheld if it would carry a secret from the vault. Typed like Hono's `c.json` (the
 * value's JSON shape and the status), so the routes' answers reach the UI's client (`hc<AppType>`) as
 * types; a withheld answer is the 500 error every route may answer. A promise is never a response body
 * (it would serialise as `{}`): awaiting it is the caller's job.
 */
export type Send = <T, S extends 200 | 202 = 200>(
  c: Context,
  value: T extends PromiseLike<unknown> ? never : T,
  status?: S,
) => Promise<Response & TypedResponse<JSONParsed<T>, S, "json">>;

export function jsonSender(guard: SecretGuard, log: (line: string) => void): Send {
  return (async (c: Context, value: unknown, status: 200 | 202 = 200): Promise<Response> => {
    const text = JSON.stringify(value);
    if (await guard.leaks(text)) {
      log(`BUG: withheld a response to ${c.req.method} ${c.req.path} that contained a vault secret`);
      return failure(
        new HttpError(
          500,
          "INTERNAL",
          "response withheld: it would have contained a secret",
          "This is a bug; please report it.",
        ),
      );
    }
    return new Response(text, {
      status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
    });
  }) as Send;
}

/** An API error as JSON. Not passed through the guard: callers that relay foreign messages check first. */
export const failure = (error: HttpError, extra: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(error.body()), {
    status: error.status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra },
  });

/** A bare page for browsers that land outside the UI; `text` is trusted markup from this server. */
export const html = (status: number, title: string, text: string, extra: Record<string, string> = {}) =>
  new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Keyward: ${title}</title><link rel="icon" href="data:,"></head><body><h1>${title}</h1><p>${text}</p></body></html>`,
    {
      status,
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...extra },
    },
  );
