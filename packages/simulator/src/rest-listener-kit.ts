/**
 * What the REST exchanges' listeners (OKX, Bybit) wire the same way around exchangeListener: their
 * dependencies from the module's context, which requests write, the error page an injected 5xx shows
 * (what a failing proxy in front of the exchange sends), the "API management" stand-in page served
 * beside the API, and the request's parameters (query string or JSON object body). Each exchange's
 * `server.ts` keeps its own checks, codes and envelopes.
 */
import type { ExchangeListenerOptions } from "./exchange-listener.js";
import type { ModuleContext, UiRevokeResult, UiRow } from "./exchange-module.js";
import type { RawRequest, Reply } from "./http-kit.js";
import { type UiPage, type UiPanel, type UiSpec, uiRoute } from "./ui-pages.js";

/** What a REST exchange's listener is given: its module's context, the world read per request. */
export type RestListenerDeps<World, Limits> = Pick<
  ModuleContext<World, Limits>,
  "clock" | "limiter" | "limits" | "faults" | "log" | "changed" | "createKey"
> & {
  /** The current world (POST /scenario replaces it: read it per request). */
  world(): World;
};

export const restListenerDeps = <World, Limits>(
  ctx: ModuleContext<World, Limits>,
): RestListenerDeps<World, Limits> => ({
  world: ctx.state,
  clock: ctx.clock,
  limiter: ctx.limiter,
  limits: ctx.limits,
  faults: ctx.faults,
  log: ctx.log,
  changed: ctx.changed,
  ...(ctx.createKey ? { createKey: ctx.createKey } : {}),
});

/** A world whose keys an "API management" page lists and revokes. */
interface UiWorld {
  uiRows(now: number): UiRow[];
  uiRevoke(apiKey: string): UiRevokeResult;
  /** A box beside the keys (ui-pages.ts UiPanel), for the exchanges that have one. */
  uiPanel?(now: number): UiPanel;
}

/** The exchange's "API management" stand-in page over its current world. */
export const uiPageOf = (
  ui: UiSpec,
  world: UiWorld,
  createKey?: (body: Record<string, unknown>) => Reply,
): UiPage => ({
  ...ui,
  rows: (now) => world.uiRows(now),
  revoke: (apiKey) => world.uiRevoke(apiKey),
  ...(world.uiPanel ? { panel: (now: number) => world.uiPanel?.(now) as UiPanel } : {}),
  ...(createKey ? { createKey } : {}),
});

/**
 * exchangeListener's options that are the same for every REST exchange: POST routes write (an injected
 * "drop" applies to them), an injected 5xx answers with a bare HTML error page, and the stand-in page is
 * served at the real page's path, outside the API (no faults, not logged).
 */
export function restListenerBase<World extends UiWorld, Limits>(
  deps: RestListenerDeps<World, Limits>,
  spec: {
    exchange: string;
    apiKeyHeader: string;
    routes: readonly { method: string; path: string }[];
    ui: UiSpec;
  },
): Pick<
  ExchangeListenerOptions,
  "exchange" | "apiKeyHeader" | "faults" | "log" | "clock" | "isWrite" | "faultReply" | "passthrough"
> {
  const writePaths = new Set(spec.routes.filter((r) => r.method === "POST").map((r) => r.path));
  return {
    exchange: spec.exchange,
    apiKeyHeader: spec.apiKeyHeader,
    faults: deps.faults,
    log: deps.log,
    clock: deps.clock,
    isWrite: (raw) => raw.method === "POST" && writePaths.has(raw.path),
    faultReply: (status) => ({
      status,
      contentType: "text/html",
      body: `<html><head><title>${status}</title></head><body><center><h1>${status}</h1></center></body></html>`,
    }),
    passthrough: uiPassthrough(deps, spec.ui),
  };
}

/** Serves the exchange's stand-in page at the real page's path, outside the API (no faults, not logged). */
export const uiPassthrough =
  <World extends UiWorld>(
    deps: Pick<RestListenerDeps<World, unknown>, "world" | "clock" | "changed" | "createKey">,
    ui: UiSpec,
  ): NonNullable<ExchangeListenerOptions["passthrough"]> =>
  (raw) =>
    uiRoute(
      uiPageOf(ui, deps.world(), deps.createKey),
      raw.method,
      raw.path,
      raw.query,
      raw.body,
      deps.clock.now(),
      deps.changed,
      raw.headers,
    );

/**
 * A request's parameters: the query string of a GET, the JSON object body of anything else (an empty
 * body is `{}`); undefined when that body is not a JSON object (the exchange answers its own "bad
 * parameters" code).
 */
export function requestParams(raw: RawRequest): Record<string, unknown> | undefined {
  if (raw.method === "GET") return Object.fromEntries(new URLSearchParams(raw.query));
  try {
    const parsed: unknown = JSON.parse(raw.body || "{}");
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
