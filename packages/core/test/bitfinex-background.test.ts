/**
 * Background work on Bitfinex (adapters/background-work.ts), over real HTTP against the simulator: a
 * waiting poll never holds a place in its key's one-at-a-time queue (nonces) while it waits for its share
 * of the rate limit, not even on a nonce retry, so a foreground probe of the same key (Verify now) is not
 * held back behind it.
 */
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, expect, it } from "vitest";
import { inBackground } from "../src/adapters/background-work.js";
import { ACCOUNT_SCOPES, adapterFor, bfxKey, creds, scenarioOf } from "./bitfinex-fixtures.js";

const ACCOUNT = bfxKey("bg-admin", ACCOUNT_SCOPES);
// A key some other client uses in microseconds: Keyward's first millisecond nonce is refused, and it
// learns the scheme (a pause, a retry, a switch).
const MICRO = bfxKey("bg-micro", [["account", 1, 0]], { lastNonce: String(Date.now() * 1000) });
const OTHERS = Array.from({ length: 3 }, (_, i) => bfxKey(`bg-other-${i + 1}`, [["account", 1, 0]]));
const FAST = { limit: 1000, windowMs: 1000 };

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({
    scenario: scenarioOf([{ id: 9301, email: "bg@bfx.example", keys: [ACCOUNT, MICRO, ...OTHERS] }]),
    rateLimits: {
      okx: { read: FAST, write: FAST, config: FAST, publicTime: FAST },
      bitfinex: { auth: FAST, blockMs: 1000 },
    },
  });
});
afterAll(async () => {
  await sim?.close();
});

it("a background probe's nonce retry waits for its share outside the key's queue: Verify now of the same key goes first", async () => {
  // Eight requests per 8 s: the background may take four. Three background probes of other keys and the
  // first of MICRO's take them; MICRO's retry (after its pause) then waits for the window to move on.
  const a = adapterFor(sim.bitfinex, ACCOUNT, {
    rateLimits: { auth: { limit: 8, windowMs: 8_000 } },
    retry: { minTimeoutMs: 10, maxTimeoutMs: 50 },
  });
  const background = [...OTHERS, MICRO].map((k) => inBackground(() => a.probe(creds(k))));
  await new Promise((resolve) => setTimeout(resolve, 200));
  // Foreground, the same key: its own refusal, pause and switch take three of the four slots left.
  const started = Date.now();
  const now = await a.probe(creds(MICRO));
  const took = Date.now() - started;
  expect(now.status).toBe("alive");
  expect(took).toBeLessThan(5_000);
  const waited = await Promise.all(background);
  expect(waited.map((r) => r.status)).toEqual(["alive", "alive", "alive", "alive"]);
}, 30_000);
