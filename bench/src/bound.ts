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

/**
 * The time the write limits allow for rotating `keysPerMaster` OKX sub-account keys under each master,
 * masters in parallel (limits are per UID). A rotation needs one create
 * (POST users/subaccount/apikey) and one delete (POST users/subaccount/delete-apikey), each limited to
 * 1 request per second per UID, in separate buckets (per endpoint). Creates therefore start no faster
 * than windowBoundMs(n, write): 0, 1, …, n-1 s. Key i's delete may start as soon as key i exists, and
 * the deletes' own bucket never waits longer than the creates' (the same count at the same limit), so the
 * last delete can start right after the last create: the bound is the creates' window, windowBoundMs(n).
 * Everything else a rotation does (verify, deliver, prove dead) is reads on other buckets, not bounded
 * here: a measured time within 1.2x of this bound means the writes were the only wait.
 */
export function rotationBoundMs(keysPerMaster: number, write: WindowLimit): number {
  return windowBoundMs(keysPerMaster, write);
}

/**
 * The time the rate limits allow for one revoke run over several exchanges' accounts at once: each
 * exchange's part runs in parallel with the others (separate limits), so the run can take no less than
 * its slowest part, and needs no more than that if nothing but the limits waits. `parts` holds each
 * part's own bound, computed alone (e.g. windowBoundMs of its API revokes at its write limit; 0 for keys
 * a person revokes, which no rate limit paces). Returns the max and which part it is.
 */
export function incidentBoundMs(parts: Readonly<Record<string, number>>): {
  boundMs: number;
  slowest: string;
} {
  let slowest = "";
  let boundMs = 0;
  for (const [name, ms] of Object.entries(parts)) {
    if (slowest === "" || ms > boundMs) {
      slowest = name;
      boundMs = ms;
    }
  }
  return { boundMs, slowest };
}
