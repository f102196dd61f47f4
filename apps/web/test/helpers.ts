/**
 * The web tests' desk: a simulator started in-process (small rateScale) on a scenario whose every secret
 * is a canary string, a temporary Keyward home set up through core (KeywardHome + vault, accounts probed
 * first, a tracked Bitfinex key), and the web server started in-process on a free port against it.
 *
 * HTTP goes through node:http (not fetch) so tests control every header, Host and Origin included.
 * Every response body the tests receive is recorded; `CANARIES` lists every secret, and the suites
 * check that none ever appears in any body.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KeywardHome, Secret } from "@keyward/core";
import {
  type RunningSimulator,
  type ScenarioInput,
  startSimulator,
  type WorldView,
} from "@keyward/simulator";
import {
  type HomeSeed,
  setupHome,
  startWebServer,
  type WebServer,
  type WebServerOptions,
} from "../src/server/index.js";

/** The built UI (the turbo test task builds first). */
export const UI_DIR = fileURLToPath(new URL("../dist/ui/", import.meta.url));

export const PASSPHRASE = "CANARY-web-vault-passphrase-4e81a7";

const DAY = 86_400_000;
const msAgo = (days: number) => String(Date.now() - days * DAY);

const okxKey = (n: number, label: string, perm: string, ip: string, ageDays: number) => ({
  apiKey: `7a1c9e20-3b4d-4f5e-8a6b-0000000000${String(n).padStart(2, "0")}`,
  secretKey: `CANARY-web-okx-secret-${label}-70c2d9`,
  passphrase: `CANARY-web-okx-pass-${label}-1b3e5f`,
  label,
  perm,
  ip,
  ts: msAgo(ageDays),
});

const bfxKey = (n: number, label: string, permissions: [string, 0 | 1, 0 | 1][], ip: string[]) => ({
  apiKey: `webBfx${String(n).padStart(2, "0")}a81c5a0e4b7f93d2a6c1e0b8f47a5d3c9e1b`,
  apiSecret: `CANARY-web-bfx-secret-${label}-9d0b7e`,
  label,
  permissions,
  ip,
  createdAt: "2026-06-01T09:00:00Z",
});

export const KEYS = {
  okxMaster: okxKey(1, "desk-master", "read_only,trade", "127.0.0.1", 20),
  okxLegacy: okxKey(2, "legacy-master", "read_only,trade,withdraw", "", 200),
  bot1: okxKey(11, "bot-1", "read_only,trade", "10.0.0.1", 10),
  bot2: okxKey(12, "bot-2", "read_only,trade", "", 10),
  bot3: okxKey(13, "bot-3", "read_only,trade", "10.0.0.3", 400),
  opsReader: okxKey(14, "ops-reader", "read_only", "10.0.0.9", 10),
  bfxAccount: bfxKey(
    1,
    "keyward-reader",
    [
      ["account", 1, 0],
      ["orders", 1, 0],
      ["wallets", 1, 0],
      ["withdraw", 0, 0],
    ],
    [],
  ),
  bfxMm: bfxKey(
    2,
    "bfx-mm",
    [
      ["orders", 1, 1],
      ["wallets", 1, 0],
      ["withdraw", 0, 1],
    ],
    ["127.0.0.1"],
  ),
} as const;

export const OKX_ACCOUNT = "desk-okx";
export const BFX_ACCOUNT = "desk-bfx";

export function scenario(): ScenarioInput {
  return {
    okx: {
      accounts: [
        {
          uid: "400000001",
          name: "desk",
          keys: [KEYS.okxMaster, KEYS.okxLegacy],
          subAccounts: [
            { name: "deskBots01", uid: "400000101", ts: msAgo(300), keys: [KEYS.bot1, KEYS.bot2] },
            { name: "deskBots02", uid: "400000102", ts: msAgo(300), keys: [KEYS.bot3] },
            { name: "deskOps01", uid: "400000103", ts: msAgo(300), keys: [KEYS.opsReader] },
          ],
        },
      ],
    },
    bitfinex: {
      users: [{ id: 8000001, email: "ops@web-desk.example", keys: [KEYS.bfxAccount, KEYS.bfxMm] }],
    },
  };
}

/** Every secret of the scenario, and the vault passphrase. */
export const CANARIES: string[] = [
  PASSPHRASE,
  ...Object.values(KEYS).flatMap((k) => ("secretKey" in k ? [k.secretKey, k.passphrase] : [k.apiSecret])),
];

