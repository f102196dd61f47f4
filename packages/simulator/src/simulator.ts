/** `startSimulator`: the OKX listeners (one per regional host), the Bitfinex listener and the control API. */

import { bitfinexListener } from "./bitfinex/server.js";
import { OffsetClock } from "./clock.js";
import { controlListener } from "./control/server.js";
import { Faults } from "./faults.js";
import { type Listening, listen } from "./http-kit.js";
import { okxListener } from "./okx/server.js";
import { loadWorld, saveWorld } from "./persistence.js";
import {
  DEFAULT_RATE_LIMITS,
  type RateLimits,
  SlidingWindowLimiter,
  scaleRateLimits,
} from "./rate-limiter.js";
import { RequestLog } from "./request-log.js";
import { type OkxRegion, parseScenario, type ScenarioInput } from "./scenario.js";
import { World } from "./world.js";

export interface SimulatorOptions {
  /** The world to start with (validated here). Ignored when `stateFile` already holds a saved world. */
  scenario?: ScenarioInput;
  /** 0 (the default) picks a free port. Listeners bind to 127.0.0.1 only. */
  okxPort?: number;
  bitfinexPort?: number;
  controlPort?: number;
  /** Latency added to every exchange request, on top of any injected by `POST /faults`. */
  latencyMs?: number;
  /** Replace the documented limits entirely (tests that need other limits). */
  rateLimits?: RateLimits;
  /** Multiply every rate window by this factor (0.1 = ten times faster limits), keeping the counts. */
  rateScale?: number;
  /**
   * OKX REST timestamp window; 30 s by default
   * (docs/exchanges/okx.md#where-the-exchange-is-silent-what-keyward-and-the-simulator-assume).
   */
  timestampWindowMs?: number;
  /** Injectable time source (defaults to the wall clock); the control API can advance it. */
  now?: () => number;
  /** Persist the world to this JSON file after every change and reload it on start. */
  stateFile?: string;
}

export interface SimulatorUrls {
  okx: string;
  bitfinex: string;
  control: string;
  /** The OKX listener of each regional host; `okx` is `www`. */
  okxRegions: Record<OkxRegion, string>;
}

export interface RunningSimulator extends SimulatorUrls {
  rateLimits: RateLimits;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const clock = new OffsetClock(options.now);
  const baseLimits = options.rateLimits ?? DEFAULT_RATE_LIMITS;
  const rateLimits = options.rateScale ? scaleRateLimits(baseLimits, options.rateScale) : baseLimits;
  const limiter = new SlidingWindowLimiter();
  const faults = new Faults(options.latencyMs ?? 0);
  const log = new RequestLog();
  const stateFile = options.stateFile;
  let world =
    (stateFile && loadWorld(stateFile)) ||
    World.fromScenario(parseScenario(options.scenario ?? {}), clock.now());
  const changed = () => {
    if (stateFile) saveWorld(world, stateFile);
  };
  changed();

  const okxDeps = (region: OkxRegion) => ({
    world: () => world,
    clock,
    limiter,
    limits: rateLimits.okx,
    faults,
    log,
    region,
    timestampWindowMs: options.timestampWindowMs ?? 30_000,
    changed,
  });
  const listeners: Listening[] = [];
  try {
    const okx = await listen(okxListener(okxDeps("www")), options.okxPort ?? 0);
    listeners.push(okx);
    const eea = await listen(okxListener(okxDeps("eea")), 0);
    listeners.push(eea);
    const us = await listen(okxListener(okxDeps("us")), 0);
    listeners.push(us);
    const bitfinex = await listen(
      bitfinexListener({
        world: () => world,
        clock,
        limiter,
        limits: rateLimits.bitfinex,
        faults,
        log,
        changed,
      }),
      options.bitfinexPort ?? 0,
    );
    listeners.push(bitfinex);
    const control = await listen(
      controlListener({
        world: () => world,
        replaceWorld: (next) => {
          world = next;
          limiter.reset();
          changed();
        },
        clock,
        faults,
        log,
        changed,
      }),
      options.controlPort ?? 0,
    );
    listeners.push(control);
    return {
      okx: okx.url,
      bitfinex: bitfinex.url,
      control: control.url,
      okxRegions: { www: okx.url, eea: eea.url, us: us.url },
      rateLimits,
      close: async () => {
        await Promise.all(listeners.map((l) => l.close()));
      },
    };
  } catch (error) {
    await Promise.all(listeners.map((l) => l.close()));
    throw error;
  }
}
