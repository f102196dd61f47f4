/** Pieces the bulk revoke and bulk rotation pages share: type-to-confirm, manual steps, per-key detail, live log. */
import type { ReactNode } from "react";

/** "Type N (the number of keys) to <verb> them", and the button that does it. */
export function ConfirmCountForm({
  confirmWith,
  verb,
  inputLabel,
  value,
  onChange,
  starting,
  onConfirm,
  children,
}: {
  confirmWith: string;
  verb: "revoke" | "rotate";
  inputLabel: string;
  value: string;
  onChange: (value: string) => void;
  starting: boolean;
  onConfirm: () => void;
  children?: ReactNode;
}) {
  const action = `${verb[0]?.toUpperCase()}${verb.slice(1)}`;
  return (
    <form
      className="confirm"
      onSubmit={(e) => {
        e.preventDefault();
        if (value.trim() === confirmWith) onConfirm();
      }}
    >
      <label>
        Type <strong>{confirmWith}</strong> (the number of keys) to {verb} them:{" "}
        <input
          aria-label={inputLabel}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          inputMode="numeric"
          autoComplete="off"
        />
      </label>
      <button type="submit" className="danger" disabled={value.trim() !== confirmWith || starting}>
        {starting ? "Starting…" : `${action} ${confirmWith} key${confirmWith === "1" ? "" : "s"}`}
      </button>
      {children}
    </form>
  );
}

/** The exchange's page for a manual step (with anything to add after the link) and its steps. */
export function ManualStepsList({ url, steps, after }: { url: string; steps: string[]; after?: ReactNode }) {
  return (
    <>
      <div>
        Page:{" "}
        <a href={url} target="_blank" rel="noopener noreferrer">
          {url}
        </a>
        {after ? <> {after}</> : null}
      </div>
      <ol className="steps">
        {steps.map((s) => (
          <li key={s}>{s}</li>
        ))}
      </ol>
    </>
  );
}

/** A key's detail cell: its error and what to do, or else its latest evidence. */
export function ErrorOrEvidence({
  error,
  evidence,
}: {
  error: { message: string; hint?: string } | null | undefined;
  evidence: string[];
}) {
  return (
    <td className="detail">
      {error ? (
        <>
          {error.message}
          {error.hint ? <div className="hint">What to do: {error.hint}</div> : null}
        </>
      ) : (
        (evidence.at(-1) ?? "")
      )}
    </td>
  );
}

export function LiveLog({ log, idle }: { log: string[]; idle: string }) {
  return (
    <div className="panel">
      <h2>Live log</h2>
      <pre className="log" aria-live="polite">
        {log.length ? log.join("\n") : idle}
      </pre>
    </div>
  );
}
