/**
 * Every key across exchanges and accounts. Filtering, search and sort run in memory over the rows the
 * server sent (sorted once per sort change, filtered per keystroke); the table renders only the rows
 * in view (components/inventory-table.tsx), so 2,000 keys stay instant.
 */
import { useCallback, useEffect, useMemo, useState } from "react";
import type { InventoryState } from "../app.js";
import {
  type Filters,
  filterRows,
  type Indexed,
  InventoryCounts,
  InventoryFilterBar,
  indexForSearch,
  NO_FILTERS,
} from "../components/inventory-filters.js";
import { compare, InventoryTable, type Sort, type SortKey } from "../components/inventory-table.js";
import { ageText, dateTime, ErrorBox, Spinner, time } from "../components.js";

interface Props {
  inventory: InventoryState;
  selected: ReadonlySet<string>;
  setSelected: (update: (prev: ReadonlySet<string>) => ReadonlySet<string>) => void;
  goRevoke: () => void;
  goRotate: () => void;
}

const DEFAULT_SORT: Sort = { key: "risks", dir: -1 };
const SORT_KEYS: readonly SortKey[] = [
  "exchange",
  "account",
  "subAccount",
  "label",
  "apiKey",
  "permissions",
  "ip",
  "management",
  "risks",
  "createdAt",
];
const FILTER_PARAMS = {
  search: "q",
  exchange: "exchange",
  account: "account",
  risk: "risk",
  method: "how",
} as const;

/**
 * The view in the page's URL (`?q=bot&exchange=okx&risk=any&how=api&sort=label&dir=asc`): a link shows
 * the same view, a reload keeps it, back and forward step through the views. Values outside what the page
 * knows fall back to the default (a hand-edited URL is input like any other).
 */
function viewFromUrl(): { filters: Filters; sort: Sort } {
  const q = new URLSearchParams(window.location.search);
  const filters = { ...NO_FILTERS };
  for (const [field, param] of Object.entries(FILTER_PARAMS) as [keyof Filters, string][])
    filters[field] = (q.get(param) ?? "").slice(0, 200);
  const key = q.get("sort") as SortKey | null;
  const sort: Sort =
    key && SORT_KEYS.includes(key) ? { key, dir: q.get("dir") === "asc" ? 1 : -1 } : DEFAULT_SORT;
  return { filters, sort };
}

function urlOf(filters: Filters, sort: Sort): string {
  const q = new URLSearchParams();
  for (const [field, param] of Object.entries(FILTER_PARAMS) as [keyof Filters, string][])
    if (filters[field]) q.set(param, filters[field]);
  if (sort.key !== DEFAULT_SORT.key || sort.dir !== DEFAULT_SORT.dir) {
    q.set("sort", sort.key);
    q.set("dir", sort.dir === 1 ? "asc" : "desc");
  }
  const query = q.toString();
  return `${window.location.pathname}${query ? `?${query}` : ""}`;
}

