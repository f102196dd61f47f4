/** Small pieces the pages share: error boxes that say what to do, risk badges, progress, time. */
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

export const RISK_TEXT: Record<string, string> = {
  withdraw: "can withdraw funds",
  transfer: "can move funds between accounts",
  "no-ip": "not bound to any IP address (usable from anywhere)",
  old: "older than the configured maximum age",
  "okx-idle-expiry": "OKX trade key without IP binding: expires after 14 idle days",
  unverified: "Keyward cannot see its permissions",
};

export function RiskBadge({ risk }: { risk: string }) {
  return (
    <span className={`badge risk-${risk}`} title={RISK_TEXT[risk] ?? risk}>
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
export const dateTime = (iso: string) => new Date(iso).toLocaleString();
