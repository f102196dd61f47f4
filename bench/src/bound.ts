/**
 * The time the rate limits allow: the least wall time in which `n` requests can *start* without ever
 * having more than `limit` of them in any `windowMs` span (the simulator's sliding window).
 */
export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export function windowBoundMs(n: number, { limit, windowMs }: WindowLimit): number {
  if (n <= 0) return 0;
  return Math.floor((n - 1) / limit) * windowMs;
}

/** "1.03x": how far a measured time is from its bound (the bound itself plus latency is ideal). */
export const ratio = (measuredMs: number, boundMs: number): number =>
  boundMs === 0 ? Number.NaN : measuredMs / boundMs;
