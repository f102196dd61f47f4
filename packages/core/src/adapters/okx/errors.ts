/**
 * The one place that knows what OKX's answers mean: which are worth retrying, which leave a write's
 * outcome unknown, what a probe concludes from each, and which KeywardError (with which hint) the
 * account's own key gets. Codes: https://www.okx.com/docs-v5/en/#error-code
 * (docs/exchanges/okx.md#error-codes).
 *
 * ccxt's exception class is not trusted on its own: it maps 50119, 50035, 50120 and 59500 to a plain
 * ExchangeError and lets the JSON `code` win over the HTTP status. So the code is read from the raw
 * body: the client annotates errors with status and body inside ccxt's synchronous handlers (the
 * `last_*` fields are shared by concurrent calls, docs/ccxt.md#concurrency-shared-last-answer-fields),
 * and the `"okx {json}"` message is the fallback (docs/ccxt.md#errors-from-the-status-and-body-never-from-ccxts-class).
 * ccxt messages themselves are never passed on: they carry bodies and URLs.
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
import { OkxErrorBodySchema } from "./schemas.js";

export type OkxFailure = RestFailure;

/** Refused before being applied: safe to send again, even a create. */
const RETRY_NOT_APPLIED: Readonly<Record<string, TransientKind>> = {
  "50011": "rate-limited", // Too Many Requests
  "50013": "unavailable", // Systems are busy
  "50001": "unavailable", // Service temporarily unavailable
};

/**
 * Worth retrying, but the outcome is unknown. 50004: "API endpoint request timeout (does not mean that
 * the request was successful or failed, please check the request result)"; 50026: system error.
 */
const RETRY_OUTCOME_UNKNOWN: Readonly<Record<string, TransientKind>> = {
  "50004": "timeout",
  "50026": "unavailable",
};

function parseErrorBody(body: string): { code: string; msg: string } | undefined {
  if (!body.startsWith("{")) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = OkxErrorBodySchema.safeParse(json);
  if (!parsed.success || parsed.data.code === "0") return undefined;
  // Batch-style answers (code 1/2) carry the real reason per item
  // (docs/exchanges/okx.md#response-envelope-and-http-status).
  const item = parsed.data.data?.[0];
  if ((parsed.data.code === "1" || parsed.data.code === "2") && item?.sCode) {
    return { code: item.sCode, msg: item.sMsg ?? "" };
  }
  return { code: parsed.data.code, msg: parsed.data.msg };
}

/**
 * What a probe concludes from OKX's answer to the key's own `account/config` (docs/exchanges/okx.md#probes).
 */
const PROBE_BY_CODE: Readonly<Record<string, "dead" | InconclusiveReason>> = {
  "50111": "dead", // Invalid OK-ACCESS-KEY: OKX no longer knows the key
  "50119": "wrong-region", // key doesn't exist on this regional host; a known false "dead"
  "50113": "wrong-secret",
  "50105": "wrong-passphrase",
  "50110": "ip-not-whitelisted",
  "50102": "clock-skew", // still expired after a resynchronisation
  "50101": "wrong-environment", // demo key on live or the reverse
  "50100": "frozen",
  "50011": "rate-limited",
};

export const failures = restFailures({
  name: "OKX",
  noAnswer: "without an OKX answer",
  ccxtId: "okx",
  // OKX handleErrors throws `"okx " + body` (docs/exchanges/okx.md#error-codes).
  bodyFromMessage: (message) => (message.startsWith("okx {") ? message.slice(4) : ""),
  parseBody: parseErrorBody,
  retryNotApplied: RETRY_NOT_APPLIED,
  retryOutcomeUnknown: RETRY_OUTCOME_UNKNOWN,
  probeByCode: PROBE_BY_CODE,
});
export const { extractFailure, transientKind, isAmbiguous, describeFailure, probeVerdict } = failures;

const CHECK_CREDENTIALS = "Check the account's API key, secret and passphrase.";
const NEEDS_TRADE =
  "The account's API key needs the Trade permission for key management: edit it on OKX's API page (or use a master key that has Read and Trade).";

