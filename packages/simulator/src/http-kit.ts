/**
 * The few HTTP primitives the simulator's listeners share. Plain node:http on purpose: signature checks
 * need the exact request-target and body bytes the client sent, IP whitelists need the socket's
 * address, and injected faults need to cut a connection after the request took effect.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export interface RawRequest {
  method: string;
  /** The request-target exactly as sent, e.g. `/api/v5/users/subaccount/apikey?subAcct=sub1`. */
  target: string;
  path: string;
  /** Query string without the `?`, as sent. */
  query: string;
  headers: IncomingHttpHeaders;
  body: string;
  remoteAddress: string;
}

const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readRaw(req: IncomingMessage): Promise<RawRequest> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError("request body too large");
    chunks.push(chunk as Buffer);
  }
  const target = req.url ?? "/";
  const q = target.indexOf("?");
  return {
    method: (req.method ?? "GET").toUpperCase(),
    target,
    path: q === -1 ? target : target.slice(0, q),
    query: q === -1 ? "" : target.slice(q + 1),
    headers: req.headers,
    body: Buffer.concat(chunks).toString("utf8"),
    remoteAddress: req.socket.remoteAddress ?? "",
  };
}

export const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
};

export interface Reply {
  status: number;
  /** Serialised as JSON unless it is already a string. */
  body: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

export function send(res: ServerResponse, reply: Reply): void {
  const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    "content-type": reply.contentType ?? "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

export interface Listening {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Listens on loopback only: the simulator holds secrets and must never face a network. */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  port: number,
): Promise<Listening> {
  const server = createServer(handler);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
