/**
 * Deribit's JSON-RPC 2.0 answers over HTTP: `{jsonrpc, id?, result | error, usIn, usOut, usDiff, testnet}`
 * and the error codes the key-management surface uses (https://docs.deribit.com/articles/errors). Errors
 * are HTTP 400, except `too_many_requests` which is 429 (UNCONFIRMED: Deribit's HTTP statuses).
 */
import type { HandledReply } from "../exchange-listener.js";

export const DERIBIT_ERRORS = {
  10028: "too_many_requests",
  11029: "invalid_arguments",
  13003: "tfa_required",
  13004: "invalid_credentials",
  13009: "unauthorized",
  13020: "not_found",
  13021: "forbidden",
  [-32600]: "Invalid Request",
  [-32601]: "Method not found",
  [-32602]: "Invalid params",
  [-32700]: "Parse error",
} as const;

export type DeribitErrorCode = keyof typeof DERIBIT_ERRORS;

/** The request's JSON-RPC id (POST bodies carry one; GET requests none). */
export type RpcId = number | string | null | undefined;

const timing = (now: number) => {
  const us = now * 1000;
  return { usIn: us, usOut: us, usDiff: 0, testnet: false };
};

export function deribitOk(
  result: unknown,
  rpcId: RpcId,
  clientId: string | null,
  now: number,
  code = "0",
): HandledReply {
  return {
    status: 200,
    body: { jsonrpc: "2.0", ...(rpcId === undefined ? {} : { id: rpcId }), result, ...timing(now) },
    code,
    apiKey: clientId,
  };
}

export function deribitError(
  code: DeribitErrorCode,
  rpcId: RpcId,
  clientId: string | null,
  now: number,
  reason?: string,
): HandledReply {
  return {
    status: code === 10028 ? 429 : 400,
    body: {
      jsonrpc: "2.0",
      ...(rpcId === undefined ? {} : { id: rpcId }),
      error: { code, message: DERIBIT_ERRORS[code], ...(reason ? { data: { reason } } : {}) },
      ...timing(now),
    },
    code: String(code),
    apiKey: clientId,
  };
}