export function InventoryPage({ inventory, selected, setSelected, goRevoke, goRotate }: Props) {
  const { data, loading, error, load } = inventory;
  const [filters, setFilters] = useState<Filters>(() => viewFromUrl().filters);
  const [sort, setSort] = useState<Sort>(() => viewFromUrl().sort);

  // The view goes into the URL: typing in the search box replaces the entry (one history entry per search,
  // not per keystroke); a select, a count or a sort pushes one, so back returns to the view before it.
  useEffect(() => {
    const url = urlOf(filters, sort);
    if (url === `${window.location.pathname}${window.location.search}`) return;
    const typing = viewFromUrl().filters.search !== filters.search;
    if (typing) window.history.replaceState(null, "", url);
    else window.history.pushState(null, "", url);
  }, [filters, sort]);
  useEffect(() => {
    const onPop = () => {
      const view = viewFromUrl();
      setFilters(view.filters);
      setSort(view.sort);
    };
    window.addEventListener("popstate", onPop);
    return () => window.removeEventListener("popstate", onPop);
  }, []);

  const sorted = useMemo<Indexed[]>(() => {
    const rows = (data?.keys ?? []).map(indexForSearch);
    const cmp = compare(sort.key);
    const byLabel = compare("label");
    return rows.sort((a, b) => sort.dir * cmp(a.row, b.row) || byLabel(a.row, b.row));
  }, [data, sort]);

  // Filtering 2,000 rows in memory takes well under a millisecond, and only the rows in view render:
  // the table follows each keystroke in the same frame.
  const shown = useMemo(() => filterRows(sorted, filters), [sorted, filters]);
  const accounts = useMemo(() => [...new Set((data?.keys ?? []).map((k) => k.account))].sort(), [data]);

  // Stable, so the memoised rows re-render only when their own checkbox changes.
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
  // Keyward's own key of an account, where the exchange revokes it by API (it deletes itself): a revoke
  // plan holds it back unless it is named, and a ticked row is named. The bulk select leaves it out, so
  // only ticking its own checkbox (a deliberate choice) ends Keyward's access to the account.
  const ownKeys = useMemo(() => shown.filter((r) => r.accountKey && r.management === "api"), [shown]);
  const bulk = useMemo(() => shown.filter((r) => !(r.accountKey && r.management === "api")), [shown]);
  const allShownSelected = bulk.length > 0 && bulk.every((r) => selected.has(r.id));

  const failed = data?.accounts.filter((a) => a.error) ?? [];

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
          <div className="hint" data-testid="stale-note">
            {a.stale
              ? `Its tracked keys are probed with their own secrets; its other keys are shown from the listing of ${dateTime(a.stale.fetchedAt)} (${ageText(a.stale.ageMs)} old), marked stale.`
              : "Its tracked keys are probed with their own secrets; there is no earlier listing to show its other keys from."}{" "}
            Only a person can revoke this account's keys until it can be listed again.
          </div>
        </div>
      ))}
      {data?.accounts.some((a) => a.unlisted) ? (
        <ul className="unlisted" aria-label="Keys the exchanges cannot list">
          {data.accounts
            .filter((a) => a.unlisted)
            .map((a) => (
              <li key={a.account}>
                <strong>{a.account}:</strong> {a.unlisted}
              </li>
            ))}
        </ul>
      ) : null}
      {!data && loading ? (
        <Spinner label="Listing every account's keys at the exchanges' rate limits…" />
      ) : null}

      {data ? (
        <>
          <InventoryCounts counts={data.counts} filters={filters} setFilters={setFilters} />
          <InventoryFilterBar
            counts={data.counts}
            accounts={accounts}
            filters={filters}
            setFilters={setFilters}
          />

          <div className="selection-bar">
            <span data-testid="shown-count">
              {shown.length} of {data.counts.total} keys
            </span>
            <button
              type="button"
              onClick={() =>
                setSelected((prev) => {
                  const next = new Set(prev);
                  for (const r of bulk) {
                    if (allShownSelected) next.delete(r.id);
                    else next.add(r.id);
                  }
                  return next;
                })
              }
              disabled={bulk.length === 0}
            >
              {allShownSelected ? "Unselect" : "Select"} the {bulk.length} shown
            </button>
            {ownKeys.length > 0 ? (
              <span className="muted" data-testid="own-keys-note">
                Left out: Keyward’s own key{ownKeys.length > 1 ? "s" : ""} for{" "}
                {[...new Set(ownKeys.map((r) => r.account))].join(", ")} (
                {ownKeys.map((r) => r.label).join(", ")}); revoking {ownKeys.length > 1 ? "one" : "it"} ends
                Keyward’s access to the account. Tick {ownKeys.length > 1 ? "each" : "it"} on its own to
                include it.
              </span>
            ) : null}
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

          <InventoryTable rows={shown} selected={selected} toggle={toggle} sort={sort} setSort={setSort} />
        </>
      ) : null}
    </section>
  );
}
