/**
 * Bulk revoke: plan (reviewed in the browser), execute (type-to-confirm), then follow the job, prove
 * keys dead on demand, or stop it.
 */
import { isEmptySelector, planLiveRevoke, SelectorSchema } from "@keyward/core";
import { Hono } from "hono";
import { z } from "zod";
import { badRequest } from "../http-errors.js";
import { streamJobEvents } from "../job-events.js";
import { liveListing, notFoundAs404 } from "../live-selection.js";
import { idParam, jsonBody, query } from "../request-input.js";
import { revokeTarget } from "../second-factor.js";
import type { RouteContext } from "./route-context.js";

const JobIdSchema = z.uuid("is not a job id");
/**
 * The selection, and whether keys with a kill switch are disabled before any is removed (default true,
 * as in the CLI: the incident default; the page's box unticked sends false).
 */
const PlanRequestSchema = SelectorSchema.extend({
  disableFirst: z.boolean().optional(),
  /** The Scan page's "Revoke these": the scan's audit entry, recorded in `revoke.requested` (start-revoke.ts). */
  cause: z.strictObject({ scan: z.number().int().positive() }).optional(),
});
/** The path's job id, checked first (idParam), as before any body is read. */
const jobIdParam = idParam(JobIdSchema);

export function revokeRoutes(
  ctx: Pick<
    RouteContext,
    "home" | "inventory" | "jobs" | "scans" | "guard" | "log" | "send" | "secondFactor"
  >,
) {
  const { home, inventory, jobs, scans, send } = ctx;

  return new Hono()
    .post("/api/revoke/plan", jsonBody(PlanRequestSchema), async (c) => {
      const { disableFirst, cause, ...selector } = c.req.valid("json");
      if (isEmptySelector(selector)) {
        throw badRequest(
          "nothing selected",
          "Select keys in the inventory first (or send ids, a filter, or all: true).",
        );
      }
      if (cause) {
        const found = scans.revocableOf(cause.scan);
        if (!found) {
          throw badRequest(
            "cause: no scan on this server was audited as that entry",
            "Scan again on the Scan page and use its Revoke these, or review the plan without a cause.",
          );
        }
        // The scan is the cause only of keys it found: ids it listed as revocable, nothing else.
        if (!isEmptySelector({ ...selector, ids: [] }) || !selector.ids.every((id) => found.includes(id))) {
          throw badRequest(
            "cause: that scan did not find every key selected",
            "Use the scan's Revoke these as it is, or review the plan without a cause.",
          );
        }
      }
      // Like the CLI: the keys are listed live before planning.
      const { plan, accountErrors } = await notFoundAs404(
        () =>
          planLiveRevoke(home, {
            ...liveListing(inventory, selector),
            ...(disableFirst === undefined ? {} : { disableFirst }),
          }),
        "Refresh the inventory: the key may be gone already, or its account could not be listed (see the account errors).",
      );
      return send(c, jobs.storePlan(plan, accountErrors, cause));
    })

    .post(
      "/api/revoke/execute",
      jsonBody(
        z.strictObject({ planId: z.uuid("is not a plan id"), confirm: z.string().max(20, "is too long") }),
      ),
      async (c) => {
        const { planId, confirm } = c.req.valid("json");
        const job = await jobs.start(planId, confirm);
        return send(c, { jobId: job.id, job: job.toView() }, 202);
      },
    )

    .get("/api/revoke/jobs", query(z.strictObject({})), (c) => send(c, { jobs: jobs.list() }))

    .get("/api/revoke/jobs/:id", jobIdParam, (c) => send(c, jobs.get(c.req.param("id")).toView()))

    .post(
      "/api/revoke/jobs/:id/verify",
      jobIdParam,
      jsonBody(z.strictObject({ keyId: z.string().min(1).max(600) })),
      async (c) => send(c, await jobs.verifyNow(c.req.param("id"), c.req.valid("json").keyId)),
    )

    .post("/api/revoke/jobs/:id/stop", jobIdParam, jsonBody(z.strictObject({})), async (c) => {
      const job = jobs.get(c.req.param("id"));
      // A code field still open fails its step now, rather than holding the stop until it expires.
      ctx.secondFactor.cancelAll(revokeTarget(job).key);
      return send(c, jobs.stop(job.id));
    })

    .get("/api/revoke/jobs/:id/events", jobIdParam, (c) =>
      streamJobEvents(c, jobs.get(c.req.param("id")), ctx),
    );
}
