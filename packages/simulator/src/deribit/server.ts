/**
 * The Deribit JSON-RPC v2 listener over HTTP: every method as `GET /api/v2/<public|private>/<name>?<query>`
 * (what ccxt sends) or `POST` of a JSON-RPC body to the same path, and the "API" stand-in page.
 */
import { exchangeListener } from "../exchange-listener.js";
import type { RawRequest } from "../http-kit.js";
import { type RestListenerDeps, restListenerBase } from "../rest-listener-kit.js";
import { listOf, textOf, type UiSpec } from "../ui-pages.js";
import { authenticateDeribit, clientIdOf, issueToken, publicAuth } from "./auth.js";
import { deribitError, deribitOk, type RpcId } from "./envelope.js";
import { DERIBIT_METHODS, type MethodContext, pruneChallenges, secondFactor } from "./methods.js";
import type { DeribitRateLimits } from "./rate-limits.js";
import { grants } from "./scopes.js";
import type { DeribitAccount, DeribitWorld } from "./state.js";

/**
 * deribit.com's Account › API page, where a person adds and removes keys. The buttons say what Keyward's
 * Deribit steps tell the person to choose ("Remove", "Add new key").
 */
export const DERIBIT_UI: UiSpec = {
  path: "/account/BTC/api",
  title: "Deribit — Account › API (simulator)",
  words: { revoke: "Remove", create: "Add new key" },
  create: {
    fields: [
      { name: "username", label: "Account", kind: "text", help: "The account's username (Account column)." },
      { name: "name", label: "Key name", kind: "text", help: "Up to 16 of A-Z a-z 0-9 _." },
      {
        name: "max_scope",
        label: "Scope",
        kind: "text",
        help: "As Deribit writes it, e.g. account:read trade:read_write wallet:none.",
      },
      {
        name: "ip_whitelist",
        label: "IP whitelist",
        kind: "text",
        help: "Comma-separated addresses or CIDR ranges; empty: any address.",
      },
    ],
    body: (f) => ({
      username: textOf(f.get("username")),
      name: textOf(f.get("name")),
      max_scope: textOf(f.get("max_scope")),
      ip_whitelist: listOf(f.get("ip_whitelist")),
    }),
    shown: (a) => [
      { label: "Client ID", value: String(a.client_id) },
      { label: "Client Secret", value: String(a.client_secret) },
    ],
  },
};

export type DeribitServerDeps = RestListenerDeps<DeribitWorld, DeribitRateLimits>;

const PATH = /^\/api\/v2\/(public|private)\/([a-z_]+)$/;

interface Call {
  api: "public" | "private";
  name: string;
  params: Record<string, unknown>;
  rpcId: RpcId;
}

/** The call a request makes, or the JSON-RPC error to answer. */
function readCall(
  raw: RawRequest,
): Call | { error: -32600 | -32601 | -32700; rpcId: RpcId; reason?: string } {
  const m = PATH.exec(raw.path);
  if (!m) return { error: -32601, rpcId: undefined };
  const api = m[1] as "public" | "private";
  const name = m[2] as string;
  if (raw.method === "GET")
    return { api, name, params: Object.fromEntries(new URLSearchParams(raw.query)), rpcId: undefined };
  if (raw.method !== "POST") return { error: -32600, rpcId: undefined, reason: "GET or POST" };
  let body: unknown;
  try {
    body = JSON.parse(raw.body);
  } catch {
    return { error: -32700, rpcId: undefined };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    return { error: -32600, rpcId: undefined };
  const rpc = body as Record<string, unknown>;
  const rpcId = typeof rpc.id === "number" || typeof rpc.id === "string" ? rpc.id : undefined;
  // The body's method, when given, must be the one the path names.
  if (rpc.method !== undefined && rpc.method !== `${api}/${name}`)
    return { error: -32600, rpcId, reason: "method: not the one the path names" };
  const params = rpc.params ?? {};
  if (typeof params !== "object" || params === null || Array.isArray(params))
    return { error: -32600, rpcId, reason: "params: expected an object" };
  return { api, name, params: params as Record<string, unknown>, rpcId };
}

/** The writes an injected "drop the response" applies to. */
const WRITES = new Set(DERIBIT_METHODS.filter((m) => m.write).map((m) => `/api/v2/private/${m.name}`));

export function deribitListener(deps: DeribitServerDeps) {
  /** Per account and all its keys together; an empty bucket is 10028. */
  const takeCredits = (account: DeribitAccount, now: number) =>
    deps.limiter.tryTakeCredits(
      `deribit:account:${account.id}`,
      deps.limits.credits,
      now,
      account.startCredits ?? deps.limits.credits.capacity,
    );

  return exchangeListener({
    ...restListenerBase(deps, { exchange: "deribit", apiKeyHeader: "", routes: [], ui: DERIBIT_UI }),
    apiKeyOf: (raw) => clientIdOf(raw, deps.world()),
    isWrite: (raw) => WRITES.has(raw.path),
    tooLarge: () => deribitError(-32600, undefined, null, deps.clock.now(), "request too large"),
    handle(raw) {
      const now = deps.clock.now();
      const world = deps.world();
      pruneChallenges(world, now);
      const call = readCall(raw);
      if ("error" in call) return deribitError(call.error, call.rpcId, null, now, call.reason);
      const { rpcId, params } = call;

      if (call.api === "public") {
        if (call.name === "get_time") return deribitOk(now, rpcId, null, now);
        if (call.name === "test") return deribitOk({ version: "1.2.26" }, rpcId, null, now);
        if (call.name !== "auth") return deribitError(-32601, rpcId, null, now);
        const auth = publicAuth(raw, params, world, now, rpcId);
        if (!auth.ok) return auth.reply;
        const { caller } = auth;
        if (!takeCredits(caller.account, now)) return deribitError(10028, rpcId, caller.key.clientId, now);
        const result = issueToken(world, caller, now);
        deps.changed();
        return deribitOk(result, rpcId, caller.key.clientId, now);
      }

      const method = DERIBIT_METHODS.find((m) => m.name === call.name);
      const auth = authenticateDeribit(raw, world, now, rpcId);
      if (!auth.ok) return auth.reply;
      const { account, key } = auth.caller;
      if (!method) return deribitError(-32601, rpcId, key.clientId, now);
      if (!takeCredits(account, now)) return deribitError(10028, rpcId, key.clientId, now);
      if (!grants(key.maxScope, "account", method.needs))
        return deribitError(13021, rpcId, key.clientId, now);
      const ctx: MethodContext = {
        world,
        account,
        key,
        params,
        now,
        rpcId,
        faults: deps.faults,
        changed: deps.changed,
      };
      const action = method.prepare(ctx);
      if (typeof action !== "function") return action;
      if (method.tfa) {
        const refused = secondFactor(ctx, `private/${method.name}`);
        if (refused) return refused;
      }
      return action();
    },
  });
}
