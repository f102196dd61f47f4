/**
 * `keyward scan`'s text for people: the findings table and the summary under it. Kept apart from
 * commands/scan.ts (which runs the scan and the revoke) so each stays readable.
 */
import { type ScanFinding, type ScanReport, visibleText } from "@keyward/core";
import { paragraph, table } from "../output.js";

const MB = 1024 * 1024;

/** Places listed per finding in the table (the engine's own cap per key and source is 20 too). */
export const TABLE_PLACES = 20;

/**
 * What a finding is, for people: "known key", "known key+secret+passphrase", "secret of key",
 * "passphrase of key", "unknown (high)+secret" (a passphrase found is named: it is the third credential).
 */
const kindWord = (f: ScanFinding): string => {
  const pass = f.passphraseFound ? "+passphrase" : "";
  if (f.kind === "known-key") return `known key${f.secretFound ? "+secret" : ""}${pass}`;
  if (f.kind === "known-secret") {
    if (!f.secretFound) return f.passphraseFound ? "passphrase of key" : "secret of key";
    return f.passphraseFound ? "secret+passphrase of key" : "secret of key";
  }
  return `unknown (${f.confidence})${f.secretFound ? "+secret" : ""}${pass}`;
};

/** What is known of whether it works: Keyward's state of a known key; --verify's answer for an unknown one. */
const stateWord = (f: ScanFinding): string => {
  const base = f.kind === "unknown-key" ? (f.verify?.status ?? "unverified") : (f.state ?? "unknown");
  return f.live ? `${base} LIVE` : base;
};

/** `path:line:col`, or `path@<commit8>` for a hit in history (a path in the repository, from its top). */
export const placeOf = (l: ScanFinding["locations"][number]): string =>
  l.commit ? `${l.path}@${l.commit.slice(0, 8)}` : `${l.path}:${l.line}:${l.column}`;

/**
 * Every place a finding was found, one per line (the first TABLE_PLACES; then how many more, all of
 * them in --json): a person deciding what to clean up needs each file, not "+1 more".
 */
export function placesOf(f: ScanFinding): string[] {
  if (f.locations.length === 0) return ["-"];
  const shown = f.locations.slice(0, TABLE_PLACES).map(placeOf);
  const more = f.locations.length - shown.length;
  return more > 0 ? [...shown, `… and ${more} more place(s) (--json lists them all)`] : shown;
}

/** The table: one row per finding; its further places on lines of their own under it (WHERE only). */
export function findingsTable(report: ScanReport): string {
  const places = report.findings.map(placesOf);
  return table(
    ["KIND", "EXCHANGE", "ACCOUNT", "LABEL", "API KEY", "PERMISSIONS", "STATE", "WHERE"],
    report.findings.map((f, i) => [
      kindWord(f),
      f.exchange,
      f.account ? `${f.account}${f.subAccount ? `/${f.subAccount}` : ""}` : "-",
      f.label || "-",
      f.keyShown,
      (f.kind === "unknown-key" ? f.verify?.permissions : f.permissions)?.join(",") || "-",
      stateWord(f),
      places[i]?.[0] ?? "-",
    ]),
    { fit: true, more: places.map((p) => p.slice(1)) },
  );
}

/** Files and blobs whose content was not read (too large, binary, unreadable): a scan with any is not clean. */
const notReadCount = (report: ScanReport): number =>
  report.stats.skipped.tooLarge + report.stats.skipped.binary + report.stats.skipped.unreadable;

/** The line instead of the table when nothing was found: never "clean" when something was not read. */
export function nothingFound(report: ScanReport): string {
  const notRead = notReadCount(report);
  return notRead === 0
    ? "No leaked key or secret found."
    : paragraph(
        `No leaked key or secret found in what was read, but ${notRead} file(s) or blob(s) were NOT read (see below): this scan does not show them clean.`,
      );
}

