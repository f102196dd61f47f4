/**
 * The one place that knows what Deribit's answers mean: which are worth retrying, what a probe concludes
 * from each, and which KeywardError (with which hint) the account's own key gets. Codes:
 * https://docs.deribit.com/articles/errors (docs/exchanges/deribit.md#json-rpc-envelope-and-error-codes).
 *
 * As for the other REST exchanges, the code is read from the raw status and body (the client annotates
 * ccxt's errors inside its synchronous handlers; `"deribit {json}"` in the message is the fallback), never
 * from ccxt's exception class, and ccxt's messages are never passed on: they carry bodies and URLs.
 */
import type { InconclusiveReason } from "../../domain/schemas.js";
import { KeywardError } from "../../errors.js";
import {
  type FailureContext,
  type FailureRule,
  type KeywardErrorTable,
  type RestFailure,
  restFailures,
  restKeywardError,
} from "../rest-failures.js";
import type { TransientKind } from "../retry.js";
import { DeribitErrorBodySchema } from "./schemas.js";

/** `reason`: the error's `data.reason` (e.g. "ip_not_allowed"); `serverTime`: the answer's usOut, in ms. */
export type DeribitFailure = RestFailure<{ reason?: string; serverTime?: number }>;

/** Deribit's codes Keyward acts on (https://docs.deribit.com/articles/errors). */
export const CODES = {
  TOO_MANY_REQUESTS: "10028",
  TFA_REQUIRED: "13003",
  INVALID_CREDENTIALS: "13004",
  UNAUTHORIZED: "13009",
  NOT_FOUND: "13020",
  FORBIDDEN: "13021",
  INVALID_ARGUMENTS: "11029",
} as const;

/** The `data.reason` of a 13009 for a request from outside the key's IP whitelist (UNCONFIRMED). */
export const IP_NOT_ALLOWED = "ip_not_allowed";

/** Refused before being applied: safe to send again, even a create. */
const RETRY_NOT_APPLIED: Readonly<Record<string, TransientKind>> = {
  "10028": "rate-limited", // too_many_requests
  "10040": "unavailable", // retry: "can't be processed right now and should be retried"
  "11051": "unavailable", // system_maintenance
};

/** Worth retrying, but the outcome is unknown. */
const RETRY_OUTCOME_UNKNOWN: Readonly<Record<string, TransientKind>> = {
  "11094": "unavailable", // internal_server_error
};

function parseErrorBody(
  body: string,
): { code: string; msg: string; reason?: string; serverTime?: number } | undefined {
  if (!body.startsWith("{")) return undefined;
  try {
    const parsed = DeribitErrorBodySchema.safeParse(JSON.parse(body));
    if (!parsed.success) return undefined;
    const { code, message, data } = parsed.data.error;
    const reason = typeof data?.reason === "string" ? data.reason : undefined;
    const usOut = parsed.data.usOut;
    return {
      code: String(code),
      msg: reason ? `${message}: ${reason}` : message,
      ...(reason === undefined ? {} : { reason }),
      ...(usOut === undefined ? {} : { serverTime: Math.round(usOut / 1000) }),
    };
  } catch {
    return undefined;
  }
}

/**
 * What a probe concludes from a code by itself. 13004 (invalid_credentials) is NOT here: Deribit gives it
 * for an unknown or removed key, a wrong secret and a disabled key alike, so the adapter decides it with
 * more evidence (probe.ts, docs/exchanges/deribit.md#probes). 13009 is decided by its reason.
 */
const PROBE_BY_CODE: Readonly<Record<string, "dead" | InconclusiveReason>> = {
  "10028": "rate-limited",
};

export const failures = restFailures({
  name: "Deribit",
  noAnswer: "without a Deribit answer",
  ccxtId: "deribit",
  // deribit handleErrors throws `"deribit " + body` (ccxt deribit.js handleErrors).
  bodyFromMessage: (message) => {
    const jsonAt = message.indexOf("{");
    return message.startsWith("deribit ") && jsonAt >= 0 ? message.slice(jsonAt) : "";
  },
  parseBody: parseErrorBody,
  retryNotApplied: RETRY_NOT_APPLIED,
  retryOutcomeUnknown: RETRY_OUTCOME_UNKNOWN,
  probeByCode: PROBE_BY_CODE,
});
export const { extractFailure, transientKind, isAmbiguous, describeFailure, probeVerdict } = failures;

/** Whether a failure is Deribit's answer with this code. */
export const isCode = (f: DeribitFailure | undefined, code: string): boolean =>
  f?.kind === "answer" && f.code === code;

const NEEDS_MANAGE =
  "Deribit manages keys only with a key whose scope has account:read_write (account:read to list them): edit the key's scope on Deribit's API page (Account → API).";

/** How the account's own key's failures read to a person. */
const RULES: Readonly<Record<string, FailureRule>> = {
  "13004": {
    code: "EXCHANGE_AUTH",
    hint: "Deribit refuses these credentials: the Client ID is unknown (removed, or a testnet key: check the account's region), the Client Secret is wrong (re-enter it, or it was reset), or the key is disabled (enable it on Deribit's API page).",
  },
  "13009": {
    code: "EXCHANGE_AUTH",
    hint: "Deribit refused the request's signature or time: check this machine's clock (turn on NTP) and that the key was not reset or removed.",
  },
  "13021": { code: "EXCHANGE_PERMISSION", hint: NEEDS_MANAGE },
  "13003": {
    code: "SECOND_FACTOR_REFUSED",
    hint: "Deribit refused the two-factor answer (wrong, stale or too late): run again and give a fresh code.",
  },
  "11029": {
    code: "EXCHANGE_REJECTED",
    hint: "Deribit refused the arguments: a key name has at most 16 letters, digits or underscores, and an account has at most 8 keys (remove one first).",
  },
};

const IP_RULE: FailureRule = {
  code: "EXCHANGE_AUTH",
  hint: "The key's IP whitelist does not include this machine: add this machine's IP to the key on Deribit's API page, or run Keyward from a whitelisted machine.",
};

const KEYWARD_ERRORS: KeywardErrorTable = {
  name: "Deribit",
  rules: RULES,
  unknownCodeHint:
    "Deribit refused the request; look the code up in Deribit's error table (docs/exchanges/deribit.md#json-rpc-envelope-and-error-codes).",
  httpUnavailable: (status) => status >= 500 || status === 429,
  httpUnavailableHint: "Deribit (or a proxy in front of it) is failing or limiting this IP: try again later.",
};

export type { FailureContext };

/** The KeywardError for a failure of a call made with the account's own key. */
export function toKeywardError(f: DeribitFailure, ctx: FailureContext): KeywardError {
  if (f.kind === "answer" && f.code === CODES.UNAUTHORIZED && f.reason === IP_NOT_ALLOWED) {
    const message = `Deribit: ${ctx.what} for account "${ctx.account}" failed: ${describeFailure(f, ctx.secrets)}`;
    return new KeywardError(IP_RULE.code, message, { hint: IP_RULE.hint, exchangeCode: f.code });
  }
  return restKeywardError(KEYWARD_ERRORS, describeFailure, f, ctx);
}
