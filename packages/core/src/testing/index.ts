export {
  CONFORMANCE_CASES,
  type ConformanceCase,
  type ConformanceEnv,
  type ConformanceHarness,
  type ProbeCase,
  type ProbeExpectation,
  testAdapter,
  type Victim,
} from "./conformance.js";
export { type RequestLogRow, SimControl } from "./sim-control.js";
