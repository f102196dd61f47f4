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
import type { Context, Hono } from "hono";
import { z } from "zod";
import { deliveryTargetsView } from "../delivery-targets.js";
import { badRequest, parseOr400 } from "../http-errors.js";
import { streamJobEvents } from "../job-events.js";
import { selectLive } from "../live-selection.js";
import { parseBody, parseQuery } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

/** Each target kind's own options, by the driver's option name, as optional body fields. */
const TargetOptionsBody = Object.fromEntries(
  TARGET_OPTIONS.map((o) => [o.name, z.string().min(1).max(200).nullable().optional()]),
) as { [K in TargetOptionName]: z.ZodOptional<z.ZodNullable<z.ZodString>> };

const RunIdSchema = z.string().regex(/^rot-[a-z0-9]{6}$/, "is not a rotation id (rot-xxxxxx)");
const runId = (c: Context): string => parseOr400(RunIdSchema, c.req.param("id"), "path");

export function rotationRoutes(
  app: Hono,
  ctx: Pick<RouteContext, "home" | "inventory" | "rotations" | "guard" | "log" | "send">,
) {
  const { home, inventory, rotations, send } = ctx;

  app.get("/api/rotation/targets", (c) => {
    parseQuery(c, z.strictObject({}));
    return send(c, deliveryTargetsView());
  });

  app.post("/api/rotation/plan", async (c) => {
    const input = await parseBody(
      c,
      z.strictObject({
        selector: SelectorSchema,
        deliver: z.array(z.string().min(1).max(1000)).max(20),
        ...TargetOptionsBody,
      }),
    );
    if (isEmptySelector(input.selector)) {
      throw badRequest("nothing selected", "Select keys in the inventory first.");
    }
    const { keys, accountErrors } = await selectLive(
      inventory,
      home,
      input.selector,
      "Refresh the inventory: the key may be gone already.",
    );
    return send(c, await rotations.plan(keys, input.deliver, input, accountErrors));
  });

  app.post("/api/rotation/apply", async (c) => {
    const input = await parseBody(
      c,
      z.strictObject({
        planId: RunIdSchema,
        confirm: z.string().max(20, "is too long"),
        graceSeconds: z.number().int().min(0).max(86_400),
        concurrency: z.number().int().min(1).max(64).optional(),
      }),
    );
    const job = await rotations.apply(
      input.planId,
      input.confirm,
      input.graceSeconds * 1000,
      input.concurrency ?? 8,
    );
    return send(c, { runId: job.runId, run: await rotations.view(job.runId) }, 202);
  });

  app.get("/api/rotation/runs", async (c) => {
    parseQuery(c, z.strictObject({}));
    return send(c, { runs: await rotations.runs() });
  });

  app.get("/api/rotation/runs/:id", async (c) => send(c, await rotations.view(runId(c))));

  app.get("/api/rotation/runs/:id/events", async (c) =>
    streamJobEvents(c, await rotations.job(runId(c)), ctx),
  );

  app.post("/api/rotation/runs/:id/resume", async (c) => {
    const id = runId(c);
    await parseBody(c, z.strictObject({}));
    const job = await rotations.resume(id);
    return send(c, { runId: job.runId, run: await rotations.view(id) }, 202);
  });

  app.post("/api/rotation/runs/:id/stop", async (c) => {
    const id = runId(c);
    await parseBody(c, z.strictObject({}));
    return send(c, await rotations.stop(id));
  });

  app.post("/api/rotation/runs/:id/abort", async (c) => {
    const id = runId(c);
    await parseBody(c, z.strictObject({ confirm: z.literal("abort", "type abort to confirm") }));
    return send(c, await rotations.abort(id));
  });

  app.post("/api/rotation/runs/:id/credentials", async (c) => {
    const id = runId(c);
    const input = await parseBody(
      c,
      CredentialsInputSchema.extend({ slot: z.number().int().min(1).max(10_000) }),
    );
    const { slot, ...credentials } = input;
    rotations.provideCredentials(id, slot, credentials);
    return send(c, { ok: true });
  });
}
