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
 *     <key>": never its characters. A leaked secret next to a rotated-away key id still matters.
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

import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { z } from "zod";
import type { AdapterOptions, ExchangeAdapter } from "../adapters/interface.js";
import {
  EXCHANGE_PROFILES,
  exchangeProfile,
  loadAdapterFactory,
  needsPassphrase,
} from "../adapters/registry.js";
import type { Credentials } from "../domain/credentials.js";
import type { Account } from "../domain/schemas.js";
import { Secret } from "../domain/secret.js";
import { shortKey } from "../domain/short-key.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { scanSources } from "../scan/engine.js";
import { gatherNeedles, type KnownKey, type KnownNeedles } from "../scan/needles.js";
import {
  type Confidence,
  type LeakLocation,
  type ScanFinding,
  type ScanHit,
  type ScanProgress,
  type ScanReport,
  ScanReportSchema,
} from "../scan/scan-types.js";
import { checkRoots } from "../scan/walk.js";
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

const RANK: Record<Confidence, number> = { low: 1, medium: 2, high: 3, certain: 4 };

/** Stable across runs (SARIF partialFingerprints); a held secret's finding has its own (`\0secret`). */
const fingerprint = (exchange: string, apiKey: string, suffix = ""): string =>
  createHash("sha256").update(`keyward-scan\0${exchange}\0${apiKey}${suffix}`).digest("hex").slice(0, 32);

const locationKey = (l: LeakLocation) =>
  `${l.repository ?? ""}\0${l.commit ?? ""}\0${l.path}\0${l.line}\0${l.column}`;

/** Adds a location once (the same place can be reached as a needle and as a pattern), field by field. */
function addLocation(list: LeakLocation[], seen: Set<string>, location: LeakLocation): void {
  const key = locationKey(location);
  if (seen.has(key)) return;
  seen.add(key);
  const { path, line, column, commit, commitDate, repository } = location;
  list.push({
    path,
    line,
    column,
    ...(commit === undefined ? {} : { commit }),
    ...(commitDate === undefined ? {} : { commitDate }),
    ...(repository === undefined ? {} : { repository }),
  });
}

/**
 * An unknown key as a report shows it: first and last four characters, and never more than half of it
 * (some exchanges' key ids are 8-10 characters, which `shortKey` would show whole).
 */
export const redactUnknownKey = (key: string): string => {
  const n = Math.min(4, Math.floor(key.length / 4));
  return `${key.slice(0, n)}…${key.slice(-n)}`;
};

const isDead = (k: KnownKey) => k.state === "dead" || k.state === "retired";

interface Unknown {
  exchange: string;
  key: string;
  confidence: Exclude<Confidence, "certain">;
  secret?: string;
  passphrase?: string;
  locations: LeakLocation[];
  seen: Set<string>;
}

/**
 * Runs the scan. Throws SCAN_PATH_INVALID (nothing read) when a path does not exist or cannot be read,
 * CONFIG_INVALID when the request is invalid; every other problem (vault locked, an account not listed, the audit log not writable) is a
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
      `${result.hits.length - hits.length} match(es) in Keyward's own files (${home.paths.dir}) were left out: they hold every key id by design`,
    );
  }

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

/** The Keyward key ids to hand the revoke workflow: live known keys, and keys whose held secret was found. */
export function revocableKeyIds(report: ScanReport): string[] {
  const ids = report.findings.flatMap((f) =>
    f.live && (f.kind === "known-key" || f.kind === "known-secret") && f.keyId ? [f.keyId] : [],
  );
  return [...new Set(ids)];
}

/** Known keys' facts as a finding shows them. */
const knownFacts = (k: KnownKey) => ({
  exchange: k.exchange,
  keyShown: shortKey(k.apiKey),
  keyId: k.keyId,
  account: k.account,
  subAccount: k.subAccount,
  label: k.label,
  permissions: k.permissions,
  risks: k.risks,
  state: k.state,
  source: k.source,
});

