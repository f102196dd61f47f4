/**
 * The session cookie: its name (the `__Host-` one over TLS), the session it names, issuing it in
 * exchange for the one-time login token and clearing it at logout. The right token always logs in;
 * only wrong ones go through the rate limiter, and only when they count (see AttemptLimiter).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import {
  type AttemptLimiter,
  SECURE_SESSION_COOKIE,
  SESSION_COOKIE,
  type Session,
  type SessionStore,
} from "./security.js";

export type LoginOutcome =
  /** Seconds until attempts are allowed again. */
  | { readonly limited: number }
  | { readonly wrong: true }
  /** The Set-Cookie value to send, and the new session. */
  | { readonly cookie: string; readonly session: Session };

export interface SessionCookies {
  /** The live session this request's cookie names, if any (refreshing it). */
  session(c: Context): Session | undefined;
  /**
   * Exchanges a login token for a session cookie. A wrong token is answered 401, or 429 while the
   * limiter's window is full; `counts: false` (a navigation from another site) leaves the limiter alone.
   */
  login(token: string, options?: { counts: boolean }): LoginOutcome;
  /** Ends this request's session; returns the Set-Cookie value that clears the cookie. */
  logout(c: Context): string;
}

export interface SessionCookieOptions {
  sessions: SessionStore;
  loginLimiter: AttemptLimiter;
  tls: boolean;
  /** A login used the token: say where the next one is. */
  onLogin: () => void;
}

export function sessionCookies(options: SessionCookieOptions): SessionCookies {
  const { sessions, loginLimiter, tls } = options;
  const name = tls ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
  return {
    session: (c) => sessions.get(getCookie(c, name)),

    login(token, { counts } = { counts: true }) {
      // The right token first: a full window must never lock the operator out.
      const result = sessions.login(token);
      if (!result) {
        if (!counts) return { wrong: true };
        const wait = loginLimiter.blockedFor();
        if (wait > 0) return { limited: Math.ceil(wait / 1000) };
        loginLimiter.fail();
        return { wrong: true };
      }
      options.onLogin();
      const cookie = [
        `${name}=${result.id}`,
        "Path=/",
        "HttpOnly",
        "SameSite=Strict",
        `Max-Age=${Math.floor(sessions.ttlMs / 1000)}`,
        ...(tls ? ["Secure"] : []),
      ].join("; ");
      return { cookie, session: result.session };
    },

    logout(c) {
      sessions.logout(getCookie(c, name));
      return `${name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${tls ? "; Secure" : ""}`;
    },
  };
}
