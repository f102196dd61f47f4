/**
 * `keyward scan` (task: scan): the shapes every part of the leak scanner shares. Three layers, each
 * behind the types here:
 *
 * 1. The ENGINE (scan/engine.ts and its helpers) reads files, folders and git history and reports raw
 *    hits: exact occurrences of needles (strings the caller gives: key ids and secrets Keyward knows),
 *    and candidates that match an exchange's leak patterns (the profile's `leaks`). It knows nothing of
 *    accounts, the vault or the audit log, and never branches on an exchange id: patterns are data.
 * 2. The USE CASE (use-cases/scan-leaks.ts) gathers the needles from the home (inventory, last
 *    inventory, tracked keys, rotation journal, vault secrets), runs the engine, turns hits into
 *    findings (known key → account, label, permissions, risk), optionally verifies unknown keys with
 *    their exchange's probe, audits the scan and returns a `ScanReport`.
 * 3. The SHELLS (CLI `keyward scan`, web Scan page) present the report; `--revoke` / "revoke these"
 *    hand `revocableKeyIds(report)` to the existing revoke workflow.
 *
 * Raw key text and secrets exist only in the engine's hits, in memory; a `ScanFinding` carries no
 * secret and no unknown key in full (first and last four characters only), so anything built from a
 * report (table, JSON, SARIF, web response, audit entry) is safe to print.
 */
import { z } from "zod";

// ---------------------------------------------------------------------------------------------------
// Profile facts (the seam): how an exchange's credentials look when they leak. Each adapter folder's
// profile.ts sets `leaks`; the engine compiles them. Regex sources are plain ECMAScript, no flags, no
// anchors, no capture groups; the engine adds token boundaries (no [A-Za-z0-9] on either side).
// ---------------------------------------------------------------------------------------------------

/** One credential field's shape, e.g. OKX's key: a UUID. */
export interface LeakTokenShape {
  /** ECMAScript regex source for the whole token, e.g. "[0-9a-f]{8}-[0-9a-f]{4}-…". */
  pattern: string;
  /**
   * For alphanumeric shapes that ordinary text could form (e.g. 18 letters or digits): the token must
   * mix at least this many of the classes upper case, lower case, digit. Omit for shapes that cannot
   * be a word (a UUID, upper-case hex).
   */
  minClasses?: 2 | 3;
}

export interface LeakPatterns {
  /**
   * Words that say a text is about this exchange, lower case, matched case-insensitively as whole
   * words (or as the start of an identifier: OKX_API_KEY, bybitSecret), e.g. ["okx", "okex"].
   */
  names: readonly string[];
  key: LeakTokenShape;
  secret: LeakTokenShape;
  /**
   * Where keys carry a passphrase the person chose (OKX): words that introduce it ("passphrase",
   * "pass_phrase"); a value after one of them near the key raises confidence and is reported as found.
   */
  passphraseWords?: readonly string[];
  /**
   * How far apart (in bytes) the key, its secret and the exchange's name may be to count as one
   * credential. Default 512.
   */
  window?: number;
  /**
   * Whether a key and a secret of these shapes together, with no exchange name near, are reported
   * (confidence "medium"): only where the pair of shapes is rare in ordinary text.
   */
  pairWithoutName: boolean;
}

// ---------------------------------------------------------------------------------------------------
// Engine (layer 1)
// ---------------------------------------------------------------------------------------------------

/** An exact string to find; `ref` is the caller's index for it (the engine never interprets it). */
export interface ScanNeedle {
  text: string;
  ref: number;
}

/** Where something was found. Paths use "/" and are as the person gave the root, joined with the rest. */
export const LeakLocationSchema = z.strictObject({
  /** The file: the root as given joined with the path under it; for history, the path in the repository. */
  path: z.string(),
  /** 1-based line and column (column in bytes of that line; of its UTF-8 text for a UTF-16 source). */
  line: z.number().int().positive(),
  column: z.number().int().positive(),
  /** Git history only: the first commit (full hash) in which a blob with this content sat at `path`. */
  commit: z.string().optional(),
  /** Git history only: that commit's author date (ISO 8601). */
  commitDate: z.string().optional(),
  /**
   * Git history only: the repository's top folder (written from the root as given: a root "srv/app" in a
   * repository at "srv" gives "srv"); `path` is a path from it.
   */
  repository: z.string().optional(),
});
export type LeakLocation = z.infer<typeof LeakLocationSchema>;

