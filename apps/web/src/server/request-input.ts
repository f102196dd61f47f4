/**
 * Request bodies and queries, parsed with zod before any route uses them: a bad one is a 4xx naming
 * what is wrong, never a 500.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import { badRequest, HttpError, parseOr400 } from "./http-errors.js";

const MAX_BODY_BYTES = 64 * 1024;

/**
 * The JSON body, parsed with `schema` (415 if not JSON, 413 if too large, 400 naming the bad field, with
 * the route's hint for that field if it has one).
 */
async function parseBody<S extends z.ZodType>(
  c: Context,
  schema: S,
  hints?: Readonly<Record<string, string>>,
): Promise<z.output<S>> {
  if (!/^application\/json(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new HttpError(
      415,
      "UNSUPPORTED_MEDIA_TYPE",
      "send the body as JSON (Content-Type: application/json)",
      "The Keyward page does this; scripts must too.",
    );
  }
  const tooLarge = () =>
    new HttpError(
      413,
      "TOO_LARGE",
      `the request body is over ${MAX_BODY_BYTES} bytes`,
      "Select fewer keys by id, or use a filter.",
    );
  if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
  // Read at most the limit, whatever the headers claim (chunked bodies have no length).
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = c.req.raw.body?.getReader();
  for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
    size += chunk.value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader?.cancel();
      throw tooLarge();
    }
    chunks.push(chunk.value);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw badRequest("the body is not valid JSON", "Send one JSON object.");
  }
  return parseOr400(schema, json, "body", hints);
}

/** The query string, parsed with `schema` (400 naming the bad parameter; strict schemas refuse extras). */
const parseQuery = <S extends z.ZodType>(c: Context, schema: S): z.output<S> =>
  parseOr400(schema, c.req.query(), "query");

/*
 * The same parsing as route middleware, so each route's input is a type Hono carries to the UI's
 * client (`hc<AppType>`, like Hono's own `validator`): the handler reads it with `c.req.valid(…)`.
 * The checks and their messages are parseBody's and parseQuery's above, unchanged.
 */

/**
 * The JSON body, parsed with `schema` (see parseBody); in the handler: `c.req.valid("json")`. `hints`:
 * what to do about a bad value of one of these fields (a 400's hint), for fields a person types.
 */
export const jsonBody =
  <S extends z.ZodType>(
    schema: S,
    hints?: Readonly<Partial<Record<keyof z.input<S> & string, string>>>,
  ): MiddlewareHandler<object, string, { in: { json: z.input<S> }; out: { json: z.output<S> } }> =>
  async (c, next) => {
    c.req.addValidatedData("json", (await parseBody(c, schema, hints as Record<string, string>)) as object);
    await next();
  };

/** What a query schema takes on the wire: every parameter a string. */
type QueryIn<S extends z.ZodType> = { [K in keyof z.input<S>]?: string };

/** The query string, parsed with `schema` (see parseQuery); in the handler: `c.req.valid("query")`. */
export const query =
  <S extends z.ZodType>(
    schema: S,
  ): MiddlewareHandler<object, string, { in: { query: QueryIn<S> }; out: { query: z.output<S> } }> =>
  async (c, next) => {
    c.req.addValidatedData("query", parseQuery(c, schema) as object);
    await next();
  };

/**
 * The path's `:id`, checked with `schema` before the body is read (a 400 naming "id"); the handler
 * reads it with `c.req.param("id")`.
 */
export const idParam =
  (schema: z.ZodType<string>): MiddlewareHandler =>
  async (c, next) => {
    parseOr400(schema, c.req.param("id"), "id");
    await next();
  };
