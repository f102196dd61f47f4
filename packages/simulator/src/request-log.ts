/** What the simulator answered, request by request (`GET /requests`); never holds secrets or bodies. */
export interface RequestLogEntry {
  seq: number;
  time: string;
  /** The exchange module's id. */
  exchange: string;
  method: string;
  path: string;
  apiKey: string | null;
  /** The exchange's own code ("0" on success), or the fault injected. */
  code: string;
  status: number;
  fault?: "error" | "timeout" | "drop";
}

const MAX_ENTRIES = 100_000;

export class RequestLog {
  #entries: RequestLogEntry[] = [];
  #seq = 0;

  add(entry: Omit<RequestLogEntry, "seq">): void {
    this.#entries.push({ seq: ++this.#seq, ...entry });
    if (this.#entries.length > MAX_ENTRIES) this.#entries.splice(0, this.#entries.length - MAX_ENTRIES);
  }

  list(sinceSeq = 0): RequestLogEntry[] {
    return this.#entries.filter((e) => e.seq > sinceSeq);
  }

  clear(): void {
    this.#entries = [];
  }
}
