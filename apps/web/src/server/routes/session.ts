/**
 * Logging in and out. The one-time login token comes from the terminal, either as a link (GET /login,
 * for people) or as JSON (POST /api/session/login, for scripts); both answer a wrong token the same way
 * whatever it is, and both are rate-limited (session-cookies.ts).
 */
import type { Hono } from "hono";
import { z } from "zod";
import { HttpError } from "../http-errors.js";
import { parseBody } from "../request-input.js";
import { failure, html } from "../responses.js";
import type { RouteContext } from "./route-context.js";

const TokenSchema = z.string().min(1, "is required").max(200, "is too long");

export function sessionRoutes(
  app: Hono,
  { home, cookies, send }: Pick<RouteContext, "home" | "cookies" | "send">,
) {
  app.get("/login", (c) => {
    const parsed = z.strictObject({ token: TokenSchema }).safeParse(c.req.query());
    const result = cookies.login(parsed.success ? parsed.data.token : "");
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
    const { token } = await parseBody(c, z.strictObject({ token: TokenSchema }));
    const result = cookies.login(token);
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

  // The page reads its CSRF token here: only same-origin scripts can, as CORS is off.
  app.get("/api/session", (c) => {
    const session = cookies.session(c);
    return send(c, {
      csrfToken: session?.csrfToken,
      expiresAt: session ? new Date(session.expiresAt).toISOString() : null,
      home: home.paths.dir,
      accounts: home.config.accounts.length,
      features: { rotation: true },
    });
  });

  app.post("/api/session/logout", async (c) => {
    await parseBody(c, z.strictObject({}));
    const cleared = cookies.logout(c);
    const res = await send(c, { ok: true });
    res.headers.set("set-cookie", cleared);
    return res;
  });
}
