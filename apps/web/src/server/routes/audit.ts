/** The audit log, newest first and paged by sequence number, with the chain's status (MACs included). */
import { isKeywardError } from "@keyward/core";
import { Hono } from "hono";
import { z } from "zod";
import { query } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

/** A damaged log (a table dropped) is shown as broken, with whatever can still be read, not as a 503. */
async function readable<T>(fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isKeywardError(error) && error.code === "AUDIT_UNAVAILABLE") return fallback;
    throw error;
  }
}

export function auditRoutes({ home, send }: Pick<RouteContext, "home" | "send">) {
  return new Hono().get(
    "/api/audit",
    query(
      z.strictObject({
        limit: z.coerce.number().int().min(1).max(5000).optional(),
        beforeSeq: z.coerce.number().int().min(1).optional(),
      }),
    ),
    async (c) => {
      const q = c.req.valid("query");
      // The server holds the vault open, so verify() checks every entry's MAC with the audit key.
      const log = home.auditLog();
      const all = await readable(() => log.list({ newestFirst: true }), []);
      const older = q.beforeSeq === undefined ? all : all.filter((e) => e.seq < (q.beforeSeq as number));
      const limit = q.limit ?? 200;
      return send(c, {
        entries: older.slice(0, limit),
        total: all.length,
        more: older.length > limit,
        chain: await log.verify(),
        head: await readable(() => log.head(), null),
      });
    },
  );
}
