/**
 * "Scan for leaked keys" (task: scan use case), the workflow `keyward scan` and the web's Scan page
 * share: gather every key id and secret Keyward knows (scan/needles.ts), run the engine over files,
 * folders and git history with those needles and every profile's leak patterns (scan/engine.ts), turn
 * its raw hits into findings that are safe to print (scan/scan-types.ts), optionally ask the exchanges
 * about unknown keys (`verify`), audit the scan as one `scan.done` entry, and return the report.
 *
 * What a finding is:
 *   - "known-key": a key id Keyward knows, with what it knows of it (account, sub-account, label,
 *     permissions, risk, state). No false positive: an exact match of an id only Keyward's keys have.
 *   - "known-secret": a secret (or passphrase, or TOTP seed) the vault holds, shown as "the secret of
 *     <key>" ("the passphrase of": only near its key id or secret, scan/findings.ts): never its characters. A leaked secret next to a rotated-away key id still matters.
 *   - "unknown-key": a credential matching an exchange's leak patterns (its profile's `leaks`), shown
 *     redacted (first and last four characters), with how confident the match is. One whose key is in
 *     fact a known key id is merged into that key's finding.
 * One finding per key and kind, with every place it was found.
 *
 * LIVE (drives the exit code and `revocableKeyIds`): a known key Keyward does not know to be dead
 * (state "dead", or "retired": rotated away or revoked and proven dead); the secret of such a key; an
 * unknown key the exchange has not said is dead (`verify`). A key Keyward cannot prove dead is live.
 *
 * `verify` (off by default: it SENDS a found key and secret to its exchange, signing a request as
 * anyone holding them would): each unknown key found with its secret (and passphrase, where the
 * exchange's keys have one) is probed by its exchange's adapter, at the endpoint configured for an
 * account of that exchange (else the profile's default host), one at a time per exchange within the
 * adapter's rate limits; the answer is alive (with the permissions the exchange reports), dead, or
 * unknown. Without a secret there is nothing to probe with: "skipped".
 */

import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { AdapterOptions } from "../adapters/interface.js";
import { EXCHANGE_PROFILES } from "../adapters/registry.js";
import { visibleText } from "../domain/visible-text.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { scanSources } from "../scan/engine.js";
import { toFindings, type Unknown } from "../scan/findings.js";
import { gatherNeedles, type KnownNeedles } from "../scan/needles.js";
import {
  type LeakLocation,
  type ScanFinding,
  type ScanProgress,
  type ScanReport,
  ScanReportSchema,
} from "../scan/scan-types.js";
import { verifyUnknown } from "../scan/verify-unknown.js";
import { checkRoots } from "../scan/walk.js";

export { redactUnknownKey } from "../scan/findings.js";

import type { InventoryEvent, ListInventoryInput } from "./list-inventory.js";

export const MIN_CONFIDENCE_LEVELS = ["high", "medium", "low"] as const;
export type MinConfidence = (typeof MIN_CONFIDENCE_LEVELS)[number];

/** What a shell asks for (validated here: the CLI's flags and the web's form both land in it). */
export const ScanLeaksRequestSchema = z.strictObject({
  roots: z.array(z.string().min(1)).min(1, "name at least one file or folder"),
  git: z.boolean().default(false),
  /** No live listing: the last inventory only. */
  offline: z.boolean().default(false),
  /** Search for the vault's secrets (default true; the CLI's --no-secrets). */
  secrets: z.boolean().default(true),
  /**
   * Open the vault (default true; the CLI's --no-vault sets false): one that cannot be opened fails the
   * scan, SCAN_VAULT_LOCKED, before anything is read.
   */
  vault: z.boolean().default(true),
  /** Unknown keys below this confidence are left out. */
  minConfidence: z.enum(MIN_CONFIDENCE_LEVELS).default("medium"),
  maxFileBytes: z.number().int().positive().optional(),
  binary: z.boolean().default(false),
  exclude: z.array(z.string().min(1)).default([]),
  /** Probe unknown keys found with their secret at their exchange (sends them there). */
  verify: z.boolean().default(false),
  workers: z.number().int().positive().max(64).optional(),
});
export type ScanLeaksRequest = z.input<typeof ScanLeaksRequestSchema>;

