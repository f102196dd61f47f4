/**
 * The audit log, newest first, a page at a time from the server, with the hash chain's status. The
 * filters and the page live in the URL query (`/audit?account=desk-alpha&action=revoke&beforeSeq=262`):
 * a link to it is shareable, survives a reload, and back/forward steps through what was looked at.
 * Subjects and outcomes are the server's words (core's presentAuditEntry, as in the CLI); each entry's
 * raw JSON is one click away.
 */
import { type FormEvent, useCallback, useEffect, useState } from "react";
import { type ApiError, type AuditEntryView, type AuditResponse, api, call } from "../api.js";
import { dateTime, ErrorBox, Spinner } from "../components.js";

/** The filters the URL may carry, in the order the form shows them. */
const FILTERS = [
  { name: "action", label: "Action", placeholder: "revoke, revoke.done" },
  { name: "account", label: "Account", placeholder: "desk-alpha" },
  { name: "exchange", label: "Exchange", placeholder: "okx" },
  { name: "key", label: "Key", placeholder: "key id or API key" },
  { name: "since", label: "Since", placeholder: "24h, 7d, 2026-01-31" },
  { name: "until", label: "Until", placeholder: "2026-02-01T09:00Z" },
  { name: "search", label: "Search", placeholder: "any text" },
] as const;
/** Entries a page. */
const PAGE = "50";

type FilterName = (typeof FILTERS)[number]["name"];
type Filters = Partial<Record<FilterName, string>>;

interface View {
  filters: Filters;
  beforeSeq?: string;
}

/** What the URL's query says to show. */
function readUrl(): View {
  const params = new URLSearchParams(window.location.search);
  const filters: Filters = {};
  for (const f of FILTERS) {
    const v = params.get(f.name);
    if (v) filters[f.name] = v;
  }
  const before = params.get("beforeSeq");
  return { filters, ...(before && /^[1-9][0-9]*$/.test(before) ? { beforeSeq: before } : {}) };
}

function urlOf(view: View): string {
  const params = new URLSearchParams();
  for (const f of FILTERS) {
    const v = view.filters[f.name];
    if (v) params.set(f.name, v);
  }
  if (view.beforeSeq) params.set("beforeSeq", view.beforeSeq);
  const q = params.toString();
  return `${window.location.pathname}${q ? `?${q}` : ""}`;
}

const sameView = (a: View, b: View) => urlOf(a) === urlOf(b);

export function AuditPage() {
  const [view, setView] = useState<View>(readUrl);
  const [draft, setDraft] = useState<Filters>(view.filters);
  const [data, setData] = useState<AuditResponse | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [loading, setLoading] = useState(false);
  const [reloads, setReloads] = useState(0);

  // Back and forward: the URL changed under us, show what it says.
  useEffect(() => {
    const onPop = () => {
      const next = readUrl();
      setView(next);
      setDraft(next.filters);
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const go = useCallback((next: View) => {
    setView((prev) => {
      if (!sameView(prev, next)) window.history.pushState(null, "", urlOf(next));
      return next;
    });
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `reloads` asks for the same view again
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(undefined);
    call(
      api.audit.$get({
        query: { ...view.filters, limit: PAGE, ...(view.beforeSeq ? { beforeSeq: view.beforeSeq } : {}) },
      }),
    )
      .then(
        (res) => {
          if (live) setData(res);
        },
        (e: ApiError) => {
          if (live) setError(e);
        },
      )
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [view, reloads]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const filters: Filters = {};
    for (const f of FILTERS) {
      const v = draft[f.name]?.trim();
      if (v) filters[f.name] = v;
    }
    go({ filters });
  };
  const filtered = Object.keys(view.filters).length > 0;

  const chain = data?.chain;
  return (
    <section className="audit">
      <div className="page-head">
        <h1>Audit log</h1>
        <div className="actions">
          <button type="button" onClick={() => setReloads((n) => n + 1)} disabled={loading}>
            Reload and verify
          </button>
        </div>
      </div>
      <form className="filters audit-filters" onSubmit={apply} aria-label="Audit filters">
        {FILTERS.map((f) => (
          <label key={f.name}>
            {f.label}
            <input
              type={f.name === "search" ? "search" : "text"}
              name={f.name}
              placeholder={f.placeholder}
              value={draft[f.name] ?? ""}
              onChange={(e) => setDraft((d) => ({ ...d, [f.name]: e.target.value }))}
            />
          </label>
        ))}
        <button type="submit">Filter</button>
        {filtered ? (
          <button
            type="button"
            onClick={() => {
              setDraft({});
              go({ filters: {} });
            }}
          >
            Clear
          </button>
        ) : null}
      </form>
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
        data.entries.length === 0 ? (
          <p className="empty">
            {filtered ? "No audit entries match these filters." : "The audit log is empty."}
          </p>
        ) : (
          <table className="table audit-table">
            <thead>
              <tr>
                <th>#</th>
                <th>Time</th>
                <th>Action</th>
                <th>Outcome</th>
                <th>Subject</th>
                <th>Actor</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {data.entries.map((e) => (
                <EntryRow
                  key={e.seq}
                  entry={e}
                  broken={chain !== undefined && !chain.ok && e.seq >= chain.brokenAt}
                />
              ))}
            </tbody>
          </table>
        )
      ) : null}
      {data ? (
        <div className="audit-paging">
          <span className="muted" data-testid="audit-count">
            {data.entries.length} of {data.total} {filtered ? "matching " : ""}entries shown
            {view.beforeSeq ? ` (older than #${view.beforeSeq})` : ""}.
          </span>{" "}
          {view.beforeSeq ? (
            <button type="button" onClick={() => go({ filters: view.filters })} disabled={loading}>
              Newest
            </button>
          ) : null}{" "}
          {data.next !== null ? (
            <button
              type="button"
              onClick={() => go({ filters: view.filters, beforeSeq: String(data.next) })}
              disabled={loading}
            >
              Older entries
            </button>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}

function EntryRow({ entry: e, broken }: { entry: AuditEntryView; broken: boolean }) {
  const [raw, setRaw] = useState(false);
  const v = e.view;
  return (
    <tr className={broken ? "broken" : ""} data-seq={e.seq}>
      <td>{e.seq}</td>
      <td>{dateTime(e.ts)}</td>
      <td className="mono">{e.action}</td>
      <td>
        {v ? (
          <span className={`badge tone-${v.outcome.tone}`} data-testid="outcome">
            {v.outcome.word}
          </span>
        ) : null}
      </td>
      <td className="subject" title={e.subject} data-testid="subject">
        {v?.subject.text ?? e.subject}
        {v?.subject.exchange && v.subject.kind === "key" ? (
          <span className="muted"> ({v.subject.exchange})</span>
        ) : null}
      </td>
      <td>{e.actor}</td>
      <td className="details">
        {v?.summary ? <div>{v.summary}</div> : null}
        {raw ? (
          <pre data-testid="raw-json">{JSON.stringify({ ...e, view: undefined }, null, 2)}</pre>
        ) : v && v.fields.length > 0 ? (
          <dl className="audit-fields">
            {v.fields.map((f, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: fields repeat names (evidence) and never reorder
              <div key={i}>
                <dt>{f.name}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
        ) : null}
        <button type="button" className="link" onClick={() => setRaw((r) => !r)} aria-pressed={raw}>
          {raw ? "Fields" : "Raw JSON"}
        </button>
      </td>
    </tr>
  );
}
