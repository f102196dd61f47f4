/**
 * Bybit v5 answers: the `{retCode, retMsg, result, retExtInfo, time}` envelope and the codes the
 * key-management surface uses (https://bybit-exchange.github.io/docs/v5/error). Bybit answers these with
 * HTTP 200 and the code in the body; the simulator does the same for every code it sends
 * (docs/exchanges/bybit.md#response-envelope-and-error-codes).
 */
import type { HandledReply } from "../exchange-listener.js";

export const BYBIT_ERRORS = {
  10001: "Request parameter error.",
  10002: "invalid request, please check your server timestamp or recv_window param",
  10003: "API key is invalid.",
  10004: "Error sign, please check your signature generation algorithm.",
  10005: "Permission denied, please check your API key permissions.",
  10006: "Too many visits!",
  10010: "Unmatched IP, please check your API key's bound IP addresses.",
  10017: "route not found",
} as const;

export type BybitErrorCode = keyof typeof BYBIT_ERRORS;

export function bybitError(
  code: BybitErrorCode,
  apiKey: string | null,
  now: number,
  options: { msg?: string; headers?: Record<string, string>; status?: number } = {},
): HandledReply {
  return {
    status: options.status ?? 200,
    body: { retCode: code, retMsg: options.msg ?? BYBIT_ERRORS[code], result: {}, retExtInfo: {}, time: now },
    code: String(code),
    apiKey,
    ...(options.headers ? { headers: options.headers } : {}),
  };
}

export function bybitOk(
  result: unknown,
  apiKey: string | null,
  now: number,
  headers?: Record<string, string>,
): HandledReply {
  return {
    status: 200,
    body: { retCode: 0, retMsg: "OK", result, retExtInfo: {}, time: now },
    code: "0",
    apiKey,
    ...(headers ? { headers } : {}),
  };
}