export interface ScanLeaksHooks {
  onProgress?(progress: ScanProgress): void;
  /** The live listing's events (the CLI's "listing accounts" bar). */
  onInventory?(event: InventoryEvent): void;
  /** The adapters the live listing uses (default `home.adapters(names)`). */
  adapters?: ListInventoryInput["adapters"];
  /** Options of the adapters `verify` builds (tests scale the rate limits to the simulator's). */
  verifyAdapterOptions?: AdapterOptions;
  signal?: AbortSignal;
}

/**
 * Runs the scan. Throws SCAN_PATH_INVALID (nothing read) when a path does not exist or cannot be read,
 * SCAN_VAULT_LOCKED when the vault cannot be opened (unless `vault: false`), CONFIG_INVALID when the
 * request is invalid; every other problem (an account not listed, the audit log not writable) is a
 * warning in the report, since a scan changes nothing.
 */
export async function scanLeaks(
  home: KeywardHome,
  request: ScanLeaksRequest,
  hooks: ScanLeaksHooks = {},
): Promise<ScanReport> {
  const parsed = ScanLeaksRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KeywardError(
      "CONFIG_INVALID",
      `scan: ${issue?.path.join(".") || "request"} ${issue?.message ?? "is invalid"}`,
    );
  }
  const req = parsed.data;
  // Every root checked before the vault is opened or any exchange is asked (SCAN_PATH_INVALID).
  checkRoots(req.roots);
  const startedAt = new Date().toISOString();
  const known = await gatherNeedles(home, {
    offline: req.offline,
    secrets: req.secrets,
    vault: req.vault,
    ...(hooks.adapters ? { adapters: hooks.adapters } : {}),
    ...(hooks.onInventory ? { onInventory: hooks.onInventory } : {}),
  });
  const warnings = [...known.warnings];
  const patterns = EXCHANGE_PROFILES.flatMap((p) => (p.leaks ? [{ exchange: p.id, leaks: p.leaks }] : []));
  const result = await scanSources({
    roots: req.roots,
    git: req.git,
    needles: known.needles,
    patterns,
    binary: req.binary,
    exclude: req.exclude,
    minConfidence: req.minConfidence,
    ...(req.maxFileBytes === undefined ? {} : { maxFileBytes: req.maxFileBytes }),
    ...(req.workers === undefined ? {} : { workers: req.workers }),
    ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });

  // Keyward's own files hold every key id by design (state.db's inventory, the journal, the audit log,
  // config.json, policy.json): the files directly in the home are left out of a scan that reaches them (a
  // whole disk), and the report says so. Anything in a folder below it is not Keyward's, and is reported.
  const homeDir = resolve(home.paths.dir);
  const inHome = (l: LeakLocation) => l.commit === undefined && dirname(resolve(l.path)) === homeDir;
  const hits = result.hits.filter((h) => !inHome(h.location));
  if (hits.length < result.hits.length) {
    warnings.push(
      `${result.hits.length - hits.length} match(es) in Keyward's own files (${visibleText(home.paths.dir)}) were left out: they hold every key id by design`,
    );
  }

  warnings.push(...result.warnings);
  const notRead = notReadWarning(result.stats);
  if (notRead) warnings.push(notRead);

  const { findings, unknowns } = toFindings(known, hits, req.minConfidence);
  if (req.verify) await verifyUnknown(home, findings, unknowns, hooks.verifyAdapterOptions ?? {});

  const report: ScanReport = {
    roots: req.roots,
    git: req.git,
    startedAt,
    findings,
    // Field by field: the report is a strict schema, and holds only what it promises.
    stats: {
      files: result.stats.files,
      bytes: result.stats.bytes,
      commits: result.stats.commits,
      blobs: result.stats.blobs,
      skipped: { ...result.stats.skipped },
      skippedSources: result.stats.skippedSources,
      hitsDropped: result.stats.hitsDropped,
      elapsedMs: result.stats.elapsedMs,
    },
    searched: {
      keyIds: known.keys.length,
      secrets: known.secrets.length,
      exchanges: patterns.map((p) => p.exchange),
    },
    warnings,
    auditSeq: null,
  };
  report.auditSeq = await auditScan(home, report, known, unknowns, req.verify);
  return ScanReportSchema.parse(report);
}

