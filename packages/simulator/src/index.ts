export { type Clock, OffsetClock } from "./clock.js";
export {
  DEMO_SCENARIO_PATH,
  type DemoCredentials,
  type DemoDesk,
  demoDesk,
  loadDemoScenario,
} from "./demo-desk.js";
export { type FaultSpec, type FaultSpecInput, FaultSpecSchema } from "./faults.js";
export { DEFAULT_RATE_LIMITS, type RateLimits, scaleRateLimits, type WindowLimit } from "./rate-limiter.js";
export type { RequestLogEntry } from "./request-log.js";
export {
  type BitfinexKeySeed,
  type OkxKeySeed,
  type OkxRegion,
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
export { UI_PATHS } from "./ui-pages.js";
export type { WorldView } from "./world.js";
