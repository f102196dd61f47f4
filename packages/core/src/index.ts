/** Deribit's pace, for the bench to scale with the simulator. */
export { DERIBIT_LIMITS } from "./adapters/deribit/limits.js";
export type {
  AdapterContext,
  AdapterFactory,
  AdapterOptions,
  CreatedKey,
  ExchangeAdapter,
  NewKeySpec,
  ProbeOptions,
  SecondFactorEvent,
  SecondFactorPrompt,
  SecondFactorRequest,
  TrackedKey,
} from "./adapters/interface.js";
export type {
  ActionWay,
  AliveProbe,
  CredentialField,
  ExchangeProfile,
  KeyKindFacts,
  RegionHost,
  RiskRule,
} from "./adapters/profile.js";
export {
  actionsOf,
  credentialsExample,
  needsPassphrase,
  optionalCredentialFields,
} from "./adapters/profile.js";
export {
  KeyedSerialQueue,
  PacedScheduler,
  type PaceLimit,
  type RateLimit,
  type RateScheduler,
  SlidingWindowScheduler,
  sharedScheduler,
  type WindowLimit,
} from "./adapters/rate-limiter.js";
export {
  ADAPTERS,
  accountProbeOptions,
  EXCHANGE_IDS,
  EXCHANGE_PROFILES,
  type ExchangeId,
  type ExchangeRisk,
  exchangeProfile,
  loadAdapterFactory,
} from "./adapters/registry.js";
export { TransientFailure, withRetry } from "./adapters/retry.js";
export {
  AuditActionSchema,
  type AuditAppendInput,
  type AuditAppendOptions,
  type AuditBreak,
  type AuditEntry,
  type AuditHead,
  type AuditKey,
  AuditLog,
  type AuditLogOptions,
  type AuditLogWriter,
  type AuditVerifyOptions,
  type AuditVerifyResult,
  cachedAuditVerifier,
  GENESIS_HASH,
  hashEntry,
  type RecordAuthenticator,
} from "./audit/audit-log.js";
// Audit log views (task: audit): an operator's query, paged in the store, and entries in words.
export {
  AUDIT_ACTION_WORDS,
  type AuditEntryView,
  type AuditFieldView,
  type AuditLabels,
  type AuditSubjectView,
  type AuditTone,
  auditFields,
  auditLabels,
  auditOutcome,
  auditSubject,
  emptyAuditLabels,
  plainText,
  presentAuditEntry,
} from "./audit/audit-present.js";
export {
  AUDIT_PAGE_DEFAULT,
  AUDIT_PAGE_MAX,
  type AuditPage,
  type AuditQuery,
  AuditQueryError,
  AuditQuerySchema,
  auditFilters,
  parseAuditTime,
  queryAudit,
} from "./audit/audit-query.js";
export { CanonicalJsonError, canonicalJson, type JsonValue } from "./audit/canonical-json.js";
export {
  type Config,
  ConfigSchema,
  emptyConfig,
  parseConfig,
  type Settings,
  SettingsSchema,
} from "./config/config.js";
export { endpointProblem, isLoopbackHost } from "./config/endpoint.js";
export { type AccountKeys, type AccountKeyUse, accountsUsing } from "./domain/account-keys.js";
export {
  type Credentials,
  type CredentialsInput,
  CredentialsInputSchema,
  secretsOf,
  toCredentials,
} from "./domain/credentials.js";
export { apiDuration } from "./domain/duration.js";
export { type TimeLeft, timeLeft } from "./domain/expiry.js";
export {
  PROVEN_WORDS,
  REVOKE_OUTCOME_WORDS,
  type RevokeCountsIn,
  ROTATION_OUTCOME_WORDS,
  revokeResultWords,
  revokeSummaryWords,
  unprovenReason,
  VERIFIED_WORDS,
  verifiedWord,
  WAITING_WORDS,
} from "./domain/outcome-words.js";
export * from "./domain/schemas.js";
export { KeyLabelTextSchema } from "./domain/schemas.js";
export { redact, Secret } from "./domain/secret.js";
export { normaliseTotpSeed, type SeedProblem, takesTotpSeed, totpSeedProblem } from "./domain/totp-seed.js";
export { visibleText } from "./domain/visible-text.js";
export { ERROR_CODES, type ErrorCode, isKeywardError, KeywardError } from "./errors.js";
export {
  addAccount,
  type NewAccount,
  removeAccount,
  setAccountKeyLabel,
  setAccountSeed,
  trackKey,
  untrackKey,
} from "./home/accounts.js";
export {
  AUDIT_HEAD_FILE_NAME,
  accountRef,
  CONFIG_FILE_NAME,
  type HomeOptions,
  homePaths,
  KeywardHome,
  keyRef,
  trackedRef,
} from "./home/home.js";
export { checkHomePrivacy, type HomeFiles } from "./home/privacy.js";
export { type AccountHealth, accountHealth } from "./inventory/account-health.js";
// Task polish: an account key's probe in words ("healthy: master key, read+trade, bound to 1 IP").
export { accountHealthWords } from "./inventory/health-words.js";
export {
  type AccountInventory,
  fetchInventory,
  forgetRevoked,
  type InventoryCacheStore,
  type InventoryDeps,
} from "./inventory/inventory.js";
export { compileLabelGlob, labelGlobProblem, MAX_LABEL_GLOB_LENGTH } from "./inventory/label-glob.js";
export { dangerRank, RISKS, type Risk, type RiskOptions, risksOf } from "./inventory/risk.js";
export {
  isEmptySelector,
  type Selector,
  type SelectorInput,
  SelectorSchema,
  selectKeys,
} from "./inventory/selectors.js";
export {
  type GivenKeyLabels,
  type InventoryRow,
  inventoryRow,
  keyLabelsOf,
  keyWhere,
} from "./inventory/view.js";
// Task inventory (issue 14): one pair of words for "by API" / "by a person", and given key labels.
export { HOW_HEADER, HOW_WORDS, howWord } from "./inventory/words.js";
export { type LogEntry, type LogSink, silentLog } from "./log.js";
// Task "check": the policy `keyward check` and the web's Check page apply (policy/, use-cases/check-policy.ts).
export {
  type Evaluation,
  evaluatePolicy,
  type Finding,
  type PolicyInput,
  sortFindings,
} from "./policy/evaluate.js";
export {
  defaultPolicy,
  FIXED_RULES,
  loadPolicy,
  POLICY_FILE_NAME,
  POLICY_RULE_NAMES,
  POLICY_RULES,
  type Policy,
  type PolicyContext,
  PolicySchema,
  parsePolicy,
  policyFor,
  type Severity,
} from "./policy/policy.js";
export { escapeLabelValue, policyMetrics } from "./policy/prometheus.js";
export {
  type HeldBackKey,
  hasKillSwitch,
  type PlanOptions,
  planRevoke,
  type RevokePlan,
  type RevokePlanItem,
} from "./revoke/plan.js";
export {
  type AuditWriter,
  type RevokeDeps,
  type RevokeEvent,
  type RevokeKeyResult,
  type RevokeOutcome,
  type RevokeReport,
  type RevokeSummary,
  runRevoke,
  summarise,
} from "./revoke/run.js";
export {
  CREATE_STAND_IN_PREFIX,
  createdKeyText,
  createStandIn,
  isCreateStandIn,
  slotKeyText,
} from "./rotation/create-stand-in.js";
export * from "./rotation/index.js";
// keyward scan, task patterns: detection of unknown credentials from the profiles' `leaks` shapes.
export {
  acceptsToken,
  type CompiledLeakPatterns,
  compileLeakPatterns,
  DEFAULT_LEAK_WINDOW,
  type DetectedLeak,
  detectLeaks,
} from "./scan/detect.js";
// Scan engine (task: scan engine): files, folders and git history searched for needles (known key ids
// and secrets) and the profiles' leak patterns; raw hits, in memory only (scan/engine.ts).
export { MAX_DEFAULT_WORKERS, scanSources } from "./scan/engine.js";
export { compileNeedles, type NeedleAutomaton, NeedleStream, type OnNeedle } from "./scan/multi-match.js";
// Task: scan use case. The scan's shared shapes (scan/scan-types.ts), its needles (what Keyward knows),
// and (through use-cases/index.ts above) scanLeaks and revocableKeyIds.
export {
  type GatherNeedlesInput,
  gatherNeedles,
  type HeldSecret,
  type KnownKey,
  type KnownKeyState,
  type KnownNeedles,
  MIN_SECRET_LENGTH,
} from "./scan/needles.js";
// Leak scanner, task web: SARIF 2.1.0 from a scan report (`keyward scan --sarif`, the web's download).
export {
  SARIF_FINGERPRINT_KEY,
  SARIF_SCHEMA_URI,
  SARIF_VERSION,
  sarifLevel,
  sarifMessage,
  toSarif,
} from "./scan/sarif.js";
export * from "./scan/scan-types.js";
export { type CachedInventory, InventoryCache } from "./store/inventory-cache.js";
export {
  isWriteProtected,
  STATE_DB_FILE_NAME,
  type StateDatabaseOptions,
} from "./store/sqlite/database.js";
export { MIGRATIONS } from "./store/sqlite/migrations.js";
export { SqliteStateStore } from "./store/sqlite/sqlite-state-store.js";
export type { AuditFilterQuery } from "./store/state-store.js";
export {
  type AuditHeadRecord,
  type AuditRecord,
  type AuditRowQuery,
  type InventoryCacheRecord,
  type RunRecord,
  type RunState,
  type SlotRecord,
  type SlotStepUpdate,
  StateDamagedError,
  type StateStore,
  type TrackedKeyRecord,
} from "./store/state-store.js";
export { type TrackedKeyInput, type TrackedKeyRow, TrackedKeysRepository } from "./store/tracked-keys.js";
export {
  type CheckPolicyInput,
  checkPolicy,
  homePolicy,
  type PolicyReport,
  policySummary,
} from "./use-cases/check-policy.js";
export * from "./use-cases/index.js";
export { type AtomicWriteOptions, writeFileAtomic } from "./vault/atomic-write.js";
export {
  VAULT_FILE_NAME,
  VAULT_SCRYPT_WORK_FACTOR,
  Vault,
  type VaultAuditKey,
  type VaultOptions,
  VaultRefSchema,
} from "./vault/vault.js";
