/**
 * `keyward scan --sarif` and the web's SARIF download (task: web): a `ScanReport` as a SARIF 2.1.0 log
 * (OASIS "Static Analysis Results Interchange Format" 2.1.0), the format code-scanning tools and CI
 * systems read. Built only from the report, which holds no secret and no unknown key in full
 * (scan-types.ts), so the log is as safe to print, upload or attach to a ticket as the report is.
 *
 * Choices, each for a reader of the log:
 * - One rule per finding kind (known key, known secret, unknown key), always all three in the same order,
 *   so a result's `ruleIndex` means the same in every log.
 * - One result per finding, with every place it was found as a location: the key is the problem, each
 *   place is where it shows. History places say their commit in the location's message and properties.
 * - Paths are URIs relative to the root that was scanned, under a `uriBaseId` per root (ROOT1, ROOT2, …)
 *   whose absolute URI is in `originalUriBaseIds` when the root was given absolute; a root that is a
 *   file is its folder's base. Consumers such as code scanning resolve them against their checkout.
 *   History paths are paths from their repository's top (what code scanning wants: repository-relative
 *   URIs), under a base per repository (REPO1, …) whose absolute URI is given, also when a subfolder
 *   of the repository was scanned; for a root given relative it is relative to that root's base
 *   (`{uri: "../", uriBaseId: "ROOT1"}`), so the log does not name this machine's folders.
 * - Paths in messages and base descriptions go through `visibleText` too: a newline or direction override
 *   in a file or folder name would forge or disguise text in a viewer. URIs stay percent-encoded.
 * - `partialFingerprints` carry the finding's fingerprint (a hash of exchange and key, never the key),
 *   so a tool tracks "the same leaked key" across runs and commits.
 * - Known keys' labels go through `visibleText`: a label is text from an exchange or a person, and a
 *   direction override in it would draw another key's label in a viewer.
 * - Columns are bytes of the line (the engine's), which SARIF's `columnKind` values cannot say; for the
 *   ASCII text keys sit in they equal UTF-16 code units, the default.
 */
import type { Location, Log, ReportingDescriptor, Result } from "sarif";
import { EXCHANGE_PROFILES } from "../adapters/registry.js";
import { visibleText } from "../domain/visible-text.js";
import { type Base, basesOf, folderUri, placeOf } from "./sarif-bases.js";
import type { LeakLocation, ScanFinding, ScanReport, SkippedSource } from "./scan-types.js";

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";
export const SARIF_VERSION = "2.1.0";

/** The key under which `partialFingerprints` carries a finding's fingerprint (versioned, as SARIF advises). */
export const SARIF_FINGERPRINT_KEY = "keywardLeakedKey/v1";

type FindingKind = ScanFinding["kind"];

const HELP_KNOWN = [
  "Treat the key as leaked: whoever read this place can use it until it is revoked.",
  "1. Revoke it with Keyward: `keyward scan <path> --revoke` (or `keyward revoke` with the key's account and",
  "   label), which shows the plan, asks for confirmation and proves the key dead at the exchange.",
  "2. If something still needs a key, rotate instead (`keyward rotate`): a new key is made and delivered",
  "   before the leaked one is revoked.",
  "3. Remove the credential from the file; in git history it stays readable in every clone, so the",
  "   revocation, not the removal, is what makes it harmless.",
].join("\n");

const HELP_UNKNOWN = [
  "A credential of an exchange's key format that Keyward does not know (not in any inventory, tracked",
  "keys or rotation journal). If it is your firm's, find its account, add the account to Keyward",
  "(`keyward account add`) and revoke or rotate the key with Keyward; otherwise revoke it in the",
  "exchange's web interface. `keyward scan --verify` asks the exchange whether it is alive (this sends",
  "the key to the exchange). Remove the credential from the file; in git history it stays readable.",
].join("\n");

/**
 * Code-scanning tools file a rule tagged "security" with a `security-severity` (0.0-10.0, as a string) as a
 * security alert with that severity, and `precision` ranks its results: a leaked key that can move money
 * is critical when known (an exact match), high when only its shape matched.
 */
const SECURITY_TAGS = ["security", "secret", "exchange-api-key"];

