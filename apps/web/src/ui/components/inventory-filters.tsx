/**
 * The inventory's filters: what they are, how rows are matched (in memory, per keystroke), and the two
 * bars that set them: the counts (each a one-click filter) and the search box with its selects.
 */

import { howWord } from "@keyward/core/browser";
import type { Dispatch, SetStateAction } from "react";
import type { InventoryResponse, InventoryRowView } from "../api.js";
import { RISK_TEXT, RiskBadge } from "../components.js";

export interface Filters {
  search: string;
  exchange: string;
  account: string;
  risk: string;
  method: string;
}

export const NO_FILTERS: Filters = { search: "", exchange: "", account: "", risk: "", method: "" };

/** A row with its lower-cased search text, built once per load rather than once per keystroke. */
export interface Indexed {
  row: InventoryRowView;
  text: string;
}

export const indexForSearch = (row: InventoryRowView): Indexed => ({
  row,
  text: [
    // The whole id too: a link into the inventory (`/inventory?q=<key id>`, the Check page's) lands on one key.
    row.id,
    row.exchange,
    row.account,
    row.subAccount ?? "",
    row.label,
    row.apiKey,
    row.permissions.join(" "),
    row.risks.join(" "),
    row.management,
    howWord(row.management),
    row.ip.join(" "),
    row.state,
  ]
    .join(" ")
    .toLowerCase(),
});

/** The rows matching every filter, in the given order; every search term must occur. */
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

interface FilterProps {
  counts: InventoryResponse["counts"];
  filters: Filters;
  setFilters: Dispatch<SetStateAction<Filters>>;
}

const patcher =
  (setFilters: FilterProps["setFilters"]) =>
  (patch: Partial<Filters>): void =>
    setFilters((f) => ({ ...f, ...patch }));

/** The counts; clicking one filters by it, clicking it again (or "keys") lifts the filter. */
export function InventoryCounts({ counts, filters, setFilters }: FilterProps) {
  const set = patcher(setFilters);
  const filtered = filters !== NO_FILTERS && JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  return (
    <section className="counts" aria-label="Counts">
      <button
        type="button"
        className={`count ${filtered ? "" : "on"}`}
        onClick={() => setFilters(NO_FILTERS)}
      >
        <span className="n">{counts.total}</span> keys
      </button>
      {Object.entries(counts.byExchange).map(([ex, n]) => (
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
        <span className="n">{counts.risky}</span> with risks
      </button>
      {Object.entries(counts.byRisk)
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
        <span className="n">{counts.byManagement.api}</span> by API ·{" "}
        <span className="n">{counts.byManagement.manual}</span> by a person
      </span>
    </section>
  );
}

/** The search box and one select per filter; `accounts` are the account names present in the rows. */
export function InventoryFilterBar({
  counts,
  accounts,
  filters,
  setFilters,
}: FilterProps & { accounts: readonly string[] }) {
  const set = patcher(setFilters);
  return (
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
        {Object.keys(counts.byExchange).map((ex) => (
          <option key={ex} value={ex}>
            {ex}
          </option>
        ))}
      </select>
      <select aria-label="Account" value={filters.account} onChange={(e) => set({ account: e.target.value })}>
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
        {Object.keys(counts.byRisk).map((r) => (
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
  );
}
