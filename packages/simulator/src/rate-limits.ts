/**
 * Rate limits per exchange (by module id), each module's documented ones by default
 * (docs/exchanges/<id>.md#rate-limits), and how `rateScale` shrinks them.
 */
import type { ExchangeId, ModuleOf } from "./exchanges.js";
import { MODULES } from "./world.js";

export type RateLimits = { [Id in ExchangeId]: ModuleOf<Id>["rateLimits"] };

export const DEFAULT_RATE_LIMITS = Object.fromEntries(MODULES.map((m) => [m.id, m.rateLimits])) as RateLimits;

/** Shrinks every window (and block) by `scale`, e.g. 0.1 makes "1 per second" into "1 per 100 ms". */
export function scaleRateLimits(limits: RateLimits, scale: number): RateLimits {
  return Object.fromEntries(
    MODULES.map((m) => [m.id, m.scaleRateLimits(limits[m.id as ExchangeId], scale)]),
  ) as RateLimits;
}
