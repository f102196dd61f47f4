/**
 * The HTTP surface, composed: security middleware (security-middleware.ts; the order and the reasons
 * are in security.ts), the JSON API (routes/, one file per concern) and the built UI. Every request body
 * and query is parsed with zod before use (request-input.ts); every JSON answer and streamed event
 * passes the secret guard. Every /api/ route but login needs the session cookie and the session's
 * secret header (security.ts). Each route group (routes/) is a chain of typed Hono routes whose inputs
 * are parsed by request-input.ts's middleware and whose answers go through `send`; apiRoutes joins them,
 * and its type, AppType, is what the UI's client (`hc<AppType>()`, src/ui/api.ts) is checked against.
 *
 *   GET  /login?token=…                 one-time token → session cookie, then 303 to /inventory#s=<secret>
 *   POST /api/session/login {token}     the same, for scripts: {ok, secret}
 *   GET  /api/session                   {home, expiresAt, accounts, features} (never the secret)
 *   POST /api/session/logout
 *   GET  /api/inventory[?refresh=1]     keys (InventoryRow), per-account errors, counts
 *   GET  /api/accounts                  accounts and their tracked keys (no probes)
 *   GET  /api/accounts/health[?account=]  probes: health, permissions, warnings
 *   POST /api/revoke/plan {selector, disableFirst?}   core's SelectorSchema (+ the kill-switch option) → the plan to review
 *   POST /api/revoke/execute {planId, confirm}
 *   GET  /api/revoke/jobs, /api/revoke/jobs/:id, /api/revoke/jobs/:id/events (SSE)
 *   POST /api/revoke/jobs/:id/verify {keyId}, /api/revoke/jobs/:id/stop {}
 *   GET  /api/rotation/targets          the delivery targets the browser may use, their options (core's list)
 *   POST /api/rotation/plan {selector, deliver[], <target options>?}   core's rotation plan (file targets only)
 *   POST /api/rotation/apply {planId, confirm, graceSeconds, concurrency?}
 *   GET  /api/rotation/runs, /api/rotation/runs/:id, /api/rotation/runs/:id/events (SSE)
 *   POST /api/rotation/runs/:id/resume {}, /stop {}, /abort {confirm: "abort"},
 *        /credentials {slot, apiKey, secret, passphrase?}   (an assisted slot's new key, browser → vault)
 *   POST /api/revoke/jobs/:id/second-factor {challengeId, code}, …/second-factor/cancel {challengeId}
 *   POST /api/rotation/runs/:id/second-factor {challengeId, code}, …/second-factor/cancel {challengeId}
 *        (a code for an exchange's two-factor challenge shown on the job's page; never logged or echoed)
 *   GET  /api/audit[?action=&account=&exchange=&key=&since=&until=&search=&limit=&beforeSeq=]
 *        a page of entries (newest first, filtered in the store) and the chain's status
 *   GET  /api/check                     the policy check (home's policy.json): findings, counts, summary
 *   GET  /api/scan                      the Scan page's default path and scans; POST /api/scan/start
 *        {path, git?, verify?} (a folder or file on this machine, never an upload); GET /api/scan/jobs/:id,
 *        …/events (SSE), …/sarif; POST …/stop {}   (routes/scan.ts: findings redacted, no file content)
 */
