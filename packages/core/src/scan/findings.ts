/**
 * A scan's raw hits as findings that are safe to print (use-cases/scan-leaks.ts explains the kinds and
 * the LIVE rule): known keys with what Keyward knows of them, held secrets as "the secret of <key>",
 * unknown keys redacted and merged into a known key where they are one.
 */

import { createHash } from "node:crypto";
import { shortKey } from "../domain/short-key.js";
import type { KnownKey, KnownNeedles } from "./needles.js";
import type { Confidence, LeakLocation, ScanFinding, ScanHit } from "./scan-types.js";

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

/**
 * How near (in lines, same file or blob) a person-chosen passphrase must be to its own key id or secret
 * (both exchange-issued, random) to be reported. Alone, a passphrase hit is an oracle: a hostile file of
 * guesses one per line would get a finding at the line of the right one.
 */
export const PASSPHRASE_NEAR_LINES = 10;

const blobKey = (l: LeakLocation) => `${l.repository ?? ""}\0${l.commit ?? ""}\0${l.path}`;

const isDead = (k: KnownKey) => k.state === "dead" || k.state === "retired";

export interface Unknown {
  exchange: string;
  key: string;
  confidence: Exclude<Confidence, "certain">;
  secret?: string;
  passphrase?: string;
  locations: LeakLocation[];
  seen: Set<string>;
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

export function toFindings(
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
  // Where each known key's id or exchange-issued secret was seen (for the passphrase rule above).
  const anchors = new Map<number, LeakLocation[]>();
  const anchor = (key: number, location: LeakLocation) => {
    const list = anchors.get(key);
    if (list) list.push(location);
    else anchors.set(key, [location]);
  };
  const passphraseHits: { key: number; location: LeakLocation }[] = [];
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
        anchor(hit.ref, hit.location);
        continue;
      }
      const held = known.secrets[hit.ref - known.keys.length];
      if (!held) continue;
      if (held.field === "passphrase") {
        passphraseHits.push({ key: held.key, location: hit.location });
        continue;
      }
      anchor(held.key, hit.location);
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
      anchor(knownAt, hit.location);
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

  for (const { key, location } of passphraseHits) {
    const near = (anchors.get(key) ?? []).some(
      (a) => blobKey(a) === blobKey(location) && Math.abs(a.line - location.line) <= PASSPHRASE_NEAR_LINES,
    );
    if (!near) continue;
    let entry = secretHits.get(key);
    if (!entry) {
      entry = { locations: [], seen: new Set(), fields: new Set() };
      secretHits.set(key, entry);
    }
    entry.fields.add("passphrase");
    addLocation(entry.locations, entry.seen, location);
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
