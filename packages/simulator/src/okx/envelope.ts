/**
 * OKX v5 answers: the `{code, msg, data}` envelope, the error codes the key-management surface uses,
 * and each code's HTTP status (https://www.okx.com/docs-v5/en/#error-code;
 * docs/exchanges/okx.md#response-envelope-and-http-status).
 */
import type { HandledReply } from "../exchange-listener.js";

export const OKX_ERRORS = {
  "50001": { status: 503, msg: "Service temporarily unavailable. Please try again later." },
  "50002": { status: 400, msg: "Json data format error" },
  "50011": { status: 429, msg: "Too Many Requests" },
  "50013": { status: 429, msg: "Systems are busy. Please try again later." },
  "50014": { status: 400, msg: "Parameter {0} can not be empty." },
  "50035": { status: 403, msg: "This endpoint requires that APIKey must be bound to IP" },
  "50100": { status: 400, msg: "API frozen, please contact customer service." },
  "50101": { status: 401, msg: "APIKey does not match current environment." },
  "50102": { status: 401, msg: "Timestamp request expired." },
  "50103": { status: 401, msg: 'Request header "OK-ACCESS-KEY" cannot be empty.' },
  "50104": { status: 401, msg: 'Request header "OK-ACCESS-PASSPHRASE" cannot be empty.' },
  "50105": { status: 401, msg: 'Request header "OK-ACCESS-PASSPHRASE" incorrect.' },
  "50106": { status: 401, msg: 'Request header "OK-ACCESS-SIGN" cannot be empty.' },
  "50107": { status: 401, msg: 'Request header "OK-ACCESS-TIMESTAMP" cannot be empty.' },
  "50110": { status: 401, msg: "Your IP {0} is not included in your API key's IP whitelist." },
  "50111": { status: 401, msg: "Invalid OK-ACCESS-KEY." },
  "50112": { status: 401, msg: "Invalid OK-ACCESS-TIMESTAMP." },
  "50113": { status: 401, msg: "Invalid Sign." },
  "50119": { status: 401, msg: "API key doesn't exist." },
  "50120": { status: 200, msg: "This API key doesn't have permission to use this function." },
  "51000": { status: 400, msg: "Parameter {0} error." },
  "59500": { status: 200, msg: "Only the APIKey of the main account has permission for this operation." },
  "59501": { status: 200, msg: "Only 50 APIKeys can be created per account." },
  "59502": { status: 200, msg: "Note name cannot be duplicate with the currently created APIKey note name." },
  "59503": { status: 200, msg: "Each APIKey can bind up to 20 IP addresses." },
  "59504": { status: 200, msg: "The sub account does not support withdrawal." },
  "59505": { status: 200, msg: "The passphrase format is incorrect." },
  "59506": { status: 200, msg: "APIKey does not exist." },
  "59510": { status: 200, msg: "The sub-account does not exist." },
} as const;

export type OkxErrorCode = keyof typeof OKX_ERRORS;

export function okxError(code: OkxErrorCode, apiKey: string | null, arg?: string): HandledReply {
  const { status, msg } = OKX_ERRORS[code];
  return {
    status,
    body: { code, msg: arg === undefined ? msg : msg.replace("{0}", arg), data: [] },
    code,
    apiKey,
  };
}

export function okxOk(data: unknown[], apiKey: string | null): HandledReply {
  return { status: 200, body: { code: "0", msg: "", data }, code: "0", apiKey };
}
