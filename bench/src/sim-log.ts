/**
 * What the simulator's request log (`GET /requests`) says about a benchmark: how many requests the
 * exchanges refused for their rate limit. Each exchange says it with its own code (OKX 50011, Bybit 10006,
 * Bitfinex 11010 or ERR_RATE_LIMIT, per the fault switch, Deribit 10028):
 * docs/exchanges/<id>.md#rate-limits.
 */
import type { RequestLogEntry, RunningSimulator } from "@keyward/simulator";

export const RATE_LIMIT_CODES: Readonly<Record<string, readonly string[]>> = {
  okx: ["50011"],
  bybit: ["10006"],
  bitfinex: ["11010", "ERR_RATE_LIMIT"],
  deribit: ["10028"],
};

export const isRateLimitRejection = (e: Pick<RequestLogEntry, "exchange" | "code">): boolean =>
  RATE_LIMIT_CODES[e.exchange]?.includes(e.code) ?? false;

export async function requestsSince(sim: RunningSimulator, seq = 0): Promise<RequestLogEntry[]> {
  return (await (await fetch(`${sim.control}/requests?since=${seq}`)).json()) as RequestLogEntry[];
}

/** The last request's sequence number: count from here. */
export const lastSeq = async (sim: RunningSimulator): Promise<number> =>
  (await requestsSince(sim)).at(-1)?.seq ?? 0;

/** Rate-limit refusals since `seq`, all exchanges together. */
export const rejectionsSince = async (sim: RunningSimulator, seq: number): Promise<number> =>
  (await requestsSince(sim, seq)).filter(isRateLimitRejection).length;
