/**
 * Logging in and out. The one-time login token comes from the terminal, either as a link (GET /login,
 * for people) or as JSON (POST /api/session/login, for scripts); both answer a wrong token the same way
 * whatever it is, and wrong tokens are rate-limited (session-cookies.ts). Either hands out the session's
 * secret exactly once, to the request that carried the token: the page in the redirect's URL fragment,
 * a script in the JSON answer. Nothing else ever returns it (security.ts, point 5).
 */
import { Hono } from "hono";
import { z } from "zod";
import { HttpError } from "../http-errors.js";
import { jsonBody } from "../request-input.js";
import { failure, html } from "../responses.js";
import type { RouteContext } from "./route-context.js";

const TokenSchema = z.string().min(1, "is required").max(200, "is too long");

export function sessionRoutes({ home, cookies, send }: Pick<RouteContext, "home" | "cookies" | "send">) {
  return (
    new Hono()
      .get("/login", (c) => {
        const parsed = z.strictObject({ token: TokenSchema }).safeParse(c.req.query());
        // Navigations started by another site (an <img> or a link on any page, or on another port of this
        // host, which is "same-site") never count towards the limit: a page must not be able to lock the
        // operator out. The URL from the terminal arrives with "none"; scripts send no such header.
        const site = c.req.header("sec-fetch-site");
        const counts = site !== "cross-site" && site !== "same-site";
        const result = cookies.login(parsed.success ? parsed.data.token : "", { counts });
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
        // Redirect to a URL without the token, so it stays out of history and bookmarks. The session's
        // secret rides in the fragment, which the browser keeps to itself: the page moves it into
        // sessionStorage and strips it from the address bar (src/ui/api.ts).
        return new Response(null, {
          status: 303,
          headers: {
            location: `/inventory#s=${result.session.secret}`,
            "set-cookie": result.cookie,
          },
        });
      })

      .post("/api/session/login", jsonBody(z.strictObject({ token: TokenSchema })), async (c) => {
        const { token } = c.req.valid("json");
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
        const res = await send(c, { ok: true, secret: result.session.secret });
        res.headers.set("set-cookie", result.cookie);
        return res;
      })

      // Reached only with the cookie and the secret (security middleware); it never returns the secret.
      .get("/api/session", (c) => {
        const session = cookies.session(c);
        return send(c, {
          expiresAt: session ? new Date(session.expiresAt).toISOString() : null,
          home: home.paths.dir,
          accounts: home.config.accounts.length,
          features: { rotation: true },
        });
      })

      .post("/api/session/logout", jsonBody(z.strictObject({})), async (c) => {
        const cleared = cookies.logout(c);
        const res = await send(c, { ok: true });
        res.headers.set("set-cookie", cleared);
        return res;
      })
  );
}