function toFindings(
  known: KnownNeedles,
  hits: readonly ScanHit[],
  minConfidence: Exclude<Confidence, "certain">,
): { findings: ScanFinding[]; unknowns: Map<ScanFinding, Unknown> } {
  const keyIndex = new Map(known.keys.map((k, i) => [k.apiKey, i]));
  const keyHits = new Map<
    number,
    { locations: LeakLocation[]; seen: Set<string>; secretNear: boolean; passphraseNear: boolean }
  >();
  const secretHits = new Map<number, { locations: LeakLocation[]; seen: Set<string>; fields: Set<string> }>();
  const unknown = new Map<string, Unknown>();
  const keyEntry = (i: number) => {
    let entry = keyHits.get(i);
    if (!entry) {
      entry = { locations: [], seen: new Set(), secretNear: false, passphraseNear: false };
      keyHits.set(i, entry);
    }
    return entry;
  };

  for (const hit of hits) {
    if (hit.type === "needle") {
      if (hit.ref < known.keys.length) {
        const entry = keyEntry(hit.ref);
        addLocation(entry.locations, entry.seen, hit.location);
        continue;
      }
      const held = known.secrets[hit.ref - known.keys.length];
      if (!held) continue;
      let entry = secretHits.get(held.key);
      if (!entry) {
        entry = { locations: [], seen: new Set(), fields: new Set() };
        secretHits.set(held.key, entry);
      }
      entry.fields.add(held.field);
      addLocation(entry.locations, entry.seen, hit.location);
      continue;
    }
    // A pattern whose key is a key id Keyward knows is that key's finding.
    const knownAt = keyIndex.get(hit.key);
    if (knownAt !== undefined) {
      const entry = keyEntry(knownAt);
      addLocation(entry.locations, entry.seen, hit.location);
      if (hit.secret) entry.secretNear = true;
      if (hit.passphrase) entry.passphraseNear = true;
      continue;
    }
    const id = `${hit.exchange}\0${hit.key}`;
    let entry = unknown.get(id);
    if (!entry) {
      entry = {
        exchange: hit.exchange,
        key: hit.key,
        confidence: hit.confidence,
        locations: [],
        seen: new Set(),
      };
      unknown.set(id, entry);
    }
    if (RANK[hit.confidence] > RANK[entry.confidence]) entry.confidence = hit.confidence;
    if (hit.secret && !entry.secret) entry.secret = hit.secret;
    if (hit.passphrase && !entry.passphrase) entry.passphrase = hit.passphrase;
    addLocation(entry.locations, entry.seen, hit.location);
  }

  const findings: ScanFinding[] = [];
  for (const [i, entry] of keyHits) {
    const k = known.keys[i] as KnownKey;
    const secret = secretHits.get(i);
    findings.push({
      kind: "known-key",
      confidence: "certain",
      ...knownFacts(k),
      secretFound: entry.secretNear || (secret?.fields.has("secret") ?? false),
      passphraseFound: entry.passphraseNear || (secret?.fields.has("passphrase") ?? false),
      live: !isDead(k),
      fingerprint: fingerprint(k.exchange, k.apiKey),
      locations: entry.locations,
    });
  }
  for (const [i, entry] of secretHits) {
    const k = known.keys[i] as KnownKey;
    findings.push({
      kind: "known-secret",
      confidence: "certain",
      ...knownFacts(k),
      secretFound: entry.fields.has("secret") || entry.fields.has("totpSeed"),
      passphraseFound: entry.fields.has("passphrase"),
      live: !isDead(k),
      fingerprint: fingerprint(k.exchange, k.apiKey, "\0secret"),
      locations: entry.locations,
    });
  }
  const unknowns = new Map<ScanFinding, Unknown>();
  for (const u of unknown.values()) {
    if (RANK[u.confidence] < RANK[minConfidence]) continue;
    const finding: ScanFinding = {
      kind: "unknown-key",
      confidence: u.confidence,
      exchange: u.exchange,
      keyShown: redactUnknownKey(u.key),
      secretFound: u.secret !== undefined,
      passphraseFound: u.passphrase !== undefined,
      live: true,
      fingerprint: fingerprint(u.exchange, u.key),
      locations: u.locations,
    };
    findings.push(finding);
    unknowns.set(finding, u);
  }
  const kindRank = { "known-key": 0, "known-secret": 1, "unknown-key": 2 } as const;
  findings.sort(
    (a, b) =>
      Number(b.live) - Number(a.live) ||
      kindRank[a.kind] - kindRank[b.kind] ||
      RANK[b.confidence] - RANK[a.confidence] ||
      a.exchange.localeCompare(b.exchange) ||
      a.keyShown.localeCompare(b.keyShown),
  );
  return { findings, unknowns };
}