export function seed(sim: RunningSimulator): HomeSeed {
  return {
    passphrase: PASSPHRASE,
    workFactor: 10,
    accounts: [
      {
        name: OKX_ACCOUNT,
        exchange: "okx",
        endpoint: sim.okx,
        credentials: {
          apiKey: KEYS.okxMaster.apiKey,
          secret: KEYS.okxMaster.secretKey,
          passphrase: KEYS.okxMaster.passphrase,
        },
      },
      {
        name: BFX_ACCOUNT,
        exchange: "bitfinex",
        endpoint: sim.bitfinex,
        credentials: { apiKey: KEYS.bfxAccount.apiKey, secret: KEYS.bfxAccount.apiSecret },
      },
    ],
    tracked: [
      {
        account: BFX_ACCOUNT,
        label: "bfx-mm",
        credentials: { apiKey: KEYS.bfxMm.apiKey, secret: KEYS.bfxMm.apiSecret },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------
// HTTP

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json<T = unknown>(): T;
}

/** Every body received by any test in this process (for the canary scan). */
export const received: { what: string; body: string }[] = [];

export interface RequestOptions {
  headers?: Record<string, string | undefined>;
  body?: string | object;
  /** Abort after this long (SSE streams). */
  timeoutMs?: number;
  ca?: string;
}

export function http(
  base: string,
  method: string,
  path: string,
  options: RequestOptions = {},
): Promise<HttpResponse> {
  const url = new URL(path, base);
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === "string"
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined) headers[k] = v;
  if (body !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === "content-type"))
    headers["content-type"] = "application/json";
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ...(options.ca ? { ca: options.ca } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString("utf8");
        received.push({ what: `${method} ${path} → ${res.statusCode}`, body: text });
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text,
          json: <T>() => JSON.parse(text) as T,
        });
      };
      if (options.timeoutMs) {
        timer = setTimeout(() => {
          res.destroy();
          finish();
        }, options.timeoutMs);
      }
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", finish);
      res.on("error", () => finish());
    });
    req.on("error", reject);
    req.end(body);
  });
}

export interface Client {
  origin: string;
  cookie: string;
  /** The session's secret (X-Keyward-Session), as the page keeps it in sessionStorage. */
  secret: string;
  get(path: string, extra?: RequestOptions): Promise<HttpResponse>;
  post(path: string, body?: unknown, extra?: RequestOptions): Promise<HttpResponse>;
}

/** The session secret in a login redirect's Location (`/inventory#s=…`), or undefined. */
export const secretOf = (location: string | undefined): string | undefined =>
  /#s=([A-Za-z0-9_-]+)$/.exec(location ?? "")?.[1];

/**
 * Logs in with the server's current one-time URL, as a browser would: the cookie from Set-Cookie, the
 * session's secret from the redirect's fragment. Returns a client that sends both.
 */
export async function login(server: WebServer, ca?: string): Promise<Client> {
  const url = new URL(server.loginUrl());
  const tls = ca ? { ca } : {};
  const res = await http(server.origin, "GET", `${url.pathname}${url.search}`, tls);
  if (res.status !== 303) throw new Error(`login answered ${res.status}: ${res.body}`);
  const setCookie = res.headers["set-cookie"]?.[0] ?? "";
  const cookie = setCookie.split(";")[0] ?? "";
  const secret = secretOf(res.headers.location);
  if (!secret) throw new Error(`login redirect without a session secret: ${res.headers.location}`);
  const origin = server.origin;
  return {
    origin,
    cookie,
    secret,
    get: (path, extra = {}) =>
      http(origin, "GET", path, {
        ...tls,
        ...extra,
        headers: { cookie, "x-keyward-session": secret, ...extra.headers },
      }),
    post: (path, body = {}, extra = {}) =>
      http(origin, "POST", path, {
        ...tls,
        ...extra,
        body: body as object,
        headers: { cookie, origin, "x-keyward-session": secret, ...extra.headers },
      }),
  };
}

// ---------------------------------------------------------------------------------------------------
// The desk

export interface Desk {
  sim: RunningSimulator;
  home: KeywardHome;
  dir: string;
  server: WebServer;
  /** Lines the server printed (the login URL among them). */
  printed: string[];
  state(): Promise<WorldView>;
  uiRevoke(exchange: "okx" | "bitfinex", apiKey: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDesk(
  options: Partial<WebServerOptions> = {},
  seedFor: (sim: RunningSimulator) => HomeSeed = seed,
): Promise<Desk> {
  const sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  const dir = mkdtempSync(join(tmpdir(), "keyward-web-test-"));
  await (await setupHome(dir, seedFor(sim))).close();
  // Opened again, as `keyward web` opens an existing home.
  const home = KeywardHome.open(dir, { passphrase: async () => new Secret(PASSPHRASE), actor: "web:test" });
  const printed: string[] = [];
  const server = await startWebServer({
    home,
    port: 0,
    uiDir: UI_DIR,
    print: (line) => printed.push(line),
    manual: { pollMs: 300, timeoutMs: 60_000 },
    extraSecrets: [PASSPHRASE],
    ...options,
  });
  await server.ready;
  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.control}${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    });
    if (!res.ok) throw new Error(`control ${method} ${path}: ${res.status}`);
    return res.json();
  };
  return {
    sim,
    home,
    dir,
    server,
    printed,
    state: () => control("GET", "/state") as Promise<WorldView>,
    uiRevoke: async (exchange, apiKey) => {
      await control("POST", "/ui/revoke", { exchange, apiKey });
    },
    close: async () => {
      await server.close();
      await home.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The status of every key in a simulator /state view, by API key. */
export function statuses(state: WorldView): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of state.okx.accounts) {
    for (const k of a.keys) out.set(k.apiKey, k.status);
    for (const s of a.subAccounts) for (const k of s.keys) out.set(k.apiKey, k.status);
  }
  for (const u of state.bitfinex.users) for (const k of u.keys) out.set(k.apiKey, k.status);
  return out;
}

/** Bodies (with where they came from) that carry any canary. */
export function leaks(bodies: readonly { what: string; body: string }[] = received): string[] {
  return bodies.flatMap(({ what, body }) =>
    CANARIES.filter((c) => body.includes(c)).map((c) => `${what}: ${c}`),
  );
}

/** Calls `fn` every `intervalMs` until it answers something (not undefined); fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 100,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
