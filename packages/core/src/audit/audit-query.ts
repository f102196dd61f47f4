/**
 * Reading the audit log as an operator does: filters (action, account, exchange, key, time range,
 * search), newest first, a page at a time. The store filters and pages (state-store.ts,
 * AuditFilterQuery says what each filter matches), so a page of a 100k-entry log never loads the log.
 *
 * Paging is keyset on seq: a page is the `limit` newest matching entries below `beforeSeq`, and `next`
 * is the `beforeSeq` of the following (older) page, or null on the last one. Entries appended while
 * someone pages do not shift the pages they have not read yet.
 */
import { z } from "zod";
import { ExchangeIdSchema } from "../domain/schemas.js";
import type { AuditFilterQuery, StateStore } from "../store/state-store.js";
import type { AuditEntry } from "./audit-log.js";
import { keysLabelled } from "./audit-present.js";
import { fromAuditRow } from "./audit-row.js";

/** The page size when none is asked for. */
export const AUDIT_PAGE_DEFAULT = 50;
export const AUDIT_PAGE_MAX = 5000;

const Text = z.string().trim().min(1).max(200);

/**
 * An operator's filters, as both shells take them (the CLI's flags, the web's query string). Times are
 * text here: ISO dates or times, or a duration back from now (`90m`, `24h`, `7d`, `2w`).
 */
export const AuditQuerySchema = z.strictObject({
  /** `revoke.done` exactly; `revoke` or `revoke.*`: every action of that area. */
  action: z
    .string()
    .trim()
    .regex(/^[a-z]+(\.[a-z*-]+)*$/, "must be an action (revoke.done) or an area (revoke, revoke.*)")
    .max(64)
    .optional(),
  account: Text.optional(),
  exchange: ExchangeIdSchema.optional(),
  /** A key id (`exchange:account:sub:apiKey`, as `keyward keys` shows it) or an API key. */
  key: Text.optional(),
  since: Text.optional(),
  until: Text.optional(),
  search: z.string().max(200).optional(),
  limit: z.number().int().min(1).max(AUDIT_PAGE_MAX).optional(),
  beforeSeq: z.number().int().min(1).optional(),
});
export type AuditQuery = z.infer<typeof AuditQuerySchema>;

export interface AuditPage {
  /** Newest first. */
  entries: AuditEntry[];
  /** How many entries match the filters in the whole log (not only below `beforeSeq`). */
  total: number;
  /** `beforeSeq` for the next, older page; null when this is the last. */
  next: number | null;
}

const DURATION = /^([0-9]{1,6})\s*(m|min|h|d|w)$/;
const UNIT_MS: Record<string, number> = {
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * `since`/`until` text as a time: an ISO 8601 date or time (`2026-01-31`, `2026-01-31T09:00:00Z`), or a
 * duration back from `now` (`90m`, `24h`, `7d`, `2w`). Undefined when it is neither.
 */
export function parseAuditTime(text: string, now: Date = new Date()): Date | undefined {
  const t = text.trim();
  const rel = DURATION.exec(t);
  if (rel?.[1] && rel[2]) return new Date(now.getTime() - Number(rel[1]) * (UNIT_MS[rel[2]] as number));
  // Only ISO-looking text: Date.parse also takes "March 7" and guesses.
  if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/.test(t)) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Which query field is wrong and why, for the shells to name their own flag or parameter. */
export class AuditQueryError extends Error {
  constructor(
    readonly field: keyof AuditQuery,
    message: string,
  ) {
    super(message);
  }
}

/** The store's filters for an operator's query; throws AuditQueryError naming the field that is wrong. */
export function auditFilters(q: AuditQuery, now: Date = new Date()): AuditFilterQuery {
  const f: AuditFilterQuery = {};
  if (q.action !== undefined) {
    const area = /^([a-z]+)(\.\*)?$/.exec(q.action);
    if (area?.[1]) f.actionArea = area[1];
    else if (q.action.includes("*")) {
      throw new AuditQueryError("action", `"${q.action}" is not an action or an area (a * only as area.*)`);
    } else f.action = q.action;
  }
  if (q.account !== undefined) f.account = q.account;
  if (q.exchange !== undefined) f.exchange = q.exchange;
  if (q.key !== undefined) {
    // A key id ends with the API key; entries name keys by id, or by `account:apiKey` once untracked.
    f.apiKey = q.key.split(":").at(-1) ?? q.key;
  }
  for (const field of ["since", "until"] as const) {
    const text = q[field];
    if (text === undefined) continue;
    const at = parseAuditTime(text, now);
    if (at === undefined) {
      throw new AuditQueryError(
        field,
        `"${text.slice(0, 60)}" is not a time: give an ISO date or time (2026-01-31, 2026-01-31T09:00:00Z) or a duration back from now (90m, 24h, 7d, 2w)`,
      );
    }
    if (field === "since") f.sinceTs = at.toISOString();
    else f.untilTs = at.toISOString();
  }
  if (q.search !== undefined && q.search.trim() !== "") f.search = q.search.trim();
  return f;
}

/** One page of the entries that match `q`, newest first, with the total for the filter. */
export async function queryAudit(
  state: StateStore,
  q: AuditQuery,
  now: Date = new Date(),
): Promise<AuditPage> {
  const filters = auditFilters(q, now);
  // Search what people see: a key's entries match the label they are shown with (audit-present.ts).
  if (filters.search !== undefined) filters.searchKeys = await keysLabelled(state, filters.search);
  const limit = q.limit ?? AUDIT_PAGE_DEFAULT;
  // One more than the page: whether an older page exists, without a second query.
  const rows = await state.auditRows({
    ...filters,
    ...(q.beforeSeq === undefined ? {} : { beforeSeq: q.beforeSeq }),
    newestFirst: true,
    limit: limit + 1,
  });
  const entries = rows.slice(0, limit).map(fromAuditRow);
  const total = await state.auditCount(filters);
  return { entries, total, next: rows.length > limit ? (entries.at(-1)?.seq ?? null) : null };
}