/** How many skipped sources a warning names; the report's stats.skippedSources holds more. */
const NAMED_IN_WARNING = 20;

const REASON_WORDS = { tooLarge: "too large", binary: "binary", unreadable: "unreadable" } as const;

/**
 * The warning naming what was not read (too large, binary, unreadable): a scan that skipped content must
 * never read as clean. Paths through visibleText (a file name may hold control characters).
 */
export function notReadWarning(stats: ScanReport["stats"]): string | undefined {
  const total = stats.skipped.tooLarge + stats.skipped.binary + stats.skipped.unreadable;
  if (total === 0) return undefined;
  const named = stats.skippedSources.slice(0, NAMED_IN_WARNING).map((s) => {
    const size = s.bytes === undefined ? "" : `, ${(s.bytes / 1024 / 1024).toFixed(1)} MB`;
    const at = s.commit ? ` in commit ${s.commit.slice(0, 8)}` : "";
    return `${visibleText(s.path)}${at} (${REASON_WORDS[s.reason]}${size})`;
  });
  const more = total - named.length;
  return (
    `${total} file(s) or blob(s) were not read, so keys in them were not searched for: ` +
    `${named.join(", ")}${more > 0 ? ` and ${more} more` : ""}`
  );
}

/** The Keyward key ids to hand the revoke workflow: live known keys, and keys whose held secret was found. */
export function revocableKeyIds(report: ScanReport): string[] {
  const ids = report.findings.flatMap((f) =>
    f.live && (f.kind === "known-key" || f.kind === "known-secret") && f.keyId ? [f.keyId] : [],
  );
  return [...new Set(ids)];
}

/** A key a scan hands the revoke workflow, and why (printable: paths through visibleText). */
export interface RevocableKey {
  keyId: string;
  /**
   * The key as people read it, redacted as the report is: `mm-bot-1 (okx desk-alpha/alphaMM01) 40c4…fc04`
   * (label through visibleText). The full id is for the revoke, not for the screen.
   */
  shown: string;
  /** Its secret (or a secret-shaped token next to its id) was found: not only its id. */
  secretFound: boolean;
  /** "secret found at .env:4" / "key id found at notes.txt:1, no secret with it". */
  reason: string;
}

const placeOf = (l: ScanFinding["locations"][number] | undefined): string =>
  l ? `${visibleText(l.path)}:${l.line}${l.commit ? ` (commit ${l.commit.slice(0, 10)})` : ""}` : "?";

/**
 * `revocableKeyIds` with why each key is there. A key id alone can be planted by anyone who knows it
 * (ids are not secret), so shells preselect only keys whose secret was found (secretFound).
 */
export function revocableKeys(report: ScanReport): RevocableKey[] {
  const byId = new Map<string, RevocableKey>();
  // A held secret's own finding first: its location is where the secret is.
  const ordered = [...report.findings].sort(
    (a, b) => Number(b.kind === "known-secret") - Number(a.kind === "known-secret"),
  );
  for (const f of ordered) {
    if (!f.live || (f.kind !== "known-key" && f.kind !== "known-secret") || !f.keyId) continue;
    const secret = f.secretFound;
    const where = placeOf(f.locations[0]);
    const owner = `${f.exchange} ${f.account ?? "?"}${f.subAccount ? `/${f.subAccount}` : ""}`;
    const shown = `${f.label ? visibleText(f.label) : "(no label)"} (${visibleText(owner)}) ${f.keyShown}`;
    const more = f.locations.length > 1 ? ` (+${f.locations.length - 1} more)` : "";
    const entry: RevocableKey = secret
      ? { keyId: f.keyId, shown, secretFound: true, reason: `secret found at ${where}${more}` }
      : f.kind === "known-secret"
        ? {
            keyId: f.keyId,
            shown,
            secretFound: false,
            reason: `passphrase found at ${where}${more}, no secret with it`,
          }
        : {
            keyId: f.keyId,
            shown,
            secretFound: false,
            reason: `key id found at ${where}${more}, no secret with it`,
          };
    const before = byId.get(f.keyId);
    if (!before || (!before.secretFound && entry.secretFound)) byId.set(f.keyId, entry);
  }
  return [...byId.values()];
}

