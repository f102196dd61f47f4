/**
 * Appending to the audit log (see audit-log.ts for the chain, the key, the head copy and why it fails
 * closed): the checks on an entry (a well-formed action, actor and subject, plain JSON details, no
 * secret value anywhere), the checks on the log it chains onto (its head matches its last row, was
 * written with the key, and is not behind its own head copy), the write of the entry and its head in
 * one transaction, keying a log, and the head copy written forwards after each outermost commit.
 * AuditLog's `append` and `keyLog` are these.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { z } from "zod";
import { Secret } from "../domain/secret.js";
import { isKeywardError, KeywardError } from "../errors.js";
import type { StateStore } from "../store/state-store.js";
import {
  entryMac,
  GENESIS_HASH,
  type HeadRow,
  hashEntry,
  headCopyMac,
  headMac,
  macMatches,
  readHeadCopy,
} from "./audit-chain.js";
import type { AuditAppendInput, AuditAppendOptions, AuditEntry, AuditHead, AuditKey } from "./audit-log.js";
import { canonicalJson, type JsonValue } from "./canonical-json.js";

/** `area.verb`, e.g. `key.tracked`, `revoke.requested`, `rotation.new-key-created`. */
export const AuditActionSchema = z
  .string()
  .max(64)
  .regex(/^[a-z]+(\.[a-z-]+)+$/, "must look like area.verb (lower case, e.g. revoke.requested)");

/** What an append needs of its AuditLog (its options, resolved). */
export interface AppendContext {
  readonly state: StateStore;
  readonly now: () => Date;
  readonly secrets: (() => Iterable<Secret | string | undefined>) | undefined;
  readonly key: (() => AuditKey | undefined) | undefined;
  readonly headCopyPath: string | undefined;
}

type CheckedInput = Pick<AuditEntry, "action" | "actor" | "subject" | "details">;

const TextSchema = z.string().min(1).max(512);

/** Appends one entry and returns it; throws AUDIT_INVALID or AUDIT_UNAVAILABLE and writes nothing. */
export async function appendEntry(
  ctx: AppendContext,
  input: AuditAppendInput,
  options: AuditAppendOptions = {},
): Promise<AuditEntry> {
  const checked = checkInput(ctx, input, options);
  const key = ctx.key?.();
  if (key === undefined) {
    throw unavailable(
      `The audit log at ${ctx.state.location} cannot be written without its key.`,
      "The audit key is kept in the vault and made the first time the vault is opened with a sound, writable audit log: run `keyward audit verify`. (A caller that appends before opening the vault is a bug.)",
    );
  }
  if (!(await ctx.state.isWritable())) {
    throw unavailable(`The audit log at ${ctx.state.location} is read-only.`);
  }
  let entry: AuditEntry;
  try {
    entry = await ctx.state.transaction(() => insert(ctx, checked, key));
  } catch (error) {
    throw writeError(ctx, error);
  }
  // After the OUTERMOST commit, also when the caller's transaction holds this append (the rotation
  // journal's steps): written earlier, the copy would run ahead of the database if the caller rolled
  // back; never written, it would stay behind every rotation and vouch for a log cut back to it.
  await ctx.state.afterCommit(() => writeHeadCopy(ctx, entry, key));
  return entry;
}

/** See AuditLog.keyLog. */
export async function keyAuditLog(
  ctx: AppendContext,
  input: AuditAppendInput,
  persist: (key: AuditKey) => Promise<void> | void,
): Promise<AuditEntry> {
  const checked = checkInput(ctx, input, {});
  if (!(await ctx.state.isWritable())) {
    throw unavailable(`The audit log at ${ctx.state.location} is read-only.`);
  }
  let keyed: { key: AuditKey; entry: AuditEntry };
  try {
    // The vault is saved while the transaction holds the write lock, so that another process cannot
    // chain onto the head between the two.
    keyed = await ctx.state.transaction(async () => {
      const head = await consistentHead(ctx);
      const key: AuditKey = {
        key: new Secret(randomBytes(32).toString("base64")),
        keyedAfter: { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH },
      };
      const entry = await insert(ctx, checked, key, true);
      await persist(key);
      return { key, entry };
    });
  } catch (error) {
    throw writeError(ctx, error);
  }
  await writeHeadCopy(ctx, keyed.entry, keyed.key);
  return keyed.entry;
}

