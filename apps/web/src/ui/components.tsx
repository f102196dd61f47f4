/** Small pieces the pages share: error boxes that say what to do, risk badges, progress, time. */
import { SHARED_RISK_TEXT, timeLeft } from "@keyward/core/browser";
import type { ApiError } from "./api.js";

export function ErrorBox({ error, title }: { error: ApiError | Error; title?: string }) {
  const hint = "hint" in error ? error.hint : undefined;
  return (
    <div className="error" role="alert">
      <strong>{title ?? "Something went wrong"}:</strong> {error.message}
      {hint ? <div className="hint">What to do: {hint}</div> : null}
    </div>
  );
}

/** What each risk flag means: the shared ones from core, each exchange's from the server (`learnFacts`). */
export const RISK_TEXT: Record<string, string> = { ...SHARED_RISK_TEXT };
const SHARED_RISKS = new Set(Object.keys(RISK_TEXT));

/** What the UI knows of each exchange, from the server's inventory answer (the browser loads no profile). */
export const EXCHANGE_FACTS: Record<string, { name: string; reportsIpWhitelist: boolean }> = {};

export function learnFacts(data: {
  exchanges: typeof EXCHANGE_FACTS;
  risks: Readonly<Record<string, string>>;
}): void {
  Object.assign(EXCHANGE_FACTS, data.exchanges);
  for (const [risk, text] of Object.entries(data.risks)) if (!SHARED_RISKS.has(risk)) RISK_TEXT[risk] = text;
}

export function RiskBadge({ risk }: { risk: string }) {
  // An exchange's own risk flags share one style (styles.css `.risk-exchange`).
  const kind = SHARED_RISKS.has(risk) ? `risk-${risk}` : `risk-${risk} risk-exchange`;
  return (
    <span className={`badge ${kind}`} title={RISK_TEXT[risk] ?? risk}>
      {risk}
    </span>
  );
}

export function Spinner({ label }: { label: string }) {
  return (
    <div className="spinner" role="status">
      <span className="dot" aria-hidden="true" /> {label}
    </div>
  );
}

export function ProgressBar({ done, total, label }: { done: number; total: number; label: string }) {
  const pct = total === 0 ? 100 : Math.round((done / total) * 100);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={total}
      aria-valuenow={done}
      aria-label={label}
    >
      <div className="progress-fill" style={{ width: `${pct}%` }} />
      <span className="progress-text">
        {label}: {done} / {total}
      </span>
    </div>
  );
}

export const time = (iso: string | number) => new Date(iso).toLocaleTimeString();

/** How old a stale listing is: "4 min", "2 h", "3 d". */
export function ageText(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

/** A key the exchange did not list just now, shown from the last successful listing. */
export function StaleBadge({ stale }: { stale: { fetchedAt: string; ageMs: number } | null }) {
  if (!stale) return null;
  return (
    <span className="badge stale" title={`from the listing of ${dateTime(stale.fetchedAt)}`}>
      stale {ageText(stale.ageMs)}
    </span>
  );
}
export const dateTime = (iso: string) => new Date(iso).toLocaleString();

/**
 * The time left before the exchange stops a key ("expires in 10 d", "expires in 5 h", "expired"), with
 * the full date in the title; nothing for a key that does not expire. Whole days rounded down, as the CLI
 * and rotation plans count them, so it never promises more time than there is. Whether that is soon
 * enough to worry is the exchange's risk flag beside it (e.g. within 14 days), not decided here.
 */
export function ExpiryNote({ expiresAt }: { expiresAt: string | null }) {
  const left = timeLeft(expiresAt);
  if (!left || expiresAt === null) return null;
  const text = left.expired ? "expired" : `expires in ${left.amount} ${left.unit}`;
  return (
    <span className="expiry" title={`${left.expired ? "expired" : "expires"} ${dateTime(expiresAt)}`}>
      {text}
    </span>
  );
}
