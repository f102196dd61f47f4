/**
 * The audit log, a page at a time: filtered and paged in the store (core's queryAudit: the route never
 * loads the whole log), each entry with core's words for it (`view`: the same subjects and outcome
 * words as the CLI), and the chain's status (MACs included), verified again only when the log changed
 * (core's cachedAuditVerifier: a page load of a 100k-entry log must not re-hash it every time).
 */
import {
  AUDIT_PAGE_MAX,
  type AuditPage,
  type AuditQuery,
  AuditQueryError,
  AuditQuerySchema,
  auditLabels,
  cachedAuditVerifier,
  isKeywardError,
  presentAuditEntry,
} from "@keyward/core";
import { Hono } from "hono";
import { z } from "zod";
import { badRequest, describeIssues, FIX_THE_REQUEST } from "../http-errors.js";
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

/** The page's default size: the web shows more than a terminal. */
const WEB_PAGE = 200;

/** Query text; an empty parameter (a cleared filter field) is no filter. */
const param = z
  .string()
  .max(200)
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

const AuditParams = z.strictObject({
  action: param,
  account: param,
  exchange: param,
  key: param,
  since: param,
  until: param,
  search: param,
  limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
  beforeSeq: z.coerce.number().int().min(1).optional(),
});

/** The parameters as core's query, or a 400 naming the one that is wrong. */
function auditQuery(params: z.output<typeof AuditParams>): AuditQuery {
  const defined = Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
  const parsed = AuditQuerySchema.safeParse({ limit: WEB_PAGE, ...defined });
  if (!parsed.success) throw badRequest(describeIssues(parsed.error, "query"), FIX_THE_REQUEST);
  return parsed.data;
}

export function auditRoutes({ home, send }: Pick<RouteContext, "home" | "send">) {
  const verify = cachedAuditVerifier();
  return new Hono().get("/api/audit", query(AuditParams), async (c) => {
    const q = auditQuery(c.req.valid("query"));
    // The server holds the vault open, so verify() checks every entry's MAC with the audit key.
    const log = home.auditLog();
    const empty: AuditPage = { entries: [], total: 0, next: null };
    const page = await readable(async () => {
      try {
        return await log.page(q);
      } catch (error) {
        if (error instanceof AuditQueryError)
          throw badRequest(`${error.field}: ${error.message}`, FIX_THE_REQUEST);
        throw error;
      }
    }, empty);
    const labels = await readable(
      () => auditLabels(home.state(), page.entries, home.config.accounts),
      undefined,
    );
    return send(c, {
      entries: page.entries.map((e) => ({
        ...e,
        ...(labels === undefined ? {} : { view: presentAuditEntry(e, labels) }),
      })),
      total: page.total,
      more: page.next !== null,
      next: page.next,
      chain: await verify(log),
      head: await readable(() => log.head(), null),
    });
  });
}
