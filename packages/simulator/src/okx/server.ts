/** The OKX v5 listener for one regional host: public time, then authenticated key management. */
import { exchangeListener } from "../exchange-listener.js";
import { normaliseAddress } from "../ip-whitelist.js";
import { type RestListenerDeps, requestParams, restListenerBase } from "../rest-listener-kit.js";
import { listOf, textOf, type UiSpec } from "../ui-pages.js";
import { authenticateOkx } from "./auth.js";
import { OKX_ROUTES } from "./endpoints.js";
import { okxError, okxOk } from "./envelope.js";
import type { OkxRateLimits } from "./rate-limits.js";
import type { OkxRegion } from "./scenario.js";
import type { OkxWorld } from "./state.js";

/**
 * okx.com's "API management" page, where only a person creates and revokes a master key. The buttons
 * say what Keyward's OKX steps tell the person to choose ("Delete", "Create API key").
 */
export const OKX_UI: UiSpec = {
  path: "/account/my-api",
  title: "OKX — API management (simulator)",
  words: { revoke: "Delete", create: "Create API key" },
  create: {
    fields: [
      { name: "uid", label: "Master account UID", kind: "text", help: "The UID in the Account column." },
      { name: "label", label: "API key name", kind: "text" },
      {
        name: "perm",
        label: "Permissions",
        kind: "text",
        help: "read_only, trade, withdraw, comma-separated (read_only alone: a read-only key).",
      },
      { name: "ip", label: "IP addresses", kind: "text", help: "Comma-separated addresses or CIDR ranges." },
      {
        name: "passphrase",
        label: "Passphrase",
        kind: "password",
        help: "Chosen now; give it with the key.",
      },
    ],
    body: (f) => ({
      uid: textOf(f.get("uid")),
      label: textOf(f.get("label")),
      perm: listOf(f.get("perm")).join(","),
      ip: listOf(f.get("ip")).join(","),
      passphrase: f.get("passphrase") ?? "",
    }),
    // Not the passphrase: the person typed it, and OKX does not show it back.
    shown: (a) => [
      { label: "API key", value: String(a.apiKey) },
      { label: "Secret key", value: String(a.secretKey) },
    ],
  },
};

export interface OkxServerDeps extends RestListenerDeps<OkxWorld, OkxRateLimits> {
  region: OkxRegion;
  timestampWindowMs: number;
}

export function okxListener(deps: OkxServerDeps) {
  return exchangeListener({
    ...restListenerBase(deps, {
      exchange: "okx",
      apiKeyHeader: "ok-access-key",
      routes: OKX_ROUTES,
      ui: OKX_UI,
    }),
    tooLarge: () => okxError("50002", null),
    handle(raw) {
      const now = deps.clock.now();
      const world = deps.world();
      if (raw.path === "/api/v5/public/time" && raw.method === "GET") {
        const ip = normaliseAddress(raw.remoteAddress);
        if (!deps.limiter.tryTake(`okx:ip:${ip}:public-time`, deps.limits.publicTime, now))
          return okxError("50011", null);
        return okxOk([{ ts: String(now) }], null);
      }
      const route = OKX_ROUTES.find((r) => r.path === raw.path && r.method === raw.method);
      if (!route) {
        const known = OKX_ROUTES.some((r) => r.path === raw.path);
        return {
          status: known ? 405 : 404,
          body: {
            code: String(known ? 405 : 404),
            msg: known ? "Method Not Allowed" : "Not Found",
            data: [],
          },
          code: known ? "405" : "404",
          apiKey: null,
        };
      }
      const auth = authenticateOkx(raw, {
        world,
        region: deps.region,
        now,
        timestampWindowMs: deps.timestampWindowMs,
      });
      if (!auth.ok) return auth.reply;
      const { key } = auth;
      if (route.masterOnly && key.subAcct !== null) return okxError("59500", key.apiKey);
      if (route.ipBoundCaller && key.ip.length === 0) return okxError("50035", key.apiKey);
      if (route.needsTrade && !key.perm.split(",").includes("trade")) return okxError("50120", key.apiKey);
      // Private limits count per User ID and endpoint, shared by every key of that UID
      // (docs/exchanges/okx.md#rate-limits).
      if (
        !deps.limiter.tryTake(
          `okx:uid:${key.ownerUid}:${route.method}:${route.path}`,
          deps.limits[route.limit],
          now,
        )
      ) {
        return okxError("50011", key.apiKey);
      }
      const params = requestParams(raw);
      if (!params) return okxError("50002", key.apiKey);
      return route.handle({ raw, key, world, now, params, faults: deps.faults, changed: deps.changed });
    },
  });
}
