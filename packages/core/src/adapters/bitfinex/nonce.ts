/**
 * Bitfinex nonces (docs/exchanges/bitfinex.md#nonce-rules, including the millisecond / microsecond trap).
 *
 * Bitfinex accepts a request only if its nonce is strictly greater than the last nonce it saw *for that
 * key*, from any client, forever. So:
 *
 * 1. Every request of one key is serialised process-wide (`keyQueue`, keyed by API key) and gets a strictly
 *    increasing nonce, generated just before it is sent. Concurrent requests with one key would reach the
 *    exchange out of nonce order and draw `10114 nonce: small` (docs/exchanges/bitfinex.md#nonce-rules: one
 *    key per concurrent client).
 *
 * 2. One scheme per key, never mixed. We start in **milliseconds** (`Date.now()`), the scheme ccxt and many
 *    bots send. If Keyward sent a microsecond nonce (`Date.now()*1000`, what Bitfinex's own clients send) to a
 *    key a millisecond bot also uses, the key's last nonce would jump ~1000× and every later request of that
 *    bot would fail with `nonce: small`, permanently (the trap in docs/exchanges/bitfinex.md#nonce-rules;
 *    ccxt/ccxt#5972). Probing a key must never break the programs that use it.
 *
 * 3. In milliseconds we also never run ahead of the clock: at most one nonce per millisecond, so a bot on the
 *    same key that sends `Date.now()` is not pushed into `nonce: small` by a burst of Keyward probes.
 *
 * 4. On `10114 nonce: small` with a key whose scheme is not known yet, we first retry once in milliseconds
 *    after a pause of a second (a millisecond bot racing us, or one whose clock runs a little ahead of ours,
 *    explains a single rejection), and only if that is rejected too do we switch the key to
 *    **microseconds** (docs/exchanges/bitfinex.md#probes: probe with a high microsecond nonce): its last
 *    nonce is then more than a second ahead of our clock in ms, which in practice means it has been used with
 *    a larger scheme, and any millisecond client of it is already locked out, so our switching harms no one.
 *    The pause is paid once per key, as the scheme is remembered (5.). A bot whose clock runs more than a
 *    second ahead of ours is the residual risk.
 *
 *    A key known to accept milliseconds (it did so before, here or in an earlier run) is never switched
 *    automatically: the probe ends inconclusive ("nonce") instead, because there the rejections more likely
 *    come from a millisecond client whose clock runs ahead of ours. Once a microsecond nonce has been sent
 *    for a key, the key stays in microseconds.
 *
 * 5. The scheme lives in process memory and goes back to the engines as probe meta `{nonce: "ms"|"us"}`
 *    (only when known: "ms" once the exchange accepted one, "us" once one was sent); they hand it back
 *    through `ProbeOptions.meta` / `TrackedKey.meta`, so the next run starts in the right scheme.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { KeyedSerialQueue } from "../rate-limiter.js";

export type NonceScheme = "ms" | "us";

interface KeyNonceState {
  scheme: NonceScheme;
  /** The exchange accepted a nonce of `scheme` (or an earlier run remembered that it did). */
  confirmed: boolean;
  /** The last nonce this process generated for the key. */
  last: number;
}

/**
 * How long a millisecond nonce may trail another client's before Keyward concludes the key is not in
 * milliseconds (4. above).
 */
export const RACE_PAUSE_MS = 1_000;

export type NonceSmallDecision =
  | { action: "retry"; pauseMs: number }
  | { action: "switched-to-us" }
  | { action: "give-up"; why: string };

/** The meta key engines store the scheme under. */
export const NONCE_META = "nonce";

export const schemeFromMeta = (
  meta: Readonly<Record<string, string>> | undefined,
): NonceScheme | undefined => {
  const value = meta?.[NONCE_META];
  return value === "ms" || value === "us" ? value : undefined;
};

export class NonceBook {
  readonly #keys = new Map<string, KeyNonceState>();

  #state(apiKey: string): KeyNonceState {
    let state = this.#keys.get(apiKey);
    if (!state) {
      state = { scheme: "ms", confirmed: false, last: 0 };
      this.#keys.set(apiKey, state);
    }
    return state;
  }

  /** Adopts a scheme remembered by an earlier run. Microseconds win: they cannot be undone on the exchange. */
  remember(apiKey: string, scheme: NonceScheme | undefined): void {
    if (!scheme) return;
    const state = this.#state(apiKey);
    if (scheme === "us") {
      state.scheme = "us";
      state.confirmed = true;
    } else if (state.scheme === "ms") {
      state.confirmed = true;
    }
  }

  scheme(apiKey: string): NonceScheme {
    return this.#state(apiKey).scheme;
  }

  /** What the engines should remember, if anything is known. */
  known(apiKey: string): NonceScheme | undefined {
    const state = this.#keys.get(apiKey);
    if (!state) return undefined;
    if (state.scheme === "us") return "us";
    return state.confirmed ? "ms" : undefined;
  }

  /**
   * The next nonce for the key, strictly above every nonce this process generated for it; in milliseconds
   * it waits for the clock rather than run ahead of it. Call only inside the key's `keyQueue` slot.
   */
  async next(apiKey: string): Promise<number> {
    const state = this.#state(apiKey);
    if (state.scheme === "ms") {
      while (Date.now() <= state.last) await sleep(1);
      state.last = Date.now();
    } else {
      state.last = Math.max(Date.now() * 1000, state.last + 1);
    }
    return state.last;
  }

  /** The exchange got past its nonce check with the current scheme. */
  accepted(apiKey: string): void {
    this.#state(apiKey).confirmed = true;
  }

  /**
   * What to do after the `count`-th `10114 nonce: small` in a row in the key's current scheme (see 4. above).
   * Each retry also costs a slot of the endpoint's rate limit, so there are few of them.
   */
  onNonceSmall(apiKey: string, count: number): NonceSmallDecision {
    const state = this.#state(apiKey);
    if (state.scheme === "us") {
      // Another microsecond client (or another Keyward process) raced us, or someone sends even larger nonces.
      return count <= 2
        ? { action: "retry", pauseMs: 20 * count }
        : { action: "give-up", why: "the key has seen nonces above the current time in microseconds" };
    }
    if (state.confirmed) {
      // One retry outlasts a race; a client whose clock runs ahead stays ahead, so more would not help.
      return count === 1
        ? { action: "retry", pauseMs: 250 }
        : {
            action: "give-up",
            why: "the key accepted millisecond nonces before, so Keyward does not switch it to microseconds (that would lock out its millisecond clients)",
          };
    }
    if (count === 1) return { action: "retry", pauseMs: RACE_PAUSE_MS };
    state.scheme = "us";
    state.confirmed = false;
    return { action: "switched-to-us" };
  }
}

/** Process-wide: every adapter instance shares one nonce record and one queue per API key. */
export const nonceBook = new NonceBook();
export const keyQueue = new KeyedSerialQueue();
