/**
 * The browser's side of the JSON API: Hono's typed client (`hc<AppType>`) over same-origin fetch with the
 * session cookie (HttpOnly, so never visible here) and the session's secret on every request, reads
 * included (the cookie alone reaches every port on this host; the secret lives in this origin's
 * sessionStorage only). The login redirect hands the secret over once, in the URL fragment;
 * adoptSessionSecret moves it into sessionStorage and strips it from the address bar before anything
 * renders. Errors carry the server's message and hint.
 * Each route's input and answer are the server's own types (AppType, a type-only import: nothing of the
 * server is bundled); shared constants come from `@keyward/core/browser`.
 */
import { type ClientResponse, hc, type InferResponseType } from "hono/client";
import type { AppType } from "../server/app.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const SECRET_KEY = "keyward.session";
const SECRET_HEADER = "x-keyward-session";

/** Takes `#s=…` from the address bar (the login redirect) into sessionStorage; call before rendering. */
export function adoptSessionSecret(): void {
  const match = /^#s=([A-Za-z0-9_-]{1,200})$/.exec(window.location.hash);
  if (!match?.[1]) return;
  sessionStorage.setItem(SECRET_KEY, match[1]);
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
}

export const forgetSessionSecret = () => sessionStorage.removeItem(SECRET_KEY);

const secretHeader = (): Record<string, string> => {
  const secret = sessionStorage.getItem(SECRET_KEY);
  return secret ? { [SECRET_HEADER]: secret } : {};
};

/** The API, typed from the server's routes; every request carries the session's secret. */
export const api = hc<AppType>("/", {
  headers: secretHeader,
  init: { credentials: "same-origin", cache: "no-store" },
}).api;

/** One API call's JSON answer; a non-2xx answer becomes an ApiError with the server's message and hint. */
export async function call<T>(request: Promise<ClientResponse<T>>): Promise<T> {
  let res: ClientResponse<T>;
  try {
    res = await request;
  } catch {
    throw new ApiError(
      0,
      "NETWORK",
      "the Keyward server did not answer",
      "Is `keyward web` still running in its terminal? Start it again and log in with the new URL.",
    );
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(res.status, "BAD_RESPONSE", `unexpected answer from the server (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const e = (json as { error?: { code?: string; message?: string; hint?: string } }).error;
    throw new ApiError(res.status, e?.code ?? "HTTP", e?.message ?? `HTTP ${res.status}`, e?.hint);
  }
  return json as T;
}

type Api = typeof api;
export type SessionInfo = InferResponseType<Api["session"]["$get"], 200>;
export type InventoryResponse = InferResponseType<Api["inventory"]["$get"], 200>;
export type InventoryRowView = InventoryResponse["keys"][number];
export type AccountsResponse = InferResponseType<Api["accounts"]["$get"], 200>;
export type HealthResponse = InferResponseType<Api["accounts"]["health"]["$get"], 200>;
export type AuditResponse = InferResponseType<Api["audit"]["$get"], 200>;
export type AuditEntryView = AuditResponse["entries"][number];
export type CheckResponse = InferResponseType<Api["check"]["$get"], 200>;
export type PlanView = InferResponseType<Api["revoke"]["plan"]["$post"], 200>;
export type JobView = InferResponseType<Api["revoke"]["jobs"][":id"]["$get"], 200>;
export type ResultView = JobView["results"][number];
export type VerifyResponse = InferResponseType<Api["revoke"]["jobs"][":id"]["verify"]["$post"], 200>;
export type DeliveryTargetsView = InferResponseType<Api["rotation"]["targets"]["$get"], 200>;
export type RotationPlanView = InferResponseType<Api["rotation"]["plan"]["$post"], 200>;
export type RotationRunView = InferResponseType<Api["rotation"]["runs"][":id"]["$get"], 200>;
export type AbortReportView = InferResponseType<Api["rotation"]["runs"][":id"]["abort"]["$post"], 200>;
export type ScanJobView = InferResponseType<Api["scan"]["jobs"][":id"]["$get"], 200>;
export type ScanFindingView = NonNullable<ScanJobView["report"]>["findings"][number];

export interface StreamHandlers {
  onOpen(): void;
  /** One Server-Sent Event; `id` is its sequence number when it has one. */
  onEvent(type: string, data: string, id: string | undefined): void;
}

/**
 * Follows a Server-Sent Events stream with fetch, not EventSource: EventSource cannot send the session's
 * secret header, and a secret in the URL would end up in logs. Resolves when the stream ends (server
 * closed it, network error, or `signal` aborted); the caller reconnects with the last id if it wants more.
 */
export async function streamEvents(
  path: string,
  lastEventId: string | undefined,
  handlers: StreamHandlers,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(path, {
    credentials: "same-origin",
    cache: "no-store",
    headers: {
      accept: "text/event-stream",
      ...secretHeader(),
      ...(lastEventId ? { "last-event-id": lastEventId } : {}),
    },
    signal,
  });
  if (!res.ok || !res.body) {
    throw new ApiError(res.status, "HTTP", `the event stream answered HTTP ${res.status}`);
  }
  handlers.onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = text;
        else if (field === "data") data.push(text);
        else if (field === "id") id = text;
      }
      if (data.length > 0) handlers.onEvent(type, data.join("\n"), id);
    }
  }
}
