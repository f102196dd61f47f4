/**
 * `keyward audit`: a page of the audit log, newest first, filtered in the store (core's queryAudit) and
 * told in core's words (presentAuditEntry: the same subjects and outcome words as the web). Needs no
 * vault and checks nothing (`audit verify` does).
 */
import {
  AUDIT_PAGE_MAX,
  type AuditEntry,
  type AuditEntryView,
  type AuditQuery,
  AuditQueryError,
  auditLabels,
  ExchangeIdSchema,
  presentAuditEntry,
} from "@keyward/core";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { out, printJson, table, terminalSafe } from "../output.js";
import type { GlobalOptions } from "../program.js";
import { openAudit } from "./audit.js";

export interface AuditListOptions {
  json?: boolean;
  details?: boolean;
  action?: string;
  account?: string;
  exchange?: string;
  key?: string;
  since?: string;
  until?: string;
  search?: string;
  limit?: string;
  before?: string;
}

/** Widest a table line may be: it must fit a 120-column terminal. */
const WIDTH = 120;

/** Each query field's flag, to name it in a usage error. */
const FLAG: Record<keyof AuditQuery, string> = {
  action: "--action",
  account: "--account",
  exchange: "--exchange",
  key: "--key",
  since: "--since",
  until: "--until",
  search: "--search",
  limit: "--limit",
  beforeSeq: "--before",
};

function positive(text: string | undefined, flag: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9][0-9]{0,8}$/.test(text) || Number(text) > max) {
    throw usageError(`${flag} "${text.slice(0, 40)}" is not a whole number from 1 to ${max}`);
  }
  return Number(text);
}

/** The flags as core's query; a usage error (exit 2) naming the flag for anything that is not one. */
function queryOf(opts: AuditListOptions): AuditQuery {
  if (opts.exchange !== undefined && !ExchangeIdSchema.safeParse(opts.exchange).success) {
    throw usageError(
      `--exchange "${opts.exchange.slice(0, 40)}" is not an exchange Keyward knows`,
      `Use one of: ${ExchangeIdSchema.options.join(", ")}.`,
    );
  }
  const limit = positive(opts.limit, "--limit", AUDIT_PAGE_MAX);
  const beforeSeq = positive(opts.before, "--before", 999_999_999);
  const q: AuditQuery = {
    ...(opts.action === undefined ? {} : { action: opts.action }),
    ...(opts.account === undefined ? {} : { account: opts.account }),
    ...(opts.exchange === undefined ? {} : { exchange: opts.exchange as AuditQuery["exchange"] }),
    ...(opts.key === undefined ? {} : { key: opts.key }),
    ...(opts.since === undefined ? {} : { since: opts.since }),
    ...(opts.until === undefined ? {} : { until: opts.until }),
    ...(opts.search === undefined ? {} : { search: opts.search }),
    ...(limit === undefined ? {} : { limit }),
    ...(beforeSeq === undefined ? {} : { beforeSeq }),
  };
  return q;
}

/** Local time, to the minute: `2026-01-31 09:05`. */
function localTime(iso: string): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

const cut = (text: string, max: number): string =>
  max <= 1 ? "" : text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** The flags that repeat a filter, for the footer's "older:" command. */
function filterArgs(opts: AuditListOptions): string {
  const quote = (v: string) => (/^[A-Za-z0-9._:@/*-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  const args: string[] = [];
  for (const k of ["action", "account", "exchange", "key", "since", "until", "search", "limit"] as const) {
    const v = opts[k];
    if (v !== undefined) args.push(`--${k} ${quote(v)}`);
  }
  if (opts.details) args.push("--details");
  return args.join(" ");
}

/**
 * The table: the subject whole (it is what the operator reads: never cut), the outcome in what is left
 * of 120 columns. Its summary is shortened to fit; when not even the outcome word fits beside a long
 * subject, the outcome goes on an indented line under its row (`table({ fit })`). --details and --json
 * have everything.
 */
function printTable(rows: { entry: AuditEntry; view: AuditEntryView }[], details: boolean): void {
  const cells = rows.map(({ entry, view }) => [
    String(entry.seq),
    localTime(entry.ts),
    entry.action,
    terminalSafe(view.subject.text),
  ]);
  const used = [0, 1, 2, 3].reduce(
    (sum, i) =>
      sum +
      Math.max(["SEQ", "TIME", "ACTION", "SUBJECT"][i]?.length ?? 0, ...cells.map((c) => c[i]?.length ?? 0)) +
      2,
    0,
  );
  rows.forEach(({ view }, i) => {
    const word = terminalSafe(view.outcome.word);
    const whole = [word, terminalSafe(view.summary)].filter((x) => x).join("; ");
    // Beside the row, cut to what is left (the word itself never cut); under it, the width of a line.
    const room = word.length <= WIDTH - used ? WIDTH - used : WIDTH - 4;
    cells[i]?.push(cut(whole, Math.max(room, word.length)));
  });
  const lines = table(["SEQ", "TIME", "ACTION", "SUBJECT", "OUTCOME"], cells, { fit: true }).split("\n");
  if (!details) {
    out(lines.join("\n"));
    return;
  }
  const [head, rule, ...body] = lines;
  out(`${head}\n${rule}`);
  // A row is its line and any indented outcome line under it; its details follow.
  let row = -1;
  body.forEach((line, i) => {
    out(line);
    if (!line.startsWith(" ")) row++;
    const entry = rows[row];
    if (!entry || body[i + 1]?.startsWith(" ")) return;
    out(`    actor: ${terminalSafe(entry.entry.actor)}`);
    for (const f of entry.view.fields) out(`    ${terminalSafe(f.name)}: ${terminalSafe(f.value)}`);
  });
}

export async function auditList(globals: GlobalOptions, opts: AuditListOptions): Promise<ExitCode> {
  const query = queryOf(opts);
  const { state, log } = openAudit(globals);
  try {
    let page: Awaited<ReturnType<typeof log.page>>;
    try {
      page = await log.page(query);
    } catch (error) {
      if (error instanceof AuditQueryError) throw usageError(`${FLAG[error.field]}: ${error.message}`);
      throw error;
    }
    const labels = await auditLabels(state, page.entries);
    const rows = page.entries.map((entry) => ({ entry, view: presentAuditEntry(entry, labels) }));
    if (opts.json) {
      printJson({
        entries: rows.map(({ entry, view }) => ({ ...entry, view })),
        total: page.total,
        next: page.next,
      });
      return EXIT.OK;
    }
    const filtered = filterArgs({ ...opts, limit: undefined, details: false }) !== "";
    if (rows.length === 0) {
      out(filtered || query.beforeSeq ? "No audit entries match." : "The audit log is empty.");
      return EXIT.OK;
    }
    printTable(rows, opts.details === true);
    const more =
      page.next === null ? "" : `; older: keyward audit --before ${page.next} ${filterArgs(opts)}`.trimEnd();
    out(`\nshowing ${rows.length} of ${page.total}${filtered ? " matching" : ""}${more}`);
    return EXIT.OK;
  } finally {
    await state.close();
  }
}
