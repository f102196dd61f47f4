/**
 * Test-side clients for the simulator. The signers here are written from the exchanges' docs, not
 * taken from the simulator, so the simulator's verification is checked against an independent
 * implementation (ccxt is the other one, in ccxt.test.ts).
 */
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { afterAll, beforeAll } from "vitest";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../src/index.js";

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export function httpCall(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    localAddress?: string;
    /** Aborts the request (e.g. `AbortSignal.timeout(ms)` against an injected "never answer" fault). */
    signal?: AbortSignal;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: init.method ?? "GET",
        headers: init.headers,
        localAddress: init.localAddress,
        agent: false,
        ...(init.signal ? { signal: init.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
}

export interface OkxCreds {
  apiKey: string;
  secretKey: string;
  passphrase: string;
}

export interface OkxCallOptions {
  method?: "GET" | "POST";
  /** Request-target, e.g. `/api/v5/account/config` or `/api/v5/users/subaccount/apikey?subAcct=x`. */
  path: string;
  body?: unknown;
  timestamp?: string;
  /** Header overrides; `null` removes a header. */
  headers?: Record<string, string | null>;
  localAddress?: string;
  /** Sign with this secret instead of the key's own. */
  signSecret?: string;
  signal?: AbortSignal;
}

/** https://www.okx.com/docs-v5/en/#overview-rest-authentication */
export function okxCall(base: string, creds: OkxCreds, opts: OkxCallOptions): Promise<HttpResult> {
  const method = opts.method ?? (opts.body === undefined ? "GET" : "POST");
  const body =
    opts.body === undefined ? "" : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
  const timestamp = opts.timestamp ?? new Date().toISOString();
  const sign = createHmac("sha256", opts.signSecret ?? creds.secretKey)
    .update(`${timestamp}${method}${opts.path}${body}`)
    .digest("base64");
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "OK-ACCESS-KEY": creds.apiKey,
    "OK-ACCESS-SIGN": sign,
    "OK-ACCESS-TIMESTAMP": timestamp,
    "OK-ACCESS-PASSPHRASE": creds.passphrase,
  };
  for (const [name, value] of Object.entries(opts.headers ?? {})) {
    if (value === null) delete headers[name];
    else headers[name] = value;
  }
  return httpCall(`${base}${opts.path}`, {
    method,
    headers,
    ...(body ? { body } : {}),
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

export interface BfxCreds {
  apiKey: string;
  apiSecret: string;
}

let lastNonce = Date.now() * 1000;
/** Strictly increasing microsecond nonces, as Bitfinex's own clients send. */
export const nextNonce = (): string => {
  lastNonce = Math.max(lastNonce + 1, Date.now() * 1000);
  return String(lastNonce);
};

/** https://docs.bitfinex.com/docs/rest-auth */
export function bfxCall(
  base: string,
  creds: BfxCreds,
  path: string,
  body: unknown = {},
  opts: {
    nonce?: string;
    signSecret?: string;
    localAddress?: string;
    signPrefix?: string;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<HttpResult> {
  const nonce = opts.nonce ?? nextNonce();
  const raw = typeof body === "string" ? body : JSON.stringify(body);
  const signature = createHmac("sha384", opts.signSecret ?? creds.apiSecret)
    .update(`${opts.signPrefix ?? "/api/v2/"}${path}${nonce}${raw}`)
    .digest("hex");
  return httpCall(`${base}/v2/${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "bfx-apikey": creds.apiKey,
      "bfx-nonce": nonce,
      "bfx-signature": signature,
      ...opts.headers,
    },
    body: raw,
    ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}

export async function control(
  base: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpResult> {
  return httpCall(`${base}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/** Starts a simulator for the file's tests and stops it afterwards. */
export function useSimulator(options: SimulatorOptions): () => RunningSimulator {
  let sim: RunningSimulator | undefined;
  beforeAll(async () => {
    sim = await startSimulator(options);
  });
  afterAll(async () => {
    await sim?.close();
  });
  return () => {
    if (!sim) throw new Error("simulator not started");
    return sim;
  };
}

export const okxCode = (r: HttpResult): string | undefined => (r.json as { code?: string } | undefined)?.code;
export const okxData = <T = Record<string, unknown>>(r: HttpResult): T[] => (r.json as { data: T[] }).data;

/** Limits high enough that functional tests never meet them (rate limits have their own tests). */
export const RELAXED_LIMITS = {
  okx: {
    read: { limit: 10_000, windowMs: 1000 },
    write: { limit: 10_000, windowMs: 1000 },
    config: { limit: 10_000, windowMs: 1000 },
    publicTime: { limit: 10_000, windowMs: 1000 },
  },
  bitfinex: { auth: { limit: 10_000, windowMs: 1000 }, blockMs: 1000 },
};
