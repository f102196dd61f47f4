/** A small client for the simulator's control API, for the conformance suite and adapter tests. */
export interface RequestLogRow {
  seq: number;
  exchange: string;
  method: string;
  path: string;
  apiKey: string | null;
  code: string;
  status: number;
  fault?: string;
}

export class SimControl {
  constructor(readonly url: string) {}

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await res.json()) as T;
    if (!res.ok) throw new Error(`control ${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /**
   * The simulator's /state view. Its shape is each exchange module's own (packages/simulator), so the
   * caller names the type it expects: `control.state<SimState>()` in core's tests.
   */
  state<T = unknown>(): Promise<T> {
    return this.#call("GET", "/state");
  }

  /** "active", "revoked", or undefined for a key the simulator does not know (found anywhere in /state). */
  async keyStatus(apiKey: string): Promise<string | undefined> {
    let found: string | undefined;
    const walk = (value: unknown): void => {
      if (found !== undefined || typeof value !== "object" || value === null) return;
      if (Array.isArray(value)) {
        for (const item of value) walk(item);
        return;
      }
      const record = value as Record<string, unknown>;
      if (record.apiKey === apiKey && typeof record.status === "string") {
        found = record.status;
        return;
      }
      for (const child of Object.values(record)) walk(child);
    };
    walk(await this.state());
    return found;
  }

  uiRevoke(exchange: string, apiKey: string): Promise<unknown> {
    return this.#call("POST", "/ui/revoke", { exchange, apiKey });
  }

  uiCreate<T = Record<string, string>>(body: Record<string, unknown>): Promise<T> {
    return this.#call("POST", "/ui/create", body);
  }

  faults(spec: Record<string, unknown>): Promise<unknown> {
    return this.#call("POST", "/faults", spec);
  }

  resetFaults(): Promise<unknown> {
    return this.#call("DELETE", "/faults");
  }

  requests(since = 0): Promise<RequestLogRow[]> {
    return this.#call("GET", `/requests?since=${since}`);
  }

  async lastSeq(): Promise<number> {
    const rows = await this.requests();
    return rows.at(-1)?.seq ?? 0;
  }

  advanceClock(advanceMs: number): Promise<unknown> {
    return this.#call("POST", "/clock", { advanceMs });
  }

  loadScenario(scenario: unknown): Promise<unknown> {
    return this.#call("POST", "/scenario", scenario);
  }
}
