/**
 * The browser's side of the JSON API: same-origin fetch with the session cookie (HttpOnly, so never
 * visible here) and the CSRF token on every change. Errors carry the server's message and hint.
 * The response types are the server's own (type-only imports: nothing of the server is bundled).
 */
import type { InventoryResponse } from "../server/inventory-service.js";
import type { JobView, PlanView, ResultView } from "../server/revoke-jobs.js";
import type { RotationPlanView, RotationRunView } from "../server/rotation-jobs.js";

export type { InventoryResponse, JobView, PlanView, ResultView, RotationPlanView, RotationRunView };
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

let csrfToken: string | undefined;
export const setCsrfToken = (token: string | undefined) => {
  csrfToken = token;
};

async function request<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      cache: "no-store",
      headers:
        method === "POST"
          ? { "content-type": "application/json", ...(csrfToken ? { "x-csrf-token": csrfToken } : {}) }
          : {},
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
  csrfToken: string;
  expiresAt: string;
  home: string;
  accounts: number;
  features: { rotation: boolean };
}

export interface AccountsResponse {
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
