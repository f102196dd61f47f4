/** The Bybit v5 listener: authenticated key management under /v5/user/, and the "API Management" page. */
import type { Clock } from "../clock.js";
import { exchangeListener } from "../exchange-listener.js";
import type { Faults } from "../faults.js";
import type { SlidingWindowLimiter } from "../rate-limiter.js";
import type { RequestLog } from "../request-log.js";
import { type UiPage, uiRoute } from "../ui-pages.js";
import { authenticateBybit } from "./auth.js";
import { BYBIT_ROUTES } from "./endpoints.js";
import { bybitError } from "./envelope.js";
import type { BybitRateLimits } from "./rate-limits.js";
import { type BybitWorld, canManageKeys } from "./state.js";

/** bybit.com's "API Management" page, where a person creates master keys and revokes any key. */
export const BYBIT_UI = {
  path: "/app/user/api-management",
  title: "Bybit — API Management (simulator)",
} as const;

export const bybitUiPage = (world: BybitWorld): UiPage => ({
  ...BYBIT_UI,
  rows: (now) => world.uiRows(now),
  revoke: (apiKey) => world.uiRevoke(apiKey),
});

export interface BybitServerDeps {
  world(): BybitWorld;
  clock: Clock;
  limiter: SlidingWindowLimiter;
  limits: BybitRateLimits;
  faults: Faults;
  log: RequestLog;
  changed(): void;
}

const WRITE_PATHS = new Set(BYBIT_ROUTES.filter((r) => r.method === "POST").map((r) => r.path));

export function bybitListener(deps: BybitServerDeps) {
  return exchangeListener({
    exchange: "bybit",
    apiKeyHeader: "x-bapi-api-key",
    faults: deps.faults,
    log: deps.log,
    clock: deps.clock,
    isWrite: (raw) => raw.method === "POST" && WRITE_PATHS.has(raw.path),
    faultReply: (status) => ({
      status,
      contentType: "text/html",
      body: `<html><head><title>${status}</title></head><body><center><h1>${status}</h1></center></body></html>`,
    }),
    tooLarge: () => bybitError(10001, null, deps.clock.now()),
    passthrough: (raw) =>
      uiRoute(
        bybitUiPage(deps.world()),
        raw.method,
        raw.path,
        raw.query,
        raw.body,
        deps.clock.now(),
        deps.changed,
      ),
    handle(raw) {
      const now = deps.clock.now();
      const world = deps.world();
      const route = BYBIT_ROUTES.find((r) => r.path === raw.path && r.method === raw.method);
      if (!route) return bybitError(10017, null, now, { status: 404 });
      const auth = authenticateBybit(raw, world, now);
      if (!auth.ok) return auth.reply;
      const { key } = auth;
      if (route.masterOnly && !key.isMaster) return bybitError(10005, key.apiKey, now);
      // Create/update/delete need a read-write key holding a transfer or withdraw permission
      // (docs/exchanges/bybit.md#permissions).
      if (route.needsManage && (key.readOnly === 1 || !canManageKeys(key)))
        return bybitError(10005, key.apiKey, now);
      // Per UID and endpoint over a rolling window, shared by every key of that UID; every answer from
      // here on carries the bucket's X-Bapi-Limit* headers (docs/exchanges/bybit.md#rate-limits).
      const bucket = `bybit:uid:${key.ownerUid}:${route.method}:${route.path}`;
      const limit = deps.limits[route.limit];
      const taken = deps.limiter.tryTake(bucket, limit, now);
      const usage = deps.limiter.usage(bucket, limit, now);
      const headers = {
        "x-bapi-limit": String(limit.limit),
        "x-bapi-limit-status": String(Math.max(0, limit.limit - usage.count)),
        "x-bapi-limit-reset-timestamp": String(taken ? now : usage.resetAt),
      };
      if (!taken) return bybitError(10006, key.apiKey, now, { headers });
      let params: Record<string, unknown>;
      if (raw.method === "GET") {
        params = Object.fromEntries(new URLSearchParams(raw.query));
      } else {
        try {
          const parsed: unknown = JSON.parse(raw.body || "{}");
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
            return bybitError(10001, key.apiKey, now, { headers });
          params = parsed as Record<string, unknown>;
        } catch {
          return bybitError(10001, key.apiKey, now, { headers });
        }
      }
      return route.handle({ key, world, now, params, headers, changed: deps.changed });
    },
  });
}
