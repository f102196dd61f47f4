/**
 * Bulk revoke: review the selection as a plan (what goes by API, what needs a person), type the number
 * of keys to confirm, then follow the run live (Server-Sent Events): per-key results, proof of death,
 * and the checklist of manual steps with "Verify now".
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import {
  type ApiError,
  get,
  type InventoryRowView,
  type JobView,
  type PlanView,
  post,
  type ResultView,
  type VerifyResponse,
} from "../api.js";
import type { InventoryState } from "../app.js";
import { ErrorBox, ProgressBar, RiskBadge, Spinner, time } from "../components.js";

interface Props {
  inventory: InventoryState;
  selected: ReadonlySet<string>;
  setSelected: (update: (prev: ReadonlySet<string>) => ReadonlySet<string>) => void;
  goInventory: () => void;
}

const seconds = (ms: number) => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);
const nameOf = (r: { label: string; apiKeyShort: string }) => r.label || r.apiKeyShort;

export function RevokePage({ inventory, selected, setSelected, goInventory }: Props) {
  const [plan, setPlan] = useState<PlanView | undefined>();
  const [planning, setPlanning] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [confirmText, setConfirmText] = useState("");
  const [starting, setStarting] = useState(false);
  const [jobId, setJobId] = useState<string | undefined>();
  const [recent, setRecent] = useState<JobView[]>([]);

  // A job already running (another tab, or before a reload) is shown at once.
  useEffect(() => {
    get<{ jobs: JobView[] }>("/api/revoke/jobs").then(
      ({ jobs }) => {
        setRecent(jobs);
        const active = jobs.find((j) => j.status === "running" || j.status === "waiting");
        if (active) setJobId(active.id);
      },
      (e: ApiError) => setError(e),
    );
  }, []);

  // A plan is for one selection: changing the selection asks for a new review.
  const selectionKey = [...selected].sort().join("\n");
  const planFor = useRef<string>("");
  useEffect(() => {
    if (plan && planFor.current !== selectionKey) {
      setPlan(undefined);
      setConfirmText("");
    }
  }, [selectionKey, plan]);

  const rows = useMemo(() => {
    const byId = new Map((inventory.data?.keys ?? []).map((k) => [k.id, k]));
    return [...selected].flatMap((id) => byId.get(id) ?? []);
  }, [inventory.data, selected]);

  const review = async () => {
    setPlanning(true);
    setError(undefined);
    try {
      const p = await post<PlanView>("/api/revoke/plan", { ids: [...selected] });
      planFor.current = selectionKey;
      setPlan(p);
      setConfirmText("");
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setPlanning(false);
    }
  };

  const execute = async () => {
    if (!plan?.planId) return;
    setStarting(true);
    setError(undefined);
    try {
      const { jobId: id } = await post<{ jobId: string }>("/api/revoke/execute", {
        planId: plan.planId,
        confirm: confirmText,
      });
      setJobId(id);
      setPlan(undefined);
      setConfirmText("");
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setStarting(false);
    }
  };

  if (jobId) {
    return (
      <JobPanel
        jobId={jobId}
        onDone={(job) => {
          const done = new Set(
            job.results.filter((r) => r.outcome !== "failed" && !r.pending).map((r) => r.id),
          );
          setSelected((prev) => new Set([...prev].filter((id) => !done.has(id))));
        }}
        startOver={() => {
          setJobId(undefined);
          void inventory.load(true);
          goInventory();
        }}
      />
    );
  }

  return (
    <section className="revoke">
      <div className="page-head">
        <h1>Bulk revoke</h1>
      </div>
      {error ? <ErrorBox error={error} title="Not done" /> : null}

      {selected.size === 0 ? (
        <div className="panel">
          <p>
            No keys selected. Select keys on the{" "}
            <button type="button" className="link" onClick={goInventory}>
              Inventory
            </button>{" "}
            page (tick them, or filter and “Select the N shown”), then come back here to review and revoke
            them.
          </p>
        </div>
      ) : (
        <div className="panel">
          <h2>
            1. Selection: {selected.size} key{selected.size === 1 ? "" : "s"}
          </h2>
          <SelectionTable rows={rows} />
          <div className="actions">
            <button type="button" onClick={goInventory}>
              Change selection
            </button>
            <button type="button" className="primary" onClick={() => void review()} disabled={planning}>
              {planning ? "Listing the keys live…" : "Review plan"}
            </button>
          </div>
          {planning ? (
            <Spinner label="Listing the selected keys live at the exchanges, then planning…" />
          ) : null}
        </div>
      )}

      {plan ? (
        <section className="panel plan" aria-label="Plan">
          <h2>2. Review</h2>
          {plan.accountErrors.map((a) => (
            <div className="warning" key={a.account}>
              {a.account}: could not list keys ({a.message}). Its keys cannot be revoked now.
              {a.hint ? <div className="hint">What to do: {a.hint}</div> : null}
            </div>
          ))}
          {plan.items.length === 0 ? (
            <p>None of the selected keys is still live: nothing to revoke. Refresh the inventory.</p>
          ) : (
            <>
              <p className="plan-summary" data-testid="plan-summary">
                {plan.items.length} key(s): <strong>{plan.byApi} by API</strong>,{" "}
                <strong>{plan.byPerson} by a person</strong> on the exchange's site. Keys that can withdraw go
                first. The API part takes about {seconds(plan.estimatedApiMs)} at the exchanges' rate limits
                {plan.accounts.length > 1 ? ` (${plan.accounts.length} accounts in parallel)` : ""}, plus
                verification.
                {plan.byPerson > 0
                  ? " For each key only a person can revoke, Keyward shows the steps, then probes the key until it is dead."
                  : ""}
              </p>
              <table className="table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>How</th>
                    <th>Exchange</th>
                    <th>Account</th>
                    <th>Sub-account</th>
                    <th>Label</th>
                    <th>API key</th>
                    <th>Permissions</th>
                    <th>Risks</th>
                  </tr>
                </thead>
                <tbody>
                  {plan.items.map((item) => (
                    <tr key={item.key.id} data-key-id={item.key.id}>
                      <td>{item.order}</td>
                      <td>
                        <span className={`badge how-${item.method}`}>
                          {item.method === "api" ? "API" : "PERSON"}
                        </span>
                      </td>
                      <td>{item.key.exchange}</td>
                      <td>{item.key.account}</td>
                      <td>{item.key.subAccount ?? (item.key.location === "master" ? "(master)" : "—")}</td>
                      <td>{item.key.label || "—"}</td>
                      <td className="mono">{item.key.apiKeyShort}</td>
                      <td>{item.key.permissions.join(", ")}</td>
                      <td>
                        {item.key.risks.map((r) => (
                          <RiskBadge key={r} risk={r} />
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <h2>3. Confirm</h2>
              <form
                className="confirm"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (confirmText.trim() === plan.confirmWith) void execute();
                }}
              >
                <label>
                  Type <strong>{plan.confirmWith}</strong> (the number of keys) to revoke them:{" "}
                  <input
                    aria-label="Type the number of keys to confirm"
                    value={confirmText}
                    onChange={(e) => setConfirmText(e.target.value)}
                    inputMode="numeric"
                    autoComplete="off"
                  />
                </label>
                <button
                  type="submit"
                  className="danger"
                  disabled={confirmText.trim() !== plan.confirmWith || starting}
                >
                  {starting
                    ? "Starting…"
                    : `Revoke ${plan.confirmWith} key${plan.confirmWith === "1" ? "" : "s"}`}
                </button>
                <span className="muted">This cannot be undone: programs using these keys stop working.</span>
              </form>
            </>
          )}
        </section>
      ) : null}

      {recent.length > 0 ? (
        <div className="panel">
          <h2>Earlier revokes (since the server started)</h2>
          <ul className="plain">
            {recent.map((j) => (
              <li key={j.id}>
                {time(j.startedAt)}: {j.total} key(s), {j.status}; verified {j.summary.verified}
                {j.summary.awaitingManual ? `, ${j.summary.awaitingManual} waiting for a person` : ""}
                {j.summary.failed ? `, ${j.summary.failed} failed` : ""}{" "}
                <button type="button" className="link" onClick={() => setJobId(j.id)}>
                  Show
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

function SelectionTable({ rows }: { rows: InventoryRowView[] }) {
  if (rows.length === 0) return <p className="muted">The selected keys are not in the loaded inventory.</p>;
  return (
    <table className="table compact">
      <thead>
        <tr>
          <th>Exchange</th>
          <th>Account</th>
          <th>Sub-account</th>
          <th>Label</th>
          <th>API key</th>
          <th>Revoke by</th>
        </tr>
      </thead>
      <tbody>
        {rows.slice(0, 200).map((k) => (
          <tr key={k.id}>
            <td>{k.exchange}</td>
            <td>{k.account}</td>
            <td>{k.subAccount ?? (k.location === "master" ? "(master)" : "—")}</td>
            <td>{k.label || "—"}</td>
            <td className="mono">{k.apiKeyShort}</td>
            <td>{k.management === "api" ? "API" : "person"}</td>
          </tr>
        ))}
        {rows.length > 200 ? (
          <tr>
            <td colSpan={6} className="muted">
              … and {rows.length - 200} more
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

// ---- a running (or finished) job

type Verify = { busy: boolean; result?: VerifyResponse; error?: ApiError };

const outcomeText = (r: ResultView): string => {
  if (r.pending) return "in progress";
  switch (r.outcome) {
    case "revoked":
      return "revoked";
    case "already-revoked":
      return "already revoked";
    case "awaiting-manual":
      return "waiting for a person";
    default:
      return "failed";
  }
};

function apply(job: JobView, type: string, data: Record<string, unknown>): JobView {
  const result = data.result as ResultView | undefined;
  const withResult = (r: ResultView) => ({
    ...job,
    results: job.results.map((x) => (x.id === r.id ? r : x)),
  });
  switch (type) {
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

function describe(type: string, data: Record<string, unknown>): string | undefined {
  const r = data.result as ResultView | undefined;
  const who = r ? `${nameOf(r)} (${r.account})` : "";
  switch (type) {
    case "started":
      return `Started: ${data.total} key(s), ${data.byApi} by API, ${data.byPerson} by a person.`;
    case "revoked":
      return `${who}: ${r?.outcome === "already-revoked" ? "was already revoked" : "revoked by API"}.`;
    case "failed":
      return `${who}: FAILED: ${r?.error?.message ?? "unknown error"}.`;
    case "verified":
      return `${who}: ${r?.verified ? "proven dead" : "NOT proven dead"} (${r?.evidence.at(-1) ?? ""}).`;
    case "manual-steps":
      return `${who}: only a person can revoke it: see the checklist.`;
    case "manual-waiting":
      return `Waiting for ${data.pending} manual revocation(s); probing until ${time(data.deadline as number)}.`;
    case "manual-done":
      return `${who}: proven dead after the manual step.`;
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

function JobPanel({
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
  const [log, setLog] = useState<string[]>([]);
  const [verify, setVerify] = useState<Record<string, Verify>>({});
  const [live, setLive] = useState(false);
  const doneRef = useRef(onDone);
  doneRef.current = onDone;

  const refresh = useCallback(async () => {
    try {
      setJob(await get<JobView>(`/api/revoke/jobs/${jobId}`));
    } catch (e) {
      setError(e as ApiError);
    }
  }, [jobId]);

  useEffect(() => {
    let closed = false;
    void refresh();
    const source = new EventSource(`/api/revoke/jobs/${jobId}/events`);
    const types = [
      "started",
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
    ];
    const handler = (type: string) => (e: MessageEvent<string>) => {
      const data = JSON.parse(e.data) as Record<string, unknown>;
      setJob((j) => (j ? apply(j, type, data) : j));
      const line = describe(type, data);
      if (line) setLog((l) => [...l.slice(-199), `${new Date().toLocaleTimeString()}  ${line}`]);
    };
    for (const t of types) source.addEventListener(t, handler(t) as EventListener);
    source.addEventListener("end", () => {
      source.close();
      setLive(false);
      if (!closed) void refresh();
    });
    source.onopen = () => setLive(true);
    source.onerror = () => setLive(false);
    return () => {
      closed = true;
      source.close();
    };
  }, [jobId, refresh]);

  const active = job?.status === "running" || job?.status === "waiting";
  useEffect(() => {
    if (job && !active) doneRef.current(job);
  }, [job, active]);

  const verifyNow = async (keyId: string) => {
    setVerify((v) => ({ ...v, [keyId]: { busy: true } }));
    try {
      const result = await post<VerifyResponse>(`/api/revoke/jobs/${jobId}/verify`, { keyId });
      setVerify((v) => ({ ...v, [keyId]: { busy: false, result } }));
      if (result.recorded) void refresh();
    } catch (e) {
      setVerify((v) => ({ ...v, [keyId]: { busy: false, error: e as ApiError } }));
    }
  };

  const stop = async () => {
    try {
      setJob(await post<JobView>(`/api/revoke/jobs/${jobId}/stop`));
    } catch (e) {
      setError(e as ApiError);
    }
  };

  if (!job) return error ? <ErrorBox error={error} /> : <Spinner label="Loading the revoke…" />;

  const results = job.results;
  const apiResults = results.filter((r) => r.method === "api");
  const apiDone = apiResults.filter((r) => !r.pending).length;
  const verified = results.filter((r) => r.verified).length;
  const manual = results.filter((r) => r.method === "manual");
  const manualDone = manual.filter((r) => r.verified || (r.outcome === "failed" && !r.pending)).length;
  const failed = results.filter((r) => !r.pending && r.outcome === "failed").length;
  const waiting = results.filter((r) => r.outcome === "awaiting-manual").length;
  const byId = new Map(results.map((r) => [r.id, r]));

  return (
    <section className="revoke job">
      <div className="page-head">
        <h1>Revoking {job.total} key(s)</h1>
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
          {verified} of {job.total} proven dead
          {waiting ? `, ${waiting} waiting for a person` : ""}
          {failed ? `, ${failed} failed` : ""}
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
                      {steps.exchange}: revoke “{steps.recognise.label || "(no label)"}” (
                      {steps.recognise.apiKeyStart}…{steps.recognise.apiKeyEnd})
                    </strong>{" "}
                    <span className={`badge ${done ? "ok" : "wait"}`} data-testid="manual-status">
                      {done
                        ? "proven dead"
                        : r?.outcome === "awaiting-manual"
                          ? "waiting for you"
                          : r
                            ? outcomeText(r)
                            : ""}
                    </span>
                  </div>
                  <div>
                    Page:{" "}
                    <a href={steps.url} target="_blank" rel="noopener noreferrer">
                      {steps.url}
                    </a>{" "}
                    <span className="muted">({steps.recognise.where})</span>
                  </div>
                  <ol className="steps">
                    {steps.steps.map((s) => (
                      <li key={s}>{s}</li>
                    ))}
                  </ol>
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
                <td>{r.method === "api" ? "API" : "person"}</td>
                <td>{r.exchange}</td>
                <td>
                  {r.account}
                  {r.subAccount ? ` / ${r.subAccount}` : ""}
                </td>
                <td>{r.label || "—"}</td>
                <td className="mono">{r.apiKeyShort}</td>
                <td className="detail">
                  {r.error ? (
                    <>
                      {r.error.message}
                      {r.error.hint ? <div className="hint">What to do: {r.error.hint}</div> : null}
                    </>
                  ) : (
                    (r.evidence.at(-1) ?? "")
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      <div className="panel">
        <h2>Live log</h2>
        <pre className="log" aria-live="polite">
          {log.length ? log.join("\n") : "Waiting for events…"}
        </pre>
      </div>
    </section>
  );
}
