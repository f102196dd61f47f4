/**
 * Deribit request authentication, implemented from the server's side and independently of ccxt
 * (https://docs.deribit.com/articles/authentication, public/auth; the deri-hmac-sha256 scheme as ccxt and
 * Deribit's examples sign it). Two ways in: a per-request signature in the Authorization header, or a
 * bearer token from `public/auth` (client_credentials or client_signature; refresh_token renews one).
 * Check order (Deribit documents none): key known → signature → timestamp → enabled → IP whitelist.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { HandledReply } from "../exchange-listener.js";
import { header, type RawRequest } from "../http-kit.js";
import { ipAllowed } from "../ip-whitelist.js";
import { deribitError, type RpcId } from "./envelope.js";
import {
  DERIBIT_REFRESH_TTL_MS,
  DERIBIT_TOKEN_TTL_MS,
  type DeribitAccount,
  type DeribitKey,
  type DeribitWorld,
  newToken,
} from "./state.js";

/** How far a signed request's `ts` may be from the server's clock (UNCONFIRMED tolerance). */
export const DERIBIT_TIMESTAMP_WINDOW_MS = 60_000;

export interface DeribitCaller {
  account: DeribitAccount;
  key: DeribitKey;
}

export type DeribitAuthResult = { ok: true; caller: DeribitCaller } | { ok: false; reply: HandledReply };

export const hmacHex = (secret: string, text: string): string =>
  createHmac("sha256", secret).update(text).digest("hex");

