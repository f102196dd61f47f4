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
import { ApiError, api, call, type ScanJobView } from "../api.js";
import { EarlierRuns } from "../components/earlier-runs.js";
import { Findings, megabytes, type RevokeThese } from "../components/scan-findings.js";
import { ErrorBox, Spinner } from "../components.js";
import { useAction } from "../hooks/use-action.js";
import { type EventData, useLiveEvents } from "../hooks/use-live-events.js";

interface Props {
  /**
   * Selects these key ids (replacing the selection) and opens the revoke plan for them. `scan`: the
   * scan's audit entry, which the revoke records as its cause (null when it has none). `reasons`: why
   * each key is there ("secret found at .env:4"), shown beside it in the plan.
   */
  revokeThese: RevokeThese;
}

export function ScanPage({ revokeThese }: Props) {
  const [path, setPath] = useState("");
  const [git, setGit] = useState(false);
  const [verify, setVerify] = useState(false);
  const [job, setJob] = useState<ScanJobView | undefined>();
  const [following, setFollowing] = useState<string | undefined>();
  const [recent, setRecent] = useState<ScanJobView[]>([]);
  const [error, setError] = useState<ApiError | undefined>();
  const [starting, runStart] = useAction(setError);
  const [, runStop] = useAction(setError);

  const load = useCallback(async () => {
    const { defaultPath, jobs } = await call(api.scan.$get({ query: {} }));
    setRecent(jobs);
    return { defaultPath, jobs };
  }, []);

  // The latest scan is shown, with its own path in the field, and followed if it still runs (another
  // tab, or before a reload); with no scan yet the path starts as the server's default (the demo's leaky
  // folder). Never the default above another path's results: the box also names its path (Findings).
  useEffect(() => {
    load().then(
      ({ defaultPath, jobs }) => {
        const latest = jobs[0];
        const initial = latest?.request.path ?? defaultPath;
        if (initial) setPath((p) => p || initial);
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

  const start = () =>
    runStart(async () => {
      const { job: started } = await call(api.scan.start.$post({ json: { path, git, verify } }));
      setJob(started);
      setFollowing(started.id);
    });

  const stop = () =>
    runStop(async () => {
      if (job) await call(api.scan.jobs[":id"].stop.$post({ param: { id: job.id }, json: {} }));
    });

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
                label={`Scanning ${visibleText(job.request.path)}: ${job.progress.files} files (${megabytes(job.progress.bytes)})${
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
          `${visibleText(j.request.path)}${j.request.git ? " (with history)" : ""}, ${j.status}${
            j.report ? `, ${j.report.findings.length} finding(s)` : ""
          }`
        }
        show={(j) => {
          // The field names the scan shown, as after a reload.
          setJob(j);
          setPath(j.request.path);
        }}
      />
    </section>
  );
}