/** Probes each unknown key found with its secret, one at a time per exchange (the adapter paces them). */
async function verifyUnknown(
  home: KeywardHome,
  findings: ScanFinding[],
  unknowns: Map<ScanFinding, Unknown>,
  options: AdapterOptions,
): Promise<void> {
  const byExchange = new Map<string, ScanFinding[]>();
  for (const f of findings) {
    const u = unknowns.get(f);
    if (!u) continue;
    const profile = exchangeProfile(u.exchange);
    if (!u.secret) {
      f.verify = { status: "skipped", detail: "no secret was found with the key: nothing to probe with" };
      continue;
    }
    if (needsPassphrase(profile) && !u.passphrase) {
      f.verify = {
        status: "skipped",
        detail: `no passphrase was found with the key (${profile.name} keys need one to sign a request)`,
      };
      continue;
    }
    byExchange.set(u.exchange, [...(byExchange.get(u.exchange) ?? []), f]);
  }
  await Promise.all(
    [...byExchange].map(async ([exchange, list]) => {
      // One adapter per exchange, so its rate limiter paces every probe sent there.
      let adapter: ExchangeAdapter | undefined;
      for (const f of list) {
        const u = unknowns.get(f) as Unknown;
        const credentials: Credentials = {
          apiKey: u.key,
          secret: new Secret(u.secret as string),
          ...(u.passphrase ? { passphrase: new Secret(u.passphrase) } : {}),
        };
        try {
          adapter ??= await verifyAdapter(home, exchange, credentials, options);
          const probe = await adapter.probe(credentials);
          if (probe.status === "alive") {
            f.verify = { status: "alive", permissions: [...probe.permissions] };
          } else if (probe.status === "dead") {
            f.verify = { status: "dead" };
            f.live = false;
          } else {
            f.verify = {
              status: "unknown",
              detail: `the exchange's answer did not settle it (${probe.reason})`,
            };
          }
        } catch (error) {
          // The error's message could echo what was sent: only its code is kept.
          const code = error instanceof KeywardError ? error.code : "error";
          f.verify = { status: "unknown", detail: `the probe failed (${code})` };
        }
      }
    }),
  );
}

/**
 * An adapter of the found key's exchange, reaching the endpoint (or region) configured for an account
 * of that exchange, else the profile's default host. Built with the found credentials as its own: it
 * only probes them, and holds nothing of the vault.
 */
async function verifyAdapter(
  home: KeywardHome,
  exchange: string,
  credentials: Credentials,
  options: AdapterOptions,
): Promise<ExchangeAdapter> {
  const profile = exchangeProfile(exchange);
  const configured = home.config.accounts.find((a) => a.exchange === exchange);
  const account: Account = {
    name: "scan-verify",
    exchange: profile.id as Account["exchange"],
    credentialsRef: "scan-verify",
    ...(configured?.endpoint ? { endpoint: configured.endpoint } : {}),
    ...(configured?.region ? { region: configured.region } : {}),
  };
  const factory = await loadAdapterFactory(account.exchange);
  return factory({ account, credentials, tracked: [] }, options);
}

/**
 * The `scan.done` entry: what was read, what was found (known key ids; unknown keys redacted), whether
 * verify ran. Never a secret: every held secret and every found secret, passphrase and unknown key in
 * full is a canary the entry is checked against. Returns its seq, or null (with a warning) when the
 * scan cannot be audited: a scan changes nothing, so it is not refused for that.
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
  const details = {
    roots: report.roots,
    git: report.git,
    files: report.stats.files,
    bytes: report.stats.bytes,
    commits: report.stats.commits,
    blobs: report.stats.blobs,
    findings: found.length,
    live: found.filter((f) => f.live).length,
    knownKeys: found.filter((f) => f.kind === "known-key").map((f) => f.keyId),
    knownSecrets: found.filter((f) => f.kind === "known-secret").map((f) => f.keyId),
    unknownKeys: found
      .filter((f) => f.kind === "unknown-key")
      .map((f) => ({
        exchange: f.exchange,
        key: f.keyShown,
        confidence: f.confidence,
        ...(f.verify ? { verify: f.verify.status } : {}),
      })),
    verify,
  };
  const canaries = [
    ...known.canaries,
    ...[...unknowns.values()].flatMap((u) => [u.key, u.secret, u.passphrase]),
  ];
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
