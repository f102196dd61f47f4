/**
 * A running (or finished) bulk revoke, followed live (Server-Sent Events): progress, per-key results and
 * proof of death, and the checklist of manual steps with "Verify now".
 */
import {
  howWord,
  PROVEN_WORDS,
  REVOKE_OUTCOME_WORDS,
  revokeResultWords,
  visibleText,
  WAITING_WORDS,
} from "@keyward/core/browser";
import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, api, call, type JobView, type ResultView, type VerifyResponse } from "../api.js";
import { ErrorOrEvidence, LiveLog, ManualStepsList } from "../components/job-parts.js";
import { revokeTitle, useDocumentTitle } from "../components/job-title.js";
import {
  applySecondFactorEvent,
  type Challenge,
  SECOND_FACTOR_EVENTS,
  SecondFactorField,
} from "../components/second-factor.js";
import { ErrorBox, ProgressBar, Spinner, time } from "../components.js";
import { type EventData, useLiveEvents } from "../hooks/use-live-events.js";

const nameOf = (r: { label: string; apiKeyShort: string }) => visibleText(r.label) || r.apiKeyShort;

type Verify = { busy: boolean; result?: VerifyResponse; error?: ApiError };

/**
 * In core's words (the CLI's and the audit log's): "revoked, verified", "revoked, unverified (probe
 * inconclusive)", "waiting for a person". Only a key switched off whose removal is still coming has a
 * word of its own here, as the CLI's progress line does.
 */
const outcomeText = (r: ResultView): string => {
  if (r.pending) return "in progress";
  if (r.outcome === "disabled" && !r.error) return "disabled, removing…";
  return revokeResultWords(r);
};

const EVENT_TYPES = [
  "started",
  "disabled",
  "revoked",
  "failed",
  "verified",
  "manual-steps",
  "manual-waiting",
  "manual-done",
  "verify-now",
  "stopping",
  "summary",
  "finished",
  "error",
  ...SECOND_FACTOR_EVENTS,
];

function apply(job: JobView, type: string, data: EventData): JobView {
  const result = data.result as ResultView | undefined;
  const withResult = (r: ResultView) => ({
    ...job,
    results: job.results.map((x) => (x.id === r.id ? r : x)),
  });
  switch (type) {
    case "disabled":
    case "revoked":
    case "failed":
    case "verified":
    case "manual-done":
      return result ? withResult(result) : job;
    case "manual-steps": {
      if (!result) return job;
      const next = withResult(result);
      const steps = data.steps as JobView["checklist"][number]["steps"];
      return next.checklist.some((c) => c.keyId === result.id)
        ? next
        : { ...next, checklist: [...next.checklist, { keyId: result.id, steps }] };
    }
    case "manual-waiting":
      return { ...job, status: "waiting", manualDeadline: data.deadline as number };
    case "finished":
      return {
        ...job,
        status: "finished",
        results: data.results as ResultView[],
        summary: data.summary as JobView["summary"],
      };
    case "summary":
      return { ...job, summary: data.summary as JobView["summary"] };
    case "error":
      return { ...job, status: "error", error: data as JobView["error"] };
    default:
      return job;
  }
}