import type { KeywardHome } from "@keyward/core";
import { Hono } from "hono";
import { HttpError, toHttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";
import { failure, html, jsonSender } from "./responses.js";
import type { RevokeJobs } from "./revoke-jobs.js";
import type { RotationJobs } from "./rotation-jobs.js";
import { auditRoutes } from "./routes/audit.js";
import { checkRoutes } from "./routes/check.js";
import { inventoryRoutes } from "./routes/inventory.js";
import { keyCreateRoutes } from "./routes/key-create.js";
import { revokeRoutes } from "./routes/revoke.js";
import { rotationRoutes } from "./routes/rotation.js";
import type { RouteContext } from "./routes/route-context.js";
import { scanRoutes } from "./routes/scan.js";
import { secondFactorRoutes } from "./routes/second-factor.js";
import { sessionRoutes } from "./routes/session.js";
import { uiRoutes } from "./routes/ui.js";
import type { ScanJobs } from "./scan-jobs.js";
import type { SecondFactorDesk } from "./second-factor.js";
import type { SecretGuard } from "./secret-guard.js";
import type { AttemptLimiter, SessionStore } from "./security.js";
import { installSecurityMiddleware } from "./security-middleware.js";
import { sessionCookies } from "./session-cookies.js";
import type { StaticUi } from "./static-ui.js";

export interface AppDeps {
  home: KeywardHome;
  inventory: InventoryService;
  jobs: RevokeJobs;
  rotations: RotationJobs;
  /** Leak scans (the Scan page). */
  scans: ScanJobs;
  /** Second-factor challenges shown on the jobs' pages, and the codes posted for them. */
  secondFactor: SecondFactorDesk;
  sessions: SessionStore;
  loginLimiter: AttemptLimiter;
  guard: SecretGuard;
  ui: StaticUi;
  tls: boolean;
  /** Filled in once the server listens (the port may be 0 until then). */
  bound: { origin: string; hosts: Set<string> };
  /** A login used the token: say where the next one is. */
  onLogin: () => void;
  log: (line: string) => void;
}

/**
 * The JSON API as one chain of Hono routes, so its type carries every route's input (the zod-parsed
 * body and query, request-input.ts) and JSON answer (responses.ts `send`) to the UI's client.
 */
export function apiRoutes(ctx: RouteContext) {
  return new Hono()
    .route("/", sessionRoutes(ctx))
    .route("/", inventoryRoutes(ctx))
    .route("/", revokeRoutes(ctx))
    .route("/", rotationRoutes(ctx))
    .route("/", secondFactorRoutes(ctx))
    .route("/", auditRoutes(ctx))
    .route("/", checkRoutes(ctx))
    .route("/", keyCreateRoutes(ctx))
    .route("/", scanRoutes(ctx));
}

/** The API's routes, inputs and answers as types: the UI's `hc<AppType>()` client (src/ui/api.ts). */
export type AppType = ReturnType<typeof apiRoutes>;

export function buildApp(deps: AppDeps): Hono {
  const { home, inventory, jobs, rotations, guard, ui, tls, bound } = deps;
  const cookies = sessionCookies(deps);
  const app = new Hono();

  // Installed first: middleware only guards the routes registered after it.
  installSecurityMiddleware(app, { tls, bound, cookies });

  app.onError(async (error, c) => {
    const e = toHttpError(error);
    if (e.status >= 500)
      deps.log(`${c.req.method} ${c.req.path}: ${(error as Error)?.stack ?? String(error)}`);
    // Error messages come from core and the exchanges' answers: checked like every other answer.
    if (await guard.leaks(JSON.stringify(e.body()))) {
      deps.log(
        `BUG: withheld an error answer to ${c.req.method} ${c.req.path} that contained a vault secret`,
      );
      return failure(
        new HttpError(
          500,
          "INTERNAL",
          "error withheld: it would have contained a secret",
          "This is a bug; please report it.",
        ),
      );
    }
    return failure(e);
  });
  app.notFound((c) =>
    c.req.path.startsWith("/api/")
      ? failure(
          new HttpError(
            404,
            "NOT_FOUND",
            `no API route ${c.req.method} ${c.req.path}`,
            "See the list in the server's app.ts.",
          ),
        )
      : html(404, "Not found", 'There is no such page. Go to <a href="/inventory">the inventory</a>.'),
  );

  const ctx: RouteContext = {
    home,
    inventory,
    jobs,
    rotations,
    scans: deps.scans,
    secondFactor: deps.secondFactor,
    cookies,
    guard,
    log: deps.log,
    send: jsonSender(guard, deps.log),
  };
  // Mounted after the middleware above, so it guards them; errors reach the onError above.
  app.route("/", apiRoutes(ctx));
  uiRoutes(app, ui);

  return app;
}
