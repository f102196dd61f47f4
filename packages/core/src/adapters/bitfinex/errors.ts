/**
 * THE one place that maps Bitfinex's raw answers to Keyward's outcomes: which answers are worth a
 * retry (TransientFailure), which end a probe and how (ProbeResult), and which fail an account-level
 * call (KeywardError with a hint). Codes and texts: docs/exchanges/bitfinex.md#error-codes and
 * docs/exchanges/bitfinex.md#probes.
 *
 * Inputs are what the transport saw: the value ccxt returned (ccxt returns 400/401 error arrays as data,
 * docs/exchanges/bitfinex.md#error-codes), or what it threw plus the raw status and body the transport
 * captured. Thrown ccxt messages are only a fallback (they lose the code for mapped errors, e.g. "bitfinex
 * nonce: small") and are never passed on: every text that leaves this module is built here, from short
 * exchange texts that are filtered to a safe alphabet and redacted.
 */

import type { ProbeResult } from "../../domain/schemas.js";
import { redact, type Secret } from "../../domain/secret.js";
import { KeywardError } from "../../errors.js";
import { TransientFailure, type TransientKind } from "../retry.js";
import { ErrorArraySchema, ErrorObjectSchema, isErrorArray } from "./schemas.js";

export type FailureKind =
  /**
   * 10100 "apikey: invalid": unknown or revoked key, or a non-whitelisted IP (the same answer,
   * docs/exchanges/bitfinex.md#ip-whitelisting).
   */
  | "key-invalid"
  /** 10100 "apikey: digest invalid" (or 10111-10113): the key is known, the signature is wrong. */
  | "digest-invalid"
  /** "token: invalid" (Keyward never signs with tokens; listed so it is not taken for a key answer). */
  | "token-invalid"
  /** 10114 "nonce: small": the key authenticated; the nonce was not above the key's last one. */
  | "nonce-small"
  /** 10001 "api_key: permission invalid": authenticated, but the key lacks the scope. */
  | "permission"
  /** 10020 bad parameters. */
  | "params"
  /** 11010, ERR_RATE_LIMIT in any of its three shapes, or HTTP 429. */
  | "rate-limited"
  /** 5xx without an error array, 11000 "not ready", 20051/20060/20061 maintenance, temporarily_unavailable. */
  | "unavailable"
  | "network"
  | "timeout"
  /** Anything else, including an answer the schemas do not recognise. */
  | "unexpected";

export interface BitfinexFailure {
  kind: FailureKind;
  /** The exchange's code ("10100", "ERR_RATE_LIMIT"), else `http-<status>` or the kind. */
  code: string;
  /** A short, safe description: the exchange's own message text, or what happened. */
  text: string;
  status?: number;
  /** Keyward's own addition, e.g. why it stopped retrying a nonce. */
  note?: string;
}

export type Classified =
  | { ok: true; data: unknown; status: number }
  | { ok: false; failure: BitfinexFailure };

/** What the transport saw for one request. */
export interface RawOutcome {
  /** What the ccxt call resolved to (absent when it threw). */
  value?: unknown;
  thrown?: unknown;
  /** The HTTP answer, when one arrived (captured in ccxt's onRestResponse hook). */
  response?: { status: number; body: string };
  /** The secrets of the key in use, redacted from every text as defence in depth. */
  secrets: readonly Secret[];
}

const TRANSIENT: Partial<Record<FailureKind, TransientKind>> = {
  "rate-limited": "rate-limited",
  unavailable: "unavailable",
  network: "network",
  timeout: "timeout",
};

