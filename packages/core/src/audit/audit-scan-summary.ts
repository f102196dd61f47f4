/**
 * The short line `keyward audit` and the web's audit page show for a leak scan's entries (audit-present.ts
 * asks here; kept apart, that file is long): `scan.done` says what was read and what was found, by kind
 * and liveness; a `revoke.requested` a scan led to names that scan. Built from the entry's details only:
 * roots (paths a person typed), flags and counts; never a key id, secret or unknown key, even redacted.
 */
import type { JsonValue } from "./canonical-json.js";

type Details = Record<string, JsonValue>;

const count = (v: JsonValue | undefined): number =>
  typeof v === "number" ? v : Array.isArray(v) ? v.length : 0;

const kinds = [
  ["knownKeys", "known key"],
  ["knownSecrets", "held secret"],
  ["unknownKeys", "unknown key"],
] as const;

/** How many of a kind may still work, said only when not all of them ("3 found, 3 live" says the rest). */
function liveWords(n: number, live: number): string {
  if (live === n) return "";
  return live === 0 ? " (dead)" : ` (${live} live)`;
}

/**
 * "3 found, 2 live: 1 known key, 2 unknown keys (1 live); /srv/bot + git history; 4 not read":
 * the counts first (a table cuts the end of a long line), then what was read.
 */
function scanDone(d: Details): string {
  const roots = Array.isArray(d.roots) ? d.roots.filter((r): r is string => typeof r === "string") : [];
  const shown = roots.slice(0, 3).join(", ") + (roots.length > 3 ? ` and ${roots.length - 3} more` : "");
  const read = `${shown || "?"}${d.git === true ? " + git history" : ""}`;
  const total = count(d.findings);
  // Per kind, with how many may still work (entries written before liveByKind: the total only).
  const live =
    d.liveByKind && typeof d.liveByKind === "object" && !Array.isArray(d.liveByKind)
      ? d.liveByKind
      : undefined;
  const byKind = kinds
    .map(([field, word]) => {
      const n = count(d[field]);
      if (n === 0) return "";
      return `${n} ${word}${n === 1 ? "" : "s"}${live ? liveWords(n, count(live[field])) : ""}`;
    })
    .filter(Boolean);
  const found =
    total === 0
      ? "nothing found"
      : `${total} found, ${count(d.live)} live${byKind.length > 0 ? `: ${byKind.join(", ")}` : ""}`;
  const notRead = count(d.notRead);
  return [
    found,
    read,
    notRead > 0 ? `${notRead} not read` : "",
    d.verify === true ? "unknown keys verified" : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** The summary for a scan's entry, or undefined for any other entry. */
export function scanAuditSummary(action: string, d: Details): string | undefined {
  if (action === "scan.done") return scanDone(d);
  const cause = d.cause;
  if (action === "revoke.requested" && cause && typeof cause === "object" && !Array.isArray(cause)) {
    const seq = cause.scan;
    if (typeof seq === "number") return `after scan #${seq}`;
  }
  return undefined;
}
