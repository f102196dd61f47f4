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

/**
 * The exchange's page for a manual step (with where on it the key is listed) and its steps. The page's
 * URL is shown once: as a link inside the step that names it ("Open … (account menu → API Keys)"), or,
 * when no step does, on a line of its own above them; `where` is shown without it ("in the list of API
 * keys", not the URL a third time).
 */
export function ManualStepsList({ url, steps, where }: { url: string; steps: string[]; where?: string }) {
  const link = (
    <a href={url} target="_blank" rel="noopener noreferrer">
      {url}
    </a>
  );
  const named = steps.some((s) => s.includes(url));
  const place = where
    ?.replace(url, "")
    .replace(/^[\s,;:]+/, "")
    .trim();
  const placeNote = place ? <span className="muted">({place})</span> : null;
  return (
    <>
      {named ? (
        placeNote ? (
          <div>{placeNote}</div>
        ) : null
      ) : (
        <div>
          Page: {link}
          {placeNote ? <> {placeNote}</> : null}
        </div>
      )}
      <ol className="steps">
        {steps.map((s) => {
          const at = s.indexOf(url);
          return (
            <li key={s}>
              {at < 0 ? (
                s
              ) : (
                <>
                  {s.slice(0, at)}
                  {link}
                  {s.slice(at + url.length)}
                </>
              )}
            </li>
          );
        })}
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
