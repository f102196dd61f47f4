/**
 * The web tests' desk: the shared test desk's simulator (@keyward/simulator/testing: started in-process,
 * small rateScale, every secret a canary string), a temporary Keyward home set up through core from the
 * desk's seed (KeywardHome + vault, accounts probed first, a tracked Bitfinex key), and the web server
 * started in-process on a free port against it.
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
import type { RunningSimulator, ScenarioInput, WorldView } from "@keyward/simulator";
import {
  DESK_ACCOUNTS,
  DESK_CANARIES,
  DESK_KEYS,
  deskScenario,
  deskSeed,
  keyStatuses,
  startTestDesk,
} from "@keyward/simulator/testing";
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

/** The shared test desk's keys (@keyward/simulator/testing; the CLI suite's desk too). */
export const KEYS = DESK_KEYS;

export const OKX_ACCOUNT = DESK_ACCOUNTS.okx;
export const BFX_ACCOUNT = DESK_ACCOUNTS.bitfinex;
export const BYBIT_ACCOUNT = DESK_ACCOUNTS.bybit;

/** The desk's Bitfinex user, by the id this suite's tests give it (rotation.test.ts creates keys for it). */
const BFX_USER_ID = 8000001;

export function scenario(): ScenarioInput {
  const world = deskScenario();
  for (const user of world.bitfinex.users) user.id = BFX_USER_ID;
  return world;
}

/** Every secret of the scenario, and the vault passphrase. */
export const CANARIES: string[] = [PASSPHRASE, ...DESK_CANARIES];

/** The desk's accounts and tracked key (deskSeed), in a new vault with a low work factor. */
export function seed(sim: RunningSimulator): HomeSeed {
  return { passphrase: PASSPHRASE, workFactor: 10, ...deskSeed(sim) };
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

/** One event of a job's SSE stream: its name and JSON payload. */
export interface StreamEvent {
  event: string;
  data: Record<string, unknown>;
}

/**
 * Follows a job's event stream while it runs, as the page does, keeping every event as it arrives (the
 * tests read `events` while the job waits, e.g. for a two-factor code); `stop` closes the stream.
 */
export function followEvents(client: Client, path: string): { events: StreamEvent[]; stop(): void } {
  const events: StreamEvent[] = [];
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${client.origin}${path}`, {
      headers: { cookie: client.cookie, "x-keyward-session": client.secret },
      signal: abort.signal,
    });
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      const blocks = buffer.split("\n\n");
      buffer = blocks.pop() ?? "";
      for (const block of blocks) {
        const line = (name: string) =>
          block
            .split("\n")
            .find((l) => l.startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim();
        const event = line("event");
        if (event) events.push({ event, data: JSON.parse(line("data") ?? "{}") });
      }
    }
  })().catch(() => {});
  return { events, stop: () => abort.abort() };
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
  uiRevoke(exchange: "okx" | "bitfinex" | "bybit", apiKey: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDesk(
  options: Partial<WebServerOptions> = {},
  seedFor: (sim: RunningSimulator) => HomeSeed = seed,
): Promise<Desk> {
  const { running: sim, client } = await startTestDesk({ scenario: scenario() });
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
  return {
    sim,
    home,
    dir,
    server,
    printed,
    state: () => client.state(),
    uiRevoke: async (exchange, apiKey) => {
      await client.uiRevoke(exchange, apiKey);
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
export const statuses: (state: WorldView) => Map<string, string> = keyStatuses;

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
