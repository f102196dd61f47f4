/**
 * The time left before a key stops working, as both shells show it: whole hours under a day (at least
 * one), else whole days, rounded down so it never promises more time than there is. Plain code with no
 * imports, so the browser entry (browser.ts) can carry it.
 */
export type TimeLeft = { expired: true } | { expired: false; amount: number; unit: "h" | "d" };

const HOUR_MS = 3_600_000;

/** Undefined for a key that does not expire (or an unreadable date). */
export function timeLeft(expiresAt: string | null, now = Date.now()): TimeLeft | undefined {
  if (expiresAt === null) return undefined;
  const ms = Date.parse(expiresAt) - now;
  if (Number.isNaN(ms)) return undefined;
  if (ms <= 0) return { expired: true };
  const hours = Math.floor(ms / HOUR_MS);
  return hours < 24
    ? { expired: false, amount: Math.max(1, hours), unit: "h" }
    : { expired: false, amount: Math.floor(hours / 24), unit: "d" };
}
