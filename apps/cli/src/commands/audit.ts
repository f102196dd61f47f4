/** `keyward audit verify` and `keyward audit head` (the listing, `keyward audit`, is in audit-list.ts). */

import { existsSync } from "node:fs";
import {
  AuditLog,
  type AuditVerifyResult,
  checkHomePrivacy,
  homePaths,
  KeywardHome,
  SqliteStateStore,
} from "@keyward/core";
import { homeDir, passphraseProvider } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { out, printJson } from "../output.js";
import type { GlobalOptions } from "../program.js";

/** The plain listing needs no vault: it never asks for the passphrase (and verifies nothing). */
export function openAudit(globals: GlobalOptions) {
  const paths = homePaths(homeDir(globals));
  // A log another user can rewrite proves nothing (its hash chain can be recomputed): refuse it.
  checkHomePrivacy(paths, { fix: false });
  const state = SqliteStateStore.open(paths.state, { readonly: true });
  return { state, log: new AuditLog(state) };
}

/** What each break means, for people (the JSON carries the reason alone). */
const EXPLAIN: Record<Extract<AuditVerifyResult, { ok: false }>["reason"], string> = {
  "hash mismatch": "the entry was changed after it was written",
  "not canonical": "the entry's stored details are not the canonical JSON its hash was made over",
  "sequence gap": "the entry is missing",
  "prev-hash mismatch": "the entry does not link to the one before it",
  "mac mismatch": "the entry was not written with the vault's audit key (forged or re-chained)",
  "keyed-after mismatch": "the entry differs from the one the vault recorded when the log was keyed",
  truncated: "the newest entries were deleted",
  emptied: "every entry was deleted (a keyed log is never empty)",
  "head mismatch": "the recorded head does not match the entries, or was not written with the key",
  "head copy mismatch": "audit-head.json, the copy of the head beside state.db, was altered",
  "head copy missing":
    "audit-head.json, the copy of the head beside state.db, is missing or garbled: without it an older state.db put back would go unnoticed; check with --expect-head against a head kept off the machine",
  "rolled back": "the log is shorter than a head recorded earlier: entries from here on were removed",
  "expected head mismatch": "the entry differs from the one in the head you gave: the history was rewritten",
  "missing table": "state.db, or a table of the audit log in it, is missing",
};

/** `SEQ:HASH`, as `keyward audit head` prints it. */
function parseHead(text: string): { seq: number; hash: string } {
  const m = /^(0|[1-9][0-9]{0,15}):([0-9a-fA-F]{64})$/.exec(text.trim());
  if (!m?.[1] || !m[2]) {
    throw usageError(
      `--expect-head "${text.slice(0, 100)}" is not SEQ:HASH`,
      "Give the line `keyward audit head` printed, e.g. --expect-head 42:3f9c…(64 hex digits).",
    );
  }
  return { seq: Number(m[1]), hash: m[2].toLowerCase() };
}

/**
 * Verifies with the vault's audit key. state.db is opened read-only: verifying never writes (and works
 * on a frozen log). A missing state.db is a broken log once the vault holds a key.
 */
async function verifyHome(
  globals: GlobalOptions,
  expectHead?: { seq: number; hash: string },
): Promise<AuditVerifyResult> {
  const home = KeywardHome.open(homeDir(globals), {
    passphrase: passphraseProvider(),
    actor: "cli:audit-verify",
    readonlyState: true,
  });
  try {
    const vault = await home.vault();
    if (!existsSync(home.paths.state) && vault.auditKey() !== undefined) {
      return { ok: false, entries: 0, brokenAt: 1, reason: "missing table" };
    }
    return await home.auditLog().verify(expectHead === undefined ? {} : { expectHead });
  } finally {
    await home.close();
  }
}

function printBroken(result: Extract<AuditVerifyResult, { ok: false }>): void {
  out(
    `audit log BROKEN at entry ${result.brokenAt}: ${result.reason} (${result.entries} entries intact before it)`,
  );
  out(`  ${EXPLAIN[result.reason]}.`);
}

export async function auditVerify(
  globals: GlobalOptions,
  opts: { json?: boolean; expectHead?: string },
): Promise<ExitCode> {
  const expected = opts.expectHead === undefined ? undefined : parseHead(opts.expectHead);
  const result = await verifyHome(globals, expected);
  if (opts.json) printJson(result);
  else if (!result.ok) printBroken(result);
  else {
    const head = result.head ? `${result.head.seq}:${result.head.hash}` : "(empty)";
    out(`audit log intact: ${result.entries} entries, head ${head}`);
    const from = result.authenticatedFrom;
    if (from === null) {
      out("  not keyed yet: only the hash chain was checked (the next command that opens the vault keys it)");
    } else if (from > 1) {
      out(
        `  entries ${from}-${result.entries} authenticated with the vault's audit key; 1-${from - 1} were written before keying: hash chain only`,
      );
    } else out("  every entry authenticated with the vault's audit key");
    if (!result.headCopy) {
      // Only before keying: a keyed log without its copy is broken ("head copy missing").
      out(
        `  no audit-head.json beside state.db: a state.db put back to an older copy shows only with --expect-head`,
      );
    }
    if (expected) out(`  contains the expected head ${expected.seq}:${expected.hash.slice(0, 16)}…`);
    else out("  compare with a head you copied elsewhere: keyward audit verify --expect-head SEQ:HASH");
  }
  return result.ok ? EXIT.OK : EXIT.FAILED;
}

/** Prints the verified head as `SEQ:HASH`, one line, to copy off the machine. */
export async function auditHead(globals: GlobalOptions, opts: { json?: boolean }): Promise<ExitCode> {
  const result = await verifyHome(globals);
  if (!result.ok) {
    if (opts.json) printJson(result);
    else printBroken(result);
    return EXIT.FAILED;
  }
  const head = result.head ?? { seq: 0, hash: "0".repeat(64) };
  if (opts.json) printJson({ ...head, entries: result.entries, at: new Date().toISOString() });
  else out(`${head.seq}:${head.hash}`);
  return EXIT.OK;
}