/** How the account's own key's failures read to a person. */
const RULES: Readonly<Record<string, FailureRule>> = {
  "50111": {
    code: "EXCHANGE_AUTH",
    hint: "OKX does not know this API key: it was deleted or mistyped, or it lives on another OKX region. Check the key and the account's region.",
  },
  "50119": {
    code: "EXCHANGE_AUTH",
    hint: "The API key does not exist on this OKX host. Keys only work on the site they were made on (www.okx.com, eea/my.okx.com, us.okx.com): set the account's region.",
  },
  "50113": {
    code: "EXCHANGE_AUTH",
    hint: "The secret does not match the API key: re-enter the secret shown when the key was created.",
  },
  "50105": {
    code: "EXCHANGE_AUTH",
    hint: "The passphrase is wrong: it is the one chosen when the key was created (OKX cannot recover it).",
  },
  "50110": {
    code: "EXCHANGE_AUTH",
    hint: "The API key's IP whitelist does not include this machine: add this machine's IP on OKX's API page, or run Keyward from a whitelisted machine.",
  },
  "50101": {
    code: "EXCHANGE_AUTH",
    hint: "The key belongs to the other environment (demo trading vs live): use a live-trading key.",
  },
  "50100": {
    code: "EXCHANGE_AUTH",
    hint: "OKX has frozen this API key: contact OKX support or use another key.",
  },
  "50102": {
    code: "EXCHANGE_AUTH",
    hint: "This machine's clock is too far from OKX's, even after resynchronising: turn on automatic time sync (NTP).",
  },
  "50103": { code: "EXCHANGE_AUTH", hint: CHECK_CREDENTIALS },
  "50104": { code: "EXCHANGE_AUTH", hint: CHECK_CREDENTIALS },
  "50106": { code: "EXCHANGE_AUTH", hint: CHECK_CREDENTIALS },
  "50107": { code: "EXCHANGE_AUTH", hint: CHECK_CREDENTIALS },
  "50112": { code: "EXCHANGE_AUTH", hint: CHECK_CREDENTIALS },
  "50114": { code: "EXCHANGE_AUTH", hint: CHECK_CREDENTIALS },
  "50120": { code: "EXCHANGE_PERMISSION", hint: NEEDS_TRADE },
  "50030": { code: "EXCHANGE_PERMISSION", hint: NEEDS_TRADE },
  "50035": {
    code: "EXCHANGE_PERMISSION",
    hint: "OKX manages sub-account keys only for a master key bound to IP addresses: bind the master key to this machine's IP on OKX's API page.",
  },
  "59500": {
    code: "NOT_MASTER",
    hint: "Only a key of the main (master) account may manage sub-account keys: give Keyward a master-account key.",
  },
  "59506": { code: "KEY_NOT_FOUND", hint: "OKX no longer has this key: list the keys again." },
  "59510": {
    code: "ACCOUNT_NOT_FOUND",
    hint: "No such sub-account under this master: check the sub-account name (it is case-sensitive).",
  },
  "59501": {
    code: "EXCHANGE_REJECTED",
    hint: "The sub-account already has 50 API keys, OKX's maximum: revoke unused keys first.",
  },
  "59502": {
    code: "EXCHANGE_REJECTED",
    hint: "Another key of this sub-account has that label: choose another label.",
  },
  "59503": { code: "EXCHANGE_REJECTED", hint: "OKX binds at most 20 IP addresses to a key." },
  "59504": { code: "NOT_SUPPORTED", hint: "OKX sub-account keys cannot have the Withdraw permission." },
  "59505": {
    code: "EXCHANGE_REJECTED",
    hint: "OKX rejected the generated passphrase's format; please report this as a Keyward bug.",
  },
  "59508": { code: "EXCHANGE_REJECTED", hint: "The sub-account is suspended: check it on OKX's site." },
};

const KEYWARD_ERRORS: KeywardErrorTable = {
  name: "OKX",
  rules: RULES,
  unknownCodeHint:
    "OKX refused the request; look the code up in OKX's error-code table (https://www.okx.com/docs-v5/en/#error-code).",
  httpUnavailable: (status) => status >= 500 || status === 429,
  httpUnavailableHint:
    "OKX (or a proxy in front of it) is failing: check OKX's status page and try again later.",
};

export type { FailureContext };

/** The KeywardError for a failure of a call made with the account's own (master) key. */
export const toKeywardError = (f: OkxFailure, ctx: FailureContext): KeywardError =>
  restKeywardError(KEYWARD_ERRORS, describeFailure, f, ctx);
