/**
 * The rotation's vocabulary: the plan document (zod-validated, no secrets), the run options, the
 * journal's steps and the labels that carry a rotation's id.
 *
 * The protocol, per key (each step is journaled before the exchange or a target is touched):
 *
 *   planned → creating → created → verified → delivering → delivered → checked
 *           → revoking → revoked → dead → finished                           (API: keys created by API)
 *   planned → awaiting-new-key → created → verified → delivering → delivered → checked
 *           → awaiting-revoke → dead → finished                  (assisted: keys a person creates)
 *   planned → awaiting-new-key → created → verified → delivering → delivered → checked
 *           → revoking → revoked → dead → finished
 *                       (assisted, `selfRevoke`: the account's own key, created by a person, deleted by
 *                        API with its OWN credentials once Keyward has switched to the new key)
 *   planned → resetting → created → verified → delivering → delivered → checked → finished
 *                       (`reset`: a new secret for the same key id, by API; the old secret dies at the
 *                        reset, so there is no grace and no revoke; `finished` once a probe with the old
 *                        secret says dead)
 *
 * An API slot of the account's own key (`accountKey`, the profile's `master.create` "api") goes the API
 * way: the new key is created in the account itself (`new.subAccount` null), Keyward switches to it at
 * delivery, and the old key is deleted by API with the NEW key, once every other slot of the account in
 * this process has settled (engine.ts).
 *
 * `creating`, `resetting`, `delivering` and `revoking` are the write-ahead records: written before the
 * create, the reset, the first write to a target and the revoke, so a crash in the middle is found and reconciled by resume.
 * `aborted` ends a slot that `rotate abort` undid.
 */
import { z } from "zod";
import {
  ExchangeIdSchema,
  KeyLocationSchema,
  PermissionSchema,
  RawPermissionsSchema,
} from "../domain/schemas.js";
import { STEPS } from "./steps.js";
import { TargetOptionsShape, TargetSchema } from "./targets/index.js";

export { STEPS };
export const StepSchema = z.enum(STEPS);
export type Step = z.infer<typeof StepSchema>;

/** Steps after which the old key may already be gone: abort can no longer bring it back. */
export const PAST_REVOKE: readonly Step[] = ["revoking", "revoked", "dead", "finished"];

export const TERMINAL: readonly Step[] = ["finished", "aborted"];

/** `rot-` + 6 lower-case letters or digits. */
export const RunIdSchema = z.string().regex(/^rot-[a-z0-9]{6}$/, "must look like rot-k3f9q2");

const LABEL_SUFFIX = /-rot-[a-z0-9]{6}-\d+$/;

/** A label without the suffix an earlier rotation added: `bot-1-rot-k3f9q2-3` → `bot-1`. */
export const baseLabel = (label: string): string => label.replace(LABEL_SUFFIX, "") || label;

/** Exchanges do not all document a label length; Keyward keeps new labels within 32 characters. */
export const MAX_LABEL = 32;

/**
 * The new key's label: the old label's base, then `-<run id>-<slot>`. Unique per run and slot (so per
 * sub-account), it is the idempotency token of the create: a key found with it after a crash is ours.
 */
export function newLabel(oldLabel: string, runId: string, slot: number): string {
  const suffix = `-${runId}-${slot}`;
  const base = baseLabel(oldLabel).slice(0, Math.max(1, MAX_LABEL - suffix.length)) || "key";
  return `${base}${suffix}`;
}

export const PlanKeySchema = z.strictObject({
  id: z.string().min(1),
  exchange: ExchangeIdSchema,
  account: z.string().min(1),
  subAccount: z.string().nullable(),
  location: KeyLocationSchema,
  apiKey: z.string().min(1),
  label: z.string(),
  permissions: z.array(PermissionSchema),
  rawPermissions: RawPermissionsSchema,
  ip: z.array(z.string()),
  /** The key is the one Keyward manages its account with: Keyward itself switches to the new key. */
  accountKey: z.boolean(),
  /** Adapter facts, opaque to core (e.g. the account a key belongs to, a nonce scheme). */
  meta: z.record(z.string(), z.string()),
});
export type PlanKey = z.infer<typeof PlanKeySchema>;

