/**
 * OKX worlds for the adapter tests: every secret and passphrase is a canary string that must never
 * show up in an error, a result or a log line.
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import type { RunningSimulator } from "@keyward/simulator";
import type { AdapterOptions, ExchangeAdapter } from "../src/adapters/interface.js";
import { okxAdapter } from "../src/adapters/okx/adapter.js";
import type { Credentials } from "../src/domain/credentials.js";
import { Secret } from "../src/domain/secret.js";

export interface OkxSeedKey {
  apiKey: string;
  secretKey: string;
  passphrase: string;
  label: string;
  perm: string;
  ip: string;
}

let serial = 0;
/** A key with canary secrets; `name` makes it recognisable in a failing test's output. */
export function seedKey(name: string, perm = "read_only,trade", ip = "127.0.0.1"): OkxSeedKey {
  serial++;
  const n = String(serial).padStart(3, "0");
  return {
    apiKey: `okx-${name}-${n}`,
    secretKey: `CANARYSECRET${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}${n}`,
    passphrase: `Canary-Pass-${name}-${n}!`,
    label: name,
    perm,
    ip,
  };
}

export const creds = (k: Pick<OkxSeedKey, "apiKey" | "secretKey" | "passphrase">): Credentials => ({
  apiKey: k.apiKey,
  secret: new Secret(k.secretKey),
  passphrase: new Secret(k.passphrase),
});

/** The scenario's JSON form of a key (a creation time a month ago). */
export const seed = (k: OkxSeedKey) => ({ ...k, ts: String(Date.now() - 30 * 86_400_000) });

/** The simulator's OKX windows, as the adapter's rate-limit buckets: the adapter paces itself at them. */
export const simOkxLimits = (
  sim: Pick<RunningSimulator, "rateLimits">,
): NonNullable<AdapterOptions["rateLimits"]> => ({
  read: sim.rateLimits.okx.read,
  write: sim.rateLimits.okx.write,
  config: sim.rateLimits.okx.config,
});

export const canariesOf = (keys: readonly OkxSeedKey[]): string[] =>
  keys.flatMap((k) => [k.secretKey, k.passphrase]);

export function adapterFor(
  endpoint: string,
  key: Pick<OkxSeedKey, "apiKey" | "secretKey" | "passphrase">,
  options: AdapterOptions = {},
  name = "desk",
): ExchangeAdapter {
  return okxAdapter(
    {
      account: { name, exchange: "okx", endpoint, credentialsRef: `vault:${name}` },
      credentials: creds(key),
    },
    options,
  );
}

/** Sub-account names follow OKX's rule: 6-20 letters or digits. */
export const subName = (prefix: string, i: number): string => `${prefix}${String(i).padStart(4, "0")}`;

/**
 * A pass-through HTTP proxy that forwards matching requests to the simulator, lets them take effect,
 * then cuts the client's connection before the answer: a network fault aimed at one endpoint (the
 * simulator's `dropResponses` applies to every write, retried deletes included).
 */
export async function cuttingProxy(target: string, matches: (method: string, path: string) => boolean) {
  const state = { cutsLeft: 0, cut: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", target);
      const upstream = request(url, { method: req.method, headers: req.headers }, (answer) => {
        // Only answers that took effect (200) are cut: "applied, then the answer was lost".
        if (state.cutsLeft > 0 && answer.statusCode === 200 && matches(req.method ?? "GET", url.pathname)) {
          state.cutsLeft--;
          state.cut++;
          answer.resume();
          answer.on("end", () => res.socket?.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.socket?.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
