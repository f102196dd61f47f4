/**
 * Audit entries for people, in the same words in the CLI and the web: a subject as the key's label,
 * account and short key (`mm-bot-1 · desk-alpha/alphaMM01 · 40c4…fc04`) rather than a raw id, details as
 * named fields, and each action's outcome in the words the revoke and rotation views use
 * (domain/outcome-words.ts: an unverified revoke is "unverified", with why: never "verified").
 *
 * Labels come first from the log itself (key.tracked and key.untracked carry them), so a revoked key,
 * gone from every exchange listing, keeps its name; then from tracked keys and the inventory cache
 * (`auditLabels`). Everything shown is plain text with control characters replaced: labels come from
 * exchanges and may be hostile (the web escapes HTML as React does; the CLI's terminalSafe is a second net).
 */
import {
  REVOKE_OUTCOME_WORDS,
  revokeSummaryWords,
  unprovenReason,
  VERIFIED_WORDS,
  WAITING_WORDS,
} from "../domain/outcome-words.js";
import { shortKey } from "../domain/schemas.js";
import type { RevokeOutcome } from "../revoke/report.js";
import { createdKeyText } from "../rotation/create-stand-in.js";
import type { StateStore } from "../store/state-store.js";
import type { AuditEntry } from "./audit-log.js";
import { scanAuditSummary } from "./audit-scan-summary.js";
import type { JsonValue } from "./canonical-json.js";

/** How an outcome should look: ok (green), warn (needs a look), bad (failed), info (neutral). */
export type AuditTone = "ok" | "warn" | "bad" | "info";

/**
 * Each action's outcome word (actions not named here show their verb: `rotation.run-finished` → "run
 * finished"). `revoke.done` takes its word from its details' outcome; `revoke.unverified` says why.
 */
export const AUDIT_ACTION_WORDS: Readonly<Record<string, { word: string; tone: AuditTone }>> = {
  "revoke.requested": { word: "revoke requested", tone: "info" },
  "scan.done": { word: "scanned", tone: "info" },
  "revoke.verified": { word: VERIFIED_WORDS.yes, tone: "ok" },
  "revoke.unverified": { word: VERIFIED_WORDS.no, tone: "warn" },
  "revoke.failed": { word: REVOKE_OUTCOME_WORDS.failed, tone: "bad" },
  "revoke.manual-steps": { word: REVOKE_OUTCOME_WORDS["awaiting-manual"], tone: "warn" },
  "revoke.disabled": { word: REVOKE_OUTCOME_WORDS.disabled, tone: "warn" },
  "revoke.disable-failed": { word: "disable failed", tone: "bad" },
  "revoke.finished": { word: "revoke finished", tone: "info" },
  "manual.confirmed": { word: "confirmed by a person", tone: "info" },
  "key.tracked": { word: "tracked", tone: "info" },
  "key.untracked": { word: "untracked", tone: "info" },
  "account.added": { word: "account added", tone: "info" },
  "account.removed": { word: "account removed", tone: "info" },
  "rotation.requested": { word: "rotation requested", tone: "info" },
  "rotation.failed": { word: "failed", tone: "bad" },
  "rotation.waiting": { word: WAITING_WORDS, tone: "warn" },
  "rotation.abort-failed": { word: "abort failed", tone: "bad" },
  "rotation.abort-refused": { word: "abort refused", tone: "bad" },
  "rotation.new-key-refused": { word: "new key refused", tone: "bad" },
  "audit.keyed": { word: "audit log keyed", tone: "info" },
};

export interface AuditSubjectView {
  kind: "key" | "account" | "run" | "other";
  /** For people: `mm-bot-1 · desk-alpha/alphaMM01 · 40c4…fc04`, `desk-alpha (okx)`, `rot-…`. */
  text: string;
  exchange?: string;
  account?: string;
  label?: string;
  apiKeyShort?: string;
}

export interface AuditFieldView {
  name: string;
  value: string;
}

