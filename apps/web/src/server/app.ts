/**
 * The HTTP surface: security middleware (see security.ts for the order and the reasons), the JSON API
 * and the built UI. Every request body and query is parsed with zod before use; every JSON answer and
 * streamed event passes the secret guard.
 *
 *   GET  /login?token=…                 one-time token → session cookie, then 303 to /inventory
 *   POST /api/session/login {token}     the same, for scripts
 *   GET  /api/session                   {csrfToken, actor, home, expiresAt, features}
 *   POST /api/session/logout
 *   GET  /api/inventory[?refresh=1]     keys (InventoryRow), per-account errors, counts
 *   GET  /api/accounts                  accounts and their tracked keys (no probes)
 *   GET  /api/accounts/health[?account=]  probes: health, permissions, warnings
 *   POST /api/revoke/plan {selector}    core's SelectorSchema → the plan to review
 *   POST /api/revoke/execute {planId, confirm}
 *   GET  /api/revoke/jobs, /api/revoke/jobs/:id, /api/revoke/jobs/:id/events (SSE)
 *   POST /api/revoke/jobs/:id/verify {keyId}, /api/revoke/jobs/:id/stop {}
 *   POST /api/rotation/plan {selector, deliver[], recipient?}   core's rotation plan (file targets only)
 *   POST /api/rotation/apply {planId, confirm, graceSeconds, concurrency?}
 *   GET  /api/rotation/runs, /api/rotation/runs/:id, /api/rotation/runs/:id/events (SSE)
 *   POST /api/rotation/runs/:id/resume {}, /stop {}, /abort {confirm: "abort"},
 *        /credentials {slot, apiKey, secret, passphrase?}   (an assisted slot's new key, browser → vault)
 *   GET  /api/audit[?limit=&beforeSeq=] entries (newest first) and the chain's status
 */
