/**
 * The shared permission vocabulary every exchange's permissions are normalised to (each profile says
 * how). Plain data with no imports, so the browser entry (browser.ts) can carry it.
 */
export const PERMISSIONS = ["read", "trade", "withdraw", "transfer", "funding", "settings"] as const;
