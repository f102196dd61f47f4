/**
 * Keyward's Deribit pace against a drained credit bucket (docs/exchanges/deribit.md#rate-limits): the
 * account's bots left one request's credits, so only the refill rate (one request per 50 ms at Deribit's
 * documented figures, which the simulator uses here unscaled) lets requests through. Over real HTTP,
 * through the adapter with its default limits: a listing then a burst of disables meet no 10028, and the
 * simulator saw them arrive no faster than the refill allows. Then PacedScheduler itself on a fake clock.
 */
import { type RequestLogEntry, startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deribitAdapter } from "../src/adapters/deribit/adapter.js";
import { PacedScheduler } from "../src/adapters/rate-limiter.js";
import { Secret } from "../src/domain/secret.js";

const SEED = "KRUGS4ZANFZSAYLOEBQWG3LPOVXHI4ZAONSWKZA";
const LOOPBACK = ["127.0.0.1", "::1"];
const key = (id: number, name: string, maxScope: string) => ({
  id,
  client_id: `DRPACE${name.toUpperCase()}${id}`,
  client_secret: `CANARYDRPACE${name.toUpperCase()}SECRET${id}`,
  name,
  max_scope: maxScope,
  enabled: true,
  ip_whitelist: LOOPBACK,
  timestamp: Date.now() - 86_400_000,
});
const ADMIN = key(1, "keyward", "account:read_write");
const BOTS = [2, 3, 4, 5, 6, 7].map((id) => key(id, `bot${id}`, "trade:read_write"));
/** One request's cost: the emptiest bucket whose first request passes (as in bench/src/deribit.ts). */
const DRAINED = 500;
const REFILL_INTERVAL_MS = 50;

let sim: Awaited<ReturnType<typeof startSimulator>>;

beforeAll(async () => {
  sim = await startSimulator({
    scenario: {
      deribit: {
        accounts: [
          {
            id: 901,
            username: "drained",
            type: "main",
            totpSeed: SEED,
            credits: DRAINED,
            keys: [ADMIN, ...BOTS],
          },
        ],
      },
    },
  });
});
afterAll(async () => {
  await sim?.close();
});

describe("deribit pace", () => {
  it("a drained account: listing, then every bot key disabled at once, draws no 10028 and keeps the refill rate", async () => {
    const adapter = deribitAdapter(
      {
        account: {
          name: "drained",
          exchange: "deribit",
          endpoint: sim.deribit,
          credentialsRef: "vault:drained",
        },
        credentials: {
          apiKey: ADMIN.client_id,
          secret: new Secret(ADMIN.client_secret),
          totpSeed: new Secret(SEED),
        },
      },
      // No retries: a 10028 fails the test instead of hiding behind a back-off.
      { retry: { retries: 0 } },
    );
    const keys = await adapter.listKeys();
    const bots = keys.filter((k) => k.apiKey !== ADMIN.client_id);
    expect(bots).toHaveLength(BOTS.length);
    const results = await Promise.all(bots.map((k) => adapter.disableKey?.(k)));
    expect(results.map((r) => r?.outcome)).toEqual(BOTS.map(() => "disabled"));

    const log = (await (await fetch(`${sim.control}/requests?since=0`)).json()) as RequestLogEntry[];
    const rows = log.filter((e) => e.exchange === "deribit");
    // get_account_summary, list_api_keys, one disable_api_key a key.
    expect(rows).toHaveLength(2 + BOTS.length);
    expect(rows.filter((e) => e.code === "10028")).toEqual([]);
    // The bucket's own condition: the k-th request arrives at least k refill intervals after the first
    // (the simulator's log is to the millisecond).
    const at = rows.map((e) => Date.parse(e.time));
    const first = at[0] ?? 0;
    at.forEach((t, k) => {
      expect(t - first).toBeGreaterThanOrEqual(k * REFILL_INTERVAL_MS - 1);
    });
  });
});

describe("PacedScheduler", () => {
  /** A fake clock the scheduler's timers follow (vitest's fake timers would also move Date.now). */
  const clock = () => {
    let now = 1_000;
    return { now: () => now, set: (t: number) => (now = t) };
  };
  const tick = () => new Promise((r) => setTimeout(r, 0));

  it("spaces starts by the interval, holds a run's first request until its answer, and starts no burst after idling", async () => {
    const c = clock();
    const s = new PacedScheduler(50, 0, c.now);
    const started: number[] = [];
    const take = async () => {
      const done = await s.acquireSlot();
      started.push(c.now());
      return done;
    };

    const firstDone = await take();
    const second = take();
    const third = take();
    // The first request's answer takes 120 ms: nothing starts before it is back.
    c.set(1_120);
    await tick();
    expect(started).toEqual([1_000]);
    firstDone();
    c.set(1_170);
    await new Promise((r) => setTimeout(r, 60));
    await second;
    // Later starts of the run are spaced from starts: their answers are not awaited.
    c.set(1_220);
    await new Promise((r) => setTimeout(r, 60));
    await third;
    expect(started).toEqual([1_000, 1_170, 1_220]);

    // Idle for a second: the next request is a run's first again (no credit for the idle time).
    c.set(2_300);
    const afterIdle = await take();
    const behind = take();
    c.set(2_400);
    await new Promise((r) => setTimeout(r, 60));
    expect(started).toHaveLength(4);
    afterIdle();
    c.set(2_450);
    await new Promise((r) => setTimeout(r, 60));
    await behind;
    expect(started).toEqual([1_000, 1_170, 1_220, 2_300, 2_450]);
  });

  it("a refusal (saturated) holds the next start a whole interval from now", async () => {
    const c = clock();
    const s = new PacedScheduler(50, 0, c.now);
    (await s.acquireSlot())();
    c.set(1_030);
    s.saturated();
    let startedAt: number | undefined;
    const next = s.acquire().then(() => {
      startedAt = c.now();
    });
    c.set(1_060);
    await new Promise((r) => setTimeout(r, 60));
    expect(startedAt).toBeUndefined();
    c.set(1_080);
    await new Promise((r) => setTimeout(r, 60));
    await next;
    expect(startedAt).toBe(1_080);
  });
});
