/**
 * Scan: find leaked exchange keys in a folder (or file) ON THE MACHINE THE SERVER RUNS ON, and its git
 * history, with the same use case as `keyward scan` (core's scanLeaks). Nothing is uploaded: the person
 * types a path, the server reads it, the page shows progress live (Server-Sent Events) and then the
 * findings, redacted (first and last four characters of a key; never a secret). "Revoke these" hands
 * the found known keys that may still work to the existing revoke flow (the selection the inventory's
 * ticks make), so a leak becomes one reviewed plan.
 */
import { visibleText } from "@keyward/core/browser";
import { useCallback, useEffect, useState } from "react";
import { ApiError, api, call, type ScanFindingView, type ScanJobView } from "../api.js";
import { EarlierRuns } from "../components/earlier-runs.js";
import { ErrorBox, EXCHANGE_FACTS, RiskBadge, Spinner } from "../components.js";
import { type EventData, useLiveEvents } from "../hooks/use-live-events.js";

interface Props {
  /** Selects these key ids (replacing the selection) and opens the revoke plan for them. */
  /** `scan`: the scan's audit entry, which the revoke records as its cause (null when it has none). */
  /** `reasons`: why each key is there ("secret found at .env:4"), shown beside it in the plan. */
  revokeThese(ids: readonly string[], scan: number | null, reasons: Record<string, string>): void;
}

const KIND_WORDS: Record<ScanFindingView["kind"], string> = {
  "known-key": "known key",
  "known-secret": "secret of a known key",
  "unknown-key": "unknown key",
};

const megabytes = (bytes: number) =>
  bytes < 1_048_576
    ? `${Math.ceil(bytes / 1024)} KB`
    : `${(bytes / 1_048_576).toFixed(bytes < 10_485_760 ? 1 : 0)} MB`;

const exchangeName = (id: string) => EXCHANGE_FACTS[id]?.name ?? id;

type LocationView = ScanFindingView["locations"][number];

/**
 * "app/.env:3" (relative to the folder scanned, which the page names above), or "commit 1a2b3c4d5e6f:
 * config/keys.json:1" for a place in git history (paths there are the repository's).
 */
const whereText = (l: LocationView, root: string) => {
  const path = !l.commit && l.path.startsWith(`${root}/`) ? l.path.slice(root.length + 1) : l.path;
  // A path comes from the scanned tree: a U+202E in a file name must not reorder the text.
  return `${l.commit ? `commit ${l.commit.slice(0, 12)}: ` : ""}${visibleText(path)}:${l.line}`;
};

function Where({ locations, root }: { locations: LocationView[]; root: string }) {
  const shown = locations.slice(0, 3);
  return (
    <ul className="plain">
      {shown.map((l) => (
        <li
          key={`${l.commit ?? ""}:${l.path}:${l.line}:${l.column}`}
          className="mono"
          title={visibleText(l.path)}
        >
          {whereText(l, root)}
        </li>
      ))}
      {locations.length > shown.length ? (
        <li className="muted">… and {locations.length - shown.length} more</li>
      ) : null}
    </ul>
  );
}

function stateText(f: ScanFindingView): string {
  if (f.kind === "unknown-key") {
    if (f.verify) return `exchange says: ${f.verify.status}`;
    return f.live ? "not verified" : "—";
  }
  return f.state ?? "—";
}

