/**
 * The one place that knows what Bybit's answers mean: which are worth retrying, which leave a write's
 * outcome unknown, what a probe concludes from each, and which KeywardError (with which hint) the
 * account's own key gets. Codes: https://bybit-exchange.github.io/docs/v5/error
 * (docs/exchanges/bybit.md#response-envelope-and-error-codes).
 *
 * As for OKX, the code is read from the raw status and body (the client annotates ccxt's errors inside
 * its synchronous handlers; `"bybit {json}"` in the message is the fallback), never from ccxt's
 * exception class, and ccxt's messages are never passed on: they carry bodies and URLs.
 */
import type { InconclusiveReason, ProbeResult } from "../../domain/schemas.js";
import { redact, type Secret } from "../../domain/secret.js";
import { type ErrorCode, KeywardError } from "../../errors.js";
import ccxt from "../ccxt-modules.js";
import type { TransientKind } from "../retry.js";
import { BybitErrorBodySchema } from "./schemas.js";

export type BybitFailure =
  /** Bybit answered with a retCode other than 0 (whatever the HTTP status). */
  | { kind: "answer"; code: string; msg: string; status: number | undefined; serverTime?: number }
  /** An HTTP error without a Bybit body (a proxy's 502 page; the IP limit's bare 403). */
  | { kind: "http"; status: number }
  | { kind: "timeout" }
  | { kind: "network"; detail: string }
  /** A 2xx answer whose shape the schemas reject. */
  | { kind: "malformed"; where: string }
  /** Not an exchange failure (a bug, a missing credential). */
  | { kind: "internal"; name: string; message: string };

/** Refused before being applied: safe to send again, even a create. */
const RETRY_NOT_APPLIED: Readonly<Record<string, TransientKind>> = {
  "10006": "rate-limited", // Too many visits (per UID)
  "10018": "rate-limited", // exceeded the IP rate limit
};

/** Worth retrying, but the outcome is unknown: 10000 "server timeout", 10016 "internal server error". */
const RETRY_OUTCOME_UNKNOWN: Readonly<Record<string, TransientKind>> = {
  "10000": "timeout",
  "10016": "unavailable",
};

const NETWORK_CAUSES = [
  "other side closed",
  "socket hang up",
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EPIPE",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
];

function parseErrorBody(body: string): { code: string; msg: string; serverTime?: number } | undefined {
  if (!body.startsWith("{")) return undefined;
  try {
    const parsed = BybitErrorBodySchema.safeParse(JSON.parse(body));
    if (!parsed.success || parsed.data.retCode === 0) return undefined;
    const { retCode, retMsg, time } = parsed.data;
    return { code: String(retCode), msg: retMsg, ...(time === undefined ? {} : { serverTime: time }) };
  } catch {
    return undefined;
  }
}

/** What went wrong, from a ccxt error annotated by the client: no secret and no raw message. */
export function extractFailure(error: unknown): BybitFailure {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    httpStatus?: unknown;
    httpBody?: unknown;
    message?: unknown;
    code?: unknown;
    name?: unknown;
  };
  const message = typeof e.message === "string" ? e.message : "";
  const status = typeof e.httpStatus === "number" ? e.httpStatus : undefined;
  // bybit handleErrors throws `"bybit " + body` (ccxt bybit.js handleErrors).
  const jsonAt = message.indexOf("{");
  const body =
    typeof e.httpBody === "string"
      ? e.httpBody
      : message.startsWith("bybit ") && jsonAt >= 0
        ? message.slice(jsonAt)
        : "";
  const answer = parseErrorBody(body.trim());
  if (answer) return { kind: "answer", ...answer, status };
  if (status !== undefined) return { kind: "http", status };
  const statusInMessage = /^bybit (?:GET|POST) \S+ (\d{3}) /.exec(message)?.[1];
  if (statusInMessage) return { kind: "http", status: Number(statusInMessage) };
  if (error instanceof ccxt.RequestTimeout) return { kind: "timeout" };
  const undiciCode = typeof e.code === "string" && e.code.startsWith("UND_ERR_") ? e.code : undefined;
  if (undiciCode?.endsWith("_TIMEOUT")) return { kind: "timeout" };
  if (error instanceof ccxt.NetworkError || undiciCode) {
    const cause = NETWORK_CAUSES.find((c) => message.includes(c) || c === undiciCode);
    return { kind: "network", detail: cause ?? "connection error" };
  }
  const name = typeof e.name === "string" ? e.name : "Error";
  return { kind: "internal", name, message: error instanceof ccxt.BaseError ? "" : message };
}

/** The retry class of a failure, or undefined when retrying cannot help. */
export function transientKind(f: BybitFailure): TransientKind | undefined {
  switch (f.kind) {
    case "answer":
      return RETRY_NOT_APPLIED[f.code] ?? RETRY_OUTCOME_UNKNOWN[f.code];
    case "http":
      if (f.status === 429) return "rate-limited";
      if (f.status === 408) return "timeout";
      return f.status >= 500 ? "unavailable" : undefined;
    case "timeout":
      return "timeout";
    case "network":
      return "network";
    default:
      return undefined;
  }
}

/** Whether a failed write may nevertheless have been applied (lost or cut answers, 5xx, unknown-outcome codes). */
export function isAmbiguous(f: BybitFailure): boolean {
  switch (f.kind) {
    case "timeout":
    case "network":
    case "malformed":
      return true;
    case "http":
      return f.status >= 500 || f.status === 408;
    case "answer":
      return f.code in RETRY_OUTCOME_UNKNOWN;
    default:
      return false;
  }
}

