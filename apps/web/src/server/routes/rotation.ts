/**
 * Bulk rotation through core's engine (file delivery targets only from the browser): plan, apply, then
 * follow, resume, stop or abort a run, and hand over the new key for an assisted slot (browser → vault).
 */
import {
  CredentialsInputSchema,
  isEmptySelector,
  SelectorSchema,
  TARGET_OPTIONS,
  type TargetOptionName,
} from "@keyward/core";
import { Hono } from "hono";
import { z } from "zod";
import { deliveryTargetsView } from "../delivery-targets.js";
import { badRequest } from "../http-errors.js";
import { streamJobEvents } from "../job-events.js";
import { selectLive } from "../live-selection.js";
import { idParam, jsonBody, query } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

/** Each target kind's own options, by the driver's option name, as optional body fields. */
const TargetOptionsBody = Object.fromEntries(
  TARGET_OPTIONS.map((o) => [o.name, z.string().min(1).max(200).nullable().optional()]),
) as { [K in TargetOptionName]: z.ZodOptional<z.ZodNullable<z.ZodString>> };

const RunIdSchema = z.string().regex(/^rot-[a-z0-9]{6}$/, "is not a rotation id (rot-xxxxxx)");
/** The path's run id, checked first (idParam), as before any body is read. */
const runIdParam = idParam(RunIdSchema);

export function rotationRoutes(
  ctx: Pick<RouteContext, "home" | "inventory" | "rotations" | "guard" | "log" | "send">,
) {
  const { home, inventory, rotations, send } = ctx;

  return new Hono()
    .get("/api/rotation/targets", query(z.strictObject({})), (c) => send(c, deliveryTargetsView()))

    .post(
      "/api/rotation/plan",
      jsonBody(
        z.strictObject({
          selector: SelectorSchema,
          deliver: z.array(z.string().min(1).max(1000)).max(20),
          /** A new secret for the same key id where the exchange can (no grace); the rest refused. */
          resetInPlace: z.boolean().optional(),
          ...TargetOptionsBody,
        }),
      ),
      async (c) => {
        const input = c.req.valid("json");
        if (isEmptySelector(input.selector)) {
          throw badRequest("nothing selected", "Select keys in the inventory first.");
        }
        const { keys, accountErrors } = await selectLive(
          inventory,
          home,
          input.selector,
          "Refresh the inventory: the key may be gone already.",
        );
        return send(
          c,
          await rotations.plan(keys, input.deliver, input, accountErrors, input.resetInPlace === true),
        );
      },
    )

    .post(
      "/api/rotation/apply",
      jsonBody(
        z.strictObject({
          planId: RunIdSchema,
          confirm: z.string().max(20, "is too long"),
          graceSeconds: z.number().int().min(0).max(86_400),
          concurrency: z.number().int().min(1).max(64).optional(),
          /** Accepts the plan's in-place resets (old secrets die at once); required when it has any. */
          acceptReset: z.boolean().optional(),
        }),
      ),
      async (c) => {
        const input = c.req.valid("json");
        const job = await rotations.apply(
          input.planId,
          input.confirm,
          input.graceSeconds * 1000,
          input.concurrency ?? 8,
          input.acceptReset === true,
        );
        return send(c, { runId: job.runId, run: await rotations.view(job.runId) }, 202);
      },
    )

    .get("/api/rotation/runs", query(z.strictObject({})), async (c) =>
      send(c, { runs: await rotations.runs() }),
    )

    .get("/api/rotation/runs/:id", runIdParam, async (c) => send(c, await rotations.view(c.req.param("id"))))

    .get("/api/rotation/runs/:id/events", runIdParam, async (c) =>
      streamJobEvents(c, await rotations.job(c.req.param("id")), ctx),
    )

    .post("/api/rotation/runs/:id/resume", runIdParam, jsonBody(z.strictObject({})), async (c) => {
      const id = c.req.param("id");
      const job = await rotations.resume(id);
      return send(c, { runId: job.runId, run: await rotations.view(id) }, 202);
    })

    .post("/api/rotation/runs/:id/stop", runIdParam, jsonBody(z.strictObject({})), async (c) =>
      send(c, await rotations.stop(c.req.param("id"))),
    )

    .post(
      "/api/rotation/runs/:id/abort",
      runIdParam,
      jsonBody(z.strictObject({ confirm: z.literal("abort", "type abort to confirm") })),
      async (c) => send(c, await rotations.abort(c.req.param("id"))),
    )

    .post(
      "/api/rotation/runs/:id/credentials",
      runIdParam,
      jsonBody(CredentialsInputSchema.extend({ slot: z.number().int().min(1).max(10_000) })),
      async (c) => {
        const { slot, ...credentials } = c.req.valid("json");
        rotations.provideCredentials(c.req.param("id"), slot, credentials);
        return send(c, { ok: true });
      },
    );
}
