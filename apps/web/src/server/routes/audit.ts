/** The audit log, newest first and paged by sequence number, with the hash chain's status. */
import type { Hono } from "hono";
import { z } from "zod";
import { parseQuery } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

export function auditRoutes(app: Hono, { home, send }: Pick<RouteContext, "home" | "send">) {
  app.get("/api/audit", (c) => {
    const q = parseQuery(
      c,
      z.strictObject({
        limit: z.coerce.number().int().min(1).max(5000).optional(),
        beforeSeq: z.coerce.number().int().min(1).optional(),
      }),
    );
    const log = home.auditLog();
    const all = log.list({ newestFirst: true });
    const older = q.beforeSeq === undefined ? all : all.filter((e) => e.seq < (q.beforeSeq as number));
    const limit = q.limit ?? 200;
    return send(c, {
      entries: older.slice(0, limit),
      total: all.length,
      more: older.length > limit,
      chain: log.verify(),
      head: log.head(),
    });
  });
}
