/**
 * Shared by the Bitfinex v2 tests: endpoint paths, the exchange's error arrays and scope matrix,
 * token-authenticated requests, key creation through the control API, and the
 * simulator the checklist items 18-22 and 24 run against.
 */
import { expect } from "vitest";
import { DEFAULT_RATE_LIMITS, type RateLimits, type RunningSimulator } from "../src/index.js";
import { scenario } from "./fixtures.js";
import { type BfxCreds, control, type HttpResult, httpCall, nextNonce, useSimulator } from "./helpers.js";

export const PERMISSIONS = "auth/r/permissions";
export const USER_INFO = "auth/r/info/user";
export const TOKEN = "auth/w/token";
export const TOKEN_DEL = "auth/w/token/del";

export const APIKEY_INVALID = ["error", 10100, "apikey: invalid"];
export const DIGEST_INVALID = ["error", 10100, "apikey: digest invalid"];
export const TOKEN_INVALID = ["error", 10100, "token: invalid"];
export const NONCE_SMALL = ["error", 10114, "nonce: small"];
export const PERMISSION_INVALID = ["error", 10001, "api_key: permission invalid"];

/** The exchange's scope order; every scope is present in `auth/r/permissions`. */
export const SCOPES = [
  "account",
  "history",
  "orders",
  "positions",
  "funding",
  "settings",
  "wallets",
  "withdraw",
  "ui_withdraw",
  "bfxpay",
] as const;

/** The full matrix in exchange order, given only the scopes that are not [0, 0]. */
export const matrix = (granted: Record<string, [0 | 1, 0 | 1]>) =>
  SCOPES.map((scope) => [scope, ...(granted[scope] ?? [0, 0])]);

/** BFX_MAIN's seeded scopes (fixtures.ts). */
export const MAIN_MATRIX = matrix({ account: [1, 0], orders: [1, 1], wallets: [1, 0] });

export const statusAndBody = (r: HttpResult) => [r.status, r.json];

/** A token-authenticated call: header `bfx-token` only, no key, nonce or signature. */
export const tokenCall = (base: string, token: string, path: string, body: unknown = {}) =>
  httpCall(`${base}/v2/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "bfx-token": token },
    body: JSON.stringify(body),
  });

/** Creates a Bitfinex key the way a person would on the website (the control API's `/ui/create`). */
export async function createKey(
  controlUrl: string,
  permissions: [string, 0 | 1, 0 | 1][],
  extra: { label?: string; ip?: string[] } = {},
): Promise<BfxCreds> {
  const r = await control(controlUrl, "POST", "/ui/create", {
    exchange: "bitfinex",
    userId: 501,
    label: extra.label ?? `test-${nextNonce()}`,
    permissions,
    ...(extra.ip ? { ip: extra.ip } : {}),
  });
  expect(r.status).toBe(201);
  return r.json as BfxCreds;
}

/**
 * The per-IP limit of the simulator for items 18-22 and 24 is raised so that their many calls never
 * trip it; item 23 checks the limits on simulators of its own, including one with the documented defaults.
 */
const GENEROUS: RateLimits = {
  ...DEFAULT_RATE_LIMITS,
  bitfinex: { auth: { limit: 10_000, windowMs: 60_000 }, blockMs: 60_000 },
};

/** Starts a simulator on the fixture world with the GENEROUS limits. */
export const useBitfinexSimulator = (): (() => RunningSimulator) =>
  useSimulator({ scenario: scenario(), rateLimits: GENEROUS });
