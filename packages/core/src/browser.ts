/**
 * `@keyward/core/browser`: what a browser bundle may take from core. Constants that are plain data
 * (risk names and their meanings, rotation steps in order, the permission vocabulary) and the types of
 * what the web server returns. Nothing here may reach node:*, better-sqlite3, ccxt, age or the adapters
 * at run time: type-only exports are erased from the bundle, and test/browser-entry.test.ts walks this
 * file's import graph to keep it so. Each exchange's own risk flags are not here (they live in its
 * profile, behind the adapters); the server's inventory answer carries their meanings.
 */

export type { AuditEntry, AuditHead, AuditVerifyResult } from "./audit/audit-log.js";
export { apiDuration } from "./domain/duration.js";
export { type TimeLeft, timeLeft } from "./domain/expiry.js";
export {
  PROVEN_WORDS,
  REVOKE_OUTCOME_WORDS,
  ROTATION_OUTCOME_WORDS,
  revokeResultWords,
  revokeSummaryWords,
  unprovenReason,
  VERIFIED_WORDS,
  verifiedWord,
  WAITING_WORDS,
} from "./domain/outcome-words.js";
export { PERMISSIONS } from "./domain/permissions.js";
export type { KeyLocation, ManualSteps, Permission } from "./domain/schemas.js";
export { visibleText } from "./domain/visible-text.js";
export type { AccountHealth } from "./inventory/account-health.js";
export type { Risk } from "./inventory/risk.js";
export { riskWeight, SHARED_RISK_TEXT, type SharedRisk } from "./inventory/risk-names.js";
export type { InventoryRow } from "./inventory/view.js";
export { HOW_WORDS, howWord } from "./inventory/words.js";
export type { RevokeKeyResult, RevokeOutcome, RevokeSummary } from "./revoke/run.js";
export type { AbortReport, AbortSlotResult } from "./rotation/abort.js";
export { createdKeyText, isCreateStandIn, slotKeyText } from "./rotation/create-stand-in.js";
export type { SlotOutcome } from "./rotation/engine.js";
export type { SlotError, SlotRow } from "./rotation/journal.js";
export type { Step } from "./rotation/schemas.js";
export {
  API_STEPS,
  ASSISTED_SELF_REVOKE_STEPS,
  ASSISTED_STEPS,
  createdWords,
  OLD_SECRET_NOT_PROBED,
  RESET_STEPS,
  STEPS,
  stepsOf,
  VERIFIED_BY_LISTING,
} from "./rotation/steps.js";
