/**
 * What one simulated exchange is: everything the shared code (world, scenario parsing, persistence, the
 * control API, the UI stand-in pages, the ready line) needs from it, in one object its folder exports as
 * `<id>/index.ts`. The shared code iterates `EXCHANGES` (exchanges.ts) and never names an exchange, so
 * adding one is a folder and one line there.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import type { Clock } from "./clock.js";
import type { Faults } from "./faults.js";
import type { Listening, Reply } from "./http-kit.js";
import type { SlidingWindowLimiter } from "./rate-limiter.js";
import type { RequestLog } from "./request-log.js";
import type { UiSpec } from "./ui-pages.js";

/** What the module gets to start its listeners with. */
export interface ModuleContext<State, Limits> {
  /** The module's section of the current world (POST /scenario replaces the world: read it per request). */
  state(): State;
  clock: Clock;
  limiter: SlidingWindowLimiter;
  limits: Limits;
  faults: Faults;
  log: RequestLog;
  /** Call after every change to the state (persists the world when the simulator has a state file). */
  changed(): void;
  /** The port asked for the module's main listener (`<id>Port`, `--<id>-port`); 0 = any free port. */
  port: number;
  /** Clock-skew window for exchanges whose requests carry a timestamp (SimulatorOptions). */
  timestampWindowMs: number;
  /**
   * The control API's `POST /ui/create` for this exchange (the body without `exchange`), for the
   * stand-in page's create form; absent when the module has no `uiCreate`.
   */
  createKey?(body: Record<string, unknown>): Reply;
  /** Listens on loopback; the simulator closes every listener made here on stop (or a failed start). */
  listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port: number): Promise<Listening>;
}

/** Checks the scenario rules a schema cannot express; ids and keys are unique across exchanges. */
export interface ScenarioRules {
  /** Claims an API key for the whole scenario (throws ScenarioError naming `where` on a duplicate). */
  claimApiKey(apiKey: string, where: string): void;
  /** Claims a value in `set` (throws ScenarioError `where: duplicate <what> "<value>"`). */
  claim(set: Set<string>, value: string, where: string, what: string): void;
  /** Throws ScenarioError with `message`. */
  fail(message: string): never;
}

/** One key row of an exchange's "API management" stand-in page. */
export interface UiRow {
  owner: string;
  label: string;
  apiKey: string;
  detail: string;
  status: string;
}

export interface UiRevokeResult {
  found: boolean;
  alreadyRevoked: boolean;
}

/** An account and its credentials as a Keyward user would add it (see demo-desk.ts). */
export interface DeskCredentials {
  apiKey: string;
  secret: string;
  passphrase?: string;
  /** The account's two-factor seed, where the exchange challenges key management with one (Deribit). */
  totpSeed?: string;
}

export interface DeskPart {
  /** `label`: the account key's label on the exchange's page, where its API lists none (`account add --label`). */
  accounts: { name: string; endpoint: string; credentials: DeskCredentials; label?: string }[];
  tracked: { account: string; label: string; credentials: DeskCredentials }[];
}

/**
 * One simulated exchange. Methods (not function-valued properties) on purpose: the registry holds
 * modules of different state types, which method parameters allow.
 */
export interface ExchangeModule<
  Id extends string = string,
  Section extends z.ZodType = z.ZodType,
  State = unknown,
  Limits = unknown,
  View = unknown,
  Urls extends object = object,
> {
  id: Id;
  /** How the usage text names it: the exchange and its API version. */
  title: string;
  /** `--<id>-port`'s help: which listener the port is for. */
  portHelp: string;

  /** The scenario's `<id>` section (optional in the file). */
  scenario: Section;
  checkScenario(section: z.output<Section>, rules: ScenarioRules): void;
  /** A fresh state from the scenario's section (undefined when the file has none). */
  seed(section: z.output<Section> | undefined, now: number): State;

  /**
   * The module's top-level fields of the state file (`--state-file`); `save` gives them, `restore`
   * takes them back as the schema parsed them.
   */
  persisted: z.ZodObject;
  save(state: State): Record<string, unknown>;
  restore(data: Record<string, unknown>): State;

  /** The control API's `GET /state` section: every account and key, no secret. */
  view(state: State, now: number): View;
  /** What the exchange's web page revoke does (`POST /ui/revoke`, the stand-in page). */
  uiRevoke(state: State, apiKey: string): UiRevokeResult;
  /**
   * `POST /ui/create` for this exchange: a strict object whose `exchange` is the module's id, and what it
   * does. Absent when a person cannot create keys on the exchange's site (no such module today).
   */
  uiCreate?: {
    body: z.ZodObject;
    create(state: State, body: Record<string, unknown>, now: number): Reply;
  };
  /**
   * The module's own control-API reads, served at `GET /<id>/<name>` (e.g. Deribit's `totp`: the current
   * two-factor code of an account, which stands in for the person's authenticator app).
   */
  controlRoutes?: Record<string, (state: State, query: URLSearchParams, now: number) => Reply>;
  /** The exchange's "API management" stand-in page, served by its own listener at `path`. */
  ui: UiSpec & { rows(state: State, now: number): UiRow[] };

  /** The documented rate limits, and how `rateScale` shrinks them (windows and blocks, counts kept). */
  rateLimits: Limits;
  scaleRateLimits(limits: Limits, scale: number): Limits;
  /** The module's own fault switches (`POST /faults`), beyond the shared ones in faults.ts. */
  faultFields?: z.ZodRawShape;

  /** The names of `urls`' fields, for the usage text's picture of the ready line. */
  readyLineExtras?: readonly string[];
  /** Starts the exchange's listeners; `url` is the main one, `urls` extra fields of the ready line. */
  start(ctx: ModuleContext<State, Limits>): Promise<{ url: string; urls: Urls }>;
  /** The demo desk's accounts and tracked keys from this exchange's scenario section (demo-desk.ts). */
  demoDesk(section: z.output<Section>, endpoint: string): DeskPart;
}

/** Checks a module against the interface while keeping its precise types for the registry. */
export const defineExchange = <
  Id extends string,
  Section extends z.ZodType,
  State,
  Limits,
  View,
  Urls extends object,
>(
  module: ExchangeModule<Id, Section, State, Limits, View, Urls>,
) => module;

// biome-ignore lint/suspicious/noExplicitAny: the registry's element type; each module keeps its own types.
export type AnyExchangeModule = ExchangeModule<string, z.ZodType, any, any, unknown, object>;
