/**
 * What every exchange listener shares around their own logic: read the raw request, apply injected
 * faults (latency, 5xx, no answer, applied-but-dropped), answer, and log the outcome.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Clock } from "./clock.js";
import type { Faults } from "./faults.js";
import { BodyTooLargeError, type RawRequest, type Reply, readRaw, send, sleep } from "./http-kit.js";
import type { RequestLog } from "./request-log.js";

export interface HandledReply extends Reply {
  /** For the request log: the exchange's own code ("0" on success). */
  code: string;
  apiKey: string | null;
}

export interface ExchangeListenerOptions {
  /** The module's id: its faults, its request-log entries. */
  exchange: string;
  /** The request header carrying the caller's API key, for the request log. */
  apiKeyHeader: string;
  /**
   * For exchanges whose key travels inside another header (Deribit's Authorization): the caller's API key
   * for the request log, instead of `apiKeyHeader`. Never the header itself (it may carry a token).
   */
  apiKeyOf?(raw: RawRequest): string | undefined;
  faults: Faults;
  log: RequestLog;
  clock: Clock;
  /** State-changing requests are the ones "drop the response" applies to. */
  isWrite(raw: RawRequest): boolean;
  handle(raw: RawRequest): Promise<HandledReply> | HandledReply;
  /** The answer an injected 5xx gives (what a failing proxy in front of the exchange would send). */
  faultReply(status: number): Reply;
  tooLarge(): HandledReply;
  /** Requests outside the API (the web-UI stand-in pages): answered as is, no faults, not logged. */
  passthrough?(raw: RawRequest): Reply | undefined;
}

export function exchangeListener(options: ExchangeListenerOptions) {
  const { exchange, faults, log, clock } = options;
  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      let raw: RawRequest;
      try {
        raw = await readRaw(req);
      } catch (error) {
        if (error instanceof BodyTooLargeError) send(res, options.tooLarge());
        else res.destroy();
        return;
      }
      // Browsers ask every origin for an icon: an empty answer, so the stand-in pages show no console error.
      if (raw.method === "GET" && raw.path === "/favicon.ico") {
        send(res, { status: 204, body: "", contentType: "image/x-icon" });
        return;
      }
      const direct = options.passthrough?.(raw);
      if (direct) {
        send(res, direct);
        return;
      }
      const entry = (
        code: string,
        status: number,
        apiKey: string | null,
        fault?: "error" | "timeout" | "drop",
      ) =>
        log.add({
          time: new Date(clock.now()).toISOString(),
          exchange,
          method: raw.method,
          path: raw.path,
          apiKey,
          code,
          status,
          ...(fault ? { fault } : {}),
        });
      const apiKeyHeader = options.apiKeyOf
        ? options.apiKeyOf(raw)
        : (raw.headers[options.apiKeyHeader] as string | undefined);
      const latency = faults.latencyMs(exchange);
      if (latency > 0) await sleep(latency);
      const action = faults.decide(exchange, options.isWrite(raw));
      if (action === "error") {
        const reply = options.faultReply(faults.spec(exchange).errorStatus);
        entry(String(reply.status), reply.status, apiKeyHeader ?? null, "error");
        send(res, reply);
        return;
      }
      if (action === "timeout") {
        // Never answer; the client's own timeout (or the server closing) ends the exchange.
        entry("timeout", 0, apiKeyHeader ?? null, "timeout");
        return;
      }
      let reply: HandledReply;
      try {
        reply = await options.handle(raw);
      } catch (error) {
        console.error(`[simulator] ${exchange} ${raw.method} ${raw.path} failed:`, (error as Error).message);
        reply = { ...options.faultReply(500), code: "500", apiKey: apiKeyHeader ?? null };
      }
      if (action === "drop" && faults.consumeDrop(exchange, reply.code === "0")) {
        entry(reply.code, reply.status, reply.apiKey, "drop");
        res.socket?.destroy();
        return;
      }
      entry(reply.code, reply.status, reply.apiKey);
      send(res, reply);
    })();
  };
}
