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
import type { InconclusiveReason } from "../../domain/schemas.js";
import type { KeywardError } from "../../errors.js";
import {
  type FailureContext,
  type FailureRule,
  type KeywardErrorTable,
  type RestFailure,
  restFailures,
  restKeywardError,
} from "../rest-failures.js";
import type { TransientKind } from "../retry.js";
import { BybitErrorBodySchema } from "./schemas.js";

export type BybitFailure = RestFailure<{ serverTime?: number }>;

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

export const failures = restFailures({
  name: "Bybit",
  noAnswer: "without a Bybit answer",
  ccxtId: "bybit",
  // bybit handleErrors throws `"bybit " + body` (ccxt bybit.js handleErrors).
  bodyFromMessage: (message) => {
    const jsonAt = message.indexOf("{");
    return message.startsWith("bybit ") && jsonAt >= 0 ? message.slice(jsonAt) : "";
  },
  parseBody: parseErrorBody,
  retryNotApplied: RETRY_NOT_APPLIED,
  retryOutcomeUnknown: RETRY_OUTCOME_UNKNOWN,
  probeByCode: PROBE_BY_CODE,
});
export const { extractFailure, transientKind, isAmbiguous, describeFailure, probeVerdict } = failures;

const NEEDS_TRANSFER =
  "Bybit manages keys only for a master key with Account Transfer, Subaccount Transfer or Withdrawal permission: edit the key on Bybit's API management page.";

/** How the account's own key's failures read to a person. */
const RULES: Readonly<Record<string, FailureRule>> = {
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

const KEYWARD_ERRORS: KeywardErrorTable = {
  name: "Bybit",
  rules: RULES,
  unknownCodeHint:
    "Bybit refused the request; look the code up in Bybit's error-code table (docs/exchanges/bybit.md#response-envelope-and-error-codes).",
  // A bare 403 is Bybit's IP rate limit (https://bybit-exchange.github.io/docs/v5/rate-limit).
  httpUnavailable: (status) => status >= 500 || status === 429 || status === 403,
  httpUnavailableHint:
    "Bybit (or a proxy in front of it) is failing or limiting this IP (a 403 means waiting at least 10 minutes): try again later.",
};

export type { FailureContext };

/** The KeywardError for a failure of a call made with the account's own (master) key. */
export const toKeywardError = (f: BybitFailure, ctx: FailureContext): KeywardError =>
  restKeywardError(KEYWARD_ERRORS, describeFailure, f, ctx);
