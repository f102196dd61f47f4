/**
 * Check: the policy check `keyward check` runs (core's checkPolicy, the home's policy.json), grouped by
 * severity; each key's finding links to that key in the inventory. Every load checks live.
 */
import { useCallback, useEffect, useState } from "react";
import { type ApiError, api, type CheckResponse, call } from "../api.js";
import { ErrorBox, Spinner, time } from "../components.js";
import { useAction } from "../hooks/use-action.js";

type FindingView = CheckResponse["findings"][number];

/** "okx desk-okx/deskBots01 bot-2 5e1f…0012", or the account alone for an account's finding. */
const subject = (f: FindingView) =>
  [
    `${f.exchange} ${f.account}${f.subAccount ? `/${f.subAccount}` : ""}`,
    ...(f.keyId ? [f.label, f.apiKeyShort] : []),
  ]
    .filter(Boolean)
    .join(" ");

function FindingList({ title, findings }: { title: string; findings: FindingView[] }) {
  if (findings.length === 0) return null;
  const severity = findings[0]?.severity ?? "warning";
  return (
    <div className="panel" data-testid={`${severity}-findings`}>
      <h2>
        {title} ({findings.length})
      </h2>
      <table className="table compact">
        <thead>
          <tr>
            <th>Rule</th>
            <th>Key or account</th>
            <th>Finding</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {findings.map((f) => (
            <tr key={`${f.rule}:${f.keyId ?? f.account}:${f.message}`} data-rule={f.rule}>
              <td>
                <span className={`badge ${severity === "error" ? "health-error" : "risk-old"}`}>
                  {f.rule}
                </span>
              </td>
              <td>{subject(f)}</td>
              <td>{f.message}</td>
              <td className="nowrap">
                {f.keyId ? <a href={`/inventory?q=${encodeURIComponent(f.keyId)}`}>in inventory</a> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function CheckPage() {
  const [report, setReport] = useState<CheckResponse | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [running, runCheck] = useAction(setError);

  const run = useCallback(
    () =>
      runCheck(async () => {
        setReport(await call(api.check.$get({ query: {} })));
      }),
    [runCheck],
  );

  useEffect(() => {
    void run();
  }, [run]);

  return (
    <section className="check">
      <div className="page-head">
        <h1>Policy check</h1>
        <div className="actions">
          {report ? <span className="muted">checked {time(report.checkedAt)}</span> : null}
          <button type="button" onClick={() => void run()} disabled={running}>
            {running ? "Checking…" : "Run again"}
          </button>
        </div>
      </div>
      {error ? <ErrorBox error={error} title="Could not run the policy check" /> : null}
      {!report && !error ? <Spinner label="Checking every key against the policy…" /> : null}
      {report ? (
        <>
          <div className={report.counts.error > 0 ? "error" : "ok-box"} data-testid="check-summary">
            {report.summary}
          </div>
          <p className="muted">
            Policy:{" "}
            {report.policy === "defaults"
              ? "the built-in defaults (no policy.json in the home)"
              : report.policy}
            . The same check runs from cron or CI with <code>keyward check</code>.
          </p>
          <FindingList title="Errors" findings={report.findings.filter((f) => f.severity === "error")} />
          <FindingList title="Warnings" findings={report.findings.filter((f) => f.severity === "warning")} />
        </>
      ) : null}
    </section>
  );
}
