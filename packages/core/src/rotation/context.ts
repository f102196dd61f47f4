/**
 * What the rotation engine needs from its shell (deps), what it tells it (events), and the per-slot
 * context the step functions share: the journal write that every step goes through, the crash seam,
 * the old key as a KeyRecord, the vault.
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import type { CredentialsInput } from "../domain/credentials.js";
import type { KeyRecord, ManualSteps, Permission } from "../domain/schemas.js";
import type { KeywardHome } from "../home/home.js";
import type { AuditWriter } from "../revoke/run.js";
import type { CredentialStore } from "./credential-store.js";
import type { RotationJournal, RunRow, SlotChange, SlotRow } from "./journal.js";
import type { PlanSlot, Step } from "./schemas.js";

/** What a person must create for an assisted rotation: exactly this key. */
export interface CreateRequest {
  slot: number;
  exchange: string;
  account: string;
  /** The page to open and the exchange's own steps. */
  steps: ManualSteps;
  label: string;
  permissions: Permission[];
  /** How the permissions read on the exchange's form (its profile's `describePermissions`). */
  permissionsText: string;
  /** null: copy the old key's whitelist (the exchange does not report it). */
  ip: string[] | null;
  /** The key it replaces, as a person recognises it. */
  replaces: { label: string; apiKeyStart: string; apiKeyEnd: string };
  needsPassphrase: boolean;
}

export type RotationEvent =
  | { type: "step"; slot: SlotRow }
  | { type: "failed"; slot: SlotRow }
  | { type: "waiting"; slot: SlotRow; reason: string }
  | { type: "create-steps"; slot: SlotRow; request: CreateRequest }
  | { type: "refused"; slot: SlotRow; reason: string }
  | { type: "revoke-steps"; slot: SlotRow; steps: ManualSteps }
  | { type: "grace"; slot: SlotRow; until: string };

export interface RotationDeps {
  home: KeywardHome;
  journal: RotationJournal;
  audit: AuditWriter;
  /** The adapter of an account (built anew after Keyward switched to an account's new key). */
  adapterFor(account: string): Promise<ExchangeAdapter>;
  /**
   * Assisted rotations: the new key's credentials from a person (hidden prompt, stdin). `refused` says
   * why the previous answer was refused. undefined: none now; the slot waits for `rotate resume`.
   */
  askCredentials?(
    request: CreateRequest,
    attempt: number,
    refused?: string,
  ): Promise<CredentialsInput | undefined>;
  onEvent?(event: RotationEvent): void;
  /**
   * The crash seam for tests (documented in engine.ts): called right after each journal write with the
   * step just written, and with `create-answered` / `revoke-answered` right after the exchange answered
   * a create / revoke and before that is journaled.
   */
  crashPoint?(point: string): void;
  /** Environment of exec targets and the check command; the shell strips secrets from it. */
  childEnv: NodeJS.ProcessEnv;
  /** Overrides of the step timings (verify deadline, polling, retries, command timeout): DEFAULT_TIMING. */
  timing?: Partial<Timing>;
  signal?: AbortSignal;
  now?(): number;
}

export interface Timing {
  /** How long a probe may stay inconclusive before verification fails. */
  verifyDeadlineMs: number;
  /** Between inconclusive probes, and between probes waiting for a person. */
  pollMs: number;
  /** Retries of a step that failed transiently (exchange unavailable, rate limited, lost create). */
  stepRetries: number;
  stepBackoffMs: number;
  /** exec targets and the check command. */
  commandTimeoutMs: number;
}

export const DEFAULT_TIMING: Timing = {
  verifyDeadlineMs: 60_000,
  pollMs: 1_000,
  stepRetries: 4,
  stepBackoffMs: 1_000,
  commandTimeoutMs: 120_000,
};

/** A step outcome: go on with the next step, or leave the slot waiting for a person. */
export type StepResult = "next" | { wait: string };

export interface SlotContext {
  run: RunRow;
  plan: PlanSlot;
  deps: RotationDeps;
  store: CredentialStore;
  timing: Timing;
  now(): number;
  /** Journals a step (with its audit entry), then passes the crash seam and tells the shell. */
  advance(
    row: SlotRow,
    step: Step,
    change: SlotChange,
    action: string,
    details?: Record<string, unknown>,
  ): Promise<SlotRow>;
  adapter(): Promise<ExchangeAdapter>;
  /** The old key as the adapter wants it. */
  oldRecord(): KeyRecord;
  sleep(ms: number): Promise<void>;
  /** Whether this process wrote the current `creating` record (so no reconciliation is owed). */
  freshCreate: boolean;
}

export function oldRecordOf(plan: PlanSlot): KeyRecord {
  const o = plan.old;
  const api = plan.method === "api";
  return {
    id: o.id,
    exchange: o.exchange,
    account: o.account,
    subAccount: o.subAccount,
    apiKey: o.apiKey,
    label: o.label,
    permissions: o.permissions,
    rawPermissions: o.rawPermissions,
    ip: o.ip,
    createdAt: null,
    // A plan carries no expiry: nothing done with the old record (revoke, verify) reads it.
    expiresAt: null,
    location: o.location,
    actions: { revoke: api ? "api" : "manual", create: api ? "api" : "manual" },
    probeable: false,
    state: "active",
    meta: o.meta,
  };
}
