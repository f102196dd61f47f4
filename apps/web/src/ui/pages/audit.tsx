/** The audit log, newest first, with the hash chain's status checked on every load. */
import { useCallback, useEffect, useState } from "react";
import { type ApiError, type AuditEntryView, type AuditResponse, api, call } from "../api.js";
import { dateTime, ErrorBox, Spinner } from "../components.js";

export function AuditPage() {
  const [data, setData] = useState<AuditResponse | undefined>();
  const [entries, setEntries] = useState<AuditEntryView[]>([]);
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(false);

  const load = useCallback(async (beforeSeq?: number) => {
    setLoading(true);
    setError(undefined);
    try {
      const res = await call(
        api.audit.$get({ query: { limit: "200", ...(beforeSeq ? { beforeSeq: String(beforeSeq) } : {}) } }),
      );
      setData(res);
      setEntries((prev) => (beforeSeq ? [...prev, ...res.entries] : res.entries));
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const chain = data?.chain;
  return (
    <section className="audit">
      <div className="page-head">
        <h1>Audit log</h1>
        <div className="actions">
          <button type="button" onClick={() => void load()} disabled={loading}>
            Reload and verify
          </button>
        </div>
      </div>
      {error ? <ErrorBox error={error} title="Could not read the audit log" /> : null}
      {chain ? (
        chain.ok ? (
          <div className="ok-box" data-testid="chain-status">
            <strong>Chain intact:</strong> {chain.entries} entries, every hash and link checked
            {chain.authenticatedFrom === null
              ? " (not keyed yet: no MAC checked)"
              : chain.authenticatedFrom > 1
                ? `, MACs from #${chain.authenticatedFrom} on (earlier entries predate keying)`
                : ", and every MAC with the vault's audit key"}
            {chain.head ? (
              <>
                ; head #{chain.head.seq} <code>{chain.head.hash.slice(0, 16)}…</code>. Copy{" "}
                <code>
                  {chain.head.seq}:{chain.head.hash}
                </code>{" "}
                (or <code>keyward audit head</code>) somewhere else:{" "}
                <code>keyward audit verify --expect-head</code> with it later detects a rollback of the whole
                log.
              </>
            ) : (
              " (empty)."
            )}
          </div>
        ) : (
          <div className="error" role="alert" data-testid="chain-status">
            <strong>Audit log BROKEN at entry #{chain.brokenAt}</strong> ({chain.reason}); {chain.entries}{" "}
            entries before it are intact.
            <div className="hint">
              What to do: treat entries from #{chain.brokenAt} on as untrustworthy; compare with a head you
              kept elsewhere; find out who could write the state database. Keyward refuses destructive actions
              until the log is sound.
            </div>
          </div>
        )
      ) : loading ? (
        <Spinner label="Reading and verifying the audit log…" />
      ) : null}

      {data ? (
        <table className="table audit-table">
          <thead>
            <tr>
              <th>#</th>
              <th>Time</th>
              <th>Action</th>
              <th>Actor</th>
              <th>Subject</th>
              <th>Details</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.seq} className={chain && !chain.ok && e.seq >= chain.brokenAt ? "broken" : ""}>
                <td>{e.seq}</td>
                <td>{dateTime(e.ts)}</td>
                <td className="mono">{e.action}</td>
                <td>{e.actor}</td>
                <td className="mono subject" title={e.subject}>
                  {e.subject}
                </td>
                <td className="details">
                  <details>
                    <summary>{JSON.stringify(e.details).slice(0, 90)}</summary>
                    <pre>{JSON.stringify(e.details, null, 2)}</pre>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {data?.more ? (
        <button type="button" onClick={() => void load(entries.at(-1)?.seq)} disabled={loading}>
          Load older entries
        </button>
      ) : null}
      {data ? (
        <p className="muted">
          {entries.length} of {data.total} entries shown.
        </p>
      ) : null}
    </section>
  );
}
