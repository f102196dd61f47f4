/**
 * "Earlier revokes / scans (since the server started)": one line per run the server still holds, newest
 * first, each with a Show button. The Revoke and Scan pages say what a line holds (`describe`).
 */
import type { ReactNode } from "react";
import { time } from "../components.js";

export function EarlierRuns<R extends { id: string; startedAt: string }>({
  what,
  runs,
  describe,
  show,
}: {
  /** "revokes", "scans". */
  what: string;
  runs: readonly R[];
  /** The line after the run's start time. */
  describe(run: R): ReactNode;
  show(run: R): void;
}) {
  if (runs.length === 0) return null;
  return (
    <div className="panel">
      <h2>Earlier {what} (since the server started)</h2>
      <ul className="plain">
        {runs.map((r) => (
          <li key={r.id}>
            {time(r.startedAt)}: {describe(r)}{" "}
            <button type="button" className="link" onClick={() => show(r)}>
              Show
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
