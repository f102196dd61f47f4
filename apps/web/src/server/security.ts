/**
 * The locks on the web app, in the order a request meets them:
 *
 *   1. Every response carries a strict Content-Security-Policy (no inline script, script-src 'self'),
 *      frame-ancestors 'none' and X-Frame-Options DENY, nosniff, no-referrer, no-store for the API.
 *   2. The Host header must be the bound host:port, or the request is refused (421): a page on an
 *      attacker's domain that re-points its DNS at 127.0.0.1 cannot talk to the server.
 *   3. State-changing requests (anything but GET/HEAD) need `Origin` equal to the server's own origin
 *      (403), so no other site can post to it.
 *   4. API routes need the session cookie (401). The cookie is HttpOnly, SameSite=Strict (Secure over
 *      TLS); it is only ever issued in exchange for the one-time login token printed in the terminal.
 *   5. Every API request, reads included, also needs the session's secret in `X-Keyward-Session` (401).
 *      The cookie alone is not a credential: browsers send cookies for 127.0.0.1 to every port on it,
 *      and SameSite counts other loopback ports as the same site, so any local dev server the operator
 *      opens receives it (and a non-browser client can forge any Origin). The secret is handed out once,
 *      at login: in the redirect's URL fragment (`/inventory#s=…`, which browsers never send to a
 *      server), from where the page moves it into sessionStorage (origin-scoped) and strips it from the
 *      address bar. No route ever hands it to a request that only carries the cookie.
 *
 * Only wrong login tokens are rate-limited (the right one always logs in, so nobody can lock the
 * operator out), and cross-site or same-site navigations to /login do not count (ten <img> tags on any
 * page must not use up the window); a wrong token is answered the same way whatever it is.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "keyward_session";
/** With TLS the `__Host-` prefix pins the cookie to this exact origin (Secure, Path=/, no Domain). */
export const SECURE_SESSION_COOKIE = "__Host-keyward_session";
/** The per-session secret every API request carries (security.ts point 5). */
export const SESSION_SECRET_HEADER = "x-keyward-session";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export function securityHeaders(tls: boolean): Record<string, string> {
  return {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ...(tls ? { "strict-transport-security": "max-age=31536000" } : {}),
  };
}

const token = (bytes = 32) => randomBytes(bytes).toString("base64url");
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Constant-time comparison of two strings (different lengths compare unequal, still in constant time). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export interface Session {
  /** Sent by the page in SESSION_SECRET_HEADER with every API request; never readable with the cookie alone. */
  secret: string;
  createdAt: number;
  expiresAt: number;
  lastSeenAt: number;
}

export interface SessionStoreOptions {
  /** Absolute lifetime of a session. Default 12 h. */
  ttlMs?: number;
  /** A session unused this long ends. Default 2 h. */
  idleMs?: number;
  now?: () => number;
}

/**
 * The one-time login token and the sessions it is exchanged for. Only one login token is valid at a
 * time; using it mints the next one (printed by the server), so a URL left in the terminal's
 * scroll-back, a shell history or a screenshot is worth nothing once used.
 */
export class SessionStore {
  #loginToken = token();
  /** sha256(session id) → session: the map never holds a usable cookie value. */
  readonly #sessions = new Map<string, Session>();
  readonly #ttlMs: number;
  readonly #idleMs: number;
  readonly #now: () => number;

  constructor(options: SessionStoreOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 12 * 3_600_000;
    this.#idleMs = options.idleMs ?? 2 * 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  get loginToken(): string {
    return this.#loginToken;
  }

  /** Exchanges the login token for a new session id; undefined if the token is wrong. */
  login(candidate: string): { id: string; session: Session } | undefined {
    if (!safeEqual(candidate, this.#loginToken)) return undefined;
    this.#loginToken = token();
    const id = token();
    const now = this.#now();
    const session: Session = {
      secret: token(),
      createdAt: now,
      expiresAt: now + this.#ttlMs,
      lastSeenAt: now,
    };
    this.#sessions.set(sha256(id).toString("hex"), session);
    return { id, session };
  }

  /** The live session for a cookie value, refreshed; undefined when missing, unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (!id || id.length > 200) return undefined;
    const key = sha256(id).toString("hex");
    const session = this.#sessions.get(key);
    if (!session) return undefined;
    const now = this.#now();
    if (now >= session.expiresAt || now - session.lastSeenAt >= this.#idleMs) {
      this.#sessions.delete(key);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  logout(id: string | undefined): void {
    if (id) this.#sessions.delete(sha256(id).toString("hex"));
  }

  get size(): number {
    return this.#sessions.size;
  }

  get ttlMs(): number {
    return this.#ttlMs;
  }
}

/**
 * Failed login attempts in a sliding window, for everyone together (the server is meant for loopback;
 * per-address counting would only help an attacker with many addresses). While `limit` failures lie
 * within `windowMs`, wrong tokens are answered 429. The right token is checked first and always logs
 * in (session-cookies.ts): a limit that refused it would let any page lock the operator out, and a
 * 256-bit token is not guessable at any rate anyway.
 */
export class AttemptLimiter {
  readonly #failures: number[] = [];
  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when attempts are allowed, else the milliseconds until the next one is. */
  blockedFor(): number {
    const now = this.now();
    while (this.#failures.length > 0 && (this.#failures[0] ?? 0) <= now - this.windowMs)
      this.#failures.shift();
    if (this.#failures.length < this.limit) return 0;
    return (this.#failures[0] ?? now) + this.windowMs - now;
  }

  fail(): void {
    this.#failures.push(this.now());
  }
}