/** Exchange texts are short ASCII phrases ("apikey: invalid"); anything else is cut away. */
function safeText(text: unknown, secrets: readonly Secret[]): string {
  if (typeof text !== "string") return "";
  const cleaned = text.replace(/[^A-Za-z0-9 :_.,()#/-]/g, "").slice(0, 100);
  return redact(cleaned, secrets);
}

const MAINTENANCE_CODES = new Set(["11000", "20051", "20060", "20061"]);
const SIGNATURE_CODES = new Set(["10111", "10112", "10113"]);

function fromErrorArray(
  answer: unknown,
  status: number | undefined,
  secrets: readonly Secret[],
): BitfinexFailure {
  const parsed = ErrorArraySchema.safeParse(answer);
  const rawCode = parsed.success ? parsed.data[1] : undefined;
  const text = safeText(parsed.success ? parsed.data[2] : undefined, secrets);
  const code = rawCode === null || rawCode === undefined ? "" : String(rawCode);
  const at = status === undefined ? {} : { status };
  const lower = text.toLowerCase();
  if (code === "11010" || lower.includes("err_rate_limit") || lower.includes("ratelimit") || status === 429)
    return { kind: "rate-limited", code: code || "ERR_RATE_LIMIT", text: text || "rate limited", ...at };
  if (code === "10114" || lower.includes("nonce"))
    return { kind: "nonce-small", code: code || "10114", text, ...at };
  if (lower.includes("token")) return { kind: "token-invalid", code: code || "10100", text, ...at };
  if (lower.includes("digest") || SIGNATURE_CODES.has(code))
    return { kind: "digest-invalid", code: code || "10100", text, ...at };
  if (code === "10100" || lower.includes("apikey: invalid"))
    return { kind: "key-invalid", code: code || "10100", text, ...at };
  if (code === "10001" || lower.includes("permission"))
    return { kind: "permission", code: code || "10001", text, ...at };
  if (code === "10020") return { kind: "params", code, text, ...at };
  if (MAINTENANCE_CODES.has(code)) return { kind: "unavailable", code, text, ...at };
  return { kind: "unexpected", code: code || "error", text: text || "an error answer", ...at };
}

/** Classifies a raw HTTP answer (status + body text) when ccxt threw on it. */
function fromHttp(status: number, body: string, secrets: readonly Secret[]): BitfinexFailure {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  if (isErrorArray(json)) return fromErrorArray(json, status, secrets);
  const object = ErrorObjectSchema.safeParse(json);
  const label = object.success ? safeText(object.data.error ?? object.data.message, secrets) : "";
  if (label === "ERR_RATE_LIMIT" || status === 429)
    return { kind: "rate-limited", code: label || `http-${status}`, text: label || "HTTP 429", status };
  if (label === "temporarily_unavailable" || status >= 500)
    return { kind: "unavailable", code: label || `http-${status}`, text: `HTTP ${status}`, status };
  return {
    kind: "unexpected",
    code: label || `http-${status}`,
    text: label ? `HTTP ${status} ${label}` : `HTTP ${status}`,
    status,
  };
}

/** Fallback: what a thrown ccxt error says when no raw answer was captured. */
function fromThrown(error: unknown, secrets: readonly Secret[]): BitfinexFailure {
  const name = error instanceof Error ? error.name : "";
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  // undici errors escape ccxt on a body cut mid-way (docs/ccxt.md#timeouts): UND_ERR_SOCKET, UND_ERR_BODY_TIMEOUT, …
  if (typeof code === "string" && code.startsWith("UND_ERR_")) {
    return code.includes("TIMEOUT")
      ? { kind: "timeout", code: "timeout", text: "the answer timed out" }
      : { kind: "network", code: "network", text: "the connection failed" };
  }
  // ccxt messages: `bitfinex ["error",11010,"ratelimit: error"]`, `bitfinex {"error":"ERR_RATE_LIMIT"}`,
  // `bitfinex nonce: small`, `bitfinex x (#20000)`.
  const jsonStart = message.search(/[[{]/);
  if (jsonStart >= 0) {
    try {
      const json: unknown = JSON.parse(message.slice(jsonStart));
      if (isErrorArray(json)) return fromErrorArray(json, undefined, secrets);
      const object = ErrorObjectSchema.safeParse(json);
      if (object.success && object.data.error === "ERR_RATE_LIMIT")
        return { kind: "rate-limited", code: "ERR_RATE_LIMIT", text: "ERR_RATE_LIMIT" };
    } catch {
      // not JSON: fall through to the texts
    }
  }
  const hash = /\(#(\d+)\)/.exec(message)?.[1];
  const text = message.replace(/^bitfinex\s+/, "").replace(/\s*\(#\d*\)\s*$/, "");
  if (name === "RequestTimeout") return { kind: "timeout", code: "timeout", text: "the request timed out" };
  if (
    hash !== undefined ||
    /apikey|nonce|permission|ratelimit|ERR_RATE_LIMIT/i.test(text) ||
    ["RateLimitExceeded", "InvalidNonce", "AuthenticationError", "PermissionDenied", "BadRequest"].includes(
      name,
    )
  ) {
    const failure = fromErrorArray(["error", hash ?? null, text], undefined, secrets);
    if (failure.kind !== "unexpected") return failure;
    if (name === "RateLimitExceeded")
      return { kind: "rate-limited", code: "ERR_RATE_LIMIT", text: "rate limited" };
    if (name === "InvalidNonce") return { kind: "nonce-small", code: "10114", text: "nonce: small" };
    return failure;
  }
  if (name === "OnMaintenance" || name === "ExchangeNotAvailable")
    return { kind: "unavailable", code: "unavailable", text: "the exchange is not available" };
  if (name === "NetworkError" || name === "DDoSProtection" || /fetch failed|ECONN|socket/i.test(message))
    return { kind: "network", code: "network", text: "the connection failed" };
  return { kind: "unexpected", code: name || "error", text: "an unexpected failure" };
}

/** One request's outcome: the data, or a classified failure. */
export function classify(raw: RawOutcome): Classified {
  if (raw.thrown === undefined) {
    if (isErrorArray(raw.value)) {
      return { ok: false, failure: fromErrorArray(raw.value, raw.response?.status, raw.secrets) };
    }
    return { ok: true, data: raw.value, status: raw.response?.status ?? 200 };
  }
  if (raw.response)
    return { ok: false, failure: fromHttp(raw.response.status, raw.response.body, raw.secrets) };
  return { ok: false, failure: fromThrown(raw.thrown, raw.secrets) };
}

const describe = (f: BitfinexFailure): string =>
  f.code && f.text && f.code !== f.text ? `${f.code} "${f.text}"` : f.text || f.code;

/** A failure worth retrying, as withRetry wants it; undefined for final answers. */
export function transientOf(failure: BitfinexFailure, what: string): TransientFailure | undefined {
  const kind = TRANSIENT[failure.kind];
  if (!kind) return undefined;
  const status = failure.status === undefined ? "" : ` (HTTP ${failure.status})`;
  return new TransientFailure(kind, `${what}: ${describe(failure)}${status}`, failure.code);
}

/**
 * An account-level call (the account's own key) failed with a final answer. `needs` names the scope the
 * endpoint requires, for the permission hint.
 */
export function accountError(
  failure: BitfinexFailure,
  ctx: { account: string; what: string; needs?: { scope: string; ui: string } },
): KeywardError {
  const head = `Bitfinex answered ${describe(failure)} to ${ctx.what} for account "${ctx.account}"`;
  const exchangeCode = failure.code;
  switch (failure.kind) {
    case "permission":
      return new KeywardError(
        "EXCHANGE_PERMISSION",
        `${head}: the account's key lacks the ${ctx.needs ? `"${ctx.needs.scope}" read` : "needed"} permission`,
        {
          hint: ctx.needs
            ? `Give the account's key the ${ctx.needs.ui} permission (API scope "${ctx.needs.scope}", read) on Bitfinex's API Keys page, or register a key that has it.`
            : "Give the account's key the permission on Bitfinex's API Keys page, or register a key that has it.",
          exchangeCode,
        },
      );
    case "key-invalid":
      return new KeywardError(
        "EXCHANGE_AUTH",
        `${head}: the key is unknown or revoked, or this machine's IP is not in its whitelist (Bitfinex answers both the same way)`,
        {
          hint: "Check on Bitfinex's API Keys page that the account's key still exists and, if it has an IP whitelist, that it includes this machine's public IP.",
          exchangeCode,
        },
      );
    case "digest-invalid":
    case "token-invalid":
      return new KeywardError("EXCHANGE_AUTH", `${head}: the signature does not match the key`, {
        hint: "The secret stored for this account does not belong to its key; store the key's secret again.",
        exchangeCode,
      });
    case "nonce-small":
      return new KeywardError(
        "EXCHANGE_REJECTED",
        `${head}: the key has seen larger nonces than Keyward sends`,
        {
          hint: "Another program uses this key with a larger nonce scheme (e.g. microseconds while Keyward remembers milliseconds). Give Keyward a key of its own, or clear the remembered nonce scheme for this key.",
          exchangeCode,
        },
      );
    case "rate-limited":
      return new KeywardError("EXCHANGE_RATE_LIMITED", head, {
        hint: "Another program on this IP may be using the same Bitfinex limits; wait a minute and run again.",
        exchangeCode,
      });
    case "unavailable":
    case "network":
    case "timeout":
      return new KeywardError("EXCHANGE_UNAVAILABLE", head, {
        hint: "Check the network and Bitfinex's status page, then run again.",
        exchangeCode,
      });
    default:
      return new KeywardError("EXCHANGE_REJECTED", head, {
        hint: "Bitfinex did not answer as documented; run again with debug logs and report it if it persists.",
        exchangeCode,
      });
  }
}

/**
 * How a probe ends on a final failure (after retries). `dead` only on 10100 "apikey: invalid" for a key seen
 * alive from here: Bitfinex answers a request from a non-whitelisted IP exactly as it answers an unknown key
 * (docs/exchanges/bitfinex.md#ip-whitelisting), so without that history the answer cannot tell "revoked" from
 * "not allowed from here".
 */
export function probeVerdict(
  failure: BitfinexFailure,
  knownAliveFromHere: boolean,
): Exclude<ProbeResult, { status: "alive" }> {
  const said = `Bitfinex answered ${describe(failure)}${failure.status === undefined ? "" : ` (HTTP ${failure.status})`}`;
  switch (failure.kind) {
    case "key-invalid":
      return knownAliveFromHere
        ? {
            status: "dead",
            evidence: `${said} for a key that authenticated from here before: Bitfinex no longer knows the key (revoked).`,
          }
        : {
            status: "inconclusive",
            reason: "ambiguous",
            evidence: `${said}. Bitfinex gives the same answer for an unknown or revoked key and for a request from an IP the key is not whitelisted for; this key was never seen alive from here, so it may still be alive elsewhere.`,
          };
    case "digest-invalid":
      return {
        status: "inconclusive",
        reason: "wrong-secret",
        evidence: `${said}: Bitfinex knows the key but the signature does not match, so the secret Keyward holds is probably wrong. The key may be alive.`,
      };
    case "nonce-small":
      return {
        status: "inconclusive",
        reason: "nonce",
        evidence: `${said}: the key authenticated (so it exists), but another client uses larger nonces than Keyward may send for it${failure.note ? `; ${failure.note}` : ""}.`,
      };
    case "permission":
      return {
        status: "inconclusive",
        reason: "exchange-error",
        evidence: `${said}: the key authenticated (so it exists) but may not read its permissions.`,
      };
    case "rate-limited":
      return { status: "inconclusive", reason: "rate-limited", evidence: `${said}, and kept doing so.` };
    case "network":
    case "timeout":
      return {
        status: "inconclusive",
        reason: "network",
        evidence: `No answer from Bitfinex: ${failure.text}.`,
      };
    default:
      return { status: "inconclusive", reason: "exchange-error", evidence: `${said}.` };
  }
}
