/** Bulk rotation (issue 5): plan, journal, engine, abort, delivery targets. */
export { type AbortReport, type AbortSlotResult, abortRotation } from "./abort.js";
export { applyPlan, checkPlan } from "./apply.js";
export {
  type CreateRequest,
  DEFAULT_TIMING,
  type RotationDeps,
  type RotationEvent,
  type Timing,
} from "./context.js";
export { CredentialStore } from "./credential-store.js";
export {
  outcomeOf,
  type RotationReport,
  reportOf,
  runRotation,
  type SlotOutcome,
  type SlotReport,
} from "./engine.js";
export { RotationJournal, type RunRow, type SlotError, type SlotRow } from "./journal.js";
export { buildRotationPlan, estimateApiMs, newRunId, type PlanInput } from "./plan.js";
export { parsePlan, planJson, readPlanFile, writePlanFile } from "./plan-file.js";
export {
  baseLabel,
  DEFAULT_RUN_OPTIONS,
  newLabel,
  PAST_REVOKE,
  type PlanKey,
  type PlanSlot,
  type RefusedKey,
  type RotationPlan,
  RotationPlanSchema,
  type RunOptions,
  RunOptionsSchema,
  STEPS,
  type Step,
} from "./schemas.js";
export {
  checkRecipient,
  checkTargetSyntax,
  type DeliveryOptions,
  type DeliveryPayload,
  deliver,
  describeTarget,
  dotenvNames,
  parseTarget,
  payloadJson,
  readDotenv,
  readJson,
  rewriteDotenv,
  rewriteJson,
  TARGET_KINDS,
  type Target,
  TargetSchema,
} from "./targets/index.js";
