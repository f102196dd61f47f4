/**
 * Codes for exchanges' second-factor challenges, posted by the page that follows the job which met
 * them (second-factor.ts). Session- and CSRF-protected like every POST; the code is checked for shape
 * only, goes to the adapter, and is never logged, echoed or kept.
 */
import { Hono } from "hono";
import { z } from "zod";
import { idParam, jsonBody } from "../request-input.js";
import { revokeTarget, rotationTarget } from "../second-factor.js";
import type { RouteContext } from "./route-context.js";

const AnswerSchema = z.strictObject({
  challengeId: z.uuid("is not a challenge id"),
  // Never quoted back: the message names the field only.
  code: z.string().regex(/^\d{6,8}$/, "must be the 6-digit code your authenticator app shows"),
});
const CancelSchema = z.strictObject({ challengeId: z.uuid("is not a challenge id") });

const jobIdParam = idParam(z.uuid("is not a job id"));
const runIdParam = idParam(z.string().regex(/^rot-[a-z0-9]{6}$/, "is not a rotation id (rot-xxxxxx)"));

export function secondFactorRoutes(ctx: Pick<RouteContext, "jobs" | "rotations" | "secondFactor" | "send">) {
  const { jobs, rotations, secondFactor, send } = ctx;
  return new Hono()
    .post("/api/revoke/jobs/:id/second-factor", jobIdParam, jsonBody(AnswerSchema), async (c) => {
      const { challengeId, code } = c.req.valid("json");
      secondFactor.answer(revokeTarget(jobs.get(c.req.param("id"))).key, challengeId, code);
      return send(c, { ok: true });
    })
    .post("/api/revoke/jobs/:id/second-factor/cancel", jobIdParam, jsonBody(CancelSchema), async (c) => {
      secondFactor.cancel(revokeTarget(jobs.get(c.req.param("id"))).key, c.req.valid("json").challengeId);
      return send(c, { ok: true });
    })
    .post("/api/rotation/runs/:id/second-factor", runIdParam, jsonBody(AnswerSchema), async (c) => {
      const { challengeId, code } = c.req.valid("json");
      secondFactor.answer(rotationTarget(await rotations.job(c.req.param("id"))).key, challengeId, code);
      return send(c, { ok: true });
    })
    .post("/api/rotation/runs/:id/second-factor/cancel", runIdParam, jsonBody(CancelSchema), async (c) => {
      const job = await rotations.job(c.req.param("id"));
      secondFactor.cancel(rotationTarget(job).key, c.req.valid("json").challengeId);
      return send(c, { ok: true });
    });
}
