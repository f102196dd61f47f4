/**
 * The journal's steps, and the order a slot goes through them by method (the protocol is in
 * schemas.ts). Plain data with no imports, so the browser entry (browser.ts) can carry it.
 */
export const STEPS = [
  "planned",
  "creating",
  "awaiting-new-key",
  "created",
  "verified",
  "delivering",
  "delivered",
  "checked",
  "revoking",
  "awaiting-revoke",
  "revoked",
  "dead",
  "finished",
  "aborted",
] as const;

type StepName = (typeof STEPS)[number];

/** A key created and revoked by API, step by step (`aborted` ends a slot off this path). */
export const API_STEPS: readonly StepName[] = [
  "planned",
  "creating",
  "created",
  "verified",
  "delivering",
  "delivered",
  "checked",
  "revoking",
  "revoked",
  "dead",
  "finished",
];

/** A key a person creates and revokes on the exchange's site, step by step. */
export const ASSISTED_STEPS: readonly StepName[] = [
  "planned",
  "awaiting-new-key",
  "created",
  "verified",
  "delivering",
  "delivered",
  "checked",
  "awaiting-revoke",
  "dead",
  "finished",
];

/**
 * A key a person creates whose old key then deletes itself by API (the plan slot's `selfRevoke`: an
 * account's own key on an exchange that lets a key delete itself), step by step.
 */
export const ASSISTED_SELF_REVOKE_STEPS: readonly StepName[] = ASSISTED_STEPS.flatMap((step) =>
  step === "awaiting-revoke" ? (["revoking", "revoked"] as const) : [step],
);

/** The steps a slot of `method` goes through, in order (`selfRevoke`: the plan slot's flag). */
export const stepsOf = (method: "api" | "assisted", selfRevoke = false): readonly StepName[] =>
  method === "api" ? API_STEPS : selfRevoke ? ASSISTED_SELF_REVOKE_STEPS : ASSISTED_STEPS;