const RULES: Readonly<Record<FindingKind, ReportingDescriptor>> = {
  "known-key": {
    id: "keyward/known-key",
    name: "KnownExchangeApiKeyLeaked",
    shortDescription: { text: "An exchange API key that Keyward manages was found." },
    fullDescription: {
      text:
        "The id of an API key in Keyward's inventory, tracked keys or rotation journal appears in a file " +
        "or in git history. An exact match: no false positive. The key's secret may be near it.",
    },
    help: { text: HELP_KNOWN },
    defaultConfiguration: { level: "error" },
    properties: { tags: SECURITY_TAGS, precision: "very-high", "security-severity": "9.0" },
  },
  "known-secret": {
    id: "keyward/known-secret",
    name: "KnownExchangeApiSecretLeaked",
    shortDescription: {
      text: "The secret or passphrase of an exchange API key that Keyward holds was found.",
    },
    fullDescription: {
      text:
        "A secret from Keyward's vault appears in a file or in git history (never shown). A leaked " +
        "secret matters even next to a key id that was rotated away: whoever has it can sign as the key.",
    },
    help: { text: HELP_KNOWN },
    defaultConfiguration: { level: "error" },
    properties: { tags: SECURITY_TAGS, precision: "very-high", "security-severity": "9.5" },
  },
  "unknown-key": {
    id: "keyward/unknown-key",
    name: "ExchangeApiKeyPattern",
    shortDescription: { text: "Something shaped like an exchange API key was found." },
    fullDescription: {
      text:
        "Text matching an exchange's key format (and, where the format alone is too common, its name " +
        "nearby), not known to Keyward. Confidence says how sure the match is.",
    },
    help: { text: HELP_UNKNOWN },
    defaultConfiguration: { level: "warning" },
    properties: { tags: SECURITY_TAGS, precision: "high", "security-severity": "8.0" },
  },
};
const KINDS: readonly FindingKind[] = ["known-key", "known-secret", "unknown-key"];

/** SARIF level: live findings are errors, others warnings; a low-confidence pattern is only a note. */
export function sarifLevel(finding: Pick<ScanFinding, "live" | "confidence">): "error" | "warning" | "note" {
  if (finding.confidence === "low") return "note";
  return finding.live ? "error" : "warning";
}

const exchangeName = (id: string): string => EXCHANGE_PROFILES.find((p) => p.id === id)?.name ?? id;

const shortCommit = (commit: string): string => commit.slice(0, 12);

function locationOf(location: LeakLocation, roots: readonly string[], bases: Map<string, Base>): Location {
  const { base, uri } = placeOf(location, roots, bases);
  const history = location.commit !== undefined;
  return {
    physicalLocation: {
      artifactLocation: { uri, ...(base ? { uriBaseId: base.id } : {}) },
      region: { startLine: location.line, startColumn: location.column },
    },
    ...(history
      ? {
          message: {
            text: `In git history: commit ${shortCommit(location.commit ?? "")}${
              location.commitDate ? ` (${location.commitDate})` : ""
            }, ${visibleText(location.path)}${location.repository ? ` in ${visibleText(location.repository)}` : ""}.`,
          },
          properties: {
            commit: location.commit,
            ...(location.commitDate ? { commitDate: location.commitDate } : {}),
            ...(location.repository ? { repository: location.repository } : {}),
          },
        }
      : {}),
  };
}

const NOT_READ_WHY = {
  tooLarge: "larger than the size cap (keyward scan --max-file-size, or name the file itself)",
  binary: "looks binary (keyward scan --binary reads it)",
  unreadable: "could not be read (permissions?)",
} as const;

/** A file or blob the scan did not read, as a notification at its place: nothing in it was searched. */
function notReadNotification(source: SkippedSource, roots: readonly string[], bases: Map<string, Base>) {
  const { physicalLocation } = locationOf({ ...source, line: 1, column: 1 }, roots, bases);
  return {
    level: "warning" as const,
    descriptor: { id: "keyward/not-read" },
    message: {
      text: `Not read, not searched for keys: ${visibleText(source.path)}${
        source.commit ? ` (git history, commit ${shortCommit(source.commit)})` : ""
      } ${NOT_READ_WHY[source.reason]}.`,
    },
    // No region: the whole file was not read.
    locations: [
      {
        physicalLocation: {
          ...(physicalLocation?.artifactLocation
            ? { artifactLocation: physicalLocation.artifactLocation }
            : {}),
        },
      },
    ],
    properties: {
      reason: source.reason,
      ...(source.bytes === undefined ? {} : { bytes: source.bytes }),
      ...(source.commit ? { commit: source.commit } : {}),
    },
  };
}

