/**
 * Injected failures, set through the control API (`POST /faults`): added latency, a share of 5xx
 * answers, requests that never get an answer, and "apply the next N writes but drop the response"
 * (the request takes effect, the client never hears so), so clients must cope with every way a
 * network fails them.
 */
import { z } from "zod";

export const FaultSpecSchema = z.strictObject({
  /** Limit the spec to one exchange; without it the spec applies to both. */
  exchange: z.enum(["okx", "bitfinex"]).optional(),
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  /** Share of requests answered with `errorStatus` before they are applied. */
  errorRate: z.number().min(0).max(1).default(0),
  errorStatus: z.number().int().min(500).max(599).default(502),
  /** Share of requests that are never answered (and not applied). */
  timeoutRate: z.number().min(0).max(1).default(0),
  /** The next N state-changing requests that take effect are applied, then their connection is cut before the answer. */
  dropResponses: z.number().int().min(0).max(1_000_000).default(0),
  /** Seed for the pseudo-random choice of which requests fail, so a test run is repeatable. */
  seed: z.number().int().default(1),
  /** Bitfinex: HTTP status of `["error", …]` answers. 400/401 exercise ccxt returning them as data. */
  bitfinexErrorStatus: z.union([z.literal(500), z.literal(400), z.literal(401)]).default(500),
  /** Bitfinex: which of the observed rate-limit answers to give (shared/reference/exchanges.md §2.4). */
  bitfinexRateLimitShape: z.enum(["array", "err-object", "null-code"]).default("array"),
});
export type FaultSpecInput = z.input<typeof FaultSpecSchema>;
export type FaultSpec = z.output<typeof FaultSpecSchema>;
export type ExchangeId = "okx" | "bitfinex";

export type FaultAction = "none" | "error" | "timeout" | "drop";

/** mulberry32: a tiny seeded PRNG, so "20 % of requests fail" picks the same requests every run. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveFaults {
  spec: FaultSpec;
  random: () => number;
  dropsLeft: number;
}

export class Faults {
  readonly #active = new Map<ExchangeId, ActiveFaults>();

  constructor(private readonly baseLatencyMs = 0) {
    this.reset();
  }

  reset(): void {
    for (const exchange of ["okx", "bitfinex"] as const) this.set(FaultSpecSchema.parse({ exchange }));
  }

  set(spec: FaultSpec): void {
    const targets: ExchangeId[] = spec.exchange ? [spec.exchange] : ["okx", "bitfinex"];
    for (const exchange of targets) {
      this.#active.set(exchange, { spec, random: seededRandom(spec.seed), dropsLeft: spec.dropResponses });
    }
  }

  spec(exchange: ExchangeId): FaultSpec {
    return this.#get(exchange).spec;
  }

  view(): Record<ExchangeId, FaultSpec & { dropsLeft: number }> {
    const v = (e: ExchangeId) => ({ ...this.#get(e).spec, dropsLeft: this.#get(e).dropsLeft });
    return { okx: v("okx"), bitfinex: v("bitfinex") };
  }

  latencyMs(exchange: ExchangeId): number {
    return this.baseLatencyMs + this.#get(exchange).spec.latencyMs;
  }

  /** Decides the fate of one request before it is handled ("drop" is settled after it, see below). */
  decide(exchange: ExchangeId, isWrite: boolean): FaultAction {
    const active = this.#get(exchange);
    const { errorRate, timeoutRate } = active.spec;
    if (errorRate > 0 && active.random() < errorRate) return "error";
    if (timeoutRate > 0 && active.random() < timeoutRate) return "timeout";
    return isWrite && active.dropsLeft > 0 ? "drop" : "none";
  }

  /**
   * A write picked for "drop" loses its answer only if it took effect: a write the exchange refused
   * (59506, bad parameters, …) applied nothing, so it is answered and the drop stays for the next one.
   */
  consumeDrop(exchange: ExchangeId, applied: boolean): boolean {
    const active = this.#get(exchange);
    if (!applied || active.dropsLeft <= 0) return false;
    active.dropsLeft--;
    return true;
  }

  #get(exchange: ExchangeId): ActiveFaults {
    const active = this.#active.get(exchange);
    if (!active) throw new Error(`no faults state for ${exchange}`);
    return active;
  }
}
