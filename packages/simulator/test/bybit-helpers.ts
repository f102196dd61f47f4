/**
 * Shared by the Bybit v5 tests: a scenario with one master account (two sub-members, one with 23 keys
 * for paging), and a signed client written from Bybit's docs (https://bybit-exchange.github.io/docs/v5/guide),
 * not from the simulator's code.
 */
import { createHmac } from "node:crypto";
import type { ScenarioInput } from "../src/index.js";
import { type HttpResult, httpCall } from "./helpers.js";

export interface BybitCreds {
  apiKey: string;
  secret: string;
}

const CREATED = "2026-10-01T09:00:00Z";
const MANAGE = { Wallet: ["AccountTransfer", "SubMemberTransfer"], ContractTrade: ["Order", "Position"] };

/** The master's managing key: IP-bound, read-write, with the transfer permissions create/delete need. */
export const BY_ADMIN: BybitCreds = {
  apiKey: "BYADMINKEY00000001",
  secret: "by-admin-secret-000000000000000000001",
};
/** A master key that can only trade: may read, may not create, modify or delete. */
export const BY_TRADER: BybitCreds = {
  apiKey: "BYTRADERKEY0000002",
  secret: "by-trader-secret-00000000000000000002",
};
/** A read-only master key holding transfer permissions on paper: still refused for writes. */
export const BY_READONLY: BybitCreds = {
  apiKey: "BYREADONLYKEY00003",
  secret: "by-readonly-secret-000000000000000003",
};
/** A master key bound to an address the tests never call from. */
export const BY_FAR: BybitCreds = {
  apiKey: "BYFARAWAYKEY000004",
  secret: "by-far-secret-000000000000000000000004",
};
/** A master key without an IP binding, made 89 days before the tests' clock starts. */
export const BY_OLD: BybitCreds = {
  apiKey: "BYOLDUNBOUNDKEY005",
  secret: "by-old-secret-000000000000000000000005",
};
/** A sub-member's key that may transfer: can modify and delete itself only. */
export const BY_SUB: BybitCreds = {
  apiKey: "BYSUBKEY0000000006",
  secret: "by-sub-secret-000000000000000000000006",
};

export const MASTER_UID = "290000001";
export const SUB_UID = "290000101";
export const PAGED_UID = "290000102";
export const OTHER_MASTER_UID = "290000002";
export const OTHER_SUB_UID = "290000201";
export const PAGED_KEYS = 23;

export function bybitScenario(): ScenarioInput {
  const paged = Array.from({ length: PAGED_KEYS }, (_, i) => ({
    apiKey: `BYPAGEDKEY${String(i).padStart(8, "0")}`,
    secret: `by-paged-secret-${String(i).padStart(20, "0")}`,
    note: `paged-${i}`,
    readOnly: 1 as const,
    ips: ["10.9.0.1"],
    createdAt: CREATED,
  }));
  return {
    bybit: {
      masters: [
        {
          uid: MASTER_UID,
          username: "desk-by",
          keys: [
            {
              ...BY_ADMIN,
              note: "keyward-admin",
              readOnly: 0,
              ips: ["127.0.0.1", "::1"],
              permissions: MANAGE,
              createdAt: CREATED,
            },
            {
              ...BY_TRADER,
              note: "trader",
              readOnly: 0,
              ips: ["127.0.0.1"],
              permissions: { Spot: ["SpotTrade"] },
              createdAt: CREATED,
            },
            {
              ...BY_READONLY,
              note: "ro",
              readOnly: 1,
              ips: ["127.0.0.1"],
              permissions: MANAGE,
              createdAt: CREATED,
            },
            {
              ...BY_FAR,
              note: "far",
              readOnly: 0,
              ips: ["203.0.113.9"],
              permissions: MANAGE,
              createdAt: CREATED,
            },
            {
              ...BY_OLD,
              note: "old",
              readOnly: 0,
              ips: ["*"],
              permissions: MANAGE,
              createdAt: "2026-09-03T00:00:00Z",
            },
          ],
          subMembers: [
            {
              uid: SUB_UID,
              username: "bybot01",
              keys: [
                {
                  ...BY_SUB,
                  note: "bot-1",
                  readOnly: 0,
                  ips: ["127.0.0.1"],
                  permissions: { Wallet: ["AccountTransfer"], Spot: ["SpotTrade"] },
                  createdAt: CREATED,
                },
              ],
            },
            { uid: PAGED_UID, username: "bypaged", memberType: 6, keys: paged },
          ],
        },
        {
          uid: OTHER_MASTER_UID,
          username: "other-desk",
          subMembers: [
            {
              uid: OTHER_SUB_UID,
              username: "otherbot",
              keys: [
                {
                  apiKey: "BYOTHERSUBKEY00007",
                  secret: "by-other-secret-00000000000000000007",
                  readOnly: 0,
                  createdAt: CREATED,
                },
              ],
            },
          ],
        },
      ],
    },
  };
}

/** The tests' clock: 2026-12-01 00:00 UTC, BY_OLD is 89 days old (expires in one day). */
export const T0 = Date.parse("2026-12-01T00:00:00Z");

export interface BybitCallOptions {
  method?: "GET" | "POST";
  /** GET: the query string as sent (no "?"); POST: a JSON object sent as the body. */
  query?: string;
  body?: unknown;
  /** Overrides: the timestamp, the receive window (null = header left out), the signature. */
  timestamp?: number;
  recvWindow?: string | null;
  sign?: string;
  /** Sign these bytes instead of the ones sent (to prove the server uses the bytes received). */
  signedPayload?: string;
  now: number;
}

/** A signed v5 request: HMAC-SHA256 hex of timestamp + apiKey + recvWindow + (query | body). */
export function bybitCall(
  base: string,
  path: string,
  creds: BybitCreds,
  opts: BybitCallOptions,
): Promise<HttpResult> {
  const method = opts.method ?? (opts.body === undefined ? "GET" : "POST");
  const timestamp = String(opts.timestamp ?? opts.now);
  const recvWindow = opts.recvWindow === undefined ? "5000" : opts.recvWindow;
  const payload = method === "GET" ? (opts.query ?? "") : JSON.stringify(opts.body ?? {});
  const sign =
    opts.sign ??
    createHmac("sha256", creds.secret)
      .update(`${timestamp}${creds.apiKey}${recvWindow ?? ""}${opts.signedPayload ?? payload}`)
      .digest("hex");
  const headers: Record<string, string> = {
    "X-BAPI-API-KEY": creds.apiKey,
    "X-BAPI-TIMESTAMP": timestamp,
    "X-BAPI-SIGN": sign,
  };
  if (recvWindow !== null) headers["X-BAPI-RECV-WINDOW"] = recvWindow;
  if (method === "POST") headers["Content-Type"] = "application/json";
  const url = `${base}${path}${method === "GET" && opts.query ? `?${opts.query}` : ""}`;
  return httpCall(url, { method, headers, ...(method === "POST" ? { body: payload } : {}) });
}

export interface BybitEnvelope<T = Record<string, unknown>> {
  retCode: number;
  retMsg: string;
  result: T;
  retExtInfo: Record<string, unknown>;
  time: number;
}

export const envelope = <T = Record<string, unknown>>(r: HttpResult): BybitEnvelope<T> =>
  r.json as BybitEnvelope<T>;
export const retCode = (r: HttpResult): number | undefined =>
  (r.json as { retCode?: number } | undefined)?.retCode;