import {
  type AccountHealth,
  accountHealth,
  CredentialsInputSchema,
  isEmptySelector,
  isKeywardError,
  type KeywardHome,
  planRevoke,
  type Selector,
  SelectorSchema,
  selectKeys,
  shortKey,
} from "@keyward/core";
import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { badRequest, HttpError, parseOr400, toHttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";
import { streamJobEvents } from "./job-events.js";
import type { RevokeJobs } from "./revoke-jobs.js";
import type { RotationJobs } from "./rotation-jobs.js";
import type { SecretGuard } from "./secret-guard.js";
import {
  type AttemptLimiter,
  CSRF_HEADER,
  SECURE_SESSION_COOKIE,
  SESSION_COOKIE,
  type SessionStore,
  safeEqual,
  securityHeaders,
} from "./security.js";
import { PAGES, type StaticUi } from "./static-ui.js";

export interface AppDeps {
  home: KeywardHome;
  inventory: InventoryService;
  jobs: RevokeJobs;
  rotations: RotationJobs;
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

const MAX_BODY_BYTES = 64 * 1024;

const TokenSchema = z.string().min(1, "is required").max(200, "is too long");
const JobIdSchema = z.uuid("is not a job id");
const RunIdSchema = z.string().regex(/^rot-[a-z0-9]{6}$/, "is not a rotation id (rot-xxxxxx)");

export function buildApp(deps: AppDeps): Hono {
  const { home, inventory, jobs, rotations, sessions, loginLimiter, guard, ui, tls, bound } = deps;
  const cookieName = tls ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  const headers = securityHeaders(tls);
  const app = new Hono();

  /** A JSON answer, withheld if it would carry a secret from the vault. */
  const send = async (c: Context, value: unknown, status: 200 | 202 = 200): Promise<Response> => {
    const text = JSON.stringify(value);
    if (await guard.leaks(text)) {
      deps.log(`BUG: withheld a response to ${c.req.method} ${c.req.path} that contained a vault secret`);
      return failure(
        new HttpError(
          500,
          "INTERNAL",
          "response withheld: it would have contained a secret",
          "This is a bug; please report it.",
        ),
      );
    }
    return new Response(text, {
      status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
    });
  };

  const failure = (error: HttpError, extra: Record<string, string> = {}): Response =>
    new Response(JSON.stringify(error.body()), {
      status: error.status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra },
    });

  const html = (status: number, title: string, text: string, extra: Record<string, string> = {}) =>
    new Response(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Keyward: ${title}</title><link rel="icon" href="data:,"></head><body><h1>${title}</h1><p>${text}</p></body></html>`,
      {
        status,
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...extra },
      },
    );

  // 1. Security headers on every response, whatever answered it.
  app.use("*", async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  });

  // 2. DNS-rebinding defence: only the bound host:port.
  app.use("*", async (c, next) => {
    const host = c.req.header("host")?.toLowerCase();
    if (!host || !bound.hosts.has(host)) {
      return failure(
        new HttpError(
          421,
          "WRONG_HOST",
          `this server answers only for ${bound.origin}`,
          "Open the URL that `keyward web` printed; requests for other host names are refused.",
        ),
      );
    }
    await next();
  });

  // 3. Same-origin check for anything that can change state.
  app.use("*", async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const origin = c.req.header("origin");
      if (!origin || origin !== bound.origin) {
        return failure(
          new HttpError(
            403,
            "FORBIDDEN_ORIGIN",
            origin
              ? `requests from ${origin.slice(0, 100)} are refused`
              : "requests without an Origin header are refused",
            "Use the Keyward page itself; other sites and scripts cannot change anything here.",
          ),
        );
      }
    }
    await next();
  });

  // 4 and 5. The session for every API route but login; the CSRF token for state changes.
  app.use("/api/*", async (c, next) => {
    if (c.req.path === "/api/session/login") return next();
    const session = sessions.get(getCookie(c, cookieName));
    if (!session) {
      return failure(
        new HttpError(
          401,
          "UNAUTHENTICATED",
          "not logged in (or the session expired)",
          "Open the login URL printed by `keyward web` in its terminal.",
        ),
      );
    }
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const csrf = c.req.header(CSRF_HEADER);
      if (!csrf || !safeEqual(csrf, session.csrfToken)) {
        return failure(
          new HttpError(
            403,
            "CSRF",
            "missing or wrong CSRF token",
            "Reload the page; it sends the token with every change.",
          ),
        );
      }
    }
    await next();
  });

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

  /** The JSON body, parsed with `schema` (415 if not JSON, 400 naming the bad field). */
  async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
    if (!/^application\/json(;|$)/i.test(c.req.header("content-type") ?? "")) {
      throw new HttpError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "send the body as JSON (Content-Type: application/json)",
        "The Keyward page does this; scripts must too.",
      );
    }
    const tooLarge = () =>
      new HttpError(
        413,
        "TOO_LARGE",
        `the request body is over ${MAX_BODY_BYTES} bytes`,
        "Select fewer keys by id, or use a filter.",
      );
    if (Number(c.req.header("content-length") ?? 0) > MAX_BODY_BYTES) throw tooLarge();
    // Read at most the limit, whatever the headers claim (chunked bodies have no length).
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = c.req.raw.body?.getReader();
    for (let chunk = await reader?.read(); chunk && !chunk.done; chunk = await reader?.read()) {
      size += chunk.value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader?.cancel();
        throw tooLarge();
      }
      chunks.push(chunk.value);
    }
    let json: unknown;
    try {
      json = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      throw badRequest("the body is not valid JSON", "Send one JSON object.");
    }
    return parseOr400(schema, json, "body");
  }
  const query = <S extends z.ZodType>(c: Context, schema: S): z.output<S> =>
    parseOr400(schema, c.req.query(), "query");
  const jobId = (c: Context): string => parseOr400(JobIdSchema, c.req.param("id"), "path");

  // ---- login

  const issueSession = (token: string) => {
    const wait = loginLimiter.blockedFor();
    if (wait > 0) return { limited: Math.ceil(wait / 1000) } as const;
    const result = sessions.login(token);
    if (!result) {
      loginLimiter.fail();
      return { wrong: true } as const;
    }
    deps.onLogin();
    const cookie = [
      `${cookieName}=${result.id}`,
      "Path=/",
      "HttpOnly",
      "SameSite=Strict",
      `Max-Age=${Math.floor(sessions.ttlMs / 1000)}`,
      ...(tls ? ["Secure"] : []),
    ].join("; ");
    return { cookie, session: result.session } as const;
  };

  app.get("/login", (c) => {
    const parsed = z.strictObject({ token: TokenSchema }).safeParse(c.req.query());
    const result = issueSession(parsed.success ? parsed.data.token : "");
    if ("limited" in result) {
      return html(
        429,
        "Too many login attempts",
        `Wait ${result.limited} s, then open the newest login URL printed by <code>keyward web</code>.`,
        {
          "retry-after": String(result.limited),
        },
      );
    }
    if ("wrong" in result) {
      return html(
        401,
        "This login link is not valid",
        "Login links work once. Use the newest URL printed by <code>keyward web</code> in its terminal, or restart it for a new one.",
      );
    }
    // Redirect to a URL without the token, so it stays out of history and bookmarks.
    return new Response(null, {
      status: 303,
      headers: { location: "/inventory", "set-cookie": result.cookie },
    });
  });

  app.post("/api/session/login", async (c) => {
    const { token } = await body(c, z.strictObject({ token: TokenSchema }));
    const result = issueSession(token);
    if ("limited" in result) {
      return failure(
        new HttpError(
          429,
          "RATE_LIMITED",
          "too many login attempts",
          `Wait ${result.limited} s and try again.`,
        ),
        { "retry-after": String(result.limited) },
      );
    }
    if ("wrong" in result) {
      return failure(
        new HttpError(
          401,
          "UNAUTHENTICATED",
          "wrong or used login token",
          "Use the newest login URL printed by `keyward web`.",
        ),
      );
    }
    const res = await send(c, { ok: true, csrfToken: result.session.csrfToken });
    res.headers.set("set-cookie", result.cookie);
    return res;
  });

  // ---- session

  app.get("/api/session", (c) => {
    const session = sessions.get(getCookie(c, cookieName));
    return send(c, {
      csrfToken: session?.csrfToken,
      expiresAt: session ? new Date(session.expiresAt).toISOString() : null,
      home: home.paths.dir,
      accounts: home.config.accounts.length,
      features: { rotation: true },
    });
  });

  app.post("/api/session/logout", async (c) => {
    await body(c, z.strictObject({}));
    sessions.logout(getCookie(c, cookieName));
    const res = await send(c, { ok: true });
    res.headers.set(
      "set-cookie",
      `${cookieName}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${tls ? "; Secure" : ""}`,
    );
    return res;
  });

  // ---- inventory and accounts

  const BoolParam = z.enum(["0", "1", "true", "false"]).transform((v) => v === "1" || v === "true");

  app.get("/api/inventory", async (c) => {
    const { refresh } = query(c, z.strictObject({ refresh: BoolParam.optional() }));
    const snapshot = await inventory.get(refresh ?? false);
    return send(c, inventory.view(snapshot));
  });

  app.get("/api/accounts", (c) => {
    query(c, z.strictObject({}));
    const tracked = home.tracked().list();
    return send(c, {
      accounts: home.config.accounts.map((a) => ({
        name: a.name,
        exchange: a.exchange,
        endpoint: a.endpoint ?? null,
        region: a.region ?? null,
        tracked: tracked
          .filter((t) => t.account === a.name)
          .map((t) => ({
            label: t.label,
            apiKeyShort: shortKey(t.apiKey),
            provable: t.credentialsRef !== null,
          })),
      })),
    });
  });

  app.get("/api/accounts/health", async (c) => {
    const { account } = query(c, z.strictObject({ account: z.string().min(1).max(64).optional() }));
    const accounts = account ? [home.account(account)] : home.config.accounts;
    const vault = await home.vault();
    const adapters = await inventory.adapters();
    const results = await Promise.all(
      accounts.map(async (a) => {
        const credentials = vault.get(a.credentialsRef);
        const adapter = adapters.get(a.name);
        if (!credentials || !adapter) {
          return {
            account: a.name,
            exchange: a.exchange,
            health: null as AccountHealth | null,
            error: {
              message: "no credentials in the vault for this account",
              hint: `Remove it and add it again: keyward account remove ${a.name}; keyward account add …`,
            },
          };
        }
        try {
          return {
            account: a.name,
            exchange: a.exchange,
            health: accountHealth(a.exchange, await adapter.probe(credentials)),
            error: null,
          };
        } catch (error) {
          const e = toHttpError(error);
          return {
            account: a.name,
            exchange: a.exchange,
            health: null,
            error: { message: e.message, hint: e.hint },
          };
        }
      }),
    );
    return send(c, { checkedAt: new Date().toISOString(), accounts: results });
  });

  // ---- revoke and rotation plans

  /** Lists the keys live, then selects; `notFoundHint` says what to do when a selected key is gone. */
  const selectLive = async (selector: Selector, notFoundHint: string) => {
    const snapshot = await inventory.refresh();
    let keys: ReturnType<typeof selectKeys>;
    try {
      keys = selectKeys(snapshot.keys, selector, { maxKeyAgeDays: home.config.settings.maxKeyAgeDays });
    } catch (error) {
      if (isKeywardError(error, "KEY_NOT_FOUND")) {
        throw new HttpError(404, "KEY_NOT_FOUND", error.message, notFoundHint);
      }
      throw error;
    }
    const accountErrors = snapshot.accounts.flatMap((a) =>
      a.error
        ? [{ account: a.account, message: a.error.message, ...(a.error.hint ? { hint: a.error.hint } : {}) }]
        : [],
    );
    return { keys, accountErrors };
  };

  // ---- revoke

  app.post("/api/revoke/plan", async (c) => {
    const selector = await body(c, SelectorSchema);
    if (isEmptySelector(selector)) {
      throw badRequest(
        "nothing selected",
        "Select keys in the inventory first (or send ids, a filter, or all: true).",
      );
    }
    // Like the CLI: the keys are listed live before planning.
    const { keys, accountErrors } = await selectLive(
      selector,
      "Refresh the inventory: the key may be gone already, or its account could not be listed (see the account errors).",
    );
    const plan = planRevoke(keys.filter((k) => k.state !== "dead"));
    return send(c, jobs.storePlan(plan, accountErrors));
  });

  app.post("/api/revoke/execute", async (c) => {
    const { planId, confirm } = await body(
      c,
      z.strictObject({ planId: z.uuid("is not a plan id"), confirm: z.string().max(20, "is too long") }),
    );
    const job = await jobs.start(planId, confirm);
    return send(c, { jobId: job.id, job: job.toView() }, 202);
  });

  app.get("/api/revoke/jobs", (c) => {
    query(c, z.strictObject({}));
    return send(c, { jobs: jobs.list() });
  });

  app.get("/api/revoke/jobs/:id", (c) => send(c, jobs.get(jobId(c)).toView()));

  app.post("/api/revoke/jobs/:id/verify", async (c) => {
    const id = jobId(c);
    const { keyId } = await body(c, z.strictObject({ keyId: z.string().min(1).max(600) }));
    return send(c, await jobs.verifyNow(id, keyId));
  });

  app.post("/api/revoke/jobs/:id/stop", async (c) => {
    const id = jobId(c);
    await body(c, z.strictObject({}));
    return send(c, jobs.stop(id));
  });

  app.get("/api/revoke/jobs/:id/events", (c) => streamJobEvents(c, jobs.get(jobId(c)), deps));

  // ---- rotation (core's engine; file targets only from the browser)

  const runId = (c: Context): string => parseOr400(RunIdSchema, c.req.param("id"), "path");

  app.post("/api/rotation/plan", async (c) => {
    const input = await body(
      c,
      z.strictObject({
        selector: SelectorSchema,
        deliver: z.array(z.string().min(1).max(1000)).max(20),
        recipient: z.string().min(1).max(200).nullable().optional(),
      }),
    );
    if (isEmptySelector(input.selector)) {
      throw badRequest("nothing selected", "Select keys in the inventory first.");
    }
    const { keys, accountErrors } = await selectLive(
      input.selector,
      "Refresh the inventory: the key may be gone already.",
    );
    return send(c, await rotations.plan(keys, input.deliver, input.recipient ?? null, accountErrors));
  });

  app.post("/api/rotation/apply", async (c) => {
    const input = await body(
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
    return send(c, { runId: job.runId, run: rotations.view(job.runId) }, 202);
  });

  app.get("/api/rotation/runs", async (c) => {
    query(c, z.strictObject({}));
    return send(c, { runs: rotations.runs() });
  });

  app.get("/api/rotation/runs/:id", (c) => send(c, rotations.view(runId(c))));

  app.get("/api/rotation/runs/:id/events", (c) => streamJobEvents(c, rotations.job(runId(c)), deps));

  app.post("/api/rotation/runs/:id/resume", async (c) => {
    const id = runId(c);
    await body(c, z.strictObject({}));
    const job = rotations.resume(id);
    return send(c, { runId: job.runId, run: rotations.view(id) }, 202);
  });

  app.post("/api/rotation/runs/:id/stop", async (c) => {
    const id = runId(c);
    await body(c, z.strictObject({}));
    return send(c, await rotations.stop(id));
  });

  app.post("/api/rotation/runs/:id/abort", async (c) => {
    const id = runId(c);
    await body(c, z.strictObject({ confirm: z.literal("abort", "type abort to confirm") }));
    return send(c, await rotations.abort(id));
  });

  app.post("/api/rotation/runs/:id/credentials", async (c) => {
    const id = runId(c);
    const input = await body(c, CredentialsInputSchema.extend({ slot: z.number().int().min(1).max(10_000) }));
    const { slot, ...credentials } = input;
    rotations.provideCredentials(id, slot, credentials);
    return send(c, { ok: true });
  });

  // ---- audit

  app.get("/api/audit", (c) => {
    const q = query(
      c,
      z.strictObject({
        limit: z.coerce.number().int().min(1).max(5000).optional(),
        beforeSeq: z.coerce.number().int().min(1).optional(),
      }),
    );
    const log = home.auditLog();
    const all = log.list({ newestFirst: true });
    const older = q.beforeSeq === undefined ? all : all.filter((e) => e.seq < (q.beforeSeq as number));
    const limit = q.limit ?? 200;
    return send(c, {
      entries: older.slice(0, limit),
      total: all.length,
      more: older.length > limit,
      chain: log.verify(),
      head: log.head(),
    });
  });

  // ---- the UI

  for (const page of PAGES) {
    app.get(page, () => ui.page());
  }
  app.get("/assets/*", async (c) => (await ui.asset(c.req.path)) ?? html(404, "Not found", "No such file."));

  return app;
}
