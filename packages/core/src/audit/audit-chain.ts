/**
 * The audit log's chain and keys (see audit-log.ts): an entry's hash, the MACs of entries, the head and
 * its copy (each under a label of its own), and reading the head copy beside state.db.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import type { AuditEntry, AuditHead, AuditKey } from "./audit-log.js";
import { canonicalJson } from "./canonical-json.js";

/** prevHash of the first entry. */
export const GENESIS_HASH = "0".repeat(64);

/** A head as stored: with the MAC written with it. */
export interface HeadRow extends AuditHead {
  mac: string | null;
}

export const hashEntry = (body: Omit<AuditEntry, "hash">): string =>
  createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");

/** The entry MAC: HMAC-SHA256 of the entry's hash (which covers its content and, by chaining, all before it). */
export const entryMac = (key: AuditKey, hash: string): string => hmac(key, `keyward-audit-entry-v1\n${hash}`);

/** The head MAC, domain-separated from the entry MAC so an entry's MAC is never a valid head. */
export const headMac = (key: AuditKey, head: AuditHead): string =>
  hmac(key, `keyward-audit-head-v1\n${head.seq}:${head.hash}`);

/**
 * The head copy's MAC (audit-head.json), under its own label: a copy is never a valid head row, nor a
 * head row a valid copy. (With the head's label, the copy handed out exactly the MAC an attacker needs
 * to cut the log back to it and re-head it.)
 */
export const headCopyMac = (key: AuditKey, head: AuditHead): string =>
  hmac(key, `keyward-audit-head-copy-v1\n${head.seq}:${head.hash}`);

export const hmac = (key: AuditKey, text: string): string =>
  createHmac("sha256", Buffer.from(key.key.reveal(), "base64")).update(text, "utf8").digest("hex");

export function macMatches(stored: string | null | undefined, expected: string): boolean {
  if (typeof stored !== "string" || stored.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(stored), Buffer.from(expected));
}

const HeadCopySchema = z.strictObject({
  seq: z.number().int().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

/**
 * The head copy beside state.db, or "missing". A file that is not a head copy at all counts as missing
 * (on a keyed log, a break: garbling the copy must be no more use to an attacker than deleting it). It is
 * fsynced before it is renamed into place, so a crash leaves the previous copy (lagging: accepted), not a
 * torn one. A well-formed copy whose MAC or head does not match is evidence of tampering.
 */
export function readHeadCopy(path: string): HeadRow | "missing" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return "missing";
  }
  try {
    const parsed = HeadCopySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : "missing";
  } catch {
    return "missing";
  }
}

export function safeCanonical(details: unknown): string | null {
  try {
    return canonicalJson(details);
  } catch {
    return null;
  }
}

/** A stored row whose details are no longer plain JSON cannot match any hash append() wrote. */
export function safeHash(body: Omit<AuditEntry, "hash" | "details"> & { details: unknown }): string | null {
  try {
    return hashEntry(body as Omit<AuditEntry, "hash">);
  } catch {
    return null;
  }
}

export function readFileText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
