/**
 * `keyward web`'s server: checks where it may listen, opens the vault at start-up (so a wrong
 * passphrase fails at once, not on the first click), listens, and prints the one-time login URL.
 * It holds the opened home for its whole life; nothing it sends carries a credential.
 */
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";
import { type AdapterOptions, KeywardError, type KeywardHome, type Secret, scanLeaks } from "@keyward/core";
import { buildApp } from "./app.js";
import { InventoryService } from "./inventory-service.js";
import { checkListen, DEFAULT_HOST, DEFAULT_PORT, isUnspecified, urlHost } from "./listen.js";
import { type RevokeJob, RevokeJobs } from "./revoke-jobs.js";
import { RotationJobs } from "./rotation-jobs.js";
import { ScanJobs } from "./scan-jobs.js";
import { type ChallengeTarget, revokeTarget, SecondFactorDesk } from "./second-factor.js";
import { SecretGuard } from "./secret-guard.js";
import { AttemptLimiter, SessionStore } from "./security.js";
import { defaultUiDir, StaticUi } from "./static-ui.js";

export interface WebServerOptions {
  /** An opened home; its vault is opened here (asking for the passphrase if not yet given). */
  home: KeywardHome;
  /** Default 127.0.0.1. Anything but loopback needs `allowRemote` and `tls`. */
  host?: string;
  /** Default 7420; 0 picks a free port. */
  port?: number;
  allowRemote?: boolean;
  /** PEM certificate and key: the server speaks HTTPS only. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The built UI (default: dist/ui beside this file's dist/server). */
  uiDir?: string;
  /** Passed to every adapter (tests shrink the rate limits along with the simulator's). */
  adapterOptions?: AdapterOptions;
  /** How long a revoke waits for people to do the manual steps, and how often it probes. */
  manual?: { timeoutMs?: number; pollMs?: number };
  /** Failed login attempts allowed per window, for everyone together. Default 10 per minute. */
  loginRateLimit?: { limit: number; windowMs: number };
  sessionTtlMs?: number;
  /** Where the URL and the server's notes go (default: stdout). */
  print?: (line: string) => void;
  /** Fetch the inventory as soon as the server listens, so the first page load is instant. Default true. */
  prefetch?: boolean;
  /**
   * More values no response may contain (e.g. the vault passphrase), beside the vault's secrets. Like
   * those, only distinctive values count (secret-guard.ts), and these match as whole tokens only.
   */
  extraSecrets?: readonly (Secret | string)[];
  /** The Scan page's path field starts with this (the demo's leaky folder). */
  scanDefaultPath?: string;
}

