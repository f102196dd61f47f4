/**
 * Injected failures, set through the control API (`POST /faults`): added latency, a share of 5xx
 * answers, requests that never get an answer, and "apply the next N writes but drop the response"
 * (the request takes effect, the client never hears so), so clients must cope with every way a
 * network fails them. And exchanges that answer "done" without it being true (hollow deletes, flawed
 * creates), so a client's "verified" has to come from evidence, never from the exchange's word.
 */
import { z } from "zod";

/**
 * The switches every exchange has. `POST /faults` takes these plus each module's own (`faultFields`,
 * e.g. how its error answers look); fault-spec.ts puts them together.
 */
export const SHARED_FAULT_FIELDS = {
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  /** Share of requests answered with `errorStatus` before they are applied. */
  errorRate: z.number().min(0).max(1).default(0),
  errorStatus: z.number().int().min(500).max(599).default(502),
  /** Share of requests that are never answered (and not applied). */
  timeoutRate: z.number().min(0).max(1).default(0),
  /** The next N state-changing requests that take effect are applied, then their connection is cut before the answer. */
  dropResponses: z.number().int().min(0).max(1_000_000).default(0),
  /**
   * For exchanges that delete keys by API (the module calls `takeHollowDelete`): the next N deletes answer
   * success without killing the key. "ignored": nothing happens, the key stays listed and keeps
   * authenticating; "unlisted": the key leaves the listing but keeps authenticating (only a probe with its
   * own secret can tell).
   */
  hollowDeletes: z.number().int().min(0).max(1_000_000).default(0),
  hollowDeleteShape: z.enum(["ignored", "unlisted"]).default("ignored"),
  /**
   * For exchanges that create keys by API (the module calls `takeFlawedCreate`): the next N creates answer
   * as if the key were made as asked, but it is not: "not-authenticating": it is listed, yet every call
   * with it is refused as an unknown key; "other-permissions": it was granted other permissions than asked,
   * which the create's answer does not show (it echoes the request) but the listing and a probe do.
   */
  flawedCreates: z.number().int().min(0).max(1_000_000).default(0),
  flawedCreateShape: z.enum(["not-authenticating", "other-permissions"]).default("not-authenticating"),
  /** Seed for the pseudo-random choice of which requests fail, so a test run is repeatable. */
  seed: z.number().int().default(1),
};

const SharedFaultSpecSchema = z.strictObject({
  /** Limit the spec to one exchange; without it the spec applies to every exchange. */
  exchange: z.string().optional(),
  ...SHARED_FAULT_FIELDS,
});
/** The shared part of a fault spec; a module reads its own fields from the same object. */
export type FaultSpec = z.output<typeof SharedFaultSpecSchema>;

/** A module's id (exchanges.ts); this file stays free of the registry so modules can import it. */
type ExchangeId = string;

export type FaultAction = "none" | "error" | "timeout" | "drop";
export type HollowDelete = FaultSpec["hollowDeleteShape"];
export type FlawedCreate = FaultSpec["flawedCreateShape"];

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
  hollowDeletesLeft: number;
  flawedCreatesLeft: number;
}

export class Faults {
  readonly #active = new Map<ExchangeId, ActiveFaults>();

  /** `exchanges`: every module's id; `schema` parses a whole spec (fault-spec.ts), for the defaults. */
  constructor(
    private readonly exchanges: readonly ExchangeId[],
    private readonly schema: z.ZodType<FaultSpec>,
    private readonly baseLatencyMs = 0,
  ) {
    this.reset();
  }

  reset(): void {
    for (const exchange of this.exchanges) this.set(this.schema.parse({ exchange }));
  }

  set(spec: FaultSpec): void {
    const targets = spec.exchange ? [spec.exchange] : this.exchanges;
    for (const exchange of targets) {
      this.#active.set(exchange, {
        spec,
        random: seededRandom(spec.seed),
        dropsLeft: spec.dropResponses,
        hollowDeletesLeft: spec.hollowDeletes,
        flawedCreatesLeft: spec.flawedCreates,
      });
    }
  }

  spec(exchange: ExchangeId): FaultSpec {
    return this.#get(exchange).spec;
  }

  view(): Record<
    ExchangeId,
    FaultSpec & { dropsLeft: number; hollowDeletesLeft: number; flawedCreatesLeft: number }
  > {
    const v = (e: ExchangeId) => {
      const { spec, dropsLeft, hollowDeletesLeft, flawedCreatesLeft } = this.#get(e);
      return { ...spec, dropsLeft, hollowDeletesLeft, flawedCreatesLeft };
    };
    return Object.fromEntries(this.exchanges.map((e) => [e, v(e)]));
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

  /** Called by a delete about to take effect: how to fake it, or undefined to do it for real. */
  takeHollowDelete(exchange: ExchangeId): HollowDelete | undefined {
    const active = this.#get(exchange);
    if (active.hollowDeletesLeft <= 0) return undefined;
    active.hollowDeletesLeft--;
    return active.spec.hollowDeleteShape;
  }

  /** Called by a create about to take effect: how to spoil the new key, or undefined for none. */
  takeFlawedCreate(exchange: ExchangeId): FlawedCreate | undefined {
    const active = this.#get(exchange);
    if (active.flawedCreatesLeft <= 0) return undefined;
    active.flawedCreatesLeft--;
    return active.spec.flawedCreateShape;
  }

  #get(exchange: ExchangeId): ActiveFaults {
    const active = this.#active.get(exchange);
    if (!active) throw new Error(`no faults state for ${exchange}`);
    return active;
  }
}
