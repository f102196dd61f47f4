/**
 * Probing a Deribit key with its own credentials, and the memory of keys that authenticated from this
 * process: 13004 is Deribit's answer for an unknown or removed key, a wrong secret and a disabled key
 * alike (docs/exchanges/deribit.md#probes), so what is known besides the answer (the account's listing, a
 * key seen alive from here) decides between dead and inconclusive.
 */
import { createHash } from "node:crypto";
import type { Credentials } from "../../domain/credentials.js";
import type { Account, ProbeResult } from "../../domain/schemas.js";
import { shortKey } from "../../domain/schemas.js";
import type { Secret } from "../../domain/secret.js";
import { isKeywardError } from "../../errors.js";
import type { ProbeOptions } from "../interface.js";
import { ALIVE_FROM_HERE_META } from "../interface.js";
import { type DeribitClient, DeribitRejection, newTrace, rememberUid } from "./client.js";
import { CODES, type DeribitFailure, describeFailure, IP_NOT_ALLOWED, probeVerdict } from "./errors.js";
import { canonicalScope, levelOf, normaliseScope } from "./permissions.js";
import { USER_META } from "./records.js";
import { AccountSummarySchema, ApiKeyListSchema, type DeribitKey } from "./schemas.js";

/** The currency get_account_summary is asked about: any will do, the answer's user id is what is read. */
export const SUMMARY_PARAMS = { currency: "BTC" } as const;

/**
 * Keys that authenticated from this process, by REST base, Client ID and a hash of the secret: a later
 * 13004 for the same credentials is not a wrong secret (the same secret worked), so the key is removed or
 * disabled (docs/exchanges/deribit.md#probes). The account's own key counts once its signed calls
 * succeeded. Engines pass what they remember across runs as `ProbeOptions.knownAliveFromHere`.
 */
const aliveFromHere = new Set<string>();
export const hereOf = (base: string, credentials: Credentials): string =>
  `${base}|${credentials.apiKey}|${createHash("sha256").update(credentials.secret.reveal()).digest("hex")}`;

/** Remembers that the key with this `hereOf` entry authenticated from this process. */
export function sawAliveFromHere(here: string): void {
  aliveFromHere.add(here);
}

export type ProbeAnswer = ProbeResult & { meta?: Record<string, string> };

/** What a probe borrows from the adapter. */
export interface ProbeDeps {
  account: Account;
  /** The Client ID of the account's own key. */
  apiKey: string;
  /** The account's REST base. */
  base: string;
  /** A client signing with the probed key's own credentials. */
  probeClient(credentials: Credentials, uid: string | undefined): DeribitClient;
  /** The account's keys, listed with the account's key. */
  list(): Promise<DeribitKey[]>;
}

/**
 * The key proves itself with public/auth `client_signature` (its own credentials only; its secret never
 * travels), which grants its scope. A key that may read the account (account:read) then says whose it
 * is (get_account_summary) and its own IP whitelist and name (list_api_keys). 13004 is Deribit's answer
 * for an unknown or removed key, a wrong secret and a disabled key alike (docs/exchanges/deribit.md#probes).
 */
