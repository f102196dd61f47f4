/** The Bitfinex v2 listener: per-IP rate limits, authentication, and the key-related endpoints. */
import { randomUUID } from "node:crypto";
import { exchangeListener, type HandledReply } from "../exchange-listener.js";
import { normaliseAddress } from "../ip-whitelist.js";
import { type RestListenerDeps, uiPassthrough } from "../rest-listener-kit.js";
import { listOf, textOf, type UiSpec } from "../ui-pages.js";
import { authenticateBitfinex } from "./auth.js";
import { BFX, bfxError, bfxOk, bfxRateLimited } from "./errors.js";
import { type BitfinexFaultSpec, bitfinexSpec } from "./faults.js";
import type { BitfinexRateLimits } from "./rate-limits.js";
import {
  type BitfinexKey,
  type BitfinexPermission,
  type BitfinexToken,
  type BitfinexWorld,
  fullPermissions,
} from "./state.js";

/**
 * bitfinex.com's "API Keys" page: every Bitfinex key is created and revoked there, by a person. The
 * buttons say what Keyward's Bitfinex steps tell the person to click ("Revoke", "Create New Key").
 */
export const BITFINEX_UI: UiSpec = {
  path: "/api",
  title: "Bitfinex — API Keys (simulator)",
  words: { revoke: "Revoke", create: "Create New Key" },
  create: {
    fields: [
      { name: "userId", label: "User ID", kind: "text", help: "The ID in the Account column." },
      { name: "label", label: "Label", kind: "text" },
      {
        name: "permissions",
        label: "Permissions",
        kind: "text",
        help: "As the Permissions column writes them: scope:r (read) or scope:rw, e.g. account:r orders:rw.",
      },
      { name: "ip", label: "IP addresses", kind: "text", help: "Comma-separated; empty: any address." },
    ],
    body: (f) => ({
      userId: Number(textOf(f.get("userId")) || Number.NaN),
      label: textOf(f.get("label")),
      permissions: listOf(f.get("permissions")).map((item) => {
        const [scope = "", mode = "r"] = item.split(":");
        return [scope, 1, mode === "rw" ? 1 : 0];
      }),
      ip: listOf(f.get("ip")),
    }),
    shown: (a) => [
      { label: "API key", value: String(a.apiKey) },
      { label: "API secret", value: String(a.apiSecret) },
    ],
  },
};

export type BitfinexServerDeps = RestListenerDeps<BitfinexWorld, BitfinexRateLimits>;

/** Token capabilities and the key scope each one needs (https://docs.bitfinex.com/reference/generate-token). */
const CAP_SCOPES: Record<string, string> = {
  a: "account",
  o: "orders",
  f: "funding",
  s: "settings",
  w: "wallets",
  wd: "withdraw",
  bp: "bfxpay",
};
const SCOPE_CAPS = Object.fromEntries(Object.entries(CAP_SCOPES).map(([cap, scope]) => [scope, cap]));

interface Ctx {
  key: BitfinexKey;
  token: BitfinexToken | null;
  body: Record<string, unknown>;
  spec: BitfinexFaultSpec;
  world: BitfinexWorld;
  now: number;
  changed(): void;
}

const can = (key: BitfinexKey, scope: string, write = false) =>
  fullPermissions(key).some((p) => p[0] === scope && (write ? p[2] === 1 : p[1] === 1));

/** What a token may do: the key's scopes narrowed to the token's caps, writes only with writePermission. */
function permissionsFor(ctx: Ctx): BitfinexPermission[] {
  const all = fullPermissions(ctx.key);
  const token = ctx.token;
  if (!token) return all;
  return all.map(([scope, read, write]) => {
    const cap = SCOPE_CAPS[scope];
    const allowed = cap === undefined || token.caps.includes(cap);
    return [scope, allowed ? read : 0, allowed && token.writePermission ? write : 0];
  });
}

/** https://docs.bitfinex.com/reference/rest-auth-info-user: a positional array. */
function userInfo(ctx: Ctx): HandledReply {
  // Through a token, what counts is the key's scopes narrowed to the token's caps.
  if (!permissionsFor(ctx).some(([scope, read]) => scope === "account" && read === 1)) {
    return bfxError(BFX.permissionInvalid, ctx.spec, ctx.key.apiKey);
  }
  const user = ctx.world.bitfinexUser(ctx.key.userId);
  const info: unknown[] = new Array(40).fill(null);
  info[0] = ctx.key.userId;
  info[1] = user?.email ?? null;
  info[2] = user?.username ?? null;
  info[3] = Date.parse(ctx.key.createdAt);
  info[4] = 1;
  info[5] = 2;
  info[7] = "Europe/Zurich";
  info[8] = "en_US";
  info[16] = null;
  info[18] = 0;
  info[26] = ["otp"];
  return bfxOk(info, ctx.key.apiKey);
}

