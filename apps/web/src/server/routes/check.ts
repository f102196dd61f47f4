/**
 * The policy check (`keyward check`'s findings) for the Check page: core's `checkPolicy` with the
 * home's policy.json (or the defaults), over the same adapters as the inventory. Each call checks live.
 */
import { checkPolicy, homePolicy, policySummary } from "@keyward/core";
import { Hono } from "hono";
import { z } from "zod";
import { query } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

export function checkRoutes({ home, inventory, send }: Pick<RouteContext, "home" | "inventory" | "send">) {
  return new Hono().get("/api/check", query(z.strictObject({})), async (c) => {
    // A policy file that is invalid or open to another user is an error answer (400), like the CLI's exit 2.
    const policy = homePolicy(home);
    const report = await checkPolicy(home, { policy, adapters: () => inventory.adapters() });
    return send(c, { ...report, summary: policySummary(report) });
  });
}
