/**
 * Bitfinex test fixtures: simulator seeds whose secrets are canaries (they must never show up in an error,
 * a result or a log line), credentials for them, and an independent signer that plays "another program
 * using the same key" (a ccxt-style millisecond bot), written from the docs
 * (docs/exchanges/bitfinex.md#nonce-rules), not from the adapter.
 */
import { createHmac } from "node:crypto";
import type { ScenarioInput } from "@keyward/simulator";
import { bitfinexAdapter } from "../src/adapters/bitfinex/adapter.js";
import type { AdapterOptions, ExchangeAdapter, TrackedKey } from "../src/adapters/interface.js";
import { type Credentials, toCredentials } from "../src/domain/credentials.js";

type Triple = [string, 0 | 1, 0 | 1];

export interface BfxSeedKey {
  apiKey: string;
  apiSecret: string;
  label: string;
  permissions: Triple[];
  ip?: string[];
  lastNonce?: string;
}

let counter = 0;
/** A key with a unique id and a canary secret. */
export function bfxKey(
  label: string,
  permissions: Triple[] = [["orders", 1, 1]],
  extra: Partial<BfxSeedKey> = {},
) {
  counter++;
  const tag = `${label.replace(/[^a-z0-9]/gi, "")}${counter}`;
  return {
    apiKey: `bfxkey${tag}${"k".repeat(Math.max(0, 30 - tag.length))}`,
    apiSecret: `BFXSECRETCANARY${tag}${"s".repeat(Math.max(0, 28 - tag.length))}`,
    label,
    permissions,
    ...extra,
  } satisfies BfxSeedKey;
}

export const seed = (k: BfxSeedKey) => ({
  apiKey: k.apiKey,
  apiSecret: k.apiSecret,
  label: k.label,
  permissions: k.permissions,
  ip: k.ip ?? [],
  createdAt: "2026-01-01T00:00:00Z",
  ...(k.lastNonce ? { lastNonce: k.lastNonce } : {}),
});

export const creds = (k: Pick<BfxSeedKey, "apiKey" | "apiSecret">): Credentials =>
  toCredentials({ apiKey: k.apiKey, secret: k.apiSecret });

export const tracked = (k: BfxSeedKey, withCredentials = true): TrackedKey => ({
  apiKey: k.apiKey,
  label: k.label,
  ...(withCredentials ? { credentials: creds(k) } : {}),
});

/** The account key of a desk: it can read account info (auth/r/info/user needs "account" read). */
export const ACCOUNT_SCOPES: Triple[] = [
  ["account", 1, 0],
  ["orders", 1, 1],
  ["wallets", 1, 0],
  ["withdraw", 0, 0],
];

export function adapterFor(
  endpoint: string,
  account: BfxSeedKey,
  options: AdapterOptions,
  trackedKeys: TrackedKey[] = [],
  name = "bfx-desk",
): ExchangeAdapter {
  return bitfinexAdapter(
    {
      account: { name, exchange: "bitfinex", endpoint, credentialsRef: `vault:${name}` },
      credentials: creds(account),
      tracked: trackedKeys,
    },
    options,
  );
}

export const scenarioOf = (users: { id: number; email: string; keys: BfxSeedKey[] }[]): ScenarioInput => ({
  bitfinex: { users: users.map((u) => ({ id: u.id, email: u.email, keys: u.keys.map(seed) })) },
});

/**
 * "Another program" calling auth/r/permissions with its own nonce (e.g. a ccxt bot: Date.now() in ms).
 * Returns the HTTP status and the body.
 */
export async function botCall(
  base: string,
  key: Pick<BfxSeedKey, "apiKey" | "apiSecret">,
  nonce: number,
): Promise<{ status: number; body: unknown }> {
  const path = "auth/r/permissions";
  const body = "{}";
  const signature = createHmac("sha384", key.apiSecret)
    .update(`/api/v2/${path}${nonce}${body}`)
    .digest("hex");
  const res = await fetch(`${base}/v2/${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "bfx-apikey": key.apiKey,
      "bfx-nonce": String(nonce),
      "bfx-signature": signature,
    },
    body,
  });
  return { status: res.status, body: await res.json() };
}