function writeError(ctx: AppendContext, error: unknown): KeywardError {
  // The store's own failures (read-only, locked, disk full: STATE_UNAVAILABLE) are the audit log's.
  if (isKeywardError(error) && error.code !== "STATE_UNAVAILABLE") return error;
  const cause = isKeywardError(error) && error.cause !== undefined ? error.cause : error;
  const code = cause instanceof Error && "code" in cause ? String(cause.code) : "unknown error";
  return unavailable(
    `The audit log at ${ctx.state.location} could not be written (${code}).`,
    undefined,
    error,
  );
}

/** The head, checked against the newest row; throws if they disagree. Call inside a write transaction. */
async function consistentHead(ctx: AppendContext): Promise<HeadRow | undefined> {
  const head = await ctx.state.auditHead();
  const last = await ctx.state.lastAudit();
  // The head and the newest row must agree before we chain onto them. If they do not, the log
  // was tampered with (or truncated): appending would bury that, so refuse until a person looks.
  if (
    (head?.seq ?? 0) !== (last?.seq ?? 0) ||
    (head?.hash ?? GENESIS_HASH) !== (last?.hash ?? GENESIS_HASH)
  ) {
    throw unavailable(
      `The audit log at ${ctx.state.location} is inconsistent (its head does not match its last entry).`,
      TAMPERED_HINT,
    );
  }
  return head;
}

async function insert(
  ctx: AppendContext,
  checked: CheckedInput,
  key: AuditKey,
  keying = false,
): Promise<AuditEntry> {
  const head = await consistentHead(ctx);
  const current = { seq: head?.seq ?? 0, hash: head?.hash ?? GENESIS_HASH, mac: head?.mac ?? null };
  // Chaining onto a head nobody with the key wrote would launder a forgery: refuse. The head where
  // keying began is acceptable only to keyLog() itself: once keyed, the log is longer than that, and a
  // log cut back to it (or emptied) would otherwise be silently continued.
  const authentic =
    current.seq > key.keyedAfter.seq
      ? macMatches(current.mac, headMac(key, current))
      : keying && current.seq === key.keyedAfter.seq && current.hash === key.keyedAfter.hash;
  if (!authentic) {
    throw unavailable(
      `The audit log at ${ctx.state.location} is not authentic (its head was not written with the vault's audit key).`,
      TAMPERED_HINT,
    );
  }
  await refuseBehindCopy(ctx, current, key);
  const body = {
    seq: current.seq + 1,
    ts: ctx.now().toISOString(),
    ...checked,
    prevHash: current.hash,
  };
  const entry: AuditEntry = { ...body, hash: hashEntry(body) };
  await ctx.state.appendAudit(
    { ...entry, details: canonicalJson(entry.details), mac: entryMac(key, entry.hash) },
    { seq: entry.seq, hash: entry.hash, mac: headMac(key, entry) },
  );
  return entry;
}

/**
 * A log behind its own authentic head copy (state.db put back to an older copy, or rewritten) is not
 * appended to: the copy is written forwards after each append, so going on would soon overwrite the
 * one piece of evidence `verify` has. (A copy that is missing or not authentic is verify's to report.)
 */
async function refuseBehindCopy(ctx: AppendContext, current: AuditHead, key: AuditKey): Promise<void> {
  const path = ctx.headCopyPath;
  if (path === undefined) return;
  const copy = readHeadCopy(path);
  if (copy === "missing" || !macMatches(copy.mac, headCopyMac(key, copy))) return;
  const held =
    copy.seq > current.seq
      ? undefined
      : copy.seq === current.seq
        ? current.hash
        : await ctx.state.auditHashAt(copy.seq);
  if (held !== copy.hash) {
    throw unavailable(
      `The audit log at ${ctx.state.location} is behind its head copy (${path}): state.db was put back to an older copy or rewritten.`,
      "Run `keyward audit verify` (it names where the log breaks). If you restored state.db from a backup on purpose, keep a copy of audit-head.json as evidence and move it aside; Keyward refuses destructive actions until then.",
    );
  }
}

