/**
 * The use cases both shells call: the CLI parses flags and formats text, the web server parses
 * requests and formats JSON/SSE; the workflows themselves live here, once.
 */
export {
  type AccountCheck,
  type AccountCheckProblem,
  type AdapterSource,
  type CheckAccountsInput,
  checkAccounts,
} from "./check-accounts.js";
export { confirmsPlan } from "./confirm-plan.js";
// Task "create": `keyward key create` and the web's "New key" form.
export {
  type CreateKeyInput,
  CreateKeyInputSchema,
  type CreateKeyPlan,
  type CreateKeyResult,
  type CreateKeyShell,
  createdKeySecret,
  createKey,
  type PreparedKeyCreate,
  planKeyCreate,
  prepareKeyCreate,
} from "./key-create.js";
export { type AccountSummary, listAccounts } from "./list-accounts.js";
export {
  type InventoryEvent,
  type ListInventoryInput,
  type LiveInventory,
  listInventory,
} from "./list-inventory.js";
export { type LiveRevokePlan, type PlanLiveRevokeInput, planLiveRevoke } from "./plan-live-revoke.js";
export { REVOKE_UNAUDITABLE_HINT, requireAuditable } from "./require-auditable.js";
export { type AbortRotationInput, abortRotationRun } from "./rotation-abort.js";
export {
  cliOnly,
  findRotation,
  readOnlyJournal,
  refusePrograms,
  refuseUnauditedRotation,
  requireRotation,
  rotationChildEnv,
  rotationJournal,
  runPrograms,
} from "./rotation-common.js";
export { checkPassphraseRule, passphraseProblem } from "./rotation-credentials.js";
export {
  checkRotationTargets,
  type PlanRotationInput,
  planRotation,
  type RotationTargetsInput,
} from "./rotation-plan.js";
export {
  type ApplyRotationInput,
  applyRotation,
  type ResumeOutcome,
  type ResumeRotationInput,
  resumeRotation,
} from "./rotation-run.js";
export {
  type PendingCreate,
  type RotationHooks,
  RotationSession,
  type RotationSessionEvent,
} from "./rotation-session.js";
export {
  graceOf,
  type RotationStatus,
  rotationStatus,
  runTargets,
  statusOf,
} from "./rotation-status.js";
// Task "scan use case": `keyward scan` and the web's Scan page.
export {
  MIN_CONFIDENCE_LEVELS,
  type MinConfidence,
  type RevocableKey,
  redactUnknownKey,
  revocableKeyIds,
  revocableKeys,
  type ScanLeaksHooks,
  type ScanLeaksRequest,
  ScanLeaksRequestSchema,
  scanLeaks,
} from "./scan-leaks.js";
export {
  type AccountError,
  type LiveSelection,
  type SelectLiveKeysInput,
  selectLiveKeys,
} from "./select-live-keys.js";
export {
  RevokeSession,
  type RevokeSessionEvent,
  type RevokeSessionResult,
  type RevokeSessionStatus,
  type StartRevokeInput,
  startRevoke,
  type VerifyNowResult,
} from "./start-revoke.js";
