/**
 * What a REST exchange's failed call was, read the same way for every exchange whose client annotates
 * ccxt's errors with the raw status and body (OKX, Bybit): the code from the body, never from ccxt's
 * exception class, and no ccxt message passed on (they carry bodies and URLs;
 * docs/ccxt.md#errors-from-the-status-and-body-never-from-ccxts-class). Each exchange's `errors.ts`
 * gives the tables that differ (how its body reads, which codes retry, what a probe concludes).
 */
import type { InconclusiveReason, ProbeResult } from "../domain/schemas.js";
import { redact, type Secret } from "../domain/secret.js";
import { type ErrorCode, KeywardError } from "../errors.js";
import ccxt from "./ccxt-modules.js";
import type { TransientKind } from "./retry.js";

/** `A`: what the exchange's error body says besides its code and message (e.g. Bybit's server time). */
export type RestFailure<A extends object = object> =
  /** The exchange answered with an error code (whatever the HTTP status). */
  | ({ kind: "answer"; code: string; msg: string; status: number | undefined } & A)
  /** An HTTP error without the exchange's body (a proxy's 502 page, a bare 403). */
  | { kind: "http"; status: number }
  | { kind: "timeout" }
  | { kind: "network"; detail: string }
  /** A 2xx answer whose shape the schemas reject. */
  | { kind: "malformed"; where: string }
  /** Not an exchange failure (a bug, a missing credential). */
  | { kind: "internal"; name: string; message: string };

export interface RestFailureTable<A extends object> {
  /** As messages name it: "OKX". */
  name: string;
  /** "without an OKX answer": what an HTTP error without the exchange's body lacks. */
  noAnswer: string;
  /** ccxt's id, which prefixes its un-annotated messages ("okx GET <url> 502 …"). */
  ccxtId: string;
  /** The error body an un-annotated ccxt message carries, or "". */
  bodyFromMessage(message: string): string;
  /** The exchange's error body, or undefined when `body` is not one (or reports success). */
  parseBody(body: string): ({ code: string; msg: string } & A) | undefined;
  /** Refused before being applied: safe to send again, even a create. */
  retryNotApplied: Readonly<Record<string, TransientKind>>;
  /** Worth retrying, but the outcome is unknown. */
  retryOutcomeUnknown: Readonly<Record<string, TransientKind>>;
  /** What a probe concludes from a code; any other code is "exchange-error". */
  probeByCode: Readonly<Record<string, "dead" | InconclusiveReason>>;
}

/** Network-level causes worth naming; anything else is "connection error" (messages are not copied). */
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

