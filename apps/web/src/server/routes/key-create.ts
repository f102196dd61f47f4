/**
 * The web's "New key" form: core's key create (use-cases/key-create.ts) with file targets only, then
 * followed as a rotation run (the Rotate page's run panel, its SSE events and second-factor field).
 */
import { CreateKeyInputSchema } from "@keyward/core";
import { Hono } from "hono";
import { jsonBody } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

export function keyCreateRoutes(ctx: Pick<RouteContext, "rotations" | "send">) {
  const { rotations, send } = ctx;
  return new Hono().post(
    "/api/keys/create",
    // The browser never asks for the secret on screen: targets only (the form has no such switch).
    jsonBody(CreateKeyInputSchema.omit({ showSecretOnce: true })),
    async (c) => {
      const job = await rotations.createKey(c.req.valid("json"));
      return send(c, { runId: job.runId, run: await rotations.view(job.runId) }, 202);
    },
  );
}
