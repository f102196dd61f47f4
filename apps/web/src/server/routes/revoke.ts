/**
 * Bulk revoke: plan (reviewed in the browser), execute (type-to-confirm), then follow the job, prove
 * keys dead on demand, or stop it.
 */
import { isEmptySelector, planLiveRevoke, SelectorSchema } from "@keyward/core";
import type { Context, Hono } from "hono";
import { z } from "zod";
import { badRequest, parseOr400 } from "../http-errors.js";
import { streamJobEvents } from "../job-events.js";
import { liveListing, notFoundAs404 } from "../live-selection.js";
import { parseBody, parseQuery } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

const JobIdSchema = z.uuid("is not a job id");
const jobId = (c: Context): string => parseOr400(JobIdSchema, c.req.param("id"), "path");

export function revokeRoutes(
  app: Hono,
  ctx: Pick<RouteContext, "home" | "inventory" | "jobs" | "guard" | "log" | "send">,
) {
  const { home, inventory, jobs, send } = ctx;

  app.post("/api/revoke/plan", async (c) => {
    const selector = await parseBody(c, SelectorSchema);
    if (isEmptySelector(selector)) {
      throw badRequest(
        "nothing selected",
        "Select keys in the inventory first (or send ids, a filter, or all: true).",
      );
    }
    // Like the CLI: the keys are listed live before planning.
    const { plan, accountErrors } = await notFoundAs404(
      () => planLiveRevoke(home, liveListing(inventory, selector)),
      "Refresh the inventory: the key may be gone already, or its account could not be listed (see the account errors).",
    );
    return send(c, jobs.storePlan(plan, accountErrors));
  });

  app.post("/api/revoke/execute", async (c) => {
    const { planId, confirm } = await parseBody(
      c,
      z.strictObject({ planId: z.uuid("is not a plan id"), confirm: z.string().max(20, "is too long") }),
    );
    const job = await jobs.start(planId, confirm);
    return send(c, { jobId: job.id, job: job.toView() }, 202);
  });

  app.get("/api/revoke/jobs", (c) => {
    parseQuery(c, z.strictObject({}));
    return send(c, { jobs: jobs.list() });
  });

  app.get("/api/revoke/jobs/:id", (c) => send(c, jobs.get(jobId(c)).toView()));

  app.post("/api/revoke/jobs/:id/verify", async (c) => {
    const id = jobId(c);
    const { keyId } = await parseBody(c, z.strictObject({ keyId: z.string().min(1).max(600) }));
    return send(c, await jobs.verifyNow(id, keyId));
  });

  app.post("/api/revoke/jobs/:id/stop", async (c) => {
    const id = jobId(c);
    await parseBody(c, z.strictObject({}));
    return send(c, jobs.stop(id));
  });

  app.get("/api/revoke/jobs/:id/events", (c) => streamJobEvents(c, jobs.get(jobId(c)), ctx));
}
