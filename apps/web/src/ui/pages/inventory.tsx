// biome-ignore-all lint/a11y/useSemanticElements: a virtualised table keeps only the rows in view in the DOM, which a native <table> cannot lay out; the ARIA table roles (with aria-rowcount/aria-rowindex) describe it instead.
// biome-ignore-all lint/a11y/useFocusableInteractive: role=table (not grid) rows and headers are not interactive; the checkboxes and sort buttons inside them take focus.
/**
 * Every key across exchanges and accounts. Filtering, search and sort run in memory over the rows the
 * server sent (sorted once per sort change, filtered per keystroke); only the rows in view are in the
 * DOM (fixed-height virtual rows), so 2,000 keys stay instant.
 */
import { memo, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { InventoryRowView } from "../api.js";
import type { InventoryState } from "../app.js";
import { ErrorBox, RISK_TEXT, RiskBadge, Spinner, time } from "../components.js";

const ROW_HEIGHT = 34;
const OVERSCAN = 12;

type SortKey =
  | "exchange"
  | "account"
  | "subAccount"
  | "label"
  | "apiKey"
  | "permissions"
  | "management"
  | "risks"
  | "createdAt";

const COLUMNS: { key: SortKey; title: string }[] = [
  { key: "exchange", title: "Exchange" },
  { key: "account", title: "Account" },
  { key: "subAccount", title: "Sub-account" },
  { key: "label", title: "Label" },
  { key: "apiKey", title: "API key" },
  { key: "permissions", title: "Permissions" },
  { key: "management", title: "Revoke by" },
  { key: "createdAt", title: "Age" },
  { key: "risks", title: "Risks" },
];

const DAY = 86_400_000;
const ageDays = (row: InventoryRowView) =>
  row.createdAt ? Math.floor((Date.now() - Date.parse(row.createdAt)) / DAY) : null;
const where = (row: InventoryRowView) => row.subAccount ?? (row.location === "master" ? "(master)" : "—");
const riskWeight = (row: InventoryRowView) =>
  (row.risks.includes("withdraw") ? 100 : 0) + (row.risks.includes("transfer") ? 50 : 0) + row.risks.length;

function compare(key: SortKey): (a: InventoryRowView, b: InventoryRowView) => number {
  switch (key) {
    case "risks":
      return (a, b) => riskWeight(a) - riskWeight(b);
    case "createdAt":
      return (a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? "");
    case "permissions":
      return (a, b) => a.permissions.join(",").localeCompare(b.permissions.join(","));
    case "subAccount":
      return (a, b) => where(a).localeCompare(where(b));
    default:
      return (a, b) => String(a[key]).localeCompare(String(b[key]));
  }
}

interface Indexed {
  row: InventoryRowView;
  text: string;
}

interface Filters {
  search: string;
  exchange: string;
  account: string;
  risk: string;
  method: string;
}

const NO_FILTERS: Filters = { search: "", exchange: "", account: "", risk: "", method: "" };

export function filterRows(rows: readonly Indexed[], f: Filters): InventoryRowView[] {
  const terms = f.search.toLowerCase().split(/\s+/).filter(Boolean);
  const out: InventoryRowView[] = [];
  for (const { row, text } of rows) {
    if (f.exchange && row.exchange !== f.exchange) continue;
    if (f.account && row.account !== f.account) continue;
    if (f.method && row.management !== f.method) continue;
    if (f.risk === "any" && row.risks.length === 0) continue;
    if (f.risk === "none" && row.risks.length > 0) continue;
    if (f.risk && f.risk !== "any" && f.risk !== "none" && !row.risks.includes(f.risk as never)) continue;
    if (terms.length > 0 && !terms.every((t) => text.includes(t))) continue;
    out.push(row);
  }
  return out;
}

interface Props {
  inventory: InventoryState;
  selected: ReadonlySet<string>;
  setSelected: (update: (prev: ReadonlySet<string>) => ReadonlySet<string>) => void;
  goRevoke: () => void;
  goRotate: () => void;
}

export function InventoryPage({ inventory, selected, setSelected, goRevoke, goRotate }: Props) {
  const { data, loading, error, load } = inventory;
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: "risks", dir: -1 });
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  const sorted = useMemo<Indexed[]>(() => {
    const rows = (data?.keys ?? []).map((row) => ({
      row,
      text: [
        row.exchange,
        row.account,
        row.subAccount ?? "",
        row.label,
        row.apiKey,
        row.permissions.join(" "),
        row.risks.join(" "),
        row.management,
        row.state,
      ]
        .join(" ")
        .toLowerCase(),
    }));
    const cmp = compare(sort.key);
    const byLabel = compare("label");
    return rows.sort((a, b) => sort.dir * cmp(a.row, b.row) || byLabel(a.row, b.row));
  }, [data, sort]);

  // Filtering 2,000 rows in memory takes well under a millisecond, and only the rows in view render:
  // the table follows each keystroke in the same frame.
  const shown = useMemo(() => filterRows(sorted, filters), [sorted, filters]);
  const accounts = useMemo(() => [...new Set((data?.keys ?? []).map((k) => k.account))].sort(), [data]);

  const toggle = useCallback(
    (id: string) =>
      setSelected((prev) => {
        const next = new Set(prev);
        if (next.has(id)) next.delete(id);
        else next.add(id);
        return next;
      }),
    [setSelected],
  );
  const allShownSelected = shown.length > 0 && shown.every((r) => selected.has(r.id));

  const failed = data?.accounts.filter((a) => a.error) ?? [];
  const filtered = filters !== NO_FILTERS && JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);

  return (
    <section className="inventory">
      <div className="page-head">
        <h1>Inventory</h1>
        <div className="actions">
          {data ? (
            <span className="muted">
              fetched {time(data.fetchedAt)} in {(data.ms / 1000).toFixed(1)} s
            </span>
          ) : null}
          <button type="button" onClick={() => void load(true)} disabled={loading}>
            {loading ? "Refreshing…" : "Refresh from exchanges"}
          </button>
        </div>
      </div>

      {error ? <ErrorBox error={error} title="Could not load the inventory" /> : null}
      {failed.map((a) => (
        <div className="error" role="alert" key={a.account}>
          <strong>
            {a.account} ({a.exchange}): could not list keys:
          </strong>{" "}
          {a.error?.message}
          <div className="hint">
            What to do: {a.error?.hint ?? "Check the account on the Accounts page, then refresh."}
          </div>
        </div>
      ))}
      {!data && loading ? (
        <Spinner label="Listing every account's keys at the exchanges' rate limits…" />
      ) : null}

      {data ? (
        <>
          <section className="counts" aria-label="Counts">
            <button
              type="button"
              className={`count ${filtered ? "" : "on"}`}
              onClick={() => setFilters(NO_FILTERS)}
            >
              <span className="n">{data.counts.total}</span> keys
            </button>
            {Object.entries(data.counts.byExchange).map(([ex, n]) => (
              <button
                type="button"
                key={ex}
                className={`count ${filters.exchange === ex ? "on" : ""}`}
                onClick={() => set({ exchange: filters.exchange === ex ? "" : ex })}
                data-testid={`count-exchange-${ex}`}
              >
                <span className="n">{n}</span> {ex}
              </button>
            ))}
            <button
              type="button"
              className={`count risky ${filters.risk === "any" ? "on" : ""}`}
              onClick={() => set({ risk: filters.risk === "any" ? "" : "any" })}
              data-testid="count-risky"
            >
              <span className="n">{data.counts.risky}</span> with risks
            </button>
            {Object.entries(data.counts.byRisk)
              .filter(([, n]) => n > 0)
              .map(([risk, n]) => (
                <button
                  type="button"
                  key={risk}
                  className={`count risk-count ${filters.risk === risk ? "on" : ""}`}
                  onClick={() => set({ risk: filters.risk === risk ? "" : risk })}
                  title={RISK_TEXT[risk]}
                  data-testid={`count-risk-${risk}`}
                >
                  <span className="n">{n}</span> <RiskBadge risk={risk} />
                </button>
              ))}
            <span className="count static">
              <span className="n">{data.counts.byManagement.api}</span> by API ·{" "}
              <span className="n">{data.counts.byManagement.manual}</span> by a person
            </span>
          </section>

          <div className="filters">
            <input
              type="search"
              aria-label="Search keys"
              placeholder="Search label, account, sub-account, API key, permission…"
              value={filters.search}
              onChange={(e) => set({ search: e.target.value })}
              autoComplete="off"
              spellCheck={false}
            />
            <select
              aria-label="Exchange"
              value={filters.exchange}
              onChange={(e) => set({ exchange: e.target.value })}
            >
              <option value="">All exchanges</option>
              {Object.keys(data.counts.byExchange).map((ex) => (
                <option key={ex} value={ex}>
                  {ex}
                </option>
              ))}
            </select>
            <select
              aria-label="Account"
              value={filters.account}
              onChange={(e) => set({ account: e.target.value })}
            >
              <option value="">All accounts</option>
              {accounts.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
            <select aria-label="Risk" value={filters.risk} onChange={(e) => set({ risk: e.target.value })}>
              <option value="">Any risk or none</option>
              <option value="any">With any risk</option>
              <option value="none">Without risks</option>
              {Object.keys(data.counts.byRisk).map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
            <select
              aria-label="Revoked by"
              value={filters.method}
              onChange={(e) => set({ method: e.target.value })}
            >
              <option value="">API or person</option>
              <option value="api">By API</option>
              <option value="manual">By a person</option>
            </select>
          </div>

          <div className="selection-bar">
            <span data-testid="shown-count">
              {shown.length} of {data.counts.total} keys
            </span>
            <button
              type="button"
              onClick={() =>
                setSelected((prev) => {
                  const next = new Set(prev);
                  for (const r of shown) {
                    if (allShownSelected) next.delete(r.id);
                    else next.add(r.id);
                  }
                  return next;
                })
              }
              disabled={shown.length === 0}
            >
              {allShownSelected ? "Unselect" : "Select"} the {shown.length} shown
            </button>
            {selected.size > 0 ? (
              <>
                <span className="selected-count">{selected.size} selected</span>
                <button type="button" onClick={() => setSelected(() => new Set())}>
                  Clear selection
                </button>
                <button type="button" onClick={goRotate}>
                  Rotate selected ({selected.size})…
                </button>
                <button type="button" className="danger" onClick={goRevoke}>
                  Revoke selected ({selected.size})…
                </button>
              </>
            ) : (
              <span className="muted">Select keys to revoke or rotate them.</span>
            )}
          </div>

          <div className="grid" role="table" aria-label="Keys" aria-rowcount={shown.length + 1}>
            <div className="grid-head" role="row">
              <span role="columnheader" className="cell check" />
              {COLUMNS.map((col) => (
                <span
                  role="columnheader"
                  key={col.key}
                  className={`cell col-${col.key}`}
                  aria-sort={sort.key === col.key ? (sort.dir === 1 ? "ascending" : "descending") : "none"}
                >
                  <button
                    type="button"
                    className="sort"
                    onClick={() =>
                      setSort((s) => ({ key: col.key, dir: s.key === col.key ? (s.dir === 1 ? -1 : 1) : 1 }))
                    }
                  >
                    {col.title}
                    {sort.key === col.key ? (sort.dir === 1 ? " ▲" : " ▼") : ""}
                  </button>
                </span>
              ))}
            </div>
            <VirtualRows rows={shown} selected={selected} toggle={toggle} />
            {shown.length === 0 ? <div className="empty">No keys match these filters.</div> : null}
          </div>
        </>
      ) : null}
    </section>
  );
}

function VirtualRows({
  rows,
  selected,
  toggle,
}: {
  rows: InventoryRowView[];
  selected: ReadonlySet<string>;
  toggle: (id: string) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  // A new filter shows its first rows.
  useEffect(() => {
    if (ref.current && rows.length * ROW_HEIGHT < ref.current.scrollTop) ref.current.scrollTop = 0;
  }, [rows]);

  const start = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const end = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(start, end);
  return (
    <div
      className="grid-body"
      ref={ref}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      role="rowgroup"
    >
      <div className="grid-spacer" style={{ height: rows.length * ROW_HEIGHT }}>
        {visible.map((row, i) => (
          <Row
            key={row.id}
            row={row}
            top={(start + i) * ROW_HEIGHT}
            checked={selected.has(row.id)}
            toggle={toggle}
            index={start + i}
          />
        ))}
      </div>
    </div>
  );
}

const Row = memo(function Row({
  row,
  top,
  checked,
  toggle,
  index,
}: {
  row: InventoryRowView;
  top: number;
  checked: boolean;
  toggle: (id: string) => void;
  index: number;
}) {
  const age = ageDays(row);
  const name = row.label || row.apiKeyShort;
  return (
    <div
      className={`grid-row ${checked ? "selected" : ""} ${row.state === "dead" ? "dead" : ""}`}
      role="row"
      aria-rowindex={index + 2}
      data-key-id={row.id}
      style={{ transform: `translateY(${top}px)` }}
    >
      <span className="cell check" role="cell">
        <input
          type="checkbox"
          checked={checked}
          onChange={() => toggle(row.id)}
          aria-label={`Select ${name}`}
        />
      </span>
      <span className={`cell col-exchange ex-${row.exchange}`} role="cell">
        {row.exchange}
      </span>
      <span className="cell col-account" role="cell">
        {row.account}
      </span>
      <span className="cell col-subAccount" role="cell">
        {where(row)}
      </span>
      <span className="cell col-label" role="cell" title={row.label}>
        {row.label || <span className="muted">(no label)</span>}
      </span>
      <span className="cell col-apiKey mono" role="cell" title={row.id}>
        {row.apiKeyShort}
      </span>
      <span
        className="cell col-permissions"
        role="cell"
        title={`IP: ${row.exchange === "bitfinex" ? "not reported" : row.ip.join(", ") || "any"}`}
      >
        {row.permissions.join(", ") || "—"}
      </span>
      <span className={`cell col-management ${row.management}`} role="cell">
        {row.management === "api" ? "API" : "person"}
      </span>
      <span className="cell col-createdAt" role="cell" title={row.createdAt ?? "unknown"}>
        {age === null ? "—" : `${age} d`}
      </span>
      <span className="cell col-risks" role="cell">
        {row.state === "dead" ? <span className="badge dead">revoked</span> : null}
        {row.risks.map((r) => (
          <RiskBadge key={r} risk={r} />
        ))}
      </span>
    </div>
  );
});