function Findings({ job, revokeThese }: { job: ScanJobView; revokeThese: Props["revokeThese"] }) {
  // Ticked by default: keys whose secret was found. A key found by its id alone is listed unticked with
  // why (anyone who knows an id can plant it in a file).
  const [ticked, setTicked] = useState<ReadonlySet<string>>(
    () => new Set(job.revocableKeys.filter((k) => k.secretFound).map((k) => k.keyId)),
  );
  const report = job.report;
  if (!report) return null;
  const chosen = job.revocable.filter((id) => ticked.has(id));
  const { stats } = report;
  const live = report.findings.filter((f) => f.live).length;
  const download = async () => {
    const log = await call(api.scan.jobs[":id"].sarif.$get({ param: { id: job.id } }));
    const url = URL.createObjectURL(new Blob([JSON.stringify(log, null, 2)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `keyward-scan-${job.startedAt.slice(0, 19).replace(/:/g, "")}.sarif`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <section className="panel" aria-label="Findings">
      <h2>
        {report.findings.length === 0
          ? "No leaked keys found"
          : `${report.findings.length} finding${report.findings.length === 1 ? "" : "s"}, ${live} that may still work`}
      </h2>
      <p className="muted" data-testid="scan-stats">
        {job.status === "stopped" ? "Stopped early: what was read up to then. " : ""}
        Read {stats.files} file{stats.files === 1 ? "" : "s"} ({megabytes(stats.bytes)})
        {report.git ? `, ${stats.commits} commits and ${stats.blobs} blobs of git history` : ""} in{" "}
        <span data-clock>{(stats.elapsedMs / 1000).toFixed(1)} s</span>; searched for {report.searched.keyIds}{" "}
        known key ids and {report.searched.secrets} secrets Keyward holds, and the key formats of{" "}
        {report.searched.exchanges.map(exchangeName).join(", ")}. Skipped: {stats.skipped.tooLarge} too large,{" "}
        {stats.skipped.binary} binary, {stats.skipped.unreadable} unreadable.
        {stats.hitsDropped > 0
          ? ` ${stats.hitsDropped} more matches not listed (the same key again in one source).`
          : ""}
      </p>
      {report.warnings.map((w) => (
        <div className="warning" key={w}>
          {w}
        </div>
      ))}
      {report.findings.length > 0 ? (
        <table className="table" data-testid="scan-findings">
          <thead>
            <tr>
              <th>Found</th>
              <th>Confidence</th>
              <th>Exchange</th>
              <th>Account</th>
              <th>Label</th>
              <th>API key</th>
              <th>Permissions</th>
              <th>State</th>
              <th>Where</th>
            </tr>
          </thead>
          <tbody>
            {report.findings.map((f) => (
              <tr
                key={`${f.kind}:${f.fingerprint}`}
                data-fingerprint={f.fingerprint}
                className={f.live ? "live" : ""}
              >
                <td>
                  {f.kind === "known-secret" && f.passphraseFound && !f.secretFound
                    ? "passphrase of a known key"
                    : KIND_WORDS[f.kind]}{" "}
                  {f.secretFound && f.kind !== "known-secret" ? (
                    <span className="badge health-error">secret too</span>
                  ) : null}
                  {f.passphraseFound ? <span className="badge health-error">passphrase too</span> : null}
                </td>
                <td>{f.confidence}</td>
                <td>{exchangeName(f.exchange)}</td>
                <td>
                  {f.account ? visibleText(f.account) : "—"}
                  {f.subAccount ? ` / ${visibleText(f.subAccount)}` : ""}
                </td>
                <td>{f.label ? visibleText(f.label) : "—"}</td>
                <td className="mono">{f.keyShown}</td>
                <td>
                  {(f.verify?.permissions ?? f.permissions ?? []).join(", ") || "—"}
                  {(f.risks ?? []).map((r) => (
                    <RiskBadge key={r} risk={r} />
                  ))}
                </td>
                <td>
                  <span className={`badge ${f.live ? "health-error" : "dead"}`}>
                    {f.live ? "may work" : "dead"}
                  </span>{" "}
                  {stateText(f)}
                </td>
                <td>
                  <Where locations={f.locations} root={job.request.path.replace(/\/+$/, "")} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div className="actions">
        {job.revocable.length > 0 ? (
          <button
            type="button"
            className="primary"
            disabled={chosen.length === 0}
            onClick={() =>
              revokeThese(
                chosen,
                job.report?.auditSeq ?? null,
                Object.fromEntries(job.revocableKeys.map((k) => [k.keyId, k.reason])),
              )
            }
          >
            Revoke these ({chosen.length} known key{chosen.length === 1 ? "" : "s"})
          </button>
        ) : null}
        <button type="button" onClick={() => void download()}>
          Download SARIF
        </button>
      </div>
      {job.revocableKeys.length > 0 ? (
        <ul className="plain" data-testid="scan-revocable">
          {job.revocableKeys.map((k) => (
            <li key={k.keyId}>
              <label>
                <input
                  type="checkbox"
                  checked={ticked.has(k.keyId)}
                  onChange={(e) => {
                    const next = new Set(ticked);
                    if (e.target.checked) next.add(k.keyId);
                    else next.delete(k.keyId);
                    setTicked(next);
                  }}
                />{" "}
                <span className="mono">{visibleText(k.keyId)}</span>: <span>{k.reason}</span>
              </label>
            </li>
          ))}
        </ul>
      ) : null}
      {job.revocable.length > 0 ? (
        <p className="hint">
          “Revoke these” selects the ticked known keys found that may still work (ticked by default only where
          their secret was found: a key id alone can be planted by anyone) and opens their revoke plan to
          review and confirm, as a selection in the inventory does. Unknown keys are not Keyward's to revoke:
          revoke them on their exchange's site, or add their account to Keyward.
        </p>
      ) : null}
    </section>
  );
}

export function ScanPage({ revokeThese }: Props) {
  const [path, setPath] = useState("");
  const [git, setGit] = useState(false);
  const [verify, setVerify] = useState(false);
  const [job, setJob] = useState<ScanJobView | undefined>();
  const [following, setFollowing] = useState<string | undefined>();
  const [recent, setRecent] = useState<ScanJobView[]>([]);
  const [error, setError] = useState<ApiError | undefined>();
  const [starting, setStarting] = useState(false);

  const load = useCallback(async () => {
    const { defaultPath, jobs } = await call(api.scan.$get({ query: {} }));
    setRecent(jobs);
    return { defaultPath, jobs };
  }, []);

  // The path starts as the server's default (the demo's leaky folder); the latest scan is shown, and
  // followed if it still runs (another tab, or before a reload).
  useEffect(() => {
    load().then(
      ({ defaultPath, jobs }) => {
        if (defaultPath) setPath((p) => p || defaultPath);
        const latest = jobs[0];
        if (latest) {
          setJob(latest);
          if (latest.status === "running") setFollowing(latest.id);
        }
      },
      (e: ApiError) => setError(e),
    );
  }, [load]);

  const onEvent = useCallback((type: string, data: EventData): string | undefined => {
    if (type === "progress") {
      const progress = data.progress as ScanJobView["progress"];
      setJob((j) => (j ? { ...j, progress } : j));
      return undefined;
    }
    const ended = data.job as ScanJobView | undefined;
    if (ended) setJob(ended);
    return undefined;
  }, []);
  const onEnd = useCallback(() => {
    setFollowing(undefined);
    void load().catch(() => {});
  }, [load]);
  useLiveEvents(
    following ? `/api/scan/jobs/${following}/events` : undefined,
    ["progress", "finished", "stopped", "error"],
    onEvent,
    onEnd,
  );

  const start = async () => {
    setStarting(true);
    setError(undefined);
    try {
      const { job: started } = await call(api.scan.start.$post({ json: { path, git, verify } }));
      setJob(started);
      setFollowing(started.id);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setStarting(false);
    }
  };

  const stop = async () => {
    if (!job) return;
    try {
      await call(api.scan.jobs[":id"].stop.$post({ param: { id: job.id }, json: {} }));
    } catch (e) {
      setError(e as ApiError);
    }
  };

  const running = job?.status === "running";
  return (
    <section className="scan">
      <div className="page-head">
        <h1>Scan for leaked keys</h1>
      </div>
      <div className="panel">
        <p>
          Searches a folder or file <strong>on the machine this Keyward server runs on</strong> (a bot
          server's disk, a checked-out repository, a copy of CI logs) for every API key id and secret Keyward
          knows, and for anything shaped like an exchange's keys. Nothing is uploaded from this browser: type
          the path as the server sees it. The same scan runs from a terminal with <code>keyward scan</code>.
        </p>
        <label className="block">
          Folder or file (absolute path):
          {/* The path is the run's (a temporary folder in the demo): hidden in screenshots (data-clock). */}
          <input
            data-clock
            aria-label="Path to scan"
            value={path}
            onChange={(e) => setPath(e.target.value)}
            placeholder="/srv/bot-server"
            spellCheck={false}
            size={60}
          />
        </label>
        <div className="row">
          <label>
            <input
              type="checkbox"
              aria-label="Git history"
              checked={git}
              onChange={(e) => setGit(e.target.checked)}
            />{" "}
            Also read its git history (every file version of every branch and tag, without a checkout)
          </label>
        </div>
        <div className="row">
          <label>
            <input
              type="checkbox"
              aria-label="Verify unknown keys"
              checked={verify}
              onChange={(e) => setVerify(e.target.checked)}
            />{" "}
            Verify unknown keys with their exchange
          </label>
        </div>
        {verify ? (
          <div className="warning" role="alert">
            This sends each unknown key found with its secret to its exchange (a signed request, as anyone
            holding them could make) to ask whether it is alive and what it can do. Leave it off for keys that
            may not be your firm's.
          </div>
        ) : null}
        <div className="actions">
          <button
            type="button"
            className="primary"
            onClick={() => void start()}
            disabled={starting || running || !path.trim()}
          >
            {starting ? "Starting…" : "Start scan"}
          </button>
          {running ? (
            <button type="button" onClick={() => void stop()}>
              Stop
            </button>
          ) : null}
        </div>
      </div>
      {error ? <ErrorBox error={error} title="Not started" /> : null}
      {job ? (
        <>
          {running ? (
            <div className="panel" data-testid="scan-progress">
              <Spinner
                label={`Scanning ${job.request.path}: ${job.progress.files} files (${megabytes(job.progress.bytes)})${
                  job.request.git ? `, ${job.progress.commits} commits, ${job.progress.blobs} blobs` : ""
                }…`}
              />
              {job.progress.current ? (
                <div className="muted mono">{visibleText(job.progress.current)}</div>
              ) : null}
            </div>
          ) : null}
          {job.status === "error" && job.error ? (
            <ErrorBox
              error={new ApiError(0, job.error.code, job.error.message, job.error.hint)}
              title="The scan failed"
            />
          ) : null}
          <Findings
            key={`${job.id}:${job.report ? "done" : "running"}`}
            job={job}
            revokeThese={revokeThese}
          />
        </>
      ) : null}
      <EarlierRuns<ScanJobView>
        what="scans"
        runs={recent.length > 1 ? recent : []}
        describe={(j) =>
          `${j.request.path}${j.request.git ? " (with history)" : ""}, ${j.status}${
            j.report ? `, ${j.report.findings.length} finding(s)` : ""
          }`
        }
        show={(j) => setJob(j)}
      />
    </section>
  );
}
