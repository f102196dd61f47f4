/**
 * Bulk revoke: review the selection as a plan (what goes by API, what needs a person), type the number
 * of keys to confirm, then follow the run live (Server-Sent Events): per-key results, proof of death,
 * and the checklist of manual steps with "Verify now".
 */
import {
  apiDuration,
  howWord,
  REVOKE_OUTCOME_WORDS,
  VERIFIED_WORDS,
  visibleText,
  WAITING_WORDS,
} from "@keyward/core/browser";
import { useEffect, useRef, useState } from "react";
import { type ApiError, api, call, type InventoryRowView, type JobView, type PlanView } from "../api.js";
import type { InventoryState } from "../app.js";
import { EarlierRuns } from "../components/earlier-runs.js";
import { ConfirmCountForm } from "../components/job-parts.js";
import { ErrorBox, RiskBadge, Spinner, StaleBadge } from "../components.js";
import { useAction } from "../hooks/use-action.js";
import { withoutDone } from "../hooks/use-revoke-job-end.js";
import { useSelectedRows } from "../hooks/use-selected-rows.js";
import { JobPanel } from "./revoke-job.js";

interface Props {
  inventory: InventoryState;
  selected: ReadonlySet<string>;
  setSelected: (update: (prev: ReadonlySet<string>) => ReadonlySet<string>) => void;
  /** The shell follows a started job to its end, to clear the selection even after this page is left. */
  followJob?: (jobId: string) => void;
  goInventory: () => void;
  /** Review the plan for the selection at once (the Scan page's "Revoke these"); `reviewed` clears it. */
  reviewOnOpen?: boolean;
  reviewed?: () => void;
  /**
   * The scan whose "Revoke these" made the selection (its audit entry, and the selection it handed over):
   * a plan for exactly that selection names it as its cause, which `revoke.requested` records.
   */
  cause?: { scan: number; selection: string; reasons?: Record<string, string> } | null;
}

