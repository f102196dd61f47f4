export { type Clock, OffsetClock } from "./clock.js";
export {
  DEMO_SCENARIO_PATH,
  type DemoCredentials,
  type DemoDesk,
  demoDesk,
  loadDemoScenario,
} from "./demo-desk.js";
export { DEMO_UNKNOWN_LEAK, type DemoLeak, plantDemoLeak } from "./demo-leak.js";
export { DEMO_WIDTH, demoText } from "./demo-text.js";
export type { AnyExchangeModule, ExchangeModule, ModuleContext } from "./exchange-module.js";
export { EXCHANGE_IDS, EXCHANGES, type ExchangeId, UI_PATHS } from "./exchanges.js";
export { type FaultSpecInput, FaultSpecSchema } from "./fault-spec.js";
export type { FaultSpec } from "./faults.js";
export type { WindowLimit } from "./rate-limiter.js";
export { DEFAULT_RATE_LIMITS, type RateLimits, scaleRateLimits } from "./rate-limits.js";
export type { RequestLogEntry } from "./request-log.js";
export {
  parseScenario,
  parseScenarioText,
  type Scenario,
  ScenarioError,
  type ScenarioInput,
  ScenarioSchema,
} from "./scenario.js";
export {
  type RunningSimulator,
  type SimulatorOptions,
  type SimulatorUrls,
  startSimulator,
} from "./simulator.js";
export type { WorldView } from "./world.js";
