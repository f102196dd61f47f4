/**
 * Bulk rotation over core's engine: plan from the selection and delivery targets, review, type the
 * number of keys, then follow the run live; assisted keys ask here for the new key a person created;
 * stop, resume and abort. Secrets typed here go to the server's vault and are never sent back.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type ApiError, get, type InventoryRowView, post } from "../api.js";
import type { InventoryState } from "../app.js";
import { ErrorBox, ProgressBar, Spinner, time } from "../components.js";

interface PlanSlot {
  slot: number;
  method: "api" | "assisted";
  old: {
    id: string;
    exchange: string;
    account: string;
    subAccount: string | null;
    label: string;
    apiKey: string;
    permissions: string[];
  };
  new: { label: string; permissions: string[]; ip: string[] | null };
  notes: string[];
}
interface PlanView {
  plan: {
    id: string;
    slots: PlanSlot[];
    refused: { id: string; label: string; account: string; reason: string }[];
    estimatedApiMs: number;
  };
  targets: string[][];
  confirmWith: string;
  accountErrors: { account: string; message: string; hint?: string }[];
}
interface SlotRow {
  slot: number;
  method: "api" | "assisted";
  exchange: string;
  account: string;
  subAccount: string | null;
  oldLabel: string;
  oldApiKey: string;
  newLabel: string;
  newApiKey: string | null;
  step: string;
  delivered: string[];
  evidence: string[];
  error: { code: string; message: string; hint?: string; waiting?: boolean } | null;
}
interface CreateRequest {
  slot: number;
  exchange: string;
  account: string;
  steps: { url: string; steps: string[] };
  label: string;
  permissionsText: string;
  ip: string[] | null;
  replaces: { label: string; apiKeyStart: string; apiKeyEnd: string };
  needsPassphrase: boolean;
  attempt: number;
  refused: string | null;
}
interface RunView {
  id: string;
  state: "active" | "finished" | "aborted";
  createdAt: string;
  running: boolean;
  options: { graceMs: number };
  report: {
    summary: {
      total: number;
      finished: number;
      waiting: number;
      failed: number;
      aborted: number;
      active: number;
    };
    slots: { slot: number; outcome: string }[];
  };
  slots: SlotRow[];
  targets: string[][];
  createRequests: CreateRequest[];
  revokeSteps: { slot: number; steps: { url: string; steps: string[] } }[];
  grace: { slot: number; until: string }[];
}
interface AbortReport {
  state: string;
  slots: {
    slot: number;
    label: string;
    result: string;
    explanation: string;
    steps?: { url: string; steps: string[] };
  }[];
}

const API_STEPS = [
  "planned",
  "creating",
  "created",
  "verified",
  "delivering",
  "delivered",
  "checked",
  "revoking",
  "revoked",
  "dead",
  "finished",
];
const ASSISTED_STEPS = [
  "planned",
  "awaiting-new-key",
  "created",
  "verified",
  "delivering",
  "delivered",
  "checked",
  "awaiting-revoke",
  "dead",
  "finished",
];
const stepText = (row: SlotRow) => {
  const steps = row.method === "api" ? API_STEPS : ASSISTED_STEPS;
  const i = steps.indexOf(row.step);
  return i < 0 ? row.step : `${row.step} (${i + 1}/${steps.length})`;
};

interface Props {
  inventory: InventoryState;
  selected: ReadonlySet<string>;
  goInventory: () => void;
}

export function RotatePage({ inventory, selected, goInventory }: Props) {
  const [deliver, setDeliver] = useState("");
  const [recipient, setRecipient] = useState("");
  const [grace, setGrace] = useState("30");
  const [plan, setPlan] = useState<PlanView | undefined>();
  const [planning, setPlanning] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [confirmText, setConfirmText] = useState("");
  const [starting, setStarting] = useState(false);
  const [runId, setRunId] = useState<string | undefined>();
  const [runs, setRuns] = useState<RunView[]>([]);

  useEffect(() => {
    get<{ runs: RunView[] }>("/api/rotation/runs").then(
      ({ runs: list }) => {
        setRuns(list);
        const live = list.find((r) => r.running);
        if (live) setRunId(live.id);
      },
      (e: ApiError) => setError(e),
    );
  }, []);

  const rows = useMemo(() => {
    const byId = new Map((inventory.data?.keys ?? []).map((k) => [k.id, k]));
    return [...selected].flatMap((id) => byId.get(id) ?? []);
  }, [inventory.data, selected]);

  const targets = deliver
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

  const review = async () => {
    setPlanning(true);
    setError(undefined);
    setPlan(undefined);
    try {
      setPlan(
        await post<PlanView>("/api/rotation/plan", {
          selector: { ids: [...selected] },
          deliver: targets,
          recipient: recipient.trim() || null,
        }),
      );
      setConfirmText("");
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setPlanning(false);
    }
  };

  const apply = async () => {
    if (!plan) return;
    setStarting(true);
    setError(undefined);
    try {
      const res = await post<{ runId: string }>("/api/rotation/apply", {
        planId: plan.plan.id,
        confirm: confirmText,
        graceSeconds: Math.max(0, Math.round(Number(grace) || 0)),
      });
      setRunId(res.runId);
      setPlan(undefined);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setStarting(false);
    }
  };

  if (runId) {
    return (
      <RunPanel
        runId={runId}
        back={() => {
          setRunId(undefined);
          void get<{ runs: RunView[] }>("/api/rotation/runs").then(({ runs: list }) => setRuns(list));
          void inventory.load(true);
        }}
      />
    );
  }

  return (
    <section className="rotate">
      <div className="page-head">
        <h1>Bulk rotation</h1>
      </div>
      {error ? <ErrorBox error={error} title="Not done" /> : null}
      <div className="panel">
        <h2>
          1. Keys: {selected.size} selected{" "}
          <button type="button" className="link" onClick={goInventory}>
            change
          </button>
        </h2>
        {selected.size === 0 ? (
          <p>
            Select keys on the Inventory page first. Each gets a new key with the same permissions and IP
            binding.
          </p>
        ) : (
          <SelectionList rows={rows} />
        )}
        <h2>2. Where the new credentials go</h2>
        <label className="block">
          One target per line:
          <textarea
            aria-label="Delivery targets"
            rows={3}
            value={deliver}
            onChange={(e) => setDeliver(e.target.value)}
            placeholder="dotenv:/srv/bots/{label}/.env"
            spellCheck={false}
          />
        </label>
        <p className="muted">
          <code>dotenv:FILE[#PREFIX]</code>, <code>json:FILE#/pointer</code>, <code>age:DIR</code> (with a
          recipient). Placeholders: <code>{"{account} {sub} {label} {exchange} {slot}"}</code>. Relative paths
          are under the Keyward home. Programs (<code>exec:</code>) and check commands run only from a
          terminal: <code>keyward rotate</code>.
        </p>
        <div className="row">
          <label>
            age recipient (optional):{" "}
            <input
              value={recipient}
              onChange={(e) => setRecipient(e.target.value)}
              placeholder="age1…"
              size={40}
            />
          </label>
          <label>
            Grace before the old key is revoked:{" "}
            <input
              aria-label="Grace seconds"
              value={grace}
              onChange={(e) => setGrace(e.target.value)}
              inputMode="numeric"
              size={5}
            />{" "}
            s
          </label>
        </div>
        <div className="actions">
          <button
            type="button"
            className="primary"
            onClick={() => void review()}
            disabled={planning || selected.size === 0}
          >
            {planning ? "Listing the keys live…" : "Review rotation plan"}
          </button>
        </div>
        {planning ? <Spinner label="Listing the selected keys live, then planning…" /> : null}
      </div>

      {plan ? (
        <section className="panel plan" aria-label="Rotation plan">
          <h2>3. Review</h2>
          {plan.accountErrors.map((a) => (
            <div className="warning" key={a.account}>
              {a.account}: could not list keys ({a.message}).
            </div>
          ))}
          <p data-testid="rotation-summary">
            {plan.plan.slots.length} key(s) to rotate:{" "}
            {plan.plan.slots.filter((s) => s.method === "api").length} by API,{" "}
            {plan.plan.slots.filter((s) => s.method === "assisted").length} with a person
            {plan.plan.refused.length ? `; ${plan.plan.refused.length} refused` : ""}. The old key is revoked
            only after the new one is verified and delivered, and the grace period is over.
          </p>
          {plan.plan.refused.map((r) => (
            <div className="warning" key={r.id}>
              Not rotated: {r.label || r.id} ({r.account}): {r.reason}
            </div>
          ))}
          {plan.plan.slots.length > 0 ? (
            <>
              <table className="table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>How</th>
                    <th>Account</th>
                    <th>Old key</th>
                    <th>New label</th>
                    <th>Permissions</th>
                    <th>Deliver to</th>
                    <th>Notes</th>
                  </tr>
                </thead>
                <tbody>
                  {plan.plan.slots.map((s, i) => (
                    <tr key={s.slot}>
                      <td>{s.slot}</td>
                      <td>
                        <span className={`badge how-${s.method === "api" ? "api" : "manual"}`}>
                          {s.method === "api" ? "API" : "PERSON"}
                        </span>
                      </td>
                      <td>
                        {s.old.exchange} {s.old.account}
                        {s.old.subAccount ? ` / ${s.old.subAccount}` : ""}
                      </td>
                      <td>{s.old.label || "—"}</td>
                      <td className="mono">{s.new.label}</td>
                      <td>{s.new.permissions.join(", ")}</td>
                      <td className="mono">
                        {(plan.targets[i] ?? []).join("; ") || "(Keyward's own account key)"}
                      </td>
                      <td className="muted">{s.notes.join("; ")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <form
                className="confirm"
                onSubmit={(e) => {
                  e.preventDefault();
                  if (confirmText.trim() === plan.confirmWith) void apply();
                }}
              >
                <label>
                  Type <strong>{plan.confirmWith}</strong> (the number of keys) to rotate them:{" "}
                  <input
                    aria-label="Type the number of keys to rotate"
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
                    : `Rotate ${plan.confirmWith} key${plan.confirmWith === "1" ? "" : "s"}`}
                </button>
              </form>
            </>
          ) : null}
        </section>
      ) : null}

      {runs.length > 0 ? (
        <div className="panel">
          <h2>Rotations</h2>
          <ul className="plain">
            {runs.map((r) => (
              <li key={r.id}>
                <span className="mono">{r.id}</span> ({time(r.createdAt)}): {r.state}
                {r.running ? ", running" : ""}; {r.report.summary.finished} of {r.report.summary.total}{" "}
                finished
                {r.report.summary.waiting ? `, ${r.report.summary.waiting} waiting` : ""}
                {r.report.summary.failed ? `, ${r.report.summary.failed} failed` : ""}{" "}
                <button type="button" className="link" onClick={() => setRunId(r.id)}>
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

function SelectionList({ rows }: { rows: InventoryRowView[] }) {
  return (
    <p className="muted">
      {rows
        .slice(0, 30)
        .map((k) => `${k.label || k.apiKeyShort} (${k.account}${k.subAccount ? `/${k.subAccount}` : ""})`)
        .join(", ")}
      {rows.length > 30 ? ` and ${rows.length - 30} more` : ""}
    </p>
  );
}

function RunPanel({ runId, back }: { runId: string; back: () => void }) {
  const [run, setRun] = useState<RunView | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [log, setLog] = useState<string[]>([]);
  const [abortText, setAbortText] = useState("");
  const [abortReport, setAbortReport] = useState<AbortReport | undefined>();
  const [busy, setBusy] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const refresh = useCallback(async () => {
    try {
      setRun(await get<RunView>(`/api/rotation/runs/${runId}`));
    } catch (e) {
      setError(e as ApiError);
    }
  }, [runId]);
  const soon = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => void refresh(), 120);
  }, [refresh]);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const running = run?.running ?? false;
  useEffect(() => {
    if (!running) return;
    const source = new EventSource(`/api/rotation/runs/${runId}/events`);
    const say = (line: string) =>
      setLog((l) => [...l.slice(-199), `${new Date().toLocaleTimeString()}  ${line}`]);
    const on = (type: string, fn: (data: Record<string, unknown>) => string | undefined) =>
      source.addEventListener(type, ((e: MessageEvent<string>) => {
        const line = fn(JSON.parse(e.data) as Record<string, unknown>);
        if (line) say(line);
        soon();
      }) as EventListener);
    const slotOf = (d: Record<string, unknown>) => d.slot as SlotRow;
    on("started", () => "Started.");
    on("step", (d) => `${slotOf(d).slot}. ${slotOf(d).oldLabel || slotOf(d).oldApiKey}: ${slotOf(d).step}`);
    on("failed", (d) => `${slotOf(d).slot}. FAILED: ${slotOf(d).error?.message ?? ""}`);
    on("waiting", (d) => `${slotOf(d).slot}. waiting: ${String(d.reason)}`);
    on(
      "ask-credentials",
      (d) => `${(d.request as CreateRequest).slot}. a person must create the new key (see below)`,
    );
    on("create-steps", () => undefined);
    on("refused", (d) => `${slotOf(d).slot}. the key given was refused: ${String(d.reason)}`);
    on("revoke-steps", (d) => `${slotOf(d).slot}. a person must revoke the old key (see below)`);
    on("grace", (d) => `${slotOf(d).slot}. grace period until ${time(String(d.until))}`);
    on("report", () => "Run ended.");
    on("error", (d) => `Could not run: ${String(d.message)}`);
    on("ended", () => undefined);
    source.addEventListener("end", () => {
      source.close();
      void refresh();
    });
    return () => source.close();
  }, [running, runId, refresh, soon]);

  const act = async (what: "stop" | "resume" | "abort") => {
    setBusy(true);
    setError(undefined);
    try {
      if (what === "abort") {
        setAbortReport(
          await post<AbortReport>(`/api/rotation/runs/${runId}/abort`, { confirm: abortText.trim() }),
        );
        setAbortText("");
      } else await post(`/api/rotation/runs/${runId}/${what}`);
      await refresh();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };

  if (!run) return error ? <ErrorBox error={error} /> : <Spinner label="Loading the rotation…" />;
  const s = run.report.summary;
  const outcome = new Map(run.report.slots.map((x) => [x.slot, x.outcome]));

  return (
    <section className="rotate run">
      <div className="page-head">
        <h1>
          Rotation <span className="mono">{run.id}</span>
        </h1>
        <div className="actions">
          <span
            className={`badge status-${run.state === "finished" ? "finished" : run.state === "aborted" ? "error" : running ? "running" : "waiting"}`}
            data-testid="rotation-state"
          >
            {run.state}
            {running ? ", running" : run.state === "active" ? ", paused" : ""}
          </span>
          {running ? (
            <button type="button" onClick={() => void act("stop")} disabled={busy}>
              Stop (resume later)
            </button>
          ) : null}
          {!running && run.state === "active" ? (
            <button type="button" className="primary" onClick={() => void act("resume")} disabled={busy}>
              Resume
            </button>
          ) : null}
          <button type="button" onClick={back}>
            Back
          </button>
        </div>
      </div>
      {error ? <ErrorBox error={error} title="Not done" /> : null}
      <div className="panel">
        <ProgressBar done={s.finished} total={s.total} label="Rotated" />
        <p data-testid="rotation-summary">
          {s.finished} of {s.total} rotated{s.waiting ? `, ${s.waiting} waiting for a person` : ""}
          {s.failed ? `, ${s.failed} failed (see why below; fix it, then resume)` : ""}
          {s.aborted ? `, ${s.aborted} aborted` : ""}.
          {run.state === "finished"
            ? " Every new key is verified and delivered, and every old key is proven dead."
            : ""}
        </p>
        {run.grace.map((g) => (
          <div className="muted" key={g.slot}>
            Key {g.slot}: the old key is revoked after {time(g.until)} (grace period).
          </div>
        ))}
      </div>

      {run.createRequests.map((r) => (
        <CreateKeyForm key={`${r.slot}-${r.attempt}`} runId={run.id} request={r} onDone={soon} />
      ))}
      {run.revokeSteps.map((r) => {
        const row = run.slots.find((x) => x.slot === r.slot);
        return (
          <div className="panel checklist" key={r.slot}>
            <h2>
              Key {r.slot}: revoke the OLD key “{row?.oldLabel}” on the exchange
            </h2>
            <div>
              Page:{" "}
              <a href={r.steps.url} target="_blank" rel="noopener noreferrer">
                {r.steps.url}
              </a>
            </div>
            <ol className="steps">
              {r.steps.steps.map((x) => (
                <li key={x}>{x}</li>
              ))}
            </ol>
            <p className="muted">Keyward probes the old key until it is dead, then finishes this key.</p>
          </div>
        );
      })}

      <div className="panel">
        <h2>Keys</h2>
        <table className="table results">
          <thead>
            <tr>
              <th>#</th>
              <th>Outcome</th>
              <th>Step</th>
              <th>How</th>
              <th>Account</th>
              <th>Old label</th>
              <th>New label</th>
              <th>Delivered to</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {run.slots.map((row, i) => (
              <tr
                key={row.slot}
                data-slot={row.slot}
                className={`outcome-${outcome.get(row.slot) === "finished" ? "revoked" : outcome.get(row.slot) === "failed" ? "failed" : "awaiting-manual"}`}
              >
                <td>{row.slot}</td>
                <td data-testid="slot-outcome">{outcome.get(row.slot)}</td>
                <td>{stepText(row)}</td>
                <td>{row.method === "api" ? "API" : "person"}</td>
                <td>
                  {row.account}
                  {row.subAccount ? ` / ${row.subAccount}` : ""}
                </td>
                <td>{row.oldLabel || "—"}</td>
                <td className="mono">{row.newLabel}</td>
                <td className="mono">
                  {row.delivered.length ? row.delivered.join("; ") : (run.targets[i] ?? []).join("; ")}
                </td>
                <td className="detail">
                  {row.error ? (
                    <>
                      {row.error.message}
                      {row.error.hint ? <div className="hint">What to do: {row.error.hint}</div> : null}
                    </>
                  ) : (
                    (row.evidence.at(-1) ?? "")
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {run.state === "active" ? (
        <div className="panel">
          <h2>Abort</h2>
          <p className="muted">
            Undoes what can be undone: before a key's old key is revoked, the old credentials go back to the
            targets and the new key is deleted (or you are told how to revoke it). After the revoke nothing
            can bring the old key back; resume finishes those.
          </p>
          <form
            className="confirm"
            onSubmit={(e) => {
              e.preventDefault();
              void act("abort");
            }}
          >
            <label>
              Type <strong>abort</strong>:{" "}
              <input
                aria-label="Type abort to confirm"
                value={abortText}
                onChange={(e) => setAbortText(e.target.value)}
              />
            </label>
            <button type="submit" className="danger" disabled={abortText.trim() !== "abort" || busy}>
              Abort this rotation
            </button>
          </form>
        </div>
      ) : null}
      {abortReport ? (
        <div className="panel">
          <h2>Abort: {abortReport.state}</h2>
          <ul>
            {abortReport.slots.map((x) => (
              <li key={x.slot}>
                {x.slot}. {x.label || "—"}: {x.result}: {x.explanation}
                {x.steps ? (
                  <ol className="steps">
                    {x.steps.steps.map((step) => (
                      <li key={step}>{step}</li>
                    ))}
                  </ol>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="panel">
        <h2>Live log</h2>
        <pre className="log" aria-live="polite">
          {log.length ? log.join("\n") : running ? "Waiting for events…" : "Not running: resume to go on."}
        </pre>
      </div>
    </section>
  );
}

function CreateKeyForm({
  runId,
  request,
  onDone,
}: {
  runId: string;
  request: CreateRequest;
  onDone: () => void;
}) {
  const [apiKey, setApiKey] = useState("");
  const [secret, setSecret] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [error, setError] = useState<ApiError | undefined>();
  const [sending, setSending] = useState(false);
  const submit = async () => {
    setSending(true);
    setError(undefined);
    try {
      await post(`/api/rotation/runs/${runId}/credentials`, {
        slot: request.slot,
        apiKey: apiKey.trim(),
        secret,
        ...(request.needsPassphrase ? { passphrase } : {}),
      });
      setSecret("");
      setPassphrase("");
      onDone();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setSending(false);
    }
  };
  return (
    <div className="panel checklist" data-testid="create-request">
      <h2>
        Key {request.slot}: create the new key on {request.exchange} (account {request.account})
      </h2>
      {request.refused ? <div className="error">The key given was refused: {request.refused}</div> : null}
      <p>
        Label <code>{request.label}</code>; permissions: {request.permissionsText}; IP whitelist:{" "}
        {request.ip === null ? "copy the old key's" : request.ip.join(", ") || "none"}. It replaces “
        {request.replaces.label}” ({request.replaces.apiKeyStart}…{request.replaces.apiKeyEnd}).
      </p>
      <div>
        Page:{" "}
        <a href={request.steps.url} target="_blank" rel="noopener noreferrer">
          {request.steps.url}
        </a>
      </div>
      <ol className="steps">
        {request.steps.steps.map((x) => (
          <li key={x}>{x}</li>
        ))}
      </ol>
      <form
        className="confirm"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <input
          aria-label="New API key"
          placeholder="API key"
          value={apiKey}
          onChange={(e) => setApiKey(e.target.value)}
          autoComplete="off"
        />
        <input
          aria-label="New API secret"
          placeholder="API secret"
          type="password"
          value={secret}
          onChange={(e) => setSecret(e.target.value)}
          autoComplete="off"
        />
        {request.needsPassphrase ? (
          <input
            aria-label="New API passphrase"
            placeholder="passphrase"
            type="password"
            value={passphrase}
            onChange={(e) => setPassphrase(e.target.value)}
            autoComplete="off"
          />
        ) : null}
        <button type="submit" className="primary" disabled={!apiKey.trim() || !secret || sending}>
          {sending ? "Sending…" : "Give Keyward the new key"}
        </button>
        <span className="muted">It goes to Keyward's encrypted vault and is never shown again.</span>
      </form>
      {error ? <ErrorBox error={error} title="Not accepted" /> : null}
    </div>
  );
}
