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

  state(): Promise<{
    okx: {
      accounts: {
        uid: string;
        keys: { apiKey: string; status: string }[];
        subAccounts: { name: string; uid: string; keys: { apiKey: string; status: string }[] }[];
      }[];
    };
    bitfinex: { users: { id: number; keys: { apiKey: string; status: string }[] }[] };
  }> {
    return this.#call("GET", "/state");
  }

  /** "active", "revoked", or undefined for a key the simulator does not know. */
  async keyStatus(apiKey: string): Promise<string | undefined> {
    const state = await this.state();
    const all = [
      ...state.okx.accounts.flatMap((a) => [...a.keys, ...a.subAccounts.flatMap((s) => s.keys)]),
      ...state.bitfinex.users.flatMap((u) => u.keys),
    ];
    return all.find((k) => k.apiKey === apiKey)?.status;
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
