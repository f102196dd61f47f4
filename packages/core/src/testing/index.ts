export { sqliteHandleForTests } from "../store/sqlite/sqlite-state-store.js";
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
export {
  credentialSnippet,
  type FakeCredential,
  fakeCredentials,
  generateLeakCorpus,
  LARGE_FILE_BOUNDARY,
  type LeakCorpus,
  type LeakCorpusOptions,
  PLANT_FORMATS,
  type PlantedCredential,
  type PlantedLeak,
  type PlantFormat,
  type Rng,
  seededRng,
} from "./leak-corpus.js";
export {
  type GenerateLeakRepoOptions,
  generateLeakRepo,
  LEAK_REPO_PLACEMENTS,
  type LeakRepoCredential,
  type LeakRepoManifest,
  type LeakRepoPlacement,
  type LeakRepoPlanted,
} from "./leak-repo.js";
export { type RequestLogRow, SimControl } from "./sim-control.js";
export {
  auditRecord,
  type StateStoreFixture,
  type StateStoreHarness,
  testStateStore,
} from "./state-store-suite.js";
export {
  type ReadBack,
  TARGET_CASES,
  TARGET_TEST_VARS,
  type TargetCase,
  type TargetHarness,
  testTarget,
} from "./targets.js";