export interface AuditEntryView {
  subject: AuditSubjectView;
  outcome: { word: string; tone: AuditTone };
  /** One short line: the outcome and what matters most (for a table row). */
  summary: string;
  /** The details as named fields, one value a line (evidence items each on their own). */
  fields: AuditFieldView[];
}

/** What the views know about keys and accounts, beyond an entry itself. */
export interface AuditLabels {
  /** Label by API key (labels are per key; an API key is unique enough across a home). */
  keys: Map<string, string>;
  /** Exchange by account name. */
  accounts: Map<string, string>;
}

export const emptyAuditLabels = (): AuditLabels => ({ keys: new Map(), accounts: new Map() });

/** Control characters (a hostile exchange label's escape sequences, newlines) as "?"; long text cut. */
export function plainText(text: string, max = 300): string {
  // Every control, format (bidi overrides, zero-width marks, U+FEFF), private-use or unassigned code point,
  // and the line/paragraph separators: none may reorder or hide what a subject says.
  const clean = text.replace(/[\p{C}\u2028\u2029]/gu, "?");
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

interface ParsedKey {
  exchange?: string;
  account: string;
  subAccount: string | null;
  apiKey: string;
}

/** A key id (`exchange:account:sub:apiKey`) or an untracked key's subject (`account:apiKey`). */
export function parseAuditKeyRef(text: string): ParsedKey | undefined {
  const parts = text.split(":");
  if (parts.length === 4 && parts.every((p) => p !== "")) {
    const [exchange, account, sub, apiKey] = parts as [string, string, string, string];
    return { exchange, account, subAccount: sub === "-" ? null : sub, apiKey };
  }
  if (parts.length === 2 && parts.every((p) => p !== "")) {
    const [account, apiKey] = parts as [string, string];
    return { account, subAccount: null, apiKey };
  }
  return undefined;
}

/** A key as people name it: `label · account/sub · 40c4…fc04` (no sub: `account`). */
export function keyText(key: ParsedKey, labels: AuditLabels): string {
  const label = labels.keys.get(key.apiKey);
  const where = key.subAccount ? `${key.account}/${key.subAccount}` : key.account;
  return plainText([label, where, shortKey(key.apiKey)].filter((p) => p).join(" · "));
}

const ACCOUNT_AREAS = new Set(["account", "twofactor"]);

/**
 * A key create's stand-in id (`okx:desk-alpha:alphaMM01:new:mm-bot-3`: no key exists yet) as the
 * creation it is: `(new) mm-bot-3 · desk-alpha/alphaMM01`, never a key named "new:…".
 */
function createdSubject(subject: string): AuditSubjectView | undefined {
  const m = /^([^:]+):([^:]+):([^:]+):new:(.+)$/.exec(subject);
  if (!m) return undefined;
  const [, exchange = "", account = "", sub = "", label = ""] = m;
  const where = sub === "-" ? account : `${account}/${sub}`;
  return {
    kind: "key",
    text: plainText(`${createdKeyText(label)} · ${where}`),
    account: plainText(account),
    exchange: plainText(exchange),
    label: plainText(label),
  };
}

export function auditSubject(entry: AuditEntry, labels: AuditLabels): AuditSubjectView {
  const area = entry.action.split(".")[0] ?? "";
  const created = ACCOUNT_AREAS.has(area) ? undefined : createdSubject(entry.subject);
  if (created) return created;
  const key = ACCOUNT_AREAS.has(area) ? undefined : parseAuditKeyRef(entry.subject);
  if (key) {
    const label = labels.keys.get(key.apiKey);
    const exchange = key.exchange ?? labels.accounts.get(key.account);
    return {
      kind: "key",
      text: keyText(key, labels),
      account: plainText(key.account),
      apiKeyShort: plainText(shortKey(key.apiKey)),
      ...(exchange ? { exchange: plainText(exchange) } : {}),
      ...(label ? { label: plainText(label) } : {}),
    };
  }
  if (ACCOUNT_AREAS.has(area)) {
    const exchange = stringField(entry.details.exchange) ?? labels.accounts.get(entry.subject);
    return {
      kind: "account",
      text: plainText(exchange ? `${entry.subject} (${exchange})` : entry.subject),
      account: plainText(entry.subject),
      ...(exchange ? { exchange: plainText(exchange) } : {}),
    };
  }
  if (area === "revoke" || area === "rotation") return { kind: "run", text: plainText(entry.subject) };
  return { kind: "other", text: plainText(entry.subject) };
}

/** The outcome word for an entry (see AUDIT_ACTION_WORDS). */
export function auditOutcome(entry: AuditEntry): { word: string; tone: AuditTone } {
  if (entry.action === "revoke.done") {
    const o = stringField(entry.details.outcome) as RevokeOutcome | undefined;
    const word = o !== undefined && o in REVOKE_OUTCOME_WORDS ? REVOKE_OUTCOME_WORDS[o] : "revoked";
    return { word, tone: o === "failed" ? "bad" : o === "disabled" ? "warn" : "ok" };
  }
  if (entry.action === "revoke.unverified") {
    // Why it is not proven: the last probe's status, in the probe's own words.
    const reason = unprovenReason(evidenceOf(entry));
    return { word: reason ? `${VERIFIED_WORDS.no} (${reason})` : VERIFIED_WORDS.no, tone: "warn" };
  }
  const known = AUDIT_ACTION_WORDS[entry.action];
  if (known) return known;
  const verb = entry.action.split(".").slice(1).join(" ").replaceAll("-", " ");
  const tone: AuditTone = /fail|refused|broken/.test(verb) ? "bad" : "info";
  return { word: plainText(verb || entry.action), tone };
}

function evidenceOf(entry: AuditEntry): string[] {
  const e = entry.details.evidence;
  if (typeof e === "string") return [e];
  return Array.isArray(e) ? e.filter((x): x is string => typeof x === "string") : [];
}

const stringField = (v: JsonValue | undefined): string | undefined => (typeof v === "string" ? v : undefined);

/** A value for people: a key id as the key, a list comma-joined, an object as `a: 1, b: 2`. */
function valueText(v: JsonValue, labels: AuditLabels): string {
  if (typeof v === "string") {
    const key = /^[a-z]+:[^:\s]+:[^:\s]+:[^:\s]+$/.test(v) ? parseAuditKeyRef(v) : undefined;
    return key ? keyText(key, labels) : plainText(v);
  }
  if (v === null) return "none";
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.map((x) => valueText(x, labels)).join(", ");
  if (typeof v === "object") {
    return Object.entries(v)
      .map(([k, x]) => `${plainText(k, 60)}: ${valueText(x as JsonValue, labels)}`)
      .join(", ");
  }
  return String(v);
}

/** Details as fields: evidence one item a line, lists of plain values joined, the rest as `name: value`. */
export function auditFields(entry: AuditEntry, labels: AuditLabels): AuditFieldView[] {
  const fields: AuditFieldView[] = [];
  for (const [name, value] of Object.entries(entry.details)) {
    const n = plainText(name, 60);
    if (name === "evidence" && Array.isArray(value)) {
      for (const item of value) fields.push({ name: n, value: valueText(item, labels) });
    } else if (Array.isArray(value) && value.some((x) => typeof x === "object" && x !== null)) {
      for (const item of value) fields.push({ name: n, value: valueText(item, labels) });
    } else fields.push({ name: n, value: plainText(valueText(value, labels), 1000) });
  }
  return fields;
}

/** A table row's short line: what matters most after the outcome word, minus what the word says. */
function summaryOf(entry: AuditEntry, labels: AuditLabels, word: string): string {
  const d = entry.details;
  const parts = [scanAuditSummary(entry.action, d) ?? ""].filter(Boolean);
  if (Array.isArray(d.keys)) parts.push(`${d.keys.length} key${d.keys.length === 1 ? "" : "s"}`);
  if (typeof d.byApi === "number" || typeof d.byPerson === "number") {
    parts.push(`${Number(d.byApi ?? 0)} by API, ${Number(d.byPerson ?? 0)} by a person`);
  }
  if (entry.action === "revoke.finished" && typeof d.total === "number") {
    const n = (k: string) => Number(d[k] ?? 0);
    parts.push(
      revokeSummaryWords({
        revoked: n("revoked"),
        alreadyRevoked: n("alreadyRevoked"),
        awaitingManual: n("awaitingManual"),
        failed: n("failed"),
        verified: n("verified"),
        unverified: n("unverified"),
        ...(d.disabled === undefined ? {} : { disabled: n("disabled") }),
      }),
    );
  }
  for (const k of ["label", "probe", "message", "step", "state"] as const) {
    const v = d[k];
    if (typeof v !== "string") continue;
    const said = word.toLowerCase();
    if (k === "step" || k === "state") {
      const text = v.toLowerCase().replaceAll("-", " ");
      if (said === text || said.endsWith(` ${text}`)) continue;
    }
    parts.push(k === "probe" ? `probe: ${plainText(v)}` : plainText(v));
  }
  if (Array.isArray(d.permissions)) parts.push(valueText(d.permissions, labels));
  const ev = evidenceOf(entry).at(-1);
  if (ev && parts.length === 0) parts.push(plainText(ev));
  return plainText(parts.join("; "), 200);
}

export function presentAuditEntry(entry: AuditEntry, labels: AuditLabels): AuditEntryView {
  const outcome = auditOutcome(entry);
  const summary = summaryOf(entry, labels, outcome.word);
  return { subject: auditSubject(entry, labels), outcome, summary, fields: auditFields(entry, labels) };
}

/**
 * Labels and account exchanges for `entries`: from the entries themselves, then tracked keys, then the
 * inventory caches of the accounts they name, then (for keys still unnamed) the newest entry in the
 * whole log that gave the key a label (key.tracked, key.untracked): a revoked key keeps its name.
 */
export async function auditLabels(
  state: StateStore,
  entries: readonly AuditEntry[],
  accounts: Iterable<{ name: string; exchange: string }> = [],
): Promise<AuditLabels> {
  const labels = emptyAuditLabels();
  for (const a of accounts) labels.accounts.set(a.name, a.exchange);
  const wanted = new Map<string, string>(); // apiKey -> account
  const learn = (e: AuditEntry) => learnLabels(labels, e.action, e.subject, e.details);
  for (const e of entries) {
    learn(e);
    const exchange = stringField(e.details.exchange);
    if (exchange && ACCOUNT_AREAS.has(e.action.split(".")[0] ?? "")) labels.accounts.set(e.subject, exchange);
    const refs = [
      e.subject,
      ...(JSON.stringify(e.details).match(/[a-z]+:[^":\s]+:[^":\s]+:[^":\s]+/g) ?? []),
    ];
    for (const ref of refs) {
      const key = parseAuditKeyRef(ref);
      if (key) {
        wanted.set(key.apiKey, key.account);
        if (key.exchange) labels.accounts.set(key.account, key.exchange);
      }
    }
  }
  const missing = () => [...wanted.keys()].filter((k) => !labels.keys.has(k));
  if (missing().length === 0) return labels;
  for (const t of await state.trackedKeys())
    if (t.label && !labels.keys.has(t.apiKey)) labels.keys.set(t.apiKey, t.label);
  for (const account of new Set(missing().map((k) => wanted.get(k) as string))) {
    const cached = await state.cachedInventory(account);
    if (!cached) continue;
    try {
      for (const r of JSON.parse(cached.records) as { apiKey?: string; label?: string }[]) {
        if (r.apiKey && r.label && !labels.keys.has(r.apiKey)) labels.keys.set(r.apiKey, r.label);
      }
    } catch {
      // A cache that does not parse names nothing; the inventory reports it.
    }
  }
  // The newest entries that give labels (key.tracked, key.untracked, revoke.requested, a rotation's new
  // key), by exact action: cheaper in the store than a text search over every entry.
  const rows = [
    ...(await state.auditRows({ actionArea: "key", newestFirst: true, limit: 2000 })),
    ...(await state.auditRows({ action: "revoke.requested", newestFirst: true, limit: 2000 })),
    ...(await state.auditRows({ action: "rotation.new-key-created", newestFirst: true, limit: 2000 })),
  ];
  for (const row of rows) {
    if (missing().length === 0) break;
    try {
      learnLabels(labels, row.action, row.subject, JSON.parse(row.details) as Record<string, JsonValue>);
    } catch {
      // verify() reports a row whose details do not parse.
    }
  }
  return labels;
}

/**
 * The API keys whose label holds `text` (in any case), from every place the views take labels from:
 * the log's own entries that name labels, tracked keys, the inventory caches. What a search matches
 * besides the entries' text, so a key's entries are found by the label they are shown with.
 */
export async function keysLabelled(state: StateStore, text: string, max = 500): Promise<string[]> {
  const needle = text.toLowerCase();
  const found = new Set<string>();
  const take = (apiKey: string | undefined, label: string | undefined) => {
    if (apiKey && label?.toLowerCase().includes(needle)) found.add(apiKey);
  };
  // An entry that gives a label holds it in its details: the text search finds those entries.
  for (const row of await state.auditRows({ search: text, newestFirst: true, limit: 2000 })) {
    try {
      const details = JSON.parse(row.details) as Record<string, JsonValue>;
      for (const [ref, label] of labelsGiven(row.action, row.subject, details)) {
        take(parseAuditKeyRef(ref)?.apiKey, label);
      }
    } catch {
      // verify() reports a row whose details do not parse.
    }
  }
  const accounts = new Set<string>();
  for (const t of await state.trackedKeys()) {
    take(t.apiKey, t.label);
    accounts.add(t.account);
  }
  for (const row of await state.auditRows({ actionArea: "account", newestFirst: true, limit: 2000 })) {
    accounts.add(row.subject);
  }
  for (const account of accounts) {
    const cached = await state.cachedInventory(account);
    if (!cached) continue;
    try {
      for (const r of JSON.parse(cached.records) as { apiKey?: string; label?: string }[])
        take(r.apiKey, r.label);
    } catch {
      // A cache that does not parse names nothing; the inventory reports it.
    }
  }
  return [...found].slice(0, max);
}

/**
 * The labels an entry gives, as [key ref, label]: its own key's (`label`), or its run's keys' (`labels`:
 * key id → label). An entry naming a `newKey` (a rotation's, a key create's) is about the old key or
 * the place the key goes, but its `label` is the new key's; other rotation entries' `label` is too.
 */
function labelsGiven(
  action: string,
  subject: string,
  details: Record<string, JsonValue>,
): [string, string][] {
  const given: [string, string][] = [];
  const add = (ref: JsonValue | undefined, label: JsonValue | undefined) => {
    if (typeof ref === "string" && typeof label === "string" && label !== "") given.push([ref, label]);
  };
  if (details.newKey !== undefined) add(details.newKey, details.label);
  else if (!action.startsWith("rotation.")) add(subject, details.label);
  const many = details.labels;
  if (many && typeof many === "object" && !Array.isArray(many)) {
    for (const [ref, label] of Object.entries(many)) add(ref, label);
  }
  return given;
}

function learnLabels(
  labels: AuditLabels,
  action: string,
  subject: string,
  details: Record<string, JsonValue>,
): void {
  for (const [ref, label] of labelsGiven(action, subject, details)) {
    const key = parseAuditKeyRef(ref);
    if (key && !labels.keys.has(key.apiKey)) labels.keys.set(key.apiKey, label);
  }
}