export type Confidence = "certain" | "high" | "medium" | "low";
export const ConfidenceSchema = z.enum(["certain", "high", "medium", "low"]);

/** What the engine found at one place. Holds raw text: never leaves core as is. */
export type ScanHit =
  | { type: "needle"; ref: number; location: LeakLocation }
  | {
      type: "pattern";
      exchange: string;
      /** "high": key + secret + name near; "medium": key + secret (pairWithoutName) or key + name; "low": key + name only. */
      confidence: Exclude<Confidence, "certain">;
      key: string;
      /** The secret-shaped token found with it, if any. */
      secret?: string;
      /** A passphrase value found with it (passphraseWords), if any. */
      passphrase?: string;
      location: LeakLocation;
    };

/**
 * A file or blob whose content was not read (too large, unreadable, binary without `binary`): named so a
 * shell never calls a scan clean that did not read everything. The first MAX_SKIPPED_LISTED are listed;
 * `skipped` counts them all.
 */
export const SkippedSourceSchema = z.strictObject({
  /** As a location's path: the file as shown, or (history) the blob's first path in its repository. */
  path: z.string(),
  reason: z.enum(["tooLarge", "binary", "unreadable"]),
  /** Its size in bytes, where known (tooLarge). */
  bytes: z.number().int().optional(),
  /** History only: the first commit that had it at `path`, and the repository. */
  commit: z.string().optional(),
  repository: z.string().optional(),
});
export type SkippedSource = z.infer<typeof SkippedSourceSchema>;
export const MAX_SKIPPED_LISTED = 100;

export interface ScanStats {
  files: number;
  bytes: number;
  /** Git history: commits walked and distinct blobs read. */
  commits: number;
  blobs: number;
  skipped: { tooLarge: number; binary: number; unreadable: number; notRegular: number; excluded: number };
  /** The first MAX_SKIPPED_LISTED sources skipped as tooLarge, binary or unreadable, by name. */
  skippedSources: SkippedSource[];
  /**
   * Matches counted but not listed: past 20 places for one key in one source, or past 20 paths for
   * one git blob (a hostile repository or a log full of one key id would otherwise exhaust memory).
   */
  hitsDropped: number;
  elapsedMs: number;
}
export const ScanStatsSchema = z.strictObject({
  files: z.number().int(),
  bytes: z.number().int(),
  commits: z.number().int(),
  blobs: z.number().int(),
  skipped: z.strictObject({
    tooLarge: z.number().int(),
    binary: z.number().int(),
    unreadable: z.number().int(),
    notRegular: z.number().int(),
    excluded: z.number().int(),
  }),
  skippedSources: z.array(SkippedSourceSchema),
  hitsDropped: z.number().int(),
  elapsedMs: z.number(),
});

export interface ScanProgress {
  phase: "files" | "history";
  files: number;
  bytes: number;
  commits: number;
  blobs: number;
  /** The file or path being read, for a progress line (as given, never file content). */
  current?: string;
}

export interface ScanEngineOptions {
  /** Files or folders to read. */
  roots: readonly string[];
  /** Also read the whole history of each root that is a git repository (every blob reachable from every ref). */
  git: boolean;
  needles: readonly ScanNeedle[];
  /** Per exchange (its profile's `leaks`); exchange is the profile id. */
  patterns: readonly { exchange: string; leaks: LeakPatterns }[];
  /**
   * Files met in a folder walk (and blobs) larger than this are skipped, counted and named; a file named
   * as a root is read whatever its size (the person asked for it). Default DEFAULT_MAX_FILE_BYTES.
   */
  maxFileBytes?: number;
  /** Read files that look binary too (default: skip them). */
  binary?: boolean;
  /** Glob patterns (as .gitignore lines) of paths to leave out, relative to each root. */
  exclude?: readonly string[];
  /** Worker threads for reading and matching; default: one per core, at most 4. */
  workers?: number;
  onProgress?(progress: ScanProgress): void;
  signal?: AbortSignal;
  /**
   * Pattern finds below this confidence are dropped where they are found (default "medium"), so a
   * large tree never holds a million "low" hits.
   */
  minConfidence?: "high" | "medium" | "low";
  /**
   * Hits kept for the whole scan; past it the scan goes on, counting them (stats.hitsDropped) without
   * their places, so a hostile tree cannot exhaust memory. Default 100,000 (parallel.ts MAX_KEPT_HITS).
   */
  maxKeptHits?: number;
  /**
   * How long (ms) a git process may write nothing while the scan waits for it before it is killed
   * (SCAN_GIT_FAILED): a repository's config can block git. Default 30 s (git-history.ts GIT_STALL_MS).
   */
  gitStallMs?: number;
}