/** How many unknown keys the `scan.done` entry lists (redacted); the rest are counted in `unknownKeysMore`. */
export const AUDIT_UNKNOWN_KEYS_LISTED = 50;

/**
 * The `scan.done` entry: what was read, what was found (known key ids; the first unknown keys, redacted,
 * and how many more), whether verify ran. Bounded whatever the scan found: the log is append-only, and a
 * planted file of 94k credentials must not grow it by megabytes per scan. Never a secret: every held
 * secret is a canary the whole entry is checked against. A found unknown key or secret is checked only
 * against the one field made from found text (`unknownKeys`): anywhere else it can only be there because
 * an attacker chose it to equal a path, a key id or a word of the entry, which would make every scan
 * unauditable (and so `--revoke` refuse). Found unknown passphrases are no canary at all: they are shown
 * nowhere, and an attacker-chosen one like `live` or `true` would match the entry by chance.
 * Returns its seq, or null (with a warning) when the scan cannot be audited: a scan changes nothing, so
 * it is not refused for that.
 */
async function auditScan(
  home: KeywardHome,
  report: ScanReport,
  known: KnownNeedles,
  unknowns: Map<ScanFinding, Unknown>,
  verify: boolean,
): Promise<number | null> {
  if (!known.vaultOpen) return null;
  const found = report.findings;
  const unknownFound = found.filter((f) => f.kind === "unknown-key");
  const listed = unknownFound.slice(0, AUDIT_UNKNOWN_KEYS_LISTED);
  const unknownKeys = listed.map((f) => ({
    exchange: f.exchange,
    key: f.keyShown,
    confidence: f.confidence,
    ...(f.verify ? { verify: f.verify.status } : {}),
  }));
  const shown = JSON.stringify(unknownKeys);
  for (const f of listed) {
    const u = unknowns.get(f);
    for (const value of [u?.key, u?.secret]) {
      if (value !== undefined && value.length >= 4 && shown.includes(JSON.stringify(value).slice(1, -1))) {
        report.warnings.push("the scan could not be audited: a found key's redacted form holds it in full");
        return null;
      }
    }
  }
  const details = {
    roots: report.roots,
    git: report.git,
    files: report.stats.files,
    bytes: report.stats.bytes,
    commits: report.stats.commits,
    blobs: report.stats.blobs,
    findings: found.length,
    live: found.filter((f) => f.live).length,
    // Per kind, how many may still work (`keyward audit`'s summary of the entry: audit-scan-summary.ts).
    liveByKind: {
      knownKeys: found.filter((f) => f.live && f.kind === "known-key").length,
      knownSecrets: found.filter((f) => f.live && f.kind === "known-secret").length,
      unknownKeys: unknownFound.filter((f) => f.live).length,
    },
    notRead: report.stats.skipped.tooLarge + report.stats.skipped.binary + report.stats.skipped.unreadable,
    knownKeys: found.filter((f) => f.kind === "known-key").map((f) => f.keyId),
    knownSecrets: found.filter((f) => f.kind === "known-secret").map((f) => f.keyId),
    unknownKeys,
    unknownKeysMore: unknownFound.length - listed.length,
    verify,
  };
  const canaries = known.canaries;
  try {
    const entry = await home.auditEntry("scan.done", "scan", details, { secrets: canaries });
    return entry.seq;
  } catch (error) {
    report.warnings.push(
      `the scan could not be audited (${error instanceof KeywardError ? error.code : "error"}): ${error instanceof Error ? error.message : String(error)}`,
    );
    return null;
  }
}