/** https://docs.bitfinex.com/reference/generate-token */
function generateToken(ctx: Ctx): HandledReply {
  const { body, key, spec } = ctx;
  if (ctx.token) return bfxError(BFX.permissionInvalid, spec, key.apiKey);
  if (body.scope !== "api") return bfxError(BFX.params, spec, key.apiKey, "scope: invalid");
  const ttl = body.ttl === undefined ? 120 : Number(body.ttl);
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400 * 7)
    return bfxError(BFX.params, spec, key.apiKey, "ttl: invalid");
  const caps = body.caps === undefined ? [] : body.caps;
  if (!Array.isArray(caps) || !caps.every((c): c is string => typeof c === "string" && c in CAP_SCOPES)) {
    return bfxError(BFX.params, spec, key.apiKey, "caps: invalid");
  }
  const writePermission = body.writePermission === true;
  if (caps.includes("wd") && !writePermission)
    return bfxError(BFX.params, spec, key.apiKey, "caps: wd requires writePermission");
  // A cap needs its scope readable on the key; `wd` (withdraw) needs the key's withdraw write.
  if (caps.some((c) => !can(key, CAP_SCOPES[c] as string, c === "wd"))) {
    return bfxError(BFX.permissionInvalid, spec, key.apiKey);
  }
  const token = `pub:api:${randomUUID()}-caps:${caps.join(":")}${writePermission ? "-write" : "-read"}`;
  ctx.world.bitfinexTokens.set(token, {
    token,
    apiKey: key.apiKey,
    expiresAt: ctx.now + ttl * 1000,
    caps,
    writePermission,
  });
  ctx.changed();
  return bfxOk([token], key.apiKey);
}

/** `auth/w/token/del` (bfx-api-node-rest invalidateAuthToken): removes one token, never the key. */
function deleteToken(ctx: Ctx): HandledReply {
  const { body, key, spec } = ctx;
  if (ctx.token) return bfxError(BFX.permissionInvalid, spec, key.apiKey);
  const token = typeof body.token === "string" ? ctx.world.bitfinexTokens.get(body.token) : undefined;
  if (!token || token.apiKey !== key.apiKey) return bfxError(BFX.tokenInvalid, spec, key.apiKey);
  ctx.world.bitfinexTokens.delete(token.token);
  ctx.changed();
  return bfxOk([1], key.apiKey);
}

const ROUTES: Record<string, (ctx: Ctx) => HandledReply> = {
  "/v2/auth/r/permissions": (ctx) => bfxOk(permissionsFor(ctx), ctx.key.apiKey),
  "/v2/auth/r/info/user": userInfo,
  "/v2/auth/w/token": generateToken,
  "/v2/auth/w/token/del": deleteToken,
};

export function bitfinexListener(deps: BitfinexServerDeps) {
  return exchangeListener({
    exchange: "bitfinex",
    apiKeyHeader: "bfx-apikey",
    faults: deps.faults,
    log: deps.log,
    clock: deps.clock,
    isWrite: (raw) => raw.path.startsWith("/v2/auth/w/"),
    faultReply: (status) => ({
      status,
      contentType: "text/html",
      body: `<html><body><h1>${status}</h1></body></html>`,
    }),
    tooLarge: () => bfxError(BFX.params, bitfinexSpec(deps.faults), null),
    passthrough: uiPassthrough(deps, BITFINEX_UI),
    handle(raw) {
      const now = deps.clock.now();
      const spec = bitfinexSpec(deps.faults);
      const world = deps.world();
      const apiKeyHeader = (raw.headers["bfx-apikey"] as string | undefined) ?? null;
      const route = ROUTES[raw.path];
      if (!route || raw.method !== "POST") {
        return { status: 404, body: ["error", 10020, "route: not found"], code: "404", apiKey: apiKeyHeader };
      }
      // Per IP and endpoint (Sim choice, docs/exchanges/bitfinex.md#rate-limits); a breach blocks the IP
      // there for a while.
      const bucket = `bitfinex:ip:${normaliseAddress(raw.remoteAddress)}:${raw.path}`;
      const until = deps.limiter.blockedUntil(bucket);
      if (until > now) return bfxRateLimited(spec, apiKeyHeader, Math.ceil((until - now) / 1000));
      if (!deps.limiter.tryTake(bucket, deps.limits.auth, now)) {
        deps.limiter.block(bucket, now + deps.limits.blockMs);
        return bfxRateLimited(spec, apiKeyHeader, Math.ceil(deps.limits.blockMs / 1000));
      }
      const auth = authenticateBitfinex(raw, world, spec, now);
      if (!auth.ok) return auth.reply;
      // Nonce accepted: persist it before answering, so a restart can never accept it again.
      if (!auth.token) deps.changed();
      let body: Record<string, unknown> = {};
      if (raw.body !== "") {
        try {
          const parsed: unknown = JSON.parse(raw.body);
          if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
            throw new Error("not an object");
          body = parsed as Record<string, unknown>;
        } catch {
          return bfxError(BFX.params, spec, auth.key.apiKey, "body: invalid json");
        }
      }
      return route({ key: auth.key, token: auth.token, body, spec, world, now, changed: deps.changed });
    },
  });
}
