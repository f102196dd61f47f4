/**
 * Bybit v5 request authentication, implemented from the server's side and independently of ccxt
 * (https://bybit-exchange.github.io/docs/v5/guide#authentication; docs/exchanges/bybit.md#signing).
 * Check order (Bybit does not document one; docs/exchanges/bybit.md#where-the-exchange-is-silent):
 * headers → timestamp within the receive window → key (unknown, deleted or expired) → signature → IP.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { HandledReply } from "../exchange-listener.js";
import { header, type RawRequest } from "../http-kit.js";
import { ipAllowed } from "../ip-whitelist.js";
import { bybitError } from "./envelope.js";
import type { BybitKey, BybitWorld } from "./state.js";

/** The receive window when the request sends none (X-BAPI-RECV-WINDOW's documented default). */
export const BYBIT_DEFAULT_RECV_WINDOW_MS = 5000;
/** How far ahead of the server's clock a timestamp may be: `timestamp < server_time + 1000`. */
export const BYBIT_FUTURE_TOLERANCE_MS = 1000;

export type BybitAuthResult = { ok: true; key: BybitKey } | { ok: false; reply: HandledReply };

/** Lower-case hex HMAC-SHA256 of `timestamp + apiKey + recvWindow + payload`. */
export function bybitSignature(secret: string, prehash: string): string {
  return createHmac("sha256", secret).update(prehash).digest("hex");
}

export function authenticateBybit(raw: RawRequest, world: BybitWorld, now: number): BybitAuthResult {
  const apiKey = header(raw.headers, "x-bapi-api-key");
  const timestamp = header(raw.headers, "x-bapi-timestamp");
  const sign = header(raw.headers, "x-bapi-sign");
  const recvWindowHeader = header(raw.headers, "x-bapi-recv-window");
  const logKey = apiKey || null;
  const fail = (reply: HandledReply): BybitAuthResult => ({ ok: false, reply });

  if (!apiKey) return fail(bybitError(10003, null, now));
  if (!sign) return fail(bybitError(10004, logKey, now));
  if (!timestamp || !/^\d{1,16}$/.test(timestamp)) return fail(bybitError(10002, logKey, now));
  let recvWindow = BYBIT_DEFAULT_RECV_WINDOW_MS;
  if (recvWindowHeader !== undefined) {
    if (!/^\d{1,9}$/.test(recvWindowHeader)) return fail(bybitError(10001, logKey, now));
    recvWindow = Number(recvWindowHeader);
  }
  // server_time - recv_window <= timestamp < server_time + 1000
  const ts = Number(timestamp);
  if (!(now - recvWindow <= ts && ts < now + BYBIT_FUTURE_TOLERANCE_MS)) {
    return fail(
      bybitError(10002, logKey, now, {
        msg: `invalid request, please check your server timestamp or recv_window param. req_timestamp[${ts}],server_timestamp[${now}],recv_window[${recvWindow}]`,
      }),
    );
  }

  const key = world.bybitKeys.get(apiKey);
  // Deleted and expired keys are refused like unknown ones (expired: UNCONFIRMED,
  // docs/exchanges/bybit.md#key-expiry).
  if (key?.status !== "active" || world.expired(key, now)) return fail(bybitError(10003, logKey, now));

  // The pre-hash uses the bytes received: the query string as sent (GET) or the raw body (POST), and the
  // recv-window header as sent ("" when absent).
  const payload = raw.method === "GET" ? raw.query : raw.body;
  const expected = Buffer.from(
    bybitSignature(key.secret, `${timestamp}${apiKey}${recvWindowHeader ?? ""}${payload}`),
  );
  const given = Buffer.from(sign.toLowerCase());
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return fail(bybitError(10004, logKey, now));
  }

  if (!ipAllowed(key.ips, raw.remoteAddress)) return fail(bybitError(10010, logKey, now));
  return { ok: true, key };
}