export const NewKeySpecSchema = z.strictObject({
  label: z.string().min(1).max(64),
  subAccount: z.string().nullable(),
  permissions: z.array(PermissionSchema),
  /** Exactly as the exchange reports them (e.g. a scope matrix to tick, or a permission string). */
  rawPermissions: RawPermissionsSchema,
  /** null: the exchange does not report IP whitelists (its profile says), so the person copies the old one. */
  ip: z.array(z.string()).nullable(),
});

export const PlanSlotSchema = z.strictObject({
  slot: z.number().int().positive(),
  method: z.enum(["api", "assisted"]),
  old: PlanKeySchema,
  new: NewKeySpecSchema,
  deliver: z.array(TargetSchema),
  /**
   * Assisted slots of an account's own key that the exchange revokes by API (profile: `master.revoke`
   * "api"; the adapter's `revokeSelf`): once the new key is delivered, the old key is deleted by API with
   * its own credentials instead of by a person. Absent otherwise (older plans never have it).
   */
  selfRevoke: z.literal(true).optional(),
  /**
   * The key gets a new secret in place (same key id; the adapter's `resetKey`, profile
   * `keys[kind].resetInPlace` "api") instead of a new key: planned only when the person asked for it
   * (`--reset-in-place`), as the old secret dies the moment the new one exists (no grace period), and
   * applied only when they confirm it again. Absent otherwise (older plans never have it).
   */
  reset: z.literal(true).optional(),
  /**
   * A new key and nothing replaced (`keyward key create`): `old` then only says where the key goes (its
   * id and API key are `new:<label>`, never a real key), the steps end at `delivered → finished` (no
   * check, grace or revoke), and the label the person chose is the create's idempotency token. Absent
   * otherwise (older plans never have it).
   */
  create: z.literal(true).optional(),
  /** Things the operator should know (no IP binding, …). */
  notes: z.array(z.string()).default([]),
});
export type PlanSlot = z.infer<typeof PlanSlotSchema>;

export const RefusedKeySchema = z.strictObject({
  id: z.string(),
  exchange: ExchangeIdSchema,
  account: z.string(),
  label: z.string(),
  apiKey: z.string(),
  reason: z.string(),
});
export type RefusedKey = z.infer<typeof RefusedKeySchema>;

export const PLAN_KIND = "keyward-rotation-plan";

export const RotationPlanSchema = z
  .strictObject({
    kind: z.literal(PLAN_KIND),
    version: z.literal(1),
    id: RunIdSchema,
    createdAt: z.iso.datetime(),
    /** The targets' options, each kind's own, by name (not secrets; targets/index.ts). */
    ...TargetOptionsShape,
    slots: z.array(PlanSlotSchema),
    refused: z.array(RefusedKeySchema),
    /** Time the API part takes at the exchanges' write limits (creates and deletes), accounts in parallel. */
    estimatedApiMs: z.number().int().min(0),
  })
  .superRefine((plan, ctx) => {
    plan.slots.forEach((s, i) => {
      if (s.slot !== i + 1)
        ctx.addIssue({ code: "custom", path: ["slots", i, "slot"], message: `must be ${i + 1}` });
    });
  });
export type RotationPlan = z.infer<typeof RotationPlanSchema>;

export const RunOptionsSchema = z.strictObject({
  /** Time between delivery (and the check) and revoking the old key. */
  graceMs: z.number().int().min(0),
  /** Run after delivery with the new key's id in KEYWARD_KEY_ID; non-zero stops before the revoke. */
  checkCmd: z.string().min(1).nullable(),
  /** Keys in progress at once. */
  concurrency: z.number().int().min(1).max(64),
  /** How long to wait for a person (assisted create, assisted revoke) before leaving the key waiting. */
  manualTimeoutMs: z.number().int().min(0),
});
export type RunOptions = z.infer<typeof RunOptionsSchema>;

export const DEFAULT_RUN_OPTIONS: RunOptions = {
  graceMs: 30_000,
  checkCmd: null,
  concurrency: 8,
  manualTimeoutMs: 15 * 60_000,
};
