/**
 * The Scan page's findings box (pages/scan.tsx): what a finished scan found, redacted (first and last
 * four characters of a key; never a secret), the SARIF download, and "Revoke these" with why each key
 * is there. Its own file so the page stays a page (form, progress, earlier scans).
 */
import { revokeResultWords, visibleText } from "@keyward/core/browser";
import { useState } from "react";
import { api, call, type ScanFindingView, type ScanJobView } from "../api.js";
import { EXCHANGE_FACTS, RiskBadge, time } from "../components.js";

/** Selects these key ids and opens the revoke plan for them (pages/scan.tsx's Props says more). */
export type RevokeThese = (
  ids: readonly string[],
  scan: number | null,
  reasons: Record<string, string>,
) => void;

const KIND_WORDS: Record<ScanFindingView["kind"], string> = {
  "known-key": "known key",
  "known-secret": "secret of a known key",
  "unknown-key": "unknown key",
};

export const megabytes = (bytes: number) =>
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

type RevokeStateView = ScanJobView["revokes"][number];

/**
 * A found key's State cell once a revoke since the scan touched it: the revoke's own result in core's
 * words ("revoked, verified"), and when that revoke started; the scan's "may work" no longer holds.
 */
function RevokedState({ r }: { r: RevokeStateView }) {
  const badge = r.gone ? "dead" : "health-error";
  const word = r.gone ? "revoked" : r.active ? "being revoked" : "may work";
  return (
    <>
      <span className={`badge ${badge}`}>{word}</span>{" "}
      <span data-testid="scan-revoke-state">{r.pending ? "revoke in progress" : revokeResultWords(r)}</span>{" "}
      <span className="muted">
        (revoke of <span data-clock>{time(r.startedAt)}</span>)
      </span>
    </>
  );
}

function stateText(f: ScanFindingView): string {
  if (f.kind === "unknown-key") {
    if (f.verify) return `exchange says: ${f.verify.status}`;
    return f.live ? "not verified" : "—";
  }
  return f.state ?? "—";
}

export function Findings({ job, revokeThese }: { job: ScanJobView; revokeThese: RevokeThese }) {
  // Ticked by default: keys whose secret was found. A key found by its id alone is listed unticked with
  // why (anyone who knows an id can plant it in a file).
  const [ticked, setTicked] = useState<ReadonlySet<string>>(
    () => new Set(job.revocableKeys.filter((k) => k.secretFound).map((k) => k.keyId)),
  );
  const report = job.report;
  if (!report) return null;
  // What the revokes since the scan did to its keys (the server's, from their results): a key they
  // removed works no more, and only keys still revocable are offered again.
  const revokeOf = new Map(job.revokes.map((r) => [r.keyId, r]));
  const after = (f: ScanFindingView) => (f.keyId ? revokeOf.get(f.keyId) : undefined);
  const mayWork = (f: ScanFindingView) => f.live && !after(f)?.gone;
  const offered = job.revocableKeys.filter((k) => job.stillRevocable.includes(k.keyId));
  const chosen = job.stillRevocable.filter((id) => ticked.has(id));
  const { stats } = report;
  const live = report.findings.filter(mayWork).length;
  const gone = job.revokes.filter((r) => r.gone).length;
  const inRevoke = job.revokes.filter((r) => !r.gone && r.active).length;
  // Unknown keys are never Keyward's to revoke: the guidance stays while one may still work, also once
  // the known keys are revoked and "Revoke these" is gone.
  const unknownMayWork = report.findings.some((f) => f.kind === "unknown-key" && mayWork(f));
  // History places are paths from their repository's top, which may be above the folder scanned (as the
  // CLI's summary, the page names it).
  const repositories = [
    ...new Set(
      report.findings.flatMap((f) => f.locations.flatMap((l) => (l.repository ? [l.repository] : []))),
    ),
  ];
  // Asked for history but none was read: a folder in no repository (the warning below says so), or one
  // with no commits. The line must not claim a history was scanned.
  const noHistory = job.request.git && stats.commits === 0;
  // Files (not history blobs) left unread as too large: named in the warning; a file named as the path
  // is read whatever its size.
  const tooLargeFiles = stats.skippedSources.filter((s) => s.reason === "tooLarge" && !s.commit);
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
      {/* Which scan this is: the path field may hold another by now (reload, an earlier scan shown). */}
      <p data-testid="scan-source">
        {job.request.git && !noHistory ? "Scanned, with its git history, " : "Scanned "}
        <span className="mono" data-clock>
          {visibleText(job.request.path)}
        </span>{" "}
        {noHistory ? "(no git history read: not in a repository, or one with no commits) " : ""}
        at <span data-clock>{time(job.startedAt)}</span>
      </p>
      {repositories.map((r) => (
        <p className="muted" key={r} data-testid="scan-repository">
          History places (“commit …: path”) are paths from the top of the repository{" "}
          <span className="mono">{visibleText(r)}</span>.
        </p>
      ))}
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
      {stats.skipped.tooLarge > 0 && tooLargeFiles.length > 0 ? (
        <p className="hint" data-testid="scan-too-large">
          To read a file skipped as too large, type its full path (e.g.{" "}
          <span className="mono">{visibleText(tooLargeFiles[0]?.path ?? "")}</span>) in the path field and
          start again: a file named itself is read whatever its size. The command line's{" "}
          <span className="mono">keyward scan --max-file-size</span> raises the limit for a folder.
        </p>
      ) : null}
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
                className={mayWork(f) ? "live" : ""}
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
                  {(() => {
                    const r = after(f);
                    if (r) return <RevokedState r={r} />;
                    return (
                      <>
                        <span className={`badge ${f.live ? "health-error" : "dead"}`}>
                          {f.live ? "may work" : "dead"}
                        </span>{" "}
                        {stateText(f)}
                      </>
                    );
                  })()}
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
      {job.revocable.length > 0 && offered.length === 0 ? (
        <p className="hint" data-testid="scan-nothing-to-revoke">
          Nothing left to revoke here:{" "}
          {[
            gone
              ? `${gone} known key${gone === 1 ? " this scan found was" : "s this scan found were"} revoked since`
              : "",
            inRevoke ? `${inRevoke} ${inRevoke === 1 ? "is" : "are"} in a revoke still running` : "",
          ]
            .filter(Boolean)
            .join("; ")}{" "}
          (see State above). Scan again to look for keys that appeared since.
        </p>
      ) : null}
      {offered.length > 0 ? (
        <ul className="plain" data-testid="scan-revocable">
          {offered.map((k) => (
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
                <span className="mono">{k.shown}</span>: <span>{k.reason}</span>
              </label>
            </li>
          ))}
        </ul>
      ) : null}
      {offered.length > 0 ? (
        <p className="hint">
          “Revoke these” selects the ticked known keys found that may still work (ticked by default only where
          their secret was found: a key id alone can be planted by anyone) and opens their revoke plan to
          review and confirm, as a selection in the inventory does.
        </p>
      ) : null}
      {unknownMayWork ? (
        <p className="hint" data-testid="scan-unknown-guidance">
          Unknown keys are not Keyward's to revoke: revoke them on their exchange's site, or add their account
          to Keyward.
        </p>
      ) : null}
    </section>
  );
}
