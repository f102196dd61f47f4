// biome-ignore-all lint/a11y/useSemanticElements: a virtualised table keeps only the rows in view in the DOM, which a native <table> cannot lay out; the ARIA table roles (with aria-rowcount/aria-rowindex) describe it instead.
// biome-ignore-all lint/a11y/useFocusableInteractive: role=table (not grid) rows and headers are not interactive; the checkboxes and sort buttons inside them take focus.
/**
 * The inventory's key table: its columns and their sort orders, the sortable header, and the body,
 * virtualised with fixed-height rows so only the rows in view (plus an overscan) are in the DOM and
 * 2,000 keys stay instant.
 */
import { howWord, riskWeight, visibleText } from "@keyward/core/browser";
import { memo, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { InventoryRowView } from "../api.js";
import { dateTime, EXCHANGE_FACTS, ExpiryNote, RiskBadge, StaleBadge } from "../components.js";

/** As `--row` in styles.css: three lines, so a label or the permissions wrap rather than be cut. */
const ROW_HEIGHT = 58;
const OVERSCAN = 12;

export type SortKey =
  | "exchange"
  | "account"
  | "subAccount"
  | "label"
  | "apiKey"
  | "permissions"
  | "ip"
  | "management"
  | "risks"
  | "createdAt";

export interface Sort {
  key: SortKey;
  dir: 1 | -1;
}

const COLUMNS: { key: SortKey; title: string }[] = [
  { key: "exchange", title: "Exchange" },
  { key: "account", title: "Account" },
  { key: "subAccount", title: "Sub-account" },
  { key: "label", title: "Label" },
  { key: "apiKey", title: "API key" },
  { key: "permissions", title: "Permissions" },
  { key: "ip", title: "IP binding" },
  { key: "management", title: "How" },
  { key: "createdAt", title: "Age" },
  { key: "risks", title: "Risks" },
];

const DAY = 86_400_000;
const ageDays = (row: InventoryRowView) =>
  row.createdAt ? Math.floor((Date.now() - Date.parse(row.createdAt)) / DAY) : null;
const where = (row: InventoryRowView) => row.subAccount ?? (row.location === "master" ? "(master)" : "—");
/** As the CLI's IP column: the addresses, "any" when the exchange reports none, "n/a" where it reports none at all. */
export const ipText = (row: InventoryRowView): string =>
  EXCHANGE_FACTS[row.exchange]?.reportsIpWhitelist === false ? "n/a" : row.ip.join(", ") || "any";
/** Two addresses at most in the cell; the whole list is in its title. */
const ipShort = (row: InventoryRowView): string =>
  row.ip.length > 2 ? `${row.ip.slice(0, 2).join(", ")} +${row.ip.length - 2}` : ipText(row);

/** Ascending order by one column, as its cells read (sub-account "(master)", permissions joined…). */
export function compare(key: SortKey): (a: InventoryRowView, b: InventoryRowView) => number {
  switch (key) {
    case "risks":
      return (a, b) => riskWeight(a.risks) - riskWeight(b.risks);
    case "createdAt":
      return (a, b) => (a.createdAt ?? "").localeCompare(b.createdAt ?? "");
    case "permissions":
      return (a, b) => a.permissions.join(",").localeCompare(b.permissions.join(","));
    case "subAccount":
      return (a, b) => where(a).localeCompare(where(b));
    case "ip":
      return (a, b) => ipText(a).localeCompare(ipText(b));
    default:
      return (a, b) => String(a[key]).localeCompare(String(b[key]));
  }
}

interface Props {
  /** Already filtered and sorted. */
  rows: InventoryRowView[];
  selected: ReadonlySet<string>;
  /** Kept stable by the caller, so rows that did not change are not re-rendered. */
  toggle: (id: string) => void;
  sort: Sort;
  setSort: (update: (s: Sort) => Sort) => void;
}

export function InventoryTable({ rows, selected, toggle, sort, setSort }: Props) {
  return (
    <div className="grid" role="table" aria-label="Keys" aria-rowcount={rows.length + 1}>
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
              // A new column sorts ascending; the sorted one flips.
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
      <VirtualRows rows={rows} selected={selected} toggle={toggle} />
      {rows.length === 0 ? <div className="empty">No keys match these filters.</div> : null}
    </div>
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
  const name = visibleText(row.label) || row.apiKeyShort;
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
      <span
        className="cell col-label"
        role="cell"
        title={
          row.labelGiven
            ? `${visibleText(row.label)} (given at account add: the exchange lists no label)`
            : visibleText(row.label)
        }
      >
        {visibleText(row.label) || <span className="muted">(no label)</span>}
        {/* Under the label, so it never takes the label's room. */}
        {row.accountKey ? (
          <span className="badge own-key" title="the key Keyward itself uses for an account">
            Keyward’s key
          </span>
        ) : null}
      </span>
      <span className="cell col-apiKey mono" role="cell" title={row.id}>
        {row.apiKeyShort}
      </span>
      <span className="cell col-permissions" role="cell">
        {row.permissions.join(", ") || "—"}
      </span>
      <span className="cell col-ip mono" role="cell" title={`IP binding: ${ipText(row)}`}>
        {ipShort(row)}
      </span>
      <span className={`cell col-management ${row.management}`} role="cell">
        {howWord(row.management)}
      </span>
      <span className="cell col-createdAt" role="cell" title={row.createdAt ?? "unknown"}>
        {age === null ? "—" : `${age} d`}
      </span>
      <span
        className="cell col-risks"
        role="cell"
        // The note wraps with the badges; its title gives the exact date.
        title={row.expiresAt ? `expires ${dateTime(row.expiresAt)}` : undefined}
      >
        {row.state === "dead" ? <span className="badge dead">revoked</span> : null}
        {row.state === "disabled" ? (
          <span
            className="badge disabled"
            title="switched off on the exchange: it fails authentication, but can be enabled again; revoke removes it"
          >
            disabled
          </span>
        ) : null}
        <StaleBadge stale={row.stale} />
        {row.risks.map((r) => (
          <RiskBadge key={r} risk={r} />
        ))}
        <ExpiryNote expiresAt={row.expiresAt} />
      </span>
    </div>
  );
});