/**
 * Best effort, after the commit: the database is the record. A copy that lags (a crash between
 * commit and copy, or two processes finishing out of order) is fine; one AHEAD of the database
 * means state.db was rolled back. Written only forwards.
 */
async function writeHeadCopy(ctx: AppendContext, head: AuditHead, key: AuditKey): Promise<void> {
  const path = ctx.headCopyPath;
  if (path === undefined) return;
  const current = readHeadCopy(path);
  if (typeof current === "object" && current.seq >= head.seq) return;
  // Only an entry the database holds: one appended in a savepoint that was rolled back is not.
  let committed: string | undefined;
  try {
    committed = await ctx.state.auditHashAt(head.seq);
  } catch {
    return;
  }
  if (committed !== head.hash) return;
  const text = `${JSON.stringify({ seq: head.seq, hash: head.hash, mac: headCopyMac(key, head) })}\n`;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    // fsync before the rename: a missing or torn copy reads as a break (see readHeadCopy), so a crash
    // must leave the previous copy (lagging, which is accepted), never an empty file.
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch {
    rmSync(tmp, { force: true });
  }
}

function checkInput(ctx: AppendContext, input: AuditAppendInput, options: AuditAppendOptions): CheckedInput {
  // Only a well-formed action is echoed: nothing the caller passed unchecked goes into the message.
  const actionOk = AuditActionSchema.safeParse(input.action).success;
  const problem = (what: string) =>
    new KeywardError(
      "AUDIT_INVALID",
      `Audit entry ${actionOk ? input.action : "(unnamed)"} refused: ${what}.`,
      {
        hint: "This is a bug in the caller: audit entries carry identifiers and outcomes, never secrets.",
      },
    );
  if (!actionOk) throw problem("the action must look like area.verb");
  if (!TextSchema.safeParse(input.actor).success) throw problem("the actor must be 1-512 characters");
  if (!TextSchema.safeParse(input.subject).success) throw problem("the subject must be 1-512 characters");
  let text: string;
  try {
    const details = input.details ?? {};
    if (typeof details !== "object" || details === null || Array.isArray(details))
      throw new Error("is not an object");
    text = canonicalJson(details, "details");
  } catch (error) {
    throw problem(error instanceof Error ? error.message : "details are not plain JSON");
  }
  // Compared as JSON text, so a secret with quotes or backslashes is found in its escaped form too.
  // Values shorter than 4 characters are skipped (as redact() does): they would match by chance.
  const haystacks = [text, JSON.stringify(input.actor), JSON.stringify(input.subject)];
  for (const s of [...(options.secrets ?? []), ...(ctx.secrets?.() ?? [])]) {
    const value = s instanceof Secret ? s.reveal() : s;
    if (value === undefined || value.length < 4) continue;
    const needle = JSON.stringify(value).slice(1, -1);
    if (haystacks.some((h) => h.includes(needle))) throw problem("it contains a secret value");
  }
  return {
    action: input.action,
    actor: input.actor,
    subject: input.subject,
    details: JSON.parse(text) as { [key: string]: JsonValue },
  };
}

export const TAMPERED_HINT =
  "Run `keyward audit verify` and investigate: the log may have been tampered with. Keyward refuses destructive actions until the audit log is sound.";

/** AUDIT_UNAVAILABLE: the log cannot be written (or read) as it must be. */
export const unavailable = (message: string, hint?: string, cause?: unknown) =>
  new KeywardError("AUDIT_UNAVAILABLE", message, {
    hint:
      hint ??
      "The audit log must be writable: Keyward refuses destructive actions (revoke, rotate) it cannot record first. Restore write permission on the state database, free disk space, or retry when no other keyward process holds it.",
    ...(cause === undefined ? {} : { cause }),
  });
