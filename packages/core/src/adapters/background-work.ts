/**
 * Background work: requests made while Keyward only waits for something (a person revoking a key on the
 * exchange's site, proven by probing it every few seconds). Such a wait may last many minutes; run at the
 * exchange's full rate it would spend the whole budget its account or IP shares with everything else (a
 * Bitfinex endpoint allows 90 requests a minute per IP, docs/exchanges/bitfinex.md#rate-limits), and the
 * operator's other commands, the Accounts page, and other revokes would queue behind it.
 *
 * The mark travels with the async context (as a trace id would), so the rate schedulers see it without
 * every adapter's transport passing a flag: requests made inside `inBackground` give way to any other
 * request waiting on the same scheduler and spend at most half its budget (rate-limiter.ts).
 */
import { AsyncLocalStorage } from "node:async_hooks";

const background = new AsyncLocalStorage<true>();

/** Runs `fn` with every request it makes marked as background work. */
export function inBackground<T>(fn: () => Promise<T>): Promise<T> {
  return background.run(true, fn);
}

/** Whether the current async context is background work. */
export function isBackground(): boolean {
  return background.getStore() === true;
}