export async function probeDeribitKey(
  deps: ProbeDeps,
  credentials: Credentials,
  options: ProbeOptions = {},
): Promise<ProbeAnswer> {
  const client = deps.probeClient(credentials, options.meta?.[USER_META]);
  const here = hereOf(deps.base, credentials);
  const knownAlive =
    options.knownAliveFromHere ?? (aliveFromHere.has(here) || options.meta?.[ALIVE_FROM_HERE_META] === "1");
  const trace = newTrace<DeribitFailure>();
  let granted: string;
  try {
    granted = (await client.auth({ retry: "transient", trace })).scope;
  } catch (error) {
    return probeFailure(deps, error, credentials.apiKey, knownAlive, client.secrets, trace.last);
  }
  aliveFromHere.add(here);
  const scope = canonicalScope(granted);
  const main = granted.split(/\s+/).includes("mainaccount");
  let userId: string | undefined;
  let own: DeribitKey | undefined;
  let seen = "";
  if (levelOf(scope, "account") !== "none") {
    try {
      userId = (
        await client.call("accountSummary", SUMMARY_PARAMS, AccountSummarySchema, { retry: "transient" })
      ).id;
      rememberUid(deps.base, credentials.apiKey, userId);
      own = (await client.call("listKeys", {}, ApiKeyListSchema, { retry: "transient" })).find(
        (k) => k.client_id === credentials.apiKey,
      );
      seen = `; list_api_keys shows its IP whitelist${own?.ip_whitelist.length ? "" : " (empty)"}`;
    } catch {
      // public/auth already proved the key alive; what it may read beyond that is a bonus.
      seen = "; its account and IP whitelist could not be read";
    }
  }
  return {
    status: "alive",
    permissions: normaliseScope(scope),
    rawPermissions: scope,
    // Reported only by list_api_keys, which needs account:read: null (not known) without it.
    ip: own ? [...own.ip_whitelist] : null,
    ...(own ? { label: own.name } : {}),
    ...(userId ? { accountId: userId, ...(main ? { masterId: userId } : {}) } : {}),
    evidence: `Deribit public/auth (client_signature) granted ${shortKey(credentials.apiKey)} the scope "${scope || "none"}"${main ? " on a main account" : ""}${seen}`,
    meta: userId ? { [USER_META]: userId } : {},
  };
}

/** What a probe concludes from its public/auth failing (docs/exchanges/deribit.md#probes). */
async function probeFailure(
  deps: ProbeDeps,
  error: unknown,
  apiKey: string,
  knownAlive: boolean,
  secrets: readonly Secret[],
  last: DeribitFailure | undefined,
): Promise<ProbeAnswer> {
  if (isKeywardError(error)) {
    return {
      status: "inconclusive",
      reason: error.code === "EXCHANGE_RATE_LIMITED" ? "rate-limited" : "network",
      evidence: last ? describeFailure(last, secrets) : error.code,
    };
  }
  if (!(error instanceof DeribitRejection)) throw error;
  const f = error.failure;
  const said = describeFailure(f, secrets);
  if (f.kind === "answer" && f.code === CODES.UNAUTHORIZED) {
    return f.reason === IP_NOT_ALLOWED
      ? {
          status: "inconclusive",
          reason: "ip-not-whitelisted",
          evidence: `${said}: this machine is not in the key's IP whitelist`,
        }
      : {
          status: "inconclusive",
          reason: "clock-skew",
          evidence: `${said}: Deribit refused the signature's time`,
        };
  }
  if (!(f.kind === "answer" && f.code === CODES.INVALID_CREDENTIALS)) return probeVerdict(f, said);
  // 13004: unknown or removed, wrong secret, or disabled. The account's own listing tells them apart
  // when it can be read (not when the probed key is the account's own: it would get 13004 too).
  if (apiKey !== deps.apiKey) {
    const listed = await deps.list().then(
      (keys) => keys.find((k) => k.client_id === apiKey) ?? null,
      () => undefined,
    );
    if (listed === null) {
      return {
        status: "dead",
        evidence: `${said}, and account "${deps.account.name}" no longer lists ${shortKey(apiKey)}`,
      };
    }
    if (listed) {
      return listed.enabled
        ? {
            status: "inconclusive",
            reason: "wrong-secret",
            evidence: `${said}, yet the account lists ${shortKey(apiKey)} as enabled: the secret Keyward holds is wrong (or was reset)`,
          }
        : {
            status: "inconclusive",
            reason: "frozen",
            evidence: `${said}: the account lists ${shortKey(apiKey)} as disabled (it works again once enabled)`,
          };
    }
  }
  return knownAlive
    ? {
        status: "dead",
        evidence: `${said} for a key that authenticated from here before with the same secret: Deribit no longer accepts it (removed; a disabled key is answered alike, docs/exchanges/deribit.md#probes)`,
      }
    : {
        status: "inconclusive",
        reason: "ambiguous",
        evidence: `${said}: Deribit answers alike for an unknown or removed key, a wrong secret and a disabled key, and this key was never seen alive from here`,
      };
}
