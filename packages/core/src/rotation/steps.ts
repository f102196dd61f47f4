/**
 * The journal's steps, and the order a slot goes through them by method (the protocol is in
 * schemas.ts). Plain data with no imports, so the browser entry (browser.ts) can carry it.
 */
export const STEPS = [
  "planned",
  "creating",
  "resetting",
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

/**
 * A key given a new secret in place (the plan slot's `reset`: same key id), step by step. No grace and no
 * revoke: the old secret dies the moment the new one exists; `finished` is journaled once a probe with the
 * old secret (where Keyward holds it) says it is dead.
 */
export const RESET_STEPS: readonly StepName[] = [
  "planned",
  "resetting",
  "created",
  "verified",
  "delivering",
  "delivered",
  "checked",
  "finished",
];

/**
 * A new key that replaces none (the plan slot's `create`: `keyward key create`), step by step: no check,
 * grace or revoke, as there is no old key.
 */
export const CREATE_STEPS: readonly StepName[] = [
  "planned",
  "creating",
  "created",
  "verified",
  "delivering",
  "delivered",
  "finished",
];

/** The steps a slot of `method` goes through, in order (`selfRevoke`, `reset`, `create`: the plan slot's flags). */
export const stepsOf = (
  method: "api" | "assisted",
  selfRevoke = false,
  reset = false,
  create = false,
): readonly StepName[] =>
  create
    ? CREATE_STEPS
    : reset
      ? RESET_STEPS
      : method === "api"
        ? API_STEPS
        : selfRevoke
          ? ASSISTED_SELF_REVOKE_STEPS
          : ASSISTED_STEPS;

/**
 * A reset slot's evidence when Keyward did not hold the old secret: nothing was probed, so a page must not
 * say that slot's old secret is proven dead (its death rests on the exchange's reset).
 */
export const OLD_SECRET_NOT_PROBED = "Keyward did not hold the old secret: it could not be probed";

/**
 * A new key whose probe was inconclusive because it is bound to IPs other than this machine's, and which
 * the exchange's listing showed as specified: one wording for its evidence (rotation/verify.ts) and for
 * what the CLI and the web say of it, never plain "verified".
 */
export const VERIFIED_BY_LISTING =
  "verified by the exchange's listing (probe inconclusive: not whitelisted for this IP)";

/** What a finished key create proved, from its slot's evidence: "verified and delivered" only when a probe did. */
export const createdWords = (evidence: readonly string[]): string =>
  evidence.some((e) => e.includes(VERIFIED_BY_LISTING))
    ? `${VERIFIED_BY_LISTING}, and delivered`
    : "verified and delivered";
