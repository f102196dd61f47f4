/** The Bitfinex module's own fault switches (`POST /faults`), next to the shared ones. */
import { z } from "zod";
import type { FaultSpec, Faults } from "../faults.js";

export const BITFINEX_FAULT_FIELDS = {
  /** Bitfinex: HTTP status of `["error", …]` answers. 400/401 exercise ccxt returning them as data. */
  bitfinexErrorStatus: z.union([z.literal(500), z.literal(400), z.literal(401)]).default(500),
  /** Bitfinex: which of the observed rate-limit answers to give (docs/exchanges/bitfinex.md#rate-limits). */
  bitfinexRateLimitShape: z.enum(["array", "err-object", "null-code"]).default("array"),
};

export type BitfinexFaultSpec = FaultSpec & z.output<z.ZodObject<typeof BITFINEX_FAULT_FIELDS>>;

/** The spec in force for Bitfinex; fault-spec.ts merges these fields in, so every spec has them. */
export const bitfinexSpec = (faults: Faults): BitfinexFaultSpec =>
  faults.spec("bitfinex") as BitfinexFaultSpec;
