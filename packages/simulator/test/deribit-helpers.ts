/**
 * Shared by the Deribit tests: a scenario (one main account with keys of every scope shape, one
 * sub-account) and a client written from Deribit's docs (https://docs.deribit.com/articles/authentication:
 * the deri-hmac-sha256 header, public/auth, JSON-RPC over HTTP), not from the simulator's code.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { ScenarioInput } from "../src/index.js";
import { type HttpResult, httpCall } from "./helpers.js";

export interface DeribitCreds {
  apiKey: string;
  secret: string;
}

/** The main account's managing key: account:read_write, IP-bound to loopback. */
export const DR_ADMIN: DeribitCreds = {
  apiKey: "DRADMIN1",
  secret: "dr-admin-secret-000000000000000000000000001",
};
/** May read the account (list keys, summary), may not manage keys. */
export const DR_READER: DeribitCreds = {
  apiKey: "DRREAD02",
  secret: "dr-reader-secret-00000000000000000000000002",
};
/** Trade only: no account scope at all. */
export const DR_TRADER: DeribitCreds = {
  apiKey: "DRTRADE3",
  secret: "dr-trader-secret-00000000000000000000000003",
};
/** Whitelisted to an address the tests never call from. */
export const DR_FAR: DeribitCreds = {
  apiKey: "DRFAR004",
  secret: "dr-far-secret-0000000000000000000000000004",
};
/** Disabled in the scenario. */
export const DR_OFF: DeribitCreds = {
  apiKey: "DROFF005",
  secret: "dr-off-secret-0000000000000000000000000005",
};
/** The sub-account's managing key. */
export const DR_SUB: DeribitCreds = {
  apiKey: "DRSUB006",
  secret: "dr-sub-secret-0000000000000000000000000006",
};

export const MAIN_ID = 501;
export const SUB_ID = 502;
export const MAIN_USER = "desk_delta";
export const SUB_USER = "desk_delta_sub";
export const MAIN_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
export const SUB_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

export function deribitScenario(): ScenarioInput {
  return {
    deribit: {
      accounts: [
        {
          id: MAIN_ID,
          username: MAIN_USER,
          totpSeed: MAIN_SEED,
          keys: [
            {
              id: 1,
              client_id: DR_ADMIN.apiKey,
              client_secret: DR_ADMIN.secret,
              name: "keyward",
              max_scope: "account:read_write trade:read",
              ip_whitelist: ["127.0.0.1", "::1"],
              timestamp: "now-400d",
            },
            {
              id: 2,
              client_id: DR_READER.apiKey,
              client_secret: DR_READER.secret,
              name: "reader",
              max_scope: "account:read",
              timestamp: 1_760_000_000_000,
            },
            {
              id: 3,
              client_id: DR_TRADER.apiKey,
              client_secret: DR_TRADER.secret,
              name: "trader",
              max_scope: "trade:read_write wallet:read_write",
              timestamp: "2026-06-01T09:00:00Z",
            },
            {
              id: 4,
              client_id: DR_FAR.apiKey,
              client_secret: DR_FAR.secret,
              name: "far",
              max_scope: "account:read_write",
              ip_whitelist: ["203.0.113.9"],
              timestamp: "now-10d",
            },
            {
              id: 5,
              client_id: DR_OFF.apiKey,
              client_secret: DR_OFF.secret,
              name: "off",
              max_scope: "account:read_write",
              enabled: false,
              timestamp: "now-10d",
            },
          ],
        },
        {
          id: SUB_ID,
          username: SUB_USER,
          type: "subaccount",
          totpSeed: SUB_SEED,
          keys: [
            {
              id: 1,
              client_id: DR_SUB.apiKey,
              client_secret: DR_SUB.secret,
              max_scope: "account:read_write",
              timestamp: "now-5d",
            },
          ],
        },
      ],
    },
  };
}

export interface DeribitCallOptions {
  /** GET (the default): params in the query; POST: a JSON-RPC body. */
  method?: "GET" | "POST";
  params?: Record<string, unknown>;
  /** How the request authenticates: signed (the default), a bearer token, or not at all. */
  auth?: { token: string } | "none";
  /** Overrides for the signature: the timestamp, the nonce, the secret it is made with, the sig itself. */
  ts?: number;
  nonce?: string;
  signSecret?: string;
  sig?: string;
  rpcId?: number;
}