export interface ScanEngineResult {
  hits: ScanHit[];
  stats: ScanStats;
  /** What the engine could not do, for people (e.g. `git` on a folder in no repository). */
  warnings: string[];
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------------
// Report (layer 2 → shells): safe to print
// ---------------------------------------------------------------------------------------------------

/**
 * Where Keyward knows a found key from. "audit": only the audit log names it (a key Keyward revoked and
 * proved dead, gone from every listing); "vault": only the vault holds it (e.g. an account's own key
 * when no inventory has been listed yet). Both added by the scan use case (use-cases/scan-leaks.ts).
 */
export const KnownSourceSchema = z.enum([
  "inventory",
  "last-inventory",
  "tracked",
  "journal",
  "audit",
  "vault",
]);
export type KnownSource = z.infer<typeof KnownSourceSchema>;

export const ScanFindingSchema = z.strictObject({
  /** "known-key": a key id Keyward knows; "known-secret": a secret the vault holds; "unknown-key": a pattern. */
  kind: z.enum(["known-key", "known-secret", "unknown-key"]),
  confidence: ConfidenceSchema,
  exchange: z.string(),
  /**
   * The API key, first and last four characters only ("40c4…fc04"); an unknown key never more than half
   * of it (use-cases/scan-leaks.ts, redactUnknownKey).
   */
  keyShown: z.string(),
  /** Known keys: Keyward's key id (exchange:account:sub:apiKey), what `keyward revoke` takes. */
  keyId: z.string().optional(),
  account: z.string().optional(),
  subAccount: z.string().nullable().optional(),
  label: z.string().optional(),
  permissions: z.array(z.string()).optional(),
  /** Risk flag names, as `keyward keys --risky` names them. */
  risks: z.array(z.string()).optional(),
  /** Known keys: what Keyward last knew of it ("active", "disabled", "dead", "unknown", "retired"). */
  state: z.string().optional(),
  source: KnownSourceSchema.optional(),
  /** A secret was found with the key (a known secret, or a secret-shaped token next to an unknown key). */
  secretFound: z.boolean(),
  passphraseFound: z.boolean(),
  /** --verify: what the exchange said of an unknown key. */
  verify: z
    .strictObject({
      status: z.enum(["alive", "dead", "unknown", "skipped"]),
      permissions: z.array(z.string()).optional(),
      detail: z.string().optional(),
    })
    .optional(),
  /** Whether this finding could still be a working key (drives the exit code): see scan-leaks.ts. */
  live: z.boolean(),
  /** Stable across runs, for SARIF partialFingerprints: sha256 of "keyward-scan\0exchange\0apiKey", hex, 32 chars. */
  fingerprint: z.string(),
  locations: z.array(LeakLocationSchema),
});
export type ScanFinding = z.infer<typeof ScanFindingSchema>;

export const ScanReportSchema = z.strictObject({
  roots: z.array(z.string()),
  git: z.boolean(),
  startedAt: z.string(),
  findings: z.array(ScanFindingSchema),
  stats: ScanStatsSchema,
  /** How many known key ids and known secrets were searched for. */
  searched: z.strictObject({
    keyIds: z.number().int(),
    secrets: z.number().int(),
    exchanges: z.array(z.string()),
  }),
  /** Why something could not be searched for (e.g. the vault was not unlocked: no known secrets). */
  warnings: z.array(z.string()),
  /** The audit entry that recorded the scan. */
  auditSeq: z.number().int().nullable(),
});
export type ScanReport = z.infer<typeof ScanReportSchema>;