/** Constant-time comparison of two strings (different lengths are simply unequal). */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `deri-hmac-sha256 id=…,ts=…,sig=…,nonce=…` as fields, or undefined when it is not that scheme. */
export function parseHmacHeader(value: string): Record<string, string> | undefined {
  const m = /^deri-hmac-sha256\s+(.*)$/i.exec(value.trim());
  if (!m) return undefined;
  const fields: Record<string, string> = {};
  for (const part of (m[1] ?? "").split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return fields;
}

/** The client id the Authorization header names (for the request log), never the token or signature. */
export function clientIdOf(raw: RawRequest, world: DeribitWorld | undefined): string | undefined {
  const value = header(raw.headers, "authorization");
  if (!value) return undefined;
  const hmac = parseHmacHeader(value);
  if (hmac) return hmac.id;
  const bearer = /^Bearer\s+(\S+)$/i.exec(value.trim());
  const token = bearer?.[1] ? world?.tokens.get(bearer[1]) : undefined;
  if (!token || !world) return undefined;
  return world.account(token.accountId)?.keys.find((k) => k.id === token.keyId)?.clientId;
}

/** A private method's caller, from its Authorization header. */
export function authenticateDeribit(
  raw: RawRequest,
  world: DeribitWorld,
  now: number,
  rpcId: RpcId,
): DeribitAuthResult {
  const fail = (code: 13004 | 13009, clientId: string | null, reason?: string): DeribitAuthResult => ({
    ok: false,
    reply: deribitError(code, rpcId, clientId, now, reason),
  });
  const value = header(raw.headers, "authorization");
  if (!value) return fail(13009, null);

  const bearer = /^Bearer\s+(\S+)$/i.exec(value.trim());
  if (bearer) {
    const token = world.tokens.get(bearer[1] ?? "");
    if (!token || now >= token.expiresAt) return fail(13009, null);
    const account = world.account(token.accountId);
    const key = account && world.liveKey(account, token.keyId);
    // A token dies with its key: removed, reset (older secret) or disabled.
    if (!account || !key || key.secretVersion !== token.secretVersion || !key.enabled)
      return fail(13009, key?.clientId ?? null);
    if (!ipAllowed(key.ipWhitelist, raw.remoteAddress)) return fail(13009, key.clientId, "ip_not_allowed");
    return { ok: true, caller: { account, key } };
  }

  const fields = parseHmacHeader(value);
  if (!fields) return fail(13009, null);
  const { id, ts, sig, nonce } = fields;
  if (!id || !ts || !sig || nonce === undefined) return fail(13009, id ?? null);
  const found = world.byClientId(id);
  if (!found || found.key.removed || found.key.refusesAuth) return fail(13004, id);
  const { account, key } = found;
  // The bytes received: the request-target with its query exactly as sent, the raw body ("" for GET).
  const uri = raw.query ? `${raw.path}?${raw.query}` : raw.path;
  const expected = hmacHex(key.clientSecret, `${ts}\n${nonce}\n${raw.method}\n${uri}\n${raw.body}\n`);
  if (!sameText(expected, sig.toLowerCase())) return fail(13009, id);
  if (!/^\d{1,16}$/.test(ts) || Math.abs(now - Number(ts)) > DERIBIT_TIMESTAMP_WINDOW_MS)
    return fail(13009, id);
  if (!key.enabled) return fail(13004, id);
  if (!ipAllowed(key.ipWhitelist, raw.remoteAddress)) return fail(13009, id, "ip_not_allowed");
  return { ok: true, caller: { account, key } };
}

export type PublicAuthResult =
  | { ok: true; caller: DeribitCaller; grant: string }
  | { ok: false; reply: HandledReply };

/**
 * `public/auth`'s grants. A disabled key is refused like a wrong secret (UNCONFIRMED); a token from a
 * refresh keeps its key's checks (the key must still be live, enabled, same secret).
 */
export function publicAuth(
  raw: RawRequest,
  params: Record<string, unknown>,
  world: DeribitWorld,
  now: number,
  rpcId: RpcId,
): PublicAuthResult {
  const fail = (
    code: 13004 | 13009 | -32602,
    clientId: string | null,
    reason?: string,
  ): PublicAuthResult => ({
    ok: false,
    reply: deribitError(code, rpcId, clientId, now, reason),
  });
  const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined);
  const grant = str(params.grant_type);
  let found: DeribitCaller | undefined;
  if (grant === "client_credentials" || grant === "client_signature") {
    const clientId = str(params.client_id);
    if (!clientId) return fail(-32602, null, "client_id: required");
    const byId = world.byClientId(clientId);
    const known = byId && !byId.key.removed && !byId.key.refusesAuth ? byId : undefined;
    if (grant === "client_credentials") {
      const secret = str(params.client_secret);
      if (secret === undefined) return fail(-32602, clientId, "client_secret: required");
      if (!known || !sameText(known.key.clientSecret, secret)) return fail(13004, clientId);
    } else {
      const timestamp = str(params.timestamp);
      const signature = str(params.signature);
      const nonce = str(params.nonce) ?? "";
      const data = str(params.data) ?? "";
      if (!timestamp || !signature) return fail(-32602, clientId, "timestamp and signature: required");
      if (!known) return fail(13004, clientId);
      const expected = hmacHex(known.key.clientSecret, `${timestamp}\n${nonce}\n${data}`);
      if (!sameText(expected, signature.toLowerCase())) return fail(13004, clientId);
      if (!/^\d{1,16}$/.test(timestamp) || Math.abs(now - Number(timestamp)) > DERIBIT_TIMESTAMP_WINDOW_MS)
        return fail(13009, clientId);
    }
    if (!known.key.enabled) return fail(13004, clientId);
    found = known;
  } else if (grant === "refresh_token") {
    const refresh = str(params.refresh_token);
    const token = [...world.tokens.values()].find((t) => refresh !== undefined && t.refreshToken === refresh);
    if (!token || now >= token.refreshExpiresAt) return fail(13009, null);
    const account = world.account(token.accountId);
    const key = account && world.liveKey(account, token.keyId);
    if (!account || !key || key.secretVersion !== token.secretVersion || !key.enabled)
      return fail(13009, key?.clientId ?? null);
    // A refresh token is used once: the pair it belongs to is replaced.
    world.tokens.delete(token.accessToken);
    found = { account, key };
  } else {
    return fail(-32602, null, "grant_type: client_credentials, client_signature or refresh_token");
  }
  if (!ipAllowed(found.key.ipWhitelist, raw.remoteAddress))
    return fail(13009, found.key.clientId, "ip_not_allowed");
  return { ok: true, caller: found, grant };
}

/** A new token pair for a caller; `public/auth`'s result. */
export function issueToken(world: DeribitWorld, caller: DeribitCaller, now: number) {
  const accessToken = newToken(now);
  const refreshToken = newToken(now);
  world.tokens.set(accessToken, {
    accessToken,
    refreshToken,
    accountId: caller.account.id,
    keyId: caller.key.id,
    secretVersion: caller.key.secretVersion,
    expiresAt: now + DERIBIT_TOKEN_TTL_MS,
    refreshExpiresAt: now + DERIBIT_REFRESH_TTL_MS,
  });
  const scope = [caller.key.maxScope, ...(caller.account.type === "main" ? ["mainaccount"] : [])].join(" ");
  return {
    access_token: accessToken,
    expires_in: DERIBIT_TOKEN_TTL_MS / 1000,
    refresh_token: refreshToken,
    scope,
    token_type: "bearer",
    enabled_features: [...caller.key.enabledFeatures],
  };
}
