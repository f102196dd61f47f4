/** The Bybit v5 listener: authenticated key management under /v5/user/, and the "API Management" page. */
import { exchangeListener } from "../exchange-listener.js";
import { type RestListenerDeps, requestParams, restListenerBase } from "../rest-listener-kit.js";
import { listOf, textOf, type UiSpec } from "../ui-pages.js";
import { authenticateBybit } from "./auth.js";
import { BYBIT_ROUTES } from "./endpoints.js";
import { bybitError } from "./envelope.js";
import type { BybitRateLimits } from "./rate-limits.js";
import { type BybitWorld, canManageKeys } from "./state.js";

/**
 * bybit.com's "API Management" page, where a person creates master keys and revokes any key. The buttons
 * say what Keyward's Bybit steps tell the person to choose ("Delete", "Create New Key").
 */
export const BYBIT_UI: UiSpec = {
  path: "/app/user/api-management",
  title: "Bybit — API Management (simulator)",
  words: { revoke: "Delete", create: "Create New Key" },
  create: {
    fields: [
      {
        name: "uid",
        label: "Account UID",
        kind: "text",
        help: "The master's or a sub-account's UID (Account column).",
      },
      { name: "note", label: "API key name", kind: "text" },
      { name: "readOnly", label: "Read-only", kind: "checkbox" },
      {
        name: "permissions",
        label: "Permissions",
        kind: "text",
        help: "As the Permissions column writes them, e.g. Spot:SpotTrade Wallet:AccountTransfer.",
      },
      {
        name: "ips",
        label: "IP addresses",
        kind: "text",
        help: "Comma-separated; empty: no IP binding (the key expires after 90 days).",
      },
    ],
    body: (f) => {
      const permissions: Record<string, string[]> = {};
      for (const item of listOf(f.get("permissions"))) {
        const [group = "", permission = ""] = item.split(":");
        permissions[group] = [...(permissions[group] ?? []), permission];
      }
      const ips = listOf(f.get("ips"));
      return {
        uid: textOf(f.get("uid")),
        note: textOf(f.get("note")),
        readOnly: f.get("readOnly") ? 1 : 0,
        ips: ips.length ? ips : ["*"],
        permissions,
      };
    },
    shown: (a) => [
      { label: "API Key", value: String(a.apiKey) },
      { label: "API Secret", value: String(a.secret) },
    ],
  },
};

export type BybitServerDeps = RestListenerDeps<BybitWorld, BybitRateLimits>;

export function bybitListener(deps: BybitServerDeps) {
  return exchangeListener({
    ...restListenerBase(deps, {
      exchange: "bybit",
      apiKeyHeader: "x-bapi-api-key",
      routes: BYBIT_ROUTES,
      ui: BYBIT_UI,
    }),
    tooLarge: () => bybitError(10001, null, deps.clock.now()),
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
      const params = requestParams(raw);
      if (!params) return bybitError(10001, key.apiKey, now, { headers });
      return route.handle({ key, world, now, params, headers, changed: deps.changed });
    },
  });
}