const clean = (text: string, secrets: readonly Secret[]) =>
  redact(text, secrets)
    .replace(/\p{Cc}/gu, " ")
    .replace(/"/g, "'")
    .slice(0, 160);

/** A one-line account of a failure, e.g. `Bybit 10003 "API key is invalid." (HTTP 401)`. */
export function describeFailure(f: BybitFailure, secrets: readonly Secret[] = []): string {
  switch (f.kind) {
    case "answer":
      return `Bybit ${f.code} "${clean(f.msg, secrets)}"${f.status === undefined ? "" : ` (HTTP ${f.status})`}`;
    case "http":
      return `HTTP ${f.status} without a Bybit answer`;
    case "timeout":
      return "no answer before the timeout";
    case "network":
      return `connection failed (${f.detail})`;
    case "malformed":
      return `an answer Keyward does not understand (at ${f.where})`;
    case "internal":
      return f.message ? `${f.name}: ${clean(f.message, secrets)}` : f.name;
  }
}

/**
 * What a probe concludes from Bybit's answer to the key's own query-api
 * (https://bybit-exchange.github.io/docs/v5/user/apikey-info). 10003 is what Bybit answers for a key it does not know; whether an
 * expired key gets 10003 or the legacy 33004 is UNCONFIRMED, so both mean dead.
 */
const PROBE_BY_CODE: Readonly<Record<string, "dead" | InconclusiveReason>> = {
  "10003": "dead",
  "33004": "dead",
  "10004": "wrong-secret",
  "10010": "ip-not-whitelisted",
  "10002": "clock-skew",
  "10006": "rate-limited",
  "10018": "rate-limited",
};

export function probeVerdict(f: BybitFailure, evidence: string): ProbeResult {
  let verdict: "dead" | InconclusiveReason;
  if (f.kind === "answer") verdict = PROBE_BY_CODE[f.code] ?? "exchange-error";
  else if (f.kind === "timeout" || f.kind === "network") verdict = "network";
  else if (f.kind === "http" && f.status === 429) verdict = "rate-limited";
  else verdict = "exchange-error";
  return verdict === "dead"
    ? { status: "dead", evidence }
    : { status: "inconclusive", reason: verdict, evidence };
}

interface Rule {
  code: ErrorCode;
  hint: string;
}

const NEEDS_TRANSFER =
  "Bybit manages keys only for a master key with Account Transfer, Subaccount Transfer or Withdrawal permission: edit the key on Bybit's API management page.";

/** How the account's own key's failures read to a person. */
const RULES: Readonly<Record<string, Rule>> = {
  "10003": {
    code: "EXCHANGE_AUTH",
    hint: "Bybit does not know this API key: it was deleted, expired or mistyped, or it belongs to testnet. Check the key and the account's endpoint.",
  },
  "33004": {
    code: "EXCHANGE_AUTH",
    hint: "The API key has expired (keys without an IP binding last 90 days): create a new one bound to this machine's IP.",
  },
  "10004": {
    code: "EXCHANGE_AUTH",
    hint: "The secret does not match the API key: re-enter the secret shown when the key was created.",
  },
  "10010": {
    code: "EXCHANGE_AUTH",
    hint: "The API key's IP binding does not include this machine: add this machine's IP on Bybit's API management page, or run Keyward from a bound machine.",
  },
  "10002": {
    code: "EXCHANGE_AUTH",
    hint: "This machine's clock is too far from Bybit's: turn on automatic time sync (NTP).",
  },
  "10005": { code: "EXCHANGE_PERMISSION", hint: NEEDS_TRANSFER },
};

export interface FailureContext {
  what: string;
  account: string;
  secrets: readonly Secret[];
}

/** The KeywardError for a failure of a call made with the account's own (master) key. */
export function toKeywardError(f: BybitFailure, ctx: FailureContext): KeywardError {
  const message = `Bybit: ${ctx.what} for account "${ctx.account}" failed: ${describeFailure(f, ctx.secrets)}`;
  switch (f.kind) {
    case "answer": {
      const rule = RULES[f.code] ?? {
        code: "EXCHANGE_REJECTED",
        hint: "Bybit refused the request; look the code up in Bybit's error-code table (docs/exchanges/bybit.md#response-envelope-and-error-codes).",
      };
      return new KeywardError(rule.code, message, { hint: rule.hint, exchangeCode: f.code });
    }
    case "http":
      return f.status >= 500 || f.status === 429 || f.status === 403
        ? new KeywardError("EXCHANGE_UNAVAILABLE", message, {
            hint: "Bybit (or a proxy in front of it) is failing or limiting this IP (a 403 means waiting at least 10 minutes): try again later.",
          })
        : new KeywardError("EXCHANGE_REJECTED", message, {
            hint: "The answer did not come from Bybit's API: check the account's endpoint URL or proxy.",
          });
    case "timeout":
    case "network":
      return new KeywardError("EXCHANGE_UNAVAILABLE", message, {
        hint: "Check the network and Bybit's status page, then run again.",
      });
    case "malformed":
      return new KeywardError("EXCHANGE_UNAVAILABLE", message, {
        hint: "Bybit answered in a form Keyward does not know; if it persists, report it with this message.",
      });
    case "internal":
      return new KeywardError("INTERNAL", message, { hint: "This is a Keyward bug; please report it." });
  }
}
