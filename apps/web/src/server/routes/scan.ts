/**
 * The Scan page's routes (task: web): scan a file or folder ON THIS MACHINE for leaked exchange keys
 * (core's scanLeaks, as `keyward scan`), follow it live, read its findings, download them as SARIF.
 * Nothing is uploaded: the person types a path the server's user can read. Behind the same session,
 * origin and CSRF checks as every /api/ route (security-middleware.ts); answers carry counts, paths,
 * line numbers and core's report (no file content, no secret, no unknown key in full: scan-types.ts),
 * and pass the secret guard like every answer.
 *
 *   GET  /api/scan                      {defaultPath, jobs}
 *   POST /api/scan/start {path, git?, verify?}   → 202 {jobId, job}
 *   GET  /api/scan/jobs/:id, /api/scan/jobs/:id/events (SSE), /api/scan/jobs/:id/sarif
 *   POST /api/scan/jobs/:id/stop {}
 */
import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { Hono } from "hono";
import { z } from "zod";
import { streamJobEvents } from "../job-events.js";
import { idParam, jsonBody, query } from "../request-input.js";
import type { RouteContext } from "./route-context.js";

/** Why the server cannot scan `path`, or undefined when it can (it exists, is a folder or file, readable). */
function unusable(path: string): string | undefined {
  let stats: ReturnType<typeof statSync>;
  try {
    stats = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return "does not exist on the machine the server runs on";
    if (code === "EACCES")
      return "cannot be reached by the server's user (a folder on the way is not open to it)";
    return "is not a usable path";
  }
  if (!stats.isDirectory() && !stats.isFile()) return "is neither a folder nor a regular file";
  try {
    // A folder must be listable as well as readable.
    accessSync(path, constants.R_OK | (stats.isDirectory() ? constants.X_OK : 0));
  } catch {
    return "is not readable by the server's user";
  }
  return undefined;
}

export const ScanStartSchema = z.strictObject({
  path: z
    .string()
    .min(1, "is empty: type the folder or file to scan")
    .max(4096, "is too long")
    .refine((p) => !p.includes("\0"), "is not a usable path")
    .refine(isAbsolute, "must be an absolute path (starting with /) on the machine the server runs on")
    .transform((p) => resolve(p))
    .superRefine((p, ctx) => {
      const why = unusable(p);
      if (why) ctx.addIssue({ code: "custom", message: why });
    }),
  /** Also read the whole git history of a repository there (every blob of every ref, no checkout). */
  git: z.boolean().default(false),
  /** Ask each found unknown key's exchange whether it is alive: this SENDS the found keys to the exchange. */
  verify: z.boolean().default(false),
});

/** What to do about a bad path (a 400's hint): the field a person types on the Scan page. */
const START_HINTS = {
  path: "Type the full path of a folder or file as the server's machine names it, starting with / (e.g. /srv/bot-server), one the server's user can read.",
};

const JobIdSchema = z.uuid("is not a scan id");
const jobIdParam = idParam(JobIdSchema);

export function scanRoutes(ctx: Pick<RouteContext, "scans" | "guard" | "log" | "send">) {
  const { scans, send } = ctx;
  return new Hono()
    .get("/api/scan", query(z.strictObject({})), (c) =>
      send(c, { defaultPath: scans.defaultPath, jobs: scans.list() }),
    )

    .post("/api/scan/start", jsonBody(ScanStartSchema, START_HINTS), (c) => {
      const job = scans.start(c.req.valid("json"));
      return send(c, { jobId: job.id, job: job.toView() }, 202);
    })

    .get("/api/scan/jobs/:id", jobIdParam, (c) => send(c, scans.get(c.req.param("id")).toView()))

    .get("/api/scan/jobs/:id/sarif", jobIdParam, (c) => send(c, scans.sarif(c.req.param("id"))))

    .post("/api/scan/jobs/:id/stop", jobIdParam, jsonBody(z.strictObject({})), (c) => {
      const job = scans.get(c.req.param("id"));
      job.stop();
      return send(c, job.toView());
    })

    .get("/api/scan/jobs/:id/events", jobIdParam, (c) =>
      streamJobEvents(c, scans.get(c.req.param("id")), ctx),
    );
}