/** A phrase that a wrap must not split (its spaces become no-break spaces until printed). */
const glue = (phrase: string): string => phrase.replaceAll(" ", "\u00a0");
/** A paragraph wrapped only between glued phrases. */
const phrases = (parts: string[]): string => paragraph(parts.join(" ")).replaceAll("\u00a0", " ");

/** What the scan did not use because the person opted out (the summary says it). */
export interface OptedOut {
  vault?: boolean;
  secrets?: boolean;
  offline?: boolean;
}

/**
 * The summary under the table: what was read, what was found, what was not read and how to read it,
 * what was not used. Each a paragraph wrapped between phrases, never inside one ("1 finding(s)").
 */
export function summaryLines(report: ScanReport, opted: OptedOut = {}): string[] {
  const s = report.stats;
  const seconds = s.elapsedMs / 1000;
  const rate = seconds > 0 ? s.bytes / MB / seconds : 0;
  const live = report.findings.filter((f) => f.live).length;
  const read = [
    glue(`Scanned ${s.files} file(s)`),
    glue(`(${(s.bytes / MB).toFixed(1)} MB)${report.git ? "," : ""}`),
    ...(report.git ? [glue(`${s.blobs} blob(s) in ${s.commits} commit(s)`)] : []),
    glue(`in ${seconds.toFixed(1)} s (${rate.toFixed(1)} MB/s):`),
    glue(`${report.findings.length} finding(s),`),
    glue(`${live} live.`),
    ...(s.hitsDropped > 0
      ? [glue(`${s.hitsDropped} more match(es) not listed`), glue("(the same key again in one source).")]
      : []),
  ];
  const lines = [phrases(read)];
  // History places are paths from the repository's top, which may be above the folder named.
  const repos = [
    ...new Set(
      report.findings.flatMap((f) => f.locations.flatMap((l) => (l.repository ? [l.repository] : []))),
    ),
  ];
  if (repos.length > 0) {
    lines.push(
      phrases([
        glue("In git history (path@commit),"),
        glue("paths are from the top of the repository:"),
        // A repository's path is anyone's text: escaped, so a newline in it cannot forge a line.
        repos.map(visibleText).join(", "),
      ]),
    );
  }
  const notRead = notReadCount(report);
  if (notRead > 0) {
    const kinds = [
      s.skipped.tooLarge > 0 ? glue(`${s.skipped.tooLarge} too large`) : "",
      s.skipped.binary > 0 ? glue(`${s.skipped.binary} binary`) : "",
      s.skipped.unreadable > 0 ? glue(`${s.skipped.unreadable} unreadable`) : "",
    ].filter(Boolean);
    const how = [
      s.skipped.tooLarge > 0
        ? glue("raise --max-file-size (e.g. --max-file-size 1G) or name the file itself;")
        : "",
      s.skipped.binary > 0 ? glue("add --binary to read binary files;") : "",
      s.skipped.unreadable > 0 ? glue("run the scan as a user who may read them;") : "",
    ].filter(Boolean);
    const last = how.length - 1;
    how[last] = `${how[last]?.slice(0, -1)}.`;
    lines.push(
      phrases([
        glue(`NOT READ: ${notRead} file(s) or blob(s)`),
        `(${kinds.join(", ")}),`,
        glue("named in the warning below:"),
        glue("keys in them were not searched for."),
        glue("To read them:"),
        ...how,
      ]),
    );
  }
  const unused = [
    opted.vault
      ? [
          glue("the vault (--no-vault):"),
          glue("no held secret searched for,"),
          glue("no live listing (the last inventory),"),
          glue("the scan not audited"),
        ].join(" ")
      : "",
    !opted.vault && opted.secrets === false ? glue("the vault's secrets (--no-secrets)") : "",
    !opted.vault && opted.offline ? glue("a live listing (--offline: the last inventory)") : "",
  ].filter(Boolean);
  if (unused.length > 0) lines.push(phrases([glue("Not used, as asked:"), `${unused.join("; ")}.`]));
  for (const w of report.warnings) lines.push(paragraph(`WARNING: ${w}`));
  return lines;
}