/** A GET query as Deribit takes it: strings as they are, arrays and objects as JSON. */
export const queryOf = (params: Record<string, unknown>): string =>
  new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [
      k,
      typeof v === "string" ? v : JSON.stringify(v),
    ]),
  ).toString();

/** One call of `<api>/<name>`, e.g. `private/list_api_keys`. */
export function deribitCall(
  base: string,
  method: string,
  creds: DeribitCreds | undefined,
  opts: DeribitCallOptions = {},
): Promise<HttpResult> {
  const http = opts.method ?? "GET";
  const params = opts.params ?? {};
  const query = http === "GET" ? queryOf(params) : "";
  const uri = `/api/v2/${method}${query ? `?${query}` : ""}`;
  const body = http === "POST" ? JSON.stringify({ jsonrpc: "2.0", id: opts.rpcId ?? 7, method, params }) : "";
  const headers: Record<string, string> = {};
  if (http === "POST") headers["content-type"] = "application/json";
  if (opts.auth && opts.auth !== "none") headers.authorization = `Bearer ${opts.auth.token}`;
  else if (creds && opts.auth !== "none") {
    const ts = String(opts.ts ?? Date.now());
    const nonce = opts.nonce ?? randomBytes(6).toString("hex");
    const sig =
      opts.sig ??
      createHmac("sha256", opts.signSecret ?? creds.secret)
        .update(`${ts}\n${nonce}\n${http}\n${uri}\n${body}\n`)
        .digest("hex");
    headers.authorization = `deri-hmac-sha256 id=${creds.apiKey},ts=${ts},sig=${sig},nonce=${nonce}`;
  }
  return httpCall(`${base}${uri}`, { method: http, headers, ...(body ? { body } : {}) });
}

export interface RpcEnvelope<T = unknown> {
  jsonrpc: string;
  id?: number;
  result?: T;
  error?: { code: number; message: string; data?: { reason?: string } };
  usIn: number;
  usOut: number;
}

export const rpc = <T = unknown>(r: HttpResult) => r.json as RpcEnvelope<T>;
export const errorCode = (r: HttpResult): number | undefined => rpc(r).error?.code;
export const resultOf = <T = Record<string, unknown>>(r: HttpResult): T => rpc<T>(r).result as T;

export interface KeyObject {
  id: number;
  client_id: string;
  client_secret: string;
  name: string;
  max_scope: string;
  enabled: boolean;
  timestamp: number;
  ip_whitelist: string[];
}

export interface Challenge {
  security_key_authorization_required: true;
  challenge: string;
  rp_id: string;
  security_keys: { type: string; name: string }[];
}

/** A token from public/auth with client_credentials. */
export async function tokenFor(base: string, creds: DeribitCreds): Promise<string> {
  const r = await deribitCall(base, "public/auth", undefined, {
    params: { grant_type: "client_credentials", client_id: creds.apiKey, client_secret: creds.secret },
  });
  const token = resultOf<{ access_token?: string } | undefined>(r)?.access_token;
  if (!token) throw new Error(`public/auth failed: ${r.text}`);
  return token;
}

/** The account's current code, from the control API (the simulator's stand-in authenticator). */
export async function codeFor(control: string, username: string): Promise<string> {
  const r = await httpCall(`${control}/deribit/totp?username=${encodeURIComponent(username)}`);
  return (r.json as { code: string }).code;
}

/** A protected call done the way a client must: call, get the challenge, repeat with a code. */
export async function withCode(
  base: string,
  control: string,
  method: string,
  creds: DeribitCreds,
  params: Record<string, unknown>,
  username = MAIN_USER,
): Promise<HttpResult> {
  const first = await deribitCall(base, method, creds, { params });
  const challenge = resultOf<Partial<Challenge>>(first)?.challenge;
  if (!challenge) return first;
  const code = await codeFor(control, username);
  return deribitCall(base, method, creds, { params: { ...params, authorization_data: code, challenge } });
}