function describe(type: string, data: EventData): string | undefined {
  const r = data.result as ResultView | undefined;
  const who = r ? `${nameOf(r)} (${r.account})` : "";
  switch (type) {
    case "started":
      return `Started: ${data.total} key(s), ${data.byApi} by API, ${data.byPerson} by a person.`;
    case "disabled":
      return `${who}: disabled (the exchange's kill switch); removing it once the account's others are disabled.`;
    case "revoked":
      return `${who}: ${r?.outcome === "already-revoked" ? `was ${REVOKE_OUTCOME_WORDS["already-revoked"]}` : r?.disabledFirst ? "removed by API" : "revoked by API"}.`;
    case "failed":
      return r?.outcome === "disabled"
        ? `${who}: DISABLED but NOT removed: ${r.error?.message ?? "unknown error"}. Run the revoke again to remove it.`
        : `${who}: FAILED: ${r?.error?.message ?? "unknown error"}.`;
    case "verified":
      return `${who}: ${r?.verified ? PROVEN_WORDS.yes : PROVEN_WORDS.no} (${r?.evidence.at(-1) ?? ""}).`;
    case "manual-steps":
      return `${who}: only a person can revoke it: see the checklist.`;
    case "manual-waiting":
      return `Waiting for ${data.pending} manual revocation(s); probing until ${time(data.deadline as number)}.`;
    case "manual-done":
      return `${who}: ${PROVEN_WORDS.yes} after the manual step.`;
    case "verify-now":
      return `Verify now: ${data.status} (${data.evidence}).`;
    case "stopping":
      return "Stopping: no more waiting for manual steps.";
    case "finished":
      return "Finished.";
    case "error":
      return `Could not run: ${data.message}`;
    default:
      return undefined;
  }
}

/** The job's counts for its title: how many keys ended which way. */
function countsOf(job: JobView) {
  const over = job.results.filter((r) => !r.pending);
  return {
    total: job.total,
    proven: over.filter((r) => r.verified).length,
    waiting: over.filter((r) => r.outcome === "awaiting-manual").length,
    failed: over.filter((r) => r.outcome === "failed").length,
    disabledOnly: over.filter((r) => r.outcome === "disabled" && r.error).length,
    unproven: over.filter((r) => !r.verified && (r.outcome === "revoked" || r.outcome === "already-revoked"))
      .length,
  };
}

