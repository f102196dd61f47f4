/**
 * A bulk rotation run, followed live: per-key steps and outcomes, assisted keys' forms for the new key a
 * person created, the old keys a person must revoke, stop, resume and abort. Secrets typed here go to the
 * server's vault and are never sent back.
 */
import {
  type AbortReport,
  createdKeyText,
  createdWords,
  howWord,
  isCreateStandIn,
  OLD_SECRET_NOT_PROBED,
  ROTATION_OUTCOME_WORDS,
  type SlotRow,
  stepsOf,
} from "@keyward/core/browser";
import { useCallback, useEffect, useRef, useState } from "react";
import { type ApiError, api, call, type RotationRunView } from "../api.js";
import { ErrorOrEvidence, LiveLog, ManualStepsList } from "../components/job-parts.js";
import { createTitle, rotationTitle, useDocumentTitle } from "../components/job-title.js";
import {
  applySecondFactorEvent,
  type Challenge,
  SECOND_FACTOR_EVENTS,
  SecondFactorField,
} from "../components/second-factor.js";
import { ErrorBox, ProgressBar, Spinner, time } from "../components.js";
import { type EventData, useLiveEvents } from "../hooks/use-live-events.js";

type RunView = RotationRunView;
type CreateRequest = RunView["createRequests"][number];

/**
 * `selfRevoke`: the slot's old key deletes itself by API; `reset`: the key gets a new secret in place (its
 * report says so); each a path of its own.
 */
const stepText = (row: SlotRow, selfRevoke = false, reset = false, create = false) => {
  const steps = stepsOf(row.method, selfRevoke, reset, create);
  const i = steps.indexOf(row.step);
  return i < 0 ? row.step : `${row.step} (${i + 1}/${steps.length})`;
};

const EVENT_TYPES = [
  "started",
  "step",
  "failed",
  "waiting",
  "ask-credentials",
  "create-steps",
  "refused",
  "revoke-steps",
  "grace",
  "report",
  "aborting",
  "aborted",
  "error",
  "ended",
  ...SECOND_FACTOR_EVENTS,
];

/** A rotation event as a line of the live log (nothing for those that only refresh the page). */
function describe(type: string, d: EventData): string | undefined {
  const slot = d.slot as SlotRow;
  switch (type) {
    case "started":
      return "Started.";
    case "step":
      // A reset's `created` is a new secret for the same key, not a new key.
      return `${slot.slot}. ${isCreateStandIn(slot.oldApiKey) ? createdKeyText(slot.oldLabel) : slot.oldLabel || slot.oldApiKey}: ${slot.step === "created" && slot.newKeyId === slot.oldKeyId ? "new secret" : slot.step}`;
    case "failed":
      return `${slot.slot}. FAILED: ${slot.error?.message ?? ""}`;
    case "waiting":
      return `${slot.slot}. waiting: ${String(d.reason)}`;
    case "ask-credentials":
      return `${(d.request as CreateRequest).slot}. a person must create the new key (see below)`;
    case "refused":
      return `${slot.slot}. the key given was refused: ${String(d.reason)}`;
    case "revoke-steps":
      return `${slot.slot}. a person must revoke the old key (see below)`;
    case "grace":
      return `${slot.slot}. grace period until ${time(String(d.until))}`;
    case "report":
      return "Run ended.";
    case "aborting":
      return "Aborting.";
    case "aborted":
      return "Abort ended.";
    case "error":
      return `Could not run: ${String(d.message)}`;
    default:
      return undefined;
  }
}

/**
 * What a finished run proved: new keys or (a reset's) new secrets verified and delivered; old ones proven
 * dead, except a reset's old secret Keyward did not hold, which nothing probed.
 */
function finishedText(slots: readonly SlotRow[], resets: number): string {
  const what = resets === 0 ? "key" : resets === slots.length ? "secret" : "key or secret";
  const unprobed = slots.filter((r) => r.evidence.includes(OLD_SECRET_NOT_PROBED)).length;
  return unprobed === 0
    ? ` Every new ${what} is verified and delivered, and every old ${what} is proven dead.`
    : ` Every new ${what} is verified and delivered. ${unprobed} old secret(s) were not probed (Keyward did not hold them): their death rests on the exchange's reset; any other old ${what} is proven dead.`;
}