const clean = (text: string, secrets: readonly Secret[]) =>
  redact(text, secrets)
    .replace(/\p{Cc}/gu, " ")
    .replace(/"/g, "'")
    .slice(0, 160);

export function restFailures<A extends object>(
  table: RestFailureTable<A>,
): RestFailureReader<RestFailure<A>> {
  type Failure = RestFailure<A>;
  const statusPattern = new RegExp(`^${table.ccxtId} (?:GET|POST) \\S+ (\\d{3}) `);

  /** Turns whatever a ccxt call threw into a failure description that holds no secret and no raw message. */
  function extractFailure(error: unknown): Failure {
    const e = (typeof error === "object" && error !== null ? error : {}) as {
      httpStatus?: unknown;
      httpBody?: unknown;
      message?: unknown;
      code?: unknown;
      name?: unknown;
    };
    const message = typeof e.message === "string" ? e.message : "";
    const status = typeof e.httpStatus === "number" ? e.httpStatus : undefined;
    const body = typeof e.httpBody === "string" ? e.httpBody : table.bodyFromMessage(message);
    const answer = table.parseBody(body.trim());
    if (answer) return { kind: "answer", ...answer, status } as Failure;
    if (status !== undefined) return { kind: "http", status };
    // Fallback for an un-annotated HTTP-status error: "<id> GET <url> 502 Bad Gateway <body>".
    const statusInMessage = statusPattern.exec(message)?.[1];
    if (statusInMessage) return { kind: "http", status: Number(statusInMessage) };
    if (error instanceof ccxt.RequestTimeout) return { kind: "timeout" };
    const undiciCode = typeof e.code === "string" && e.code.startsWith("UND_ERR_") ? e.code : undefined;
    if (undiciCode?.endsWith("_TIMEOUT")) return { kind: "timeout" };
    if (error instanceof ccxt.NetworkError || undiciCode) {
      const cause = NETWORK_CAUSES.find((c) => message.includes(c) || c === undiciCode);
      return { kind: "network", detail: cause ?? "connection error" };
    }
    const name = typeof e.name === "string" ? e.name : "Error";
    // ccxt's own errors quote bodies and URLs; only our own bugs keep their message.
    return { kind: "internal", name, message: error instanceof ccxt.BaseError ? "" : message };
  }

  /** The retry class of a failure, or undefined when retrying cannot help. */
  function transientKind(f: Failure): TransientKind | undefined {
    switch (f.kind) {
      case "answer":
        return table.retryNotApplied[f.code] ?? table.retryOutcomeUnknown[f.code];
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

  /**
   * Whether a failed write may nevertheless have been applied: lost or cut answers, 5xx pages (a proxy
   * may fail after forwarding), unparseable successes, and the exchange's own "outcome unknown" codes.
   */
  function isAmbiguous(f: Failure): boolean {
    switch (f.kind) {
      case "timeout":
      case "network":
      case "malformed":
        return true;
      case "http":
        return f.status >= 500 || f.status === 408;
      case "answer":
        return f.code in table.retryOutcomeUnknown;
      default:
        return false;
    }
  }

  /** A one-line account of a failure for messages, logs and probe evidence, e.g. `OKX 50111 "…" (HTTP 401)`. */
  function describeFailure(f: Failure, secrets: readonly Secret[] = []): string {
    switch (f.kind) {
      case "answer":
        return `${table.name} ${f.code} "${clean(f.msg, secrets)}"${f.status === undefined ? "" : ` (HTTP ${f.status})`}`;
      case "http":
        return `HTTP ${f.status} ${table.noAnswer}`;
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

  /** What a probe concludes from a failure of the key's own call. */
  function probeVerdict(f: Failure, evidence: string): ProbeResult {
    let verdict: "dead" | InconclusiveReason;
    if (f.kind === "answer") verdict = table.probeByCode[f.code] ?? "exchange-error";
    else if (f.kind === "timeout" || f.kind === "network") verdict = "network";
    else if (f.kind === "http" && f.status === 429) verdict = "rate-limited";
    else verdict = "exchange-error";
    return verdict === "dead"
      ? { status: "dead", evidence }
      : { status: "inconclusive", reason: verdict, evidence };
  }

  return { extractFailure, transientKind, isAmbiguous, describeFailure, probeVerdict };
}

/** An exchange's reading of its failures, as `restFailures` builds it from the exchange's tables. */
export type RestFailureReader<F extends RestFailure> = {
  extractFailure(error: unknown): F;
  transientKind(f: F): TransientKind | undefined;
  isAmbiguous(f: F): boolean;
  describeFailure(f: F, secrets?: readonly Secret[]): string;
  probeVerdict(f: F, evidence: string): ProbeResult;
};

/** A request's log fields from its failure (none: it succeeded): the exchange's code or the kind, and the HTTP status. */
export function failureLogFields(failure: RestFailure | undefined): {
  level: "info" | "debug";
  code: string;
  status?: number;
} {
  if (!failure) return { level: "debug", code: "0", status: 200 };
  if (failure.kind === "answer") {
    return {
      level: "info",
      code: failure.code,
      ...(failure.status === undefined ? {} : { status: failure.status }),
    };
  }
  if (failure.kind === "http")
    return { level: "info", code: `http-${failure.status}`, status: failure.status };
  return { level: "info", code: failure.kind };
}

/** How one of the exchange's codes reads to a person when the account's own key gets it. */
export interface FailureRule {
  code: ErrorCode;
  hint: string;
}

export interface FailureContext {
  /** What was being done, e.g. `listing keys` or `revoking key abcd…wxyz`. */
  what: string;
  account: string;
  /** Secrets in play, redacted from anything quoted. */
  secrets: readonly Secret[];
}

/** The exchange's words for the KeywardErrors of its account key's failures (its `errors.ts`). */
export interface KeywardErrorTable {
  /** As messages name it: "OKX". */
  name: string;
  rules: Readonly<Record<string, FailureRule>>;
  /** The hint for a code without a rule: where to look it up. */
  unknownCodeHint: string;
  /** Whether an HTTP error without the exchange's body means "unavailable" (else "rejected": not its API). */
  httpUnavailable(status: number): boolean;
  /** The hint for an unavailable HTTP status. */
  httpUnavailableHint: string;
}

/** The KeywardError for a failure of a call made with the account's own key, in the exchange's words. */
export function restKeywardError(
  table: KeywardErrorTable,
  describeFailure: (f: RestFailure, secrets: readonly Secret[]) => string,
  f: RestFailure,
  ctx: FailureContext,
): KeywardError {
  const { name } = table;
  const message = `${name}: ${ctx.what} for account "${ctx.account}" failed: ${describeFailure(f, ctx.secrets)}`;
  switch (f.kind) {
    case "answer": {
      const rule = table.rules[f.code] ?? { code: "EXCHANGE_REJECTED", hint: table.unknownCodeHint };
      return new KeywardError(rule.code, message, { hint: rule.hint, exchangeCode: f.code });
    }
    case "http":
      return table.httpUnavailable(f.status)
        ? new KeywardError("EXCHANGE_UNAVAILABLE", message, { hint: table.httpUnavailableHint })
        : new KeywardError("EXCHANGE_REJECTED", message, {
            hint: `The answer did not come from ${name}'s API: check the account's endpoint URL or proxy.`,
          });
    case "timeout":
    case "network":
      return new KeywardError("EXCHANGE_UNAVAILABLE", message, {
        hint: `Check the network and ${name}'s status page, then run again.`,
      });
    case "malformed":
      return new KeywardError("EXCHANGE_UNAVAILABLE", message, {
        hint: `${name} answered in a form Keyward does not know; if it persists, report it with this message.`,
      });
    case "internal":
      return new KeywardError("INTERNAL", message, { hint: "This is a Keyward bug; please report it." });
  }
}