export function JobPanel({
  jobId,
  onDone,
  startOver,
}: {
  jobId: string;
  onDone: (job: JobView) => void;
  startOver: () => void;
}) {
  const [job, setJob] = useState<JobView | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [verify, setVerify] = useState<Record<string, Verify>>({});
  const [challenges, setChallenges] = useState<Challenge[]>([]);
  const doneRef = useRef(onDone);
  doneRef.current = onDone;

  const loaded = useRef(false);
  const asked = useRef(0);
  // Only the latest answer is kept: an older one could undo events applied since.
  const refresh = useCallback(async () => {
    const ask = ++asked.current;
    try {
      const view = await call(api.revoke.jobs[":id"].$get({ param: { id: jobId } }));
      if (ask !== asked.current) return;
      loaded.current = true;
      setJob(view);
    } catch (e) {
      if (ask === asked.current) setError(e as ApiError);
    }
  }, [jobId]);

  useEffect(() => {
    void refresh();
  }, [refresh]);
  const { log, live } = useLiveEvents(
    `/api/revoke/jobs/${jobId}/events`,
    EVENT_TYPES,
    (type, data) => {
      if (SECOND_FACTOR_EVENTS.includes(type)) {
        setChallenges((open) => applySecondFactorEvent(open, type, data).open);
        return applySecondFactorEvent([], type, data).line;
      }
      // An event that arrives before the first view would be lost (there is nothing to apply it to,
      // and that view may have been taken before the event): ask again, after it.
      if (loaded.current) setJob((j) => (j ? apply(j, type, data) : j));
      else void refresh();
      return describe(type, data);
    },
    () => void refresh(),
  );

  const active = job?.status === "running" || job?.status === "waiting";
  useEffect(() => {
    if (job && !active) doneRef.current(job);
  }, [job, active]);

  const verifyNow = async (keyId: string) => {
    setVerify((v) => ({ ...v, [keyId]: { busy: true } }));
    try {
      const result = await call(
        api.revoke.jobs[":id"].verify.$post({ param: { id: jobId }, json: { keyId } }),
      );
      setVerify((v) => ({ ...v, [keyId]: { busy: false, result } }));
      if (result.recorded) void refresh();
    } catch (e) {
      setVerify((v) => ({ ...v, [keyId]: { busy: false, error: e as ApiError } }));
    }
  };

  const stop = async () => {
    try {
      setJob(await call(api.revoke.jobs[":id"].stop.$post({ param: { id: jobId }, json: {} })));
    } catch (e) {
      setError(e as ApiError);
    }
  };

  const title = job ? revokeTitle(job.status, countsOf(job)) : "Revoke";
  useDocumentTitle(title);

  if (!job) return error ? <ErrorBox error={error} /> : <Spinner label="Loading the revoke…" />;

  const results = job.results;
  const apiResults = results.filter((r) => r.method === "api");
  // A key only switched off so far is not done: its removal is still to come.
  const apiDone = apiResults.filter((r) => !r.pending && !(r.outcome === "disabled" && !r.error)).length;
  const verified = results.filter((r) => r.verified).length;
  const manual = results.filter((r) => r.method === "manual");
  const manualDone = manual.filter((r) => r.verified || (r.outcome === "failed" && !r.pending)).length;
  const failed = results.filter((r) => !r.pending && r.outcome === "failed").length;
  const waiting = results.filter((r) => r.outcome === "awaiting-manual").length;
  const disabledOnly = results.filter((r) => r.outcome === "disabled" && r.error).length;
  const byId = new Map(results.map((r) => [r.id, r]));

  return (
    <section className="revoke job">
      <div className="page-head">
        <h1 data-testid="job-title">{title}</h1>
        <div className="actions">
          <span className={`badge status-${job.status}`} data-testid="job-status">
            {job.status === "running"
              ? "running"
              : job.status === "waiting"
                ? "waiting for manual steps"
                : job.status === "finished"
                  ? "finished"
                  : "could not run"}
          </span>
          {active ? <span className="muted">{live ? "live" : "reconnecting…"}</span> : null}
          {active ? (
            <button type="button" onClick={() => void stop()}>
              {job.status === "waiting" ? "Stop waiting" : "Stop"}
            </button>
          ) : (
            <button type="button" className="primary" onClick={startOver}>
              Back to the inventory
            </button>
          )}
        </div>
      </div>
      {error ? <ErrorBox error={error} /> : null}
      {active
        ? challenges.map((c) => (
            <SecondFactorField
              key={c.challengeId}
              challenge={c}
              send={async (code) => {
                await call(
                  api.revoke.jobs[":id"]["second-factor"].$post({
                    param: { id: jobId },
                    json: { challengeId: c.challengeId, code },
                  }),
                );
              }}
              cancel={async () => {
                await call(
                  api.revoke.jobs[":id"]["second-factor"].cancel.$post({
                    param: { id: jobId },
                    json: { challengeId: c.challengeId },
                  }),
                );
              }}
            />
          ))
        : null}
      {job.error ? (
        <ErrorBox
          error={Object.assign(new Error(job.error.message), { hint: job.error.hint })}
          title="The revoke could not run"
        />
      ) : null}

      <div className="panel">
        {job.byApi > 0 ? <ProgressBar done={apiDone} total={job.byApi} label="Revoked by API" /> : null}
        {job.byPerson > 0 ? (
          <ProgressBar done={manualDone} total={job.byPerson} label="Manual steps proven" />
        ) : null}
        <ProgressBar done={verified} total={job.total} label="Proven dead" />
        <p className="summary" data-testid="job-summary">
          {verified} of {job.total} {PROVEN_WORDS.yes}
          {waiting ? `, ${waiting} ${WAITING_WORDS}` : ""}
          {failed ? `, ${failed} ${REVOKE_OUTCOME_WORDS.failed}` : ""}
          {disabledOnly ? `, ${disabledOnly} ${REVOKE_OUTCOME_WORDS.disabled}` : ""}
          {job.status === "waiting" && job.manualDeadline
            ? ` — probing until ${time(job.manualDeadline)}`
            : ""}
          .
          {!active && job.status === "finished" && verified === job.total
            ? " Every key is revoked and proven dead."
            : ""}
          {!active && waiting > 0
            ? " Keyward stopped waiting: do the remaining steps, then use Verify now to prove them."
            : ""}
          {!active && failed > 0
            ? " Failed keys are still live: see each one's reason below, fix it, and revoke them again."
            : ""}
          {!active && disabledOnly > 0
            ? " Disabled keys fail authentication now, but can be enabled again: revoke them again to remove them."
            : ""}
        </p>
      </div>

      {job.checklist.length > 0 ? (
        <section className="panel checklist" aria-label="Manual checklist">
          <h2>Only a person can revoke these: do each step, Keyward proves the result</h2>
          <ol>
            {job.checklist.map(({ keyId, steps }) => {
              const r = byId.get(keyId);
              const v = verify[keyId];
              const done = r?.verified ?? false;
              return (
                <li key={keyId} className={done ? "done" : ""} data-key-id={keyId}>
                  <div className="check-head">
                    <strong>
                      {steps.exchange}: revoke “{visibleText(steps.recognise.label) || "(no label)"}” (
                      {steps.recognise.apiKeyStart}…{steps.recognise.apiKeyEnd})
                    </strong>{" "}
                    <span className={`badge ${done ? "ok" : "wait"}`} data-testid="manual-status">
                      {done
                        ? PROVEN_WORDS.yes
                        : r?.outcome === "awaiting-manual"
                          ? "waiting for you"
                          : r
                            ? outcomeText(r)
                            : ""}
                    </span>
                  </div>
                  <ManualStepsList url={steps.url} steps={steps.steps} where={steps.recognise.where} />
                  {!done && r?.outcome === "awaiting-manual" ? (
                    <div className="verify">
                      <button type="button" onClick={() => void verifyNow(keyId)} disabled={v?.busy}>
                        {v?.busy ? "Probing…" : "Verify now"}
                      </button>
                      {v?.result ? (
                        <span className={`verify-result ${v.result.status}`}>
                          {v.result.status === "dead"
                            ? v.result.recorded
                              ? "Dead: proven and recorded."
                              : "Dead: the running revoke records it within seconds."
                            : v.result.status === "alive"
                              ? "Still alive: the exchange still accepts this key. Finish the steps above, then verify again."
                              : `Inconclusive (${v.result.evidence}): try again in a moment.`}
                        </span>
                      ) : null}
                      {v?.error ? <ErrorBox error={v.error} title="Could not verify" /> : null}
                    </div>
                  ) : null}
                </li>
              );
            })}
          </ol>
        </section>
      ) : null}

      <div className="panel">
        <h2>Per-key results</h2>
        <table className="table results">
          <thead>
            <tr>
              <th>Outcome</th>
              <th>Proven dead</th>
              <th>How</th>
              <th>Exchange</th>
              <th>Account</th>
              <th>Label</th>
              <th>API key</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={r.id} data-key-id={r.id} className={`outcome-${r.pending ? "pending" : r.outcome}`}>
                <td>{outcomeText(r)}</td>
                <td data-testid="verified">{r.pending ? "…" : r.verified ? "yes" : "no"}</td>
                <td>{howWord(r.method)}</td>
                <td>{r.exchange}</td>
                <td>
                  {r.account}
                  {r.subAccount ? ` / ${r.subAccount}` : ""}
                </td>
                <td>
                  {visibleText(r.label) || "—"}{" "}
                  {r.stale ? (
                    <span className="badge stale" title={`known from the listing of ${r.stale.fetchedAt}`}>
                      stale
                    </span>
                  ) : null}
                  {r.accountKey ? <span className="badge own">Keyward's own key</span> : null}
                </td>
                <td className="mono">{r.apiKeyShort}</td>
                <ErrorOrEvidence error={r.error} evidence={r.evidence} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <LiveLog log={log} idle="Waiting for events…" />
    </section>
  );
}
