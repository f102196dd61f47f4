/**
 * What bulk revoke and bulk rotation share on the server: a job's event log that any number of browser
 * tabs follow live (Server-Sent Events, replay after Last-Event-ID), the reviewed plans waiting for
 * their type-to-confirm, and the checks made before a plan is run.
 */
import type { KeywardHome } from "@keyward/core";
import type { Context } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import { HttpError, parseOr400 } from "./http-errors.js";
import type { SecretGuard } from "./secret-guard.js";

export interface JobEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/** Every event a job emitted, numbered from 1, and the listeners following it live. */
export class JobEventLog {
  readonly events: JobEvent[] = [];
  readonly #listeners = new Set<(e: JobEvent) => void>();

  emit(type: string, data: Record<string, unknown>): void {
    const event = { seq: this.events.length + 1, type, data };
    this.events.push(event);
    for (const listener of this.#listeners) listener(event);
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Reviewed plans by id, each usable once until it expires. */
export class PlanStore<P> {
  readonly #plans = new Map<string, { plan: P; expiresAt: number; used: boolean }>();

  constructor(private readonly ttlMs: number) {}

  /** Forgets expired and used plans, then keeps this one (when it has an id); returns its expiry. */
  put(id: string | null, plan: P): number {
    const now = Date.now();
    for (const [key, p] of this.#plans) if (p.expiresAt <= now || p.used) this.#plans.delete(key);
    const expiresAt = now + this.ttlMs;
    if (id) this.#plans.set(id, { plan, expiresAt, used: false });
    return expiresAt;
  }

  /** The plan, unless it is unknown, expired or already used. */
  get(id: string): P | undefined {
    const stored = this.#plans.get(id);
    return !stored || stored.used || stored.expiresAt <= Date.now() ? undefined : stored.plan;
  }

  markUsed(id: string): void {
    const stored = this.#plans.get(id);
    if (stored) stored.used = true;
  }
}

/** The type-to-confirm check: the person typed the plan's number of keys. */
export function requireConfirmation(keys: number, confirm: string, verb: string, nothingDone: string): void {
  const n = String(keys);
  if (confirm.trim() !== n) {
    throw new HttpError(
      400,
      "NOT_CONFIRMED",
      `not confirmed: type ${n} (the number of keys) to ${verb} them`,
      `${nothingDone} Type the number of keys shown in the plan.`,
    );
  }
}

/** Fail closed before touching any exchange: nothing runs without an audit trail. */
export async function refuseReadOnly(home: KeywardHome, hint: string): Promise<void> {
  if (!(await home.state().isWritable())) {
    throw new HttpError(503, "AUDIT_UNAVAILABLE", `the audit log at ${home.paths.state} is read-only`, hint);
  }
}

/** A job's failure as the browser sees it: the error's code, message and hint, or these defaults. */
export function errorInfo(error: unknown, hint: string): { code: string; message: string; hint: string } {
  const e = error as { code?: string; message?: string; hint?: string };
  return {
    code: typeof e.code === "string" ? e.code : "INTERNAL",
    message: e.message ?? String(error),
    hint: e.hint ?? hint,
  };
}

const KEEPALIVE_MS = 15_000;

export interface StreamOptions {
  guard: SecretGuard;
  log: (line: string) => void;
}

/** Streams a job's events as SSE: replays those after Last-Event-ID, then follows live until it ends. */
export function streamJobEvents(
  c: Context,
  job: Pick<JobEventLog, "events" | "subscribe"> & { readonly active: boolean; status?: string },
  { guard, log }: StreamOptions,
): Response {
  const after = parseOr400(
    z.coerce.number().int().min(0).max(1_000_000),
    c.req.header("last-event-id") ?? c.req.query("after") ?? "0",
    "Last-Event-ID",
  );
  return streamSSE(c, async (stream) => {
    const queue: JobEvent[] = job.events.filter((e) => e.seq > after);
    let wake: (() => void) | undefined;
    let closed = false;
    const unsubscribe = job.subscribe((e) => {
      queue.push(e);
      wake?.();
    });
    stream.onAbort(() => {
      closed = true;
      wake?.();
    });
    try {
      while (!closed) {
        for (let e = queue.shift(); e; e = queue.shift()) {
          const text = JSON.stringify(e.data);
          if (await guard.leaks(text)) {
            log(`BUG: withheld an event (${e.type}) that contained a vault secret`);
            await stream.writeSSE({ id: String(e.seq), event: "withheld", data: "{}" });
          } else {
            await stream.writeSSE({ id: String(e.seq), event: e.type, data: text });
          }
        }
        if (!job.active) {
          await stream.writeSSE({ event: "end", data: JSON.stringify({ status: job.status ?? "ended" }) });
          break;
        }
        const ticked = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), KEEPALIVE_MS);
          wake = () => {
            clearTimeout(timer);
            resolve(true);
          };
        });
        wake = undefined;
        if (!ticked && !closed) await stream.write(": keep-alive\n\n");
      }
    } finally {
      unsubscribe();
    }
  });
}
