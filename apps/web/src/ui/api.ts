/**
 * The browser's side of the JSON API: same-origin fetch with the session cookie (HttpOnly, so never
 * visible here) and the session's secret on every request, reads included (the cookie alone reaches
 * every port on this host; the secret lives in this origin's sessionStorage only). The login redirect
 * hands the secret over once, in the URL fragment; adoptSessionSecret moves it into sessionStorage
 * and strips it from the address bar before anything renders. Errors carry the server's message and hint.
 * The response types are the server's own (type-only imports: nothing of the server is bundled).
 */
import type { DeliveryTargetsView } from "../server/delivery-targets.js";
import type { InventoryResponse } from "../server/inventory-service.js";
import type { JobView, PlanView, ResultView } from "../server/revoke-jobs.js";
import type { RotationPlanView, RotationRunView } from "../server/rotation-jobs.js";

export type {
  DeliveryTargetsView,
  InventoryResponse,
  JobView,
  PlanView,
  ResultView,
  RotationPlanView,
  RotationRunView,
};
export type InventoryRowView = InventoryResponse["keys"][number];

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

async function request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers: method === "POST" ? { "content-type": "application/json", ...secretHeader() } : secretHeader(),
      ...(method === "POST" ? { body: JSON.stringify(body ?? {}) } : {}),
    });
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

export const get = <T>(path: string) => request<T>("GET", path);
export const post = <T>(path: string, body?: unknown) => request<T>("POST", path, body);

export interface SessionInfo {
  expiresAt: string;
  home: string;
  accounts: number;
  features: { rotation: boolean };
}

export interface AccountsResponse {
  /** The exchange ids `keyward account add` takes. */
  exchanges: string[];
  accounts: {
    name: string;
    exchange: string;
    endpoint: string | null;
    region: string | null;
    tracked: { label: string; apiKeyShort: string; provable: boolean }[];
  }[];
}

export interface HealthResponse {
  checkedAt: string;
  accounts: {
    account: string;
    exchange: string;
    health: {
      status: "alive" | "dead" | "inconclusive";
      master: boolean | null;
      permissions: string[];
      ip: string[] | null;
      warnings: string[];
      evidence: string;
    } | null;
    error: { message: string; hint?: string } | null;
  }[];
}

export interface AuditEntryView {
  seq: number;
  ts: string;
  action: string;
  actor: string;
  subject: string;
  details: Record<string, unknown>;
  hash: string;
}

export interface AuditResponse {
  entries: AuditEntryView[];
  total: number;
  more: boolean;
  chain:
    | {
        ok: true;
        entries: number;
        head: { seq: number; hash: string } | null;
        /** The first entry whose MAC was checked with the vault's audit key; null: not keyed yet. */
        authenticatedFrom: number | null;
      }
    | { ok: false; entries: number; brokenAt: number; reason: string };
  head: { seq: number; hash: string } | null;
}

export interface VerifyResponse {
  status: "alive" | "dead" | "inconclusive";
  evidence: string;
  recorded: boolean;
}

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
