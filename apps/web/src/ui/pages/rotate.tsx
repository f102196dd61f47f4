/**
 * Bulk rotation over core's engine: plan from the selection and delivery targets, review, type the
 * number of keys, then follow the run live; assisted keys ask here for the new key a person created;
 * stop, resume and abort. Secrets typed here go to the server's vault and are never sent back.
 */
import { howWord } from "@keyward/core/browser";
import { useEffect, useState } from "react";
import {
  type ApiError,
  api,
  call,
  type DeliveryTargetsView,
  type InventoryRowView,
  type RotationPlanView,
  type RotationRunView,
} from "../api.js";
import type { InventoryState } from "../app.js";
import { ConfirmCountForm } from "../components/job-parts.js";
import { ErrorBox, Spinner, time } from "../components.js";
import { useAction } from "../hooks/use-action.js";
import { useSelectedRows } from "../hooks/use-selected-rows.js";
import { RunPanel } from "./rotation-run.js";

type PlanView = RotationPlanView;
type RunView = RotationRunView;

interface Props {
  inventory: InventoryState;
  selected: ReadonlySet<string>;
  goInventory: () => void;
}

export function RotatePage({ inventory, selected, goInventory }: Props) {
  const [deliver, setDeliver] = useState("");
  const [targetKinds, setTargetKinds] = useState<DeliveryTargetsView | undefined>();
  /** The target kinds' own options (from the server's list), by name. */
  const [optionValues, setOptionValues] = useState<Record<string, string>>({});
  const [grace, setGrace] = useState("30");
  /** Plan in-place resets (same key id, new secret, no grace) instead of new keys. */
  const [resetInPlace, setResetInPlace] = useState(false);
  /** The person accepts the reviewed plan's in-place resets (asked only when it has any). */
  const [acceptReset, setAcceptReset] = useState(false);
  const [plan, setPlan] = useState<PlanView | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [planning, runPlanning] = useAction(setError);
  const [confirmText, setConfirmText] = useState("");
  const [starting, runStarting] = useAction(setError);
  const [runId, setRunId] = useState<string | undefined>();
  const [runs, setRuns] = useState<RunView[]>([]);

  useEffect(() => {
    call(api.rotation.targets.$get({ query: {} })).then(setTargetKinds, (e: ApiError) => setError(e));
  }, []);

  useEffect(() => {
    call(api.rotation.runs.$get({ query: {} })).then(
      ({ runs: list }) => {
        setRuns(list);
        const live = list.find((r) => r.running);
        if (live) setRunId(live.id);
      },
      (e: ApiError) => setError(e),
    );
  }, []);

  const rows = useSelectedRows(inventory, selected);

  const targets = deliver
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

  const review = () =>
    runPlanning(async () => {
      setPlan(undefined);
      setPlan(
        await call(
          api.rotation.plan.$post({
            json: {
              selector: { ids: [...selected] },
              deliver: targets,
              ...(resetInPlace ? { resetInPlace: true } : {}),
              ...Object.fromEntries(
                (targetKinds?.options ?? []).map((o) => [o.name, optionValues[o.name]?.trim() || null]),
              ),
            },
          }),
        ),
      );
      setConfirmText("");
      setAcceptReset(false);
    });

  const apply = async () => {
    if (!plan) return;
    await runStarting(async () => {
      const res = await call(
        api.rotation.apply.$post({
          json: {
            planId: plan.plan.id,
            confirm: confirmText,
            graceSeconds: Math.max(0, Math.round(Number(grace) || 0)),
            ...(acceptReset ? { acceptReset: true } : {}),
          },
        }),
      );
      setRunId(res.runId);
      setPlan(undefined);
    });
  };

  const resetCount = plan?.plan.slots.filter((s) => s.reset).length ?? 0;

  if (runId) {
    return (
      <RunPanel
        runId={runId}
        back={() => {
          setRunId(undefined);
          void call(api.rotation.runs.$get({ query: {} })).then(({ runs: list }) => setRuns(list));
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
            placeholder={targetKinds?.targets[0]?.example ?? ""}
            spellCheck={false}
          />
        </label>
        {targetKinds ? (
          <div className="muted">
            <ul className="plain">
              {targetKinds.targets.map((t) => (
                <li key={t.kind}>
                  <code>{t.form}</code>: {t.text}
                </li>
              ))}
            </ul>
            <p>
              Placeholders: <code>{targetKinds.placeholders}</code>. Paths are absolute (starting with{" "}
              <code>/</code>) and never inside the Keyward home. Programs (
              {targetKinds.cliOnly.map((k) => `${k}:`).join(", ")}) and check commands run only from a
              terminal: <code>keyward rotate</code>.
            </p>
          </div>
        ) : null}
        <div className="row">
          {(targetKinds?.options ?? []).map((o) => (
            <label key={o.name}>
              {o.label}:{" "}
              <input
                value={optionValues[o.name] ?? ""}
                onChange={(e) => setOptionValues({ ...optionValues, [o.name]: e.target.value })}
                placeholder={o.placeholder}
                size={40}
              />
            </label>
          ))}
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
          <label>
            <input
              type="checkbox"
              aria-label="In-place reset"
              checked={resetInPlace}
              onChange={(e) => setResetInPlace(e.target.checked)}
            />{" "}
            In-place reset: a new secret for the same key id instead of a new key, where the exchange can. The
            old secret dies at once (no grace period); other keys are refused.
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
            {plan.plan.refused.length ? `; ${plan.plan.refused.length} refused` : ""}.
            {/* A reset has no new key to wait for and no grace: its old secret dies at once. */}
            {resetCount < plan.plan.slots.length
              ? " The old key is revoked only after the new one is verified and delivered, and the grace period is over."
              : ""}
            {resetCount > 0
              ? ` ${resetCount === plan.plan.slots.length ? "Each key gets" : `${resetCount} key(s) get`} a new secret in place: the old secret dies at once, with no grace period.`
              : ""}
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
                          {s.reset ? "RESET" : howWord(s.method === "api" ? "api" : "manual")}
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
              {resetCount > 0 ? (
                <div className="warning" data-testid="reset-warning">
                  <p>
                    In-place reset of {resetCount} key(s): each keeps its id and gets a new secret. The OLD
                    SECRET DIES THE MOMENT THE NEW ONE EXISTS: there is no grace period, and whatever uses the
                    key fails until the new secret is delivered to it.
                  </p>
                  <label>
                    <input
                      type="checkbox"
                      aria-label="Accept in-place reset"
                      checked={acceptReset}
                      onChange={(e) => setAcceptReset(e.target.checked)}
                    />{" "}
                    I accept that the old secrets die at once
                  </label>
                </div>
              ) : null}
              <ConfirmCountForm
                confirmWith={plan.confirmWith}
                verb="rotate"
                inputLabel="Type the number of keys to rotate"
                value={confirmText}
                onChange={setConfirmText}
                starting={starting}
                onConfirm={() => void apply()}
              />
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
