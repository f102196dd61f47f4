/**
 * The risk flags every exchange shares, with what each means, and their danger order. Plain data with
 * no imports, so the browser entry (browser.ts) can carry it; each exchange's own flags come from its
 * profile (risk.ts adds them).
 */
export const SHARED_RISKS = {
  withdraw: "can withdraw funds",
  transfer: "can move funds between accounts",
  "no-ip": "not bound to any IP address (usable from anywhere)",
  old: "older than the configured maximum age",
} as const;

export const UNVERIFIED_RISK = "Keyward cannot see its permissions (no secret held, or probe inconclusive)";

export type SharedRisk = keyof typeof SHARED_RISKS | "unverified";

/** Every risk flag all exchanges share, and what it means. */
export const SHARED_RISK_TEXT: Readonly<Record<SharedRisk, string>> = {
  ...SHARED_RISKS,
  unverified: UNVERIFIED_RISK,
};

/**
 * How dangerous a key's flags are, for sorting: a key that can withdraw outranks one that can transfer,
 * which outranks any number of lesser flags.
 */
export const riskWeight = (risks: readonly string[]): number =>
  (risks.includes("withdraw") ? 100 : 0) + (risks.includes("transfer") ? 50 : 0) + risks.length;