/** One line naming the key, its exchange and, for known keys, its account and label. Never a secret. */
export function sarifMessage(finding: ScanFinding): string {
  const exchange = exchangeName(finding.exchange);
  const parts: string[] = [];
  if (finding.kind === "unknown-key") {
    const also = [finding.secretFound ? "a secret" : "", finding.passphraseFound ? "a passphrase" : ""]
      .filter(Boolean)
      .join(" and ");
    parts.push(
      `${exchange} API key ${finding.keyShown}, not known to Keyward (${finding.confidence} confidence)` +
        `${also ? `, with ${also} next to it` : ""}.`,
    );
    if (finding.verify) {
      const perms = finding.verify.permissions?.length ? ` (${finding.verify.permissions.join(", ")})` : "";
      parts.push(`The exchange says: ${finding.verify.status}${perms}.`);
    }
  } else {
    // A known-secret finding whose only field found is the passphrase (person-chosen) says so.
    const what =
      finding.kind !== "known-secret" ? "" : finding.secretFound ? "The secret of" : "The passphrase of";
    const sub = finding.subAccount ? ` / ${visibleText(finding.subAccount)}` : "";
    const label = finding.label !== undefined ? ` "${visibleText(finding.label)}"` : "";
    const whose = finding.account !== undefined ? ` of account ${visibleText(finding.account)}${sub}` : "";
    parts.push(
      `${what ? `${what} ` : ""}${exchange} API key ${finding.keyShown}${label}${whose}` +
        `${finding.state ? ` (${finding.state})` : ""}${finding.kind === "known-secret" ? " was found" : ""}.`,
    );
    if (finding.kind === "known-key" && finding.secretFound) parts.push("Its secret is there too.");
    if (finding.permissions?.length) parts.push(`Permissions: ${finding.permissions.join(", ")}.`);
    if (finding.risks?.length) parts.push(`Risks: ${finding.risks.join(", ")}.`);
  }
  const commits = [...new Set(finding.locations.flatMap((l) => (l.commit ? [shortCommit(l.commit)] : [])))];
  if (commits.length > 0) {
    const shown = commits.slice(0, 3).join(", ");
    parts.push(
      `In git history (commit ${shown}${commits.length > 3 ? ` and ${commits.length - 3} more` : ""}).`,
    );
  }
  parts.push(finding.live ? "It may still work: revoke it." : "Keyward last knew it as not working.");
  return parts.join(" ");
}

function resultOf(finding: ScanFinding, report: ScanReport, bases: Map<string, Base>): Result {
  const rule = RULES[finding.kind];
  return {
    ruleId: rule.id,
    ruleIndex: KINDS.indexOf(finding.kind),
    level: sarifLevel(finding),
    kind: "fail",
    message: { text: sarifMessage(finding) },
    locations: finding.locations.map((l) => locationOf(l, report.roots, bases)),
    partialFingerprints: { [SARIF_FINGERPRINT_KEY]: finding.fingerprint },
    properties: {
      kind: finding.kind,
      exchange: finding.exchange,
      confidence: finding.confidence,
      live: finding.live,
      keyShown: finding.keyShown,
      secretFound: finding.secretFound,
      passphraseFound: finding.passphraseFound,
      ...(finding.account !== undefined ? { account: finding.account } : {}),
      ...(finding.subAccount ? { subAccount: finding.subAccount } : {}),
      ...(finding.label !== undefined ? { label: visibleText(finding.label) } : {}),
      ...(finding.permissions ? { permissions: finding.permissions } : {}),
      ...(finding.risks ? { risks: finding.risks } : {}),
      ...(finding.state ? { state: finding.state } : {}),
      ...(finding.source ? { source: finding.source } : {}),
      ...(finding.verify ? { verify: finding.verify } : {}),
      tags: ["security", "secret", "exchange-api-key"],
    },
  };
}

/**
 * The SARIF 2.1.0 log of a scan. `tool.version` is the Keyward version that ran it. Deterministic: the
 * same report gives the same log (results in the report's order).
 */
export function toSarif(report: ScanReport, tool: { version: string }): Log {
  const bases = basesOf(report);
  const originalUriBaseIds: NonNullable<Log["runs"][number]["originalUriBaseIds"]> = {};
  for (const base of bases.values()) {
    const uri = folderUri(base.absolute ?? base.folder);
    // Paths are anyone's text: a newline or direction override is written out (URIs are percent-encoded).
    const folder = visibleText(base.folder);
    originalUriBaseIds[base.id] = {
      ...(base.under ? { uri: base.under.uri, uriBaseId: base.under.id } : uri ? { uri } : {}),
      description: {
        text:
          base.absolute || base.under
            ? `Top of the git repository whose history was read (history paths are from it): ${folder}`
            : `Scanned root as given: ${folder}`,
      },
    };
  }
  return {
    $schema: SARIF_SCHEMA_URI,
    version: SARIF_VERSION,
    runs: [
      {
        tool: {
          driver: {
            name: "keyward",
            fullName: "Keyward leak scanner (keyward scan)",
            version: tool.version,
            ...(/^\d+\.\d+\.\d+/.test(tool.version) ? { semanticVersion: tool.version } : {}),
            rules: KINDS.map((k) => RULES[k]),
          },
        },
        originalUriBaseIds,
        invocations: [
          {
            executionSuccessful: true,
            startTimeUtc: report.startedAt,
            ...(report.warnings.length + report.stats.skippedSources.length > 0
              ? {
                  toolExecutionNotifications: [
                    ...report.warnings.map((w) => ({ level: "warning" as const, message: { text: w } })),
                    ...report.stats.skippedSources.map((s) => notReadNotification(s, report.roots, bases)),
                  ],
                }
              : {}),
          },
        ],
        results: report.findings.map((f) => resultOf(f, report, bases)),
        properties: {
          git: report.git,
          searched: report.searched,
          stats: report.stats,
          ...(report.auditSeq !== null ? { auditSeq: report.auditSeq } : {}),
        },
      },
    ],
  };
}
