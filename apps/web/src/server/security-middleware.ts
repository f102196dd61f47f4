/**
 * The request checks, installed before any route so they guard every one, in the order security.ts
 * lists and explains: security headers on every answer, the Host check, the Origin check for state
 * changes, then the session cookie and the session's secret for every API request.
 */
import type { Hono } from "hono";
import { HttpError } from "./http-errors.js";
import { failure } from "./responses.js";
import { SESSION_SECRET_HEADER, safeEqual, securityHeaders } from "./security.js";
import type { SessionCookies } from "./session-cookies.js";

export interface SecurityMiddlewareOptions {
  tls: boolean;
  /** Filled in once the server listens; read per request, so a port picked late still counts. */
  bound: { origin: string; hosts: Set<string> };
  cookies: SessionCookies;
}

/** The one API route reachable without a session: it is how a session is obtained. */
const LOGIN_PATH = "/api/session/login";

const changesState = (method: string) => method !== "GET" && method !== "HEAD";

export function installSecurityMiddleware(
  app: Hono,
  { tls, bound, cookies }: SecurityMiddlewareOptions,
): void {
  const headers = securityHeaders(tls);

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
    if (changesState(c.req.method)) {
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

  // 4 and 5. The session cookie AND the session's secret for every API route but login, reads
  // included: the cookie reaches every port on this host, the secret only this origin's page.
  app.use("/api/*", async (c, next) => {
    if (c.req.path === LOGIN_PATH) return next();
    const session = cookies.session(c);
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
    const secret = c.req.header(SESSION_SECRET_HEADER);
    if (!secret || !safeEqual(secret, session.secret)) {
      return failure(
        new HttpError(
          401,
          "SESSION_SECRET",
          "missing or wrong session secret: the session cookie alone is not enough",
          "Open the login URL printed by `keyward web` in its terminal; the page keeps the session's secret in this tab only.",
        ),
      );
    }
    await next();
  });
}