export interface WebServer {
  /** e.g. http://127.0.0.1:7420 */
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  /** The currently valid one-time login URL. */
  loginUrl(): string;
  /** Resolves when the prefetched inventory is in (or failed). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const port = options.port ?? DEFAULT_PORT;
  const tls = options.tls;
  // The canonical form: "127.1" binds as, and is expected in Host as, 127.0.0.1.
  const host = checkListen({
    host: options.host ?? DEFAULT_HOST,
    port,
    allowRemote: options.allowRemote ?? false,
    tls: tls !== undefined,
  });
  const print = options.print ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const log = (line: string) => print(`[keyward web] ${line}`);

  const { home } = options;
  await home.vault();
  home.state();
  const guard = new SecretGuard(home, options.extraSecrets ?? []);
  // Second-factor challenges of accounts without a seed are shown on the page following the job that
  // met them (a code field); revokes use the inventory's adapters, and only one revoke runs at a time.
  const secondFactor = new SecondFactorDesk(home);
  const inventory: InventoryService = new InventoryService(home, {
    ...(options.adapterOptions ?? {}),
    secondFactor: secondFactor.promptFor((): ChallengeTarget | undefined => {
      const job: RevokeJob | undefined = jobs.active();
      return job ? revokeTarget(job) : undefined;
    }),
  });
  const jobs: RevokeJobs = new RevokeJobs({
    home,
    inventory,
    manual: { timeoutMs: options.manual?.timeoutMs ?? 15 * 60_000, pollMs: options.manual?.pollMs ?? 2_000 },
    log,
  });
  const rotations = new RotationJobs({ home, inventory, log, secondFactor });
  // The Scan page runs the CLI's use case over the inventory's adapters (its live listing is the page's).
  const scans = new ScanJobs({
    run: ({ path, git, verify }, { onProgress, signal }) =>
      scanLeaks(
        home,
        { roots: [path], git, verify },
        {
          onProgress,
          signal,
          adapters: () => inventory.adapters(),
          ...(options.adapterOptions ? { verifyAdapterOptions: options.adapterOptions } : {}),
        },
      ),
    log,
    // A scan's found keys are shown as the revokes since then left them (the Scan page after "Revoke these").
    revokesOf: (keyIds, since) => jobs.latestResults(keyIds, since),
    ...(options.scanDefaultPath ? { defaultPath: options.scanDefaultPath } : {}),
  });
  const sessions = new SessionStore(
    options.sessionTtlMs === undefined ? {} : { ttlMs: options.sessionTtlMs },
  );
  const limit = options.loginRateLimit ?? { limit: 10, windowMs: 60_000 };
  const bound = { origin: "", hosts: new Set<string>() };
  const loginUrl = () => `${bound.origin}/login?token=${sessions.loginToken}`;
  const app = buildApp({
    home,
    inventory,
    jobs,
    rotations,
    scans,
    secondFactor,
    sessions,
    loginLimiter: new AttemptLimiter(limit.limit, limit.windowMs),
    guard,
    ui: new StaticUi(options.uiDir ?? defaultUiDir()),
    tls: tls !== undefined,
    bound,
    onLogin: () => log(`a browser logged in. The next login URL (works once): ${loginUrl()}`),
    log,
  });

  const server = createAdaptorServer({
    fetch: app.fetch,
    // Leave the process's global Request/Response alone (the simulator and ccxt may share the process).
    overrideGlobalObjects: false,
    ...(tls
      ? { createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key } }
      : { createServer: createHttpServer }),
  }) as Server;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new KeywardError(
          "CONFIG_INVALID",
          error.code === "EADDRINUSE"
            ? `port ${port} on ${host} is already in use`
            : `cannot listen on ${host}:${port} (${error.code ?? error.message})`,
          { hint: "Pick another port with --port N (0 takes any free port), or stop what holds it." },
        ),
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  if (isUnspecified(address.address)) {
    // A host name that resolved to a wildcard: never serve on every interface, even for a moment more.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new KeywardError(
      "CONFIG_INVALID",
      `--host: ${host} resolves to ${address.address}, every interface: refusing to listen there`,
      { hint: "Name the one address or host name browsers will use (127.0.0.1 by default)." },
    );
  }
  const actualPort = address.port;
  const scheme = tls ? "https" : "http";
  const hostPart = urlHost(host);
  bound.origin = `${scheme}://${hostPart}:${actualPort}`;
  bound.hosts.add(`${hostPart}:${actualPort}`.toLowerCase());
  if ((tls && actualPort === 443) || (!tls && actualPort === 80)) bound.hosts.add(hostPart.toLowerCase());

  print(`Keyward web is serving ${home.paths.dir} at ${bound.origin}`);
  print("Open this URL to log in (it works once; each login prints the next one):");
  print(`  ${loginUrl()}`);

  const ready =
    options.prefetch === false
      ? Promise.resolve()
      : inventory.refresh().then(
          (s) => log(`inventory: ${s.keys.length} key(s) from ${s.accounts.length} account(s) in ${s.ms} ms`),
          (error: unknown) => log(`inventory prefetch failed: ${(error as Error).message}`),
        );

  let closing: Promise<void> | undefined;
  return {
    origin: bound.origin,
    host,
    port: actualPort,
    loginUrl,
    ready,
    close: () => {
      closing ??= (async () => {
        await Promise.all([jobs.close(), rotations.close(), scans.close()]);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}