export function RunPanel({ runId, back }: { runId: string; back: () => void }) {
  const [run, setRun] = useState<RunView | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [abortText, setAbortText] = useState("");
  const [abortReport, setAbortReport] = useState<AbortReport | undefined>();
  const [busy, setBusy] = useState(false);
  const [challenges, setChallenges] = useState<Challenge[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const refresh = useCallback(async () => {
    try {
      setRun(await call(api.rotation.runs[":id"].$get({ param: { id: runId } })));
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
  // While an abort is posted the page follows the run's events too: the abort may meet a second-factor
  // challenge (deleting the new key) whose code field shows here. Its own URL (after=0 replays the same
  // events), so that a stream the stopped run ended is followed again.
  const [aborting, setAborting] = useState(false);
  const events = `/api/rotation/runs/${runId}/events`;
  const following = running || aborting;
  const { log } = useLiveEvents(
    aborting ? `${events}?after=0` : running ? events : undefined,
    EVENT_TYPES,
    (type, data) => {
      if (SECOND_FACTOR_EVENTS.includes(type)) {
        setChallenges((open) => applySecondFactorEvent(open, type, data).open);
        return applySecondFactorEvent([], type, data).line;
      }
      soon();
      return describe(type, data);
    },
    () => void refresh(),
  );

  const act = async (what: "stop" | "resume" | "abort") => {
    setBusy(true);
    setError(undefined);
    try {
      if (what === "abort") {
        setAborting(true);
        setAbortReport(
          await call(
            api.rotation.runs[":id"].abort.$post({
              param: { id: runId },
              // The server checks the word and says what to type: pass on whatever was typed.
              json: { confirm: abortText.trim() as "abort" },
            }),
          ),
        );
        setAbortText("");
      } else {
        const run = api.rotation.runs[":id"];
        const request = { param: { id: runId }, json: {} };
        await (what === "stop" ? call(run.stop.$post(request)) : call(run.resume.$post(request)));
      }
      await refresh();
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
      setAborting(false);
    }
  };

  // A key create's run (`key create`, the New key page) reads as one: created, not rotated; no old key.
  const isCreate = run ? run.report.slots.length > 0 && run.report.slots.every((x) => x.create) : false;
  const title = run
    ? (isCreate ? createTitle : rotationTitle)(run.state, running, run.report.summary)
    : "Rotation";
  useDocumentTitle(title);

  if (!run) return error ? <ErrorBox error={error} /> : <Spinner label="Loading the rotation…" />;
  const s = run.report.summary;
  const outcome = new Map(run.report.slots.map((x) => [x.slot, x.outcome]));
  const selfRevoking = new Set(run.report.slots.filter((x) => x.selfRevoke).map((x) => x.slot));
  const resetting = new Set(run.report.slots.filter((x) => x.reset).map((x) => x.slot));
  // A key create (`key create`, the New key page): no check, grace or revoke steps.
  const creating = new Set(run.report.slots.filter((x) => x.create).map((x) => x.slot));

  return (
    <section className="rotate run">
      <div className="page-head">
        <h1 data-testid="job-title">
          {title} <span className="mono muted">{run.id}</span>
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
          {!running && run.state === "active" && !run.cliOnly ? (
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
      {following
        ? challenges.map((c) => (
            <SecondFactorField
              key={c.challengeId}
              challenge={c}
              send={async (code) => {
                await call(
                  api.rotation.runs[":id"]["second-factor"].$post({
                    param: { id: runId },
                    json: { challengeId: c.challengeId, code },
                  }),
                );
              }}
              cancel={async () => {
                await call(
                  api.rotation.runs[":id"]["second-factor"].cancel.$post({
                    param: { id: runId },
                    json: { challengeId: c.challengeId },
                  }),
                );
              }}
            />
          ))
        : null}
      {run.cliOnly && run.state === "active" ? (
        <div className="panel" data-testid="cli-only">
          <h2>Resume or abort it from the command line</h2>
          <p>
            This rotation runs programs on this machine ({run.cliOnly.programs.join(", ")}); the browser never
            starts programs. In a terminal: <code>{run.cliOnly.resume}</code> or{" "}
            <code>{run.cliOnly.abort}</code>.
          </p>
        </div>
      ) : null}
      <div className="panel">
        <ProgressBar done={s.finished} total={s.total} label={isCreate ? "Created" : "Rotated"} />
        <p data-testid="rotation-summary">
          {s.finished} of {s.total} {isCreate ? "created" : "rotated"}
          {s.waiting ? `, ${s.waiting} ${ROTATION_OUTCOME_WORDS.waiting}` : ""}
          {s.failed
            ? `, ${s.failed} ${ROTATION_OUTCOME_WORDS.failed} (see why below; fix it, then resume)`
            : ""}
          {s.aborted ? `, ${s.aborted} ${ROTATION_OUTCOME_WORDS.aborted}` : ""}.
          {run.state !== "finished"
            ? ""
            : isCreate
              ? ` The new key is ${createdWords(run.slots.flatMap((r) => r.evidence))}.`
              : finishedText(run.slots, resetting.size)}
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
            <ManualStepsList url={r.steps.url} steps={r.steps.steps} />
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
              {isCreate ? null : <th>Old label</th>}
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
                <td>
                  {stepText(row, selfRevoking.has(row.slot), resetting.has(row.slot), creating.has(row.slot))}
                </td>
                <td>{howWord(row.method === "api" ? "api" : "manual")}</td>
                <td>
                  {row.account}
                  {row.subAccount ? ` / ${row.subAccount}` : ""}
                </td>
                {isCreate ? null : (
                  <td>{creating.has(row.slot) ? createdKeyText(row.oldLabel) : row.oldLabel || "—"}</td>
                )}
                <td className="mono">{isCreate ? createdKeyText(row.newLabel) : row.newLabel}</td>
                <td className="mono">
                  {row.delivered.length ? row.delivered.join("; ") : (run.targets[i] ?? []).join("; ")}
                </td>
                <ErrorOrEvidence error={row.error} evidence={row.evidence} />
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {run.state === "active" && !run.cliOnly ? (
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
      <LiveLog log={log} idle={running ? "Waiting for events…" : "Not running: resume to go on."} />
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
      await call(
        api.rotation.runs[":id"].credentials.$post({
          param: { id: runId },
          json: {
            slot: request.slot,
            apiKey: apiKey.trim(),
            secret,
            ...(request.needsPassphrase ? { passphrase } : {}),
          },
        }),
      );
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
      <ManualStepsList url={request.steps.url} steps={request.steps.steps} />
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