export function RevokePage({
  inventory,
  selected,
  setSelected,
  goInventory,
  followJob,
  reviewOnOpen,
  reviewed,
  cause,
}: Props) {
  const [plan, setPlan] = useState<PlanView | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [planning, runPlanning] = useAction(setError);
  const [confirmText, setConfirmText] = useState("");
  const [starting, runStarting] = useAction(setError);
  const [jobId, setJobId] = useState<string | undefined>();
  const [recent, setRecent] = useState<JobView[]>([]);
  // The incident default, as in the CLI: keys with a kill switch are disabled before any is removed.
  const [disableFirst, setDisableFirst] = useState(true);

  // A job already running (another tab, or before a reload) is shown at once.
  useEffect(() => {
    call(api.revoke.jobs.$get({ query: {} })).then(
      ({ jobs }) => {
        setRecent(jobs);
        const active = jobs.find((j) => j.status === "running" || j.status === "waiting");
        if (active) {
          setJobId(active.id);
          followJob?.(active.id);
        }
      },
      (e: ApiError) => setError(e),
    );
    // followJob is the shell's state setter: stable, so this still runs once, on mount.
  }, [followJob]);

  // A plan is for one selection: changing the selection asks for a new review.
  const selectionKey = [...selected].sort().join("\n");
  const planFor = useRef<string>("");
  useEffect(() => {
    if (plan && planFor.current !== selectionKey) {
      setPlan(undefined);
      setConfirmText("");
    }
  }, [selectionKey, plan]);

  const rows = useSelectedRows(inventory, selected);

  // The box changes what runs, so it asks for a new plan (the reviewed plan is exactly what runs).
  const review = (withDisableFirst = disableFirst) =>
    runPlanning(async () => {
      const p = await call(
        api.revoke.plan.$post({
          json: {
            ids: [...selected],
            disableFirst: withDisableFirst,
            ...(cause && cause.selection === selectionKey ? { cause: { scan: cause.scan } } : {}),
          },
        }),
      );
      planFor.current = selectionKey;
      setPlan(p);
      setConfirmText("");
    });

  // Opened by the Scan page's "Revoke these": the plan for its selection, as "Review plan" makes it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: once, when asked (review reads the state).
  useEffect(() => {
    if (!reviewOnOpen) return;
    reviewed?.();
    if (selected.size > 0 && !jobId) void review();
  }, [reviewOnOpen]);

  const execute = async () => {
    const planId = plan?.planId;
    if (!planId) return;
    await runStarting(async () => {
      const { jobId: id } = await call(
        api.revoke.execute.$post({
          json: {
            planId,
            confirm: confirmText,
          },
        }),
      );
      setJobId(id);
      followJob?.(id);
      setPlan(undefined);
      setConfirmText("");
    });
  };

  if (jobId) {
    return (
      <JobPanel
        jobId={jobId}
        onDone={(job) => setSelected((prev) => withoutDone(prev, job))}
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
              {a.account}: could not list keys ({a.message}). Its keys come from its last listing (marked
              stale) or from their own probes, and only a person can revoke them.
              {a.hint ? <div className="hint">What to do: {a.hint}</div> : null}
            </div>
          ))}
          {plan.warnings.map((w) => (
            <div className="warning" role="alert" key={w}>
              {w}
            </div>
          ))}
          {plan.heldBack.map((h) => (
            <div className="warning" data-testid="held-back" key={h.key.id}>
              {h.reason}
            </div>
          ))}
          {plan.items.length === 0 ? (
            <p>
              {plan.heldBack.length > 0
                ? "Nothing else to revoke."
                : "None of the selected keys is still live: nothing to revoke. Refresh the inventory."}
            </p>
          ) : (
            <>
              <p className="plan-summary" data-testid="plan-summary">
                {plan.items.length} key(s): <strong>{plan.byApi} by API</strong>,{" "}
                <strong>{plan.byPerson} by a person</strong> on the exchange's site. Keys that can withdraw go
                first. The API part takes {apiDuration(plan.estimatedApiMs)} at the exchanges' rate limits
                {plan.accounts.length > 1 ? ` (${plan.accounts.length} accounts in parallel)` : ""}, plus
                verification.
                {plan.byPerson > 0
                  ? " For each key only a person can revoke, Keyward shows the steps, then probes the key until it is dead."
                  : ""}
              </p>
              {plan.disableFirst.available > 0 ? (
                <div className="disable-first">
                  <label>
                    <input
                      type="checkbox"
                      data-testid="disable-first"
                      checked={disableFirst}
                      disabled={planning}
                      onChange={(e) => {
                        setDisableFirst(e.target.checked);
                        void review(e.target.checked);
                      }}
                    />{" "}
                    Disable first: switch off the {plan.disableFirst.available} key(s) the exchange has a kill
                    switch for, all of an account's before any is removed, then remove them
                  </label>
                  <div className="hint">
                    The switch takes effect at once, needs no two-factor code and can be undone; Keyward's own
                    key is never disabled (it is removed last). A key disabled but not removed is reported
                    “disabled”: run the revoke again to remove it.
                  </div>
                </div>
              ) : null}
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
                        <span className={`badge how-${item.method}`}>{howWord(item.method)}</span>
                        {/* What will be done to the key, so beside how: not a risk of the key. */}
                        {item.disableFirst ? <span className="badge disabled">disabled first</span> : null}
                      </td>
                      <td>{item.key.exchange}</td>
                      <td>{item.key.account}</td>
                      <td>{item.key.subAccount ?? (item.key.location === "master" ? "(master)" : "—")}</td>
                      <td>{visibleText(item.key.label) || "—"}</td>
                      <td className="mono">{item.key.apiKeyShort}</td>
                      <td>{item.key.permissions.join(", ")}</td>
                      <td>
                        {item.accountKey ? <span className="badge own">Keyward's own key: last</span> : null}
                        {item.key.state === "disabled" ? (
                          <span className="badge disabled">already disabled</span>
                        ) : null}
                        <StaleBadge stale={item.key.stale} />
                        {item.key.risks.map((r) => (
                          <RiskBadge key={r} risk={r} />
                        ))}
                        {/* Handed over by a scan: why this key is in the plan. */}
                        {cause?.selection === selectionKey && cause.reasons?.[item.key.id] ? (
                          <div className="muted" data-testid="plan-why">
                            {cause.reasons[item.key.id]}
                          </div>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <h2>3. Confirm</h2>
              <ConfirmCountForm
                confirmWith={plan.confirmWith}
                verb="revoke"
                inputLabel="Type the number of keys to confirm"
                value={confirmText}
                onChange={setConfirmText}
                starting={starting}
                onConfirm={() => void execute()}
              >
                <span className="muted">This cannot be undone: programs using these keys stop working.</span>
              </ConfirmCountForm>
            </>
          )}
        </section>
      ) : null}

      <EarlierRuns
        what="revokes"
        runs={recent}
        describe={(j) => (
          <>
            {j.total} key(s), {j.status}; {VERIFIED_WORDS.yes} {j.summary.verified}
            {j.summary.awaitingManual ? `, ${j.summary.awaitingManual} ${WAITING_WORDS}` : ""}
            {j.summary.failed ? `, ${j.summary.failed} ${REVOKE_OUTCOME_WORDS.failed}` : ""}
            {j.summary.disabled ? `, ${j.summary.disabled} ${REVOKE_OUTCOME_WORDS.disabled}` : ""}
          </>
        )}
        show={(j) => setJobId(j.id)}
      />
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
            <td>{visibleText(k.label) || "—"}</td>
            <td className="mono">{k.apiKeyShort}</td>
            <td>{howWord(k.management)}</td>
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
