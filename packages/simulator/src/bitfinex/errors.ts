/**
 * Bitfinex v2 error answers: `["error", CODE, "message"]`, normally with HTTP 500
 * (https://docs.bitfinex.com/docs/abbreviations-glossary; docs/exchanges/bitfinex.md#error-codes). The status
 * is switchable to 400/401 because ccxt returns such answers as data instead of throwing, a gap adapters must
 * cover.
 */
import type { HandledReply } from "../exchange-listener.js";
import type { BitfinexFaultSpec } from "./faults.js";

export const BFX = {
  permissionInvalid: [10001, "api_key: permission invalid"],
  params: [10020, "params: invalid"],
  apikeyInvalid: [10100, "apikey: invalid"],
  digestInvalid: [10100, "apikey: digest invalid"],
  tokenInvalid: [10100, "token: invalid"],
  nonceSmall: [10114, "nonce: small"],
} as const satisfies Record<string, readonly [number, string]>;

export function bfxError(
  error: readonly [number, string],
  spec: BitfinexFaultSpec,
  apiKey: string | null,
  message?: string,
): HandledReply {
  return {
    status: spec.bitfinexErrorStatus,
    body: ["error", error[0], message ?? error[1]],
    code: String(error[0]),
    apiKey,
  };
}

/** The observed rate-limit answers (ccxt/ccxt#6384, #6467, PR #18601); which one is a fault switch. */
export function bfxRateLimited(
  spec: BitfinexFaultSpec,
  apiKey: string | null,
  retryAfterS: number,
): HandledReply {
  switch (spec.bitfinexRateLimitShape) {
    case "err-object":
      return {
        status: 429,
        body: { error: "ERR_RATE_LIMIT" },
        headers: { "retry-after": String(retryAfterS) },
        code: "ERR_RATE_LIMIT",
        apiKey,
      };
    case "null-code":
      return { status: 429, body: ["error", null, "ERR_RATE_LIMIT"], code: "ERR_RATE_LIMIT", apiKey };
    default:
      return { status: 429, body: ["error", 11010, "ratelimit: error"], code: "11010", apiKey };
  }
}

export const bfxOk = (body: unknown, apiKey: string | null): HandledReply => ({
  status: 200,
  body,
  code: "0",
  apiKey,
});
