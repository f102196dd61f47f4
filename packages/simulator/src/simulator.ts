/** `startSimulator`: every exchange module's listeners (registry order), then the control API. */

import { OffsetClock } from "./clock.js";
import { controlListener } from "./control/server.js";
import type { ExchangeModule, ModuleContext } from "./exchange-module.js";
import type { ExchangeId, Exchanges } from "./exchanges.js";
import { FaultSpecSchema } from "./fault-spec.js";
import { Faults } from "./faults.js";
import { type Listening, listen, type Reply } from "./http-kit.js";
import { loadWorld, saveWorld } from "./persistence.js";
import { SlidingWindowLimiter } from "./rate-limiter.js";
import { DEFAULT_RATE_LIMITS, type RateLimits, scaleRateLimits } from "./rate-limits.js";
import { RequestLog } from "./request-log.js";
import { parseScenario, type ScenarioInput } from "./scenario.js";
import { formatZodError } from "./scenario-kit.js";
import { MODULES, World } from "./world.js";

/** `<id>Port`: each exchange's main listener port. */
export type ExchangePorts = { [Id in ExchangeId as `${Id}Port`]?: number };

export interface SimulatorOptions extends ExchangePorts {
  /** The world to start with (validated here). Ignored when `stateFile` already holds a saved world. */
  scenario?: ScenarioInput;
  /** 0 (the default) picks a free port. Listeners bind to 127.0.0.1 only. */
  controlPort?: number;
  /** Latency added to every exchange request, on top of any injected by `POST /faults`. */
  latencyMs?: number;
  /**
   * Replace the documented limits of the exchanges named (tests that need other limits); an exchange left
   * out keeps its documented ones, so adding an exchange changes no test that overrides another's.
   */
  rateLimits?: Partial<RateLimits>;
  /** Multiply every rate window by this factor (0.1 = ten times faster limits), keeping the counts. */
  rateScale?: number;
  /**
   * Clock-skew window of exchanges whose signed requests carry a timestamp; 30 s by default (each
   * exchange's docs page says why, in docs/exchanges/<id>.md "Where the exchange is silent").
   */
  timestampWindowMs?: number;
  /** Injectable time source (defaults to the wall clock); the control API can advance it. */
  now?: () => number;
  /** Persist the world to this JSON file after every change and reload it on start. */
  stateFile?: string;
}

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

/** Each exchange's extra ready-line fields (e.g. the URL of every regional host). */
export type ExchangeUrls = UnionToIntersection<Awaited<ReturnType<Exchanges["start"]>>["urls"]>;

/**
 * Every listener's URL: one per exchange by its id, the control API, then each exchange's extras.
 * The ready line of `keyward-sim` prints exactly this, in this order.
 */
export type SimulatorUrls = { [Id in ExchangeId]: string } & { control: string } & ExchangeUrls;

export type RunningSimulator = SimulatorUrls & {
  rateLimits: RateLimits;
  close(): Promise<void>;
};

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const clock = new OffsetClock(options.now);
  const baseLimits: RateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
  const rateLimits = options.rateScale ? scaleRateLimits(baseLimits, options.rateScale) : baseLimits;
  const limiter = new SlidingWindowLimiter();
  const faults = new Faults(
    MODULES.map((m) => m.id),
    FaultSpecSchema,
    options.latencyMs ?? 0,
  );
  const log = new RequestLog();
  const stateFile = options.stateFile;
  let world =
    (stateFile && loadWorld(stateFile)) ||
    World.fromScenario(parseScenario(options.scenario ?? {}), clock.now());
  const changed = () => {
    if (stateFile) saveWorld(world, stateFile);
  };
  changed();

  /** The control API's `POST /ui/create` for one module, for its stand-in page's create form. */
  const uiCreator =
    (creator: NonNullable<ExchangeModule["uiCreate"]>, id: ExchangeId) =>
    (body: Record<string, unknown>): Reply => {
      const parsed = creator.body.safeParse({ ...body, exchange: id });
      if (!parsed.success) return { status: 400, body: { error: formatZodError(parsed.error) } };
      return creator.create(world.section(id), parsed.data, clock.now());
    };

  const listeners: Listening[] = [];
  const track = async (...args: Parameters<typeof listen>) => {
    const listening = await listen(...args);
    listeners.push(listening);
    return listening;
  };
  try {
    const urls: Record<string, string> = {};
    const extras: object[] = [];
    for (const module of MODULES) {
      const id = module.id as ExchangeId;
      const ctx: ModuleContext<unknown, unknown> = {
        state: () => world.section(id),
        clock,
        limiter,
        limits: rateLimits[id],
        faults,
        log,
        changed,
        port: (options as Record<string, number | undefined>)[`${id}Port`] ?? 0,
        timestampWindowMs: options.timestampWindowMs ?? 30_000,
        listen: track,
        ...(module.uiCreate ? { createKey: uiCreator(module.uiCreate, id) } : {}),
      };
      const started = await module.start(ctx);
      urls[id] = started.url;
      extras.push(started.urls);
    }
    const control = await track(
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
    return Object.assign(urls, { control: control.url }, ...extras, {
      rateLimits,
      close: async () => {
        await Promise.all(listeners.map((l) => l.close()));
      },
    }) as RunningSimulator;
  } catch (error) {
    await Promise.all(listeners.map((l) => l.close()));
    throw error;
  }
}

/** The ready line's fields, in order (`keyward-sim` prints them as one JSON line). */
export function readyLine(sim: SimulatorUrls): Record<string, unknown> {
  const { rateLimits: _limits, close: _close, ...urls } = sim as RunningSimulator;
  return urls;
}
