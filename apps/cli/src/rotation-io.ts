/**
 * What `keyward rotate` shows and asks: the plan table, the steps a person takes (create a key, revoke a
 * key), the run's progress and report, and the new credentials of assisted rotations (hidden prompt, or
 * JSON on stdin). Secrets are read, handed to the engine, and never printed.
 */
import {
  apiDuration,
  type CreateRequest,
  type CredentialsInput,
  createdKeyText,
  describeTarget,
  exchangeProfile,
  howWord,
  isCreateStandIn,
  keyWhere,
  type ManualSteps,
  type RotationEvent,
  type RotationPlan,
  type RotationReport,
  type RunRow,
  type SlotRow,
  shortKey,
  slotKeyText,
  ROTATION_OUTCOME_WORDS as W,
} from "@keyward/core";
import { usageError } from "./exit.js";
import { credentialsFromPrompt, isInteractive, promptText, readStdin } from "./input.js";
import { err, field, out, paragraph, table } from "./output.js";

export function printPlan(plan: RotationPlan, print: (s: string) => void = out): void {
  if (plan.slots.length > 0) {
    print(
      table(
        // The new label (long: it carries the run id) is under Delivery, so a row fits 120 columns.
        ["#", "HOW", "ACCOUNT", "KEY", "PERMISSIONS", "IP"],
        plan.slots.map((s) => [
          String(s.slot),
          s.reset ? "RESET" : howWord(s.method === "api" ? "api" : "manual"),
          keyWhere(s.old),
          slotKeyText(s.old.label, s.old.apiKey),
          s.new.permissions.join(","),
          s.new.ip === null ? "as before" : s.new.ip.join(",") || "any",
        ]),
        { fit: true },
      ),
    );
    print("\nDelivery (the new key's label: where its secret goes):");
    for (const s of plan.slots) {
      print(`  ${s.slot}. ${field(s.new.label)}:`);
      print(`     ${s.deliver.map(describeTarget).join("\n     ") || "(Keyward itself only)"}`);
      for (const note of s.notes) print(`     ${paragraph(`note: ${note}`, 11)}`);
    }
  }
  if (plan.refused.length > 0) {
    print("\nRefused:");
    for (const r of plan.refused)
      print(
        `  ${paragraph(`${r.exchange} ${r.account} "${field(r.label)}" (${shortKey(r.apiKey)}): ${field(r.reason)}`, 4)}`,
      );
  }
  const reset = plan.slots.filter((s) => s.reset).length;
  if (reset > 0) {
    print(
      `\n${paragraph(`IN-PLACE RESET of ${reset} key(s): each keeps its id and gets a new secret; its OLD SECRET DIES THE MOMENT THE NEW ONE EXISTS. There is no grace period: whatever uses it fails until the delivery lands. Applying needs --reset-in-place to accept this.`)}`,
    );
  }
  const byApi = plan.slots.filter((s) => s.method === "api").length;
  print(
    `\n${paragraph(
      `Rotation ${plan.id}: ${plan.slots.length} key(s), ${byApi} by API, ${plan.slots.length - byApi} with a person; ` +
        `${plan.refused.length} refused. The API part takes ${apiDuration(plan.estimatedApiMs)} at the exchanges' write limits` +
        // A reset has no grace period (its old secret dies at once): only new keys wait for one.
        `${reset < plan.slots.length ? ", plus the grace period" : ""}.`,
    )}`,
  );
}

export function printCreateRequest(slot: SlotRow, r: CreateRequest, print: (s: string) => void): void {
  print(
    `\n[slot ${slot.slot}] ${r.exchange} ${r.account}: create a new key to replace "${field(r.replaces.label)}" (${r.replaces.apiKeyStart}…${r.replaces.apiKeyEnd})`,
  );
  print(`    label:       ${field(r.label)}`);
  print(`    permissions: ${r.permissionsText} — exactly these, nothing more`);
  print(
    `    IPs:         ${r.ip === null ? "the same whitelist as the old key (the exchange does not report it)" : r.ip.join(", ") || "none (no binding), as the old key"}`,
  );
  print(`    on:          ${r.steps.url}`);
  for (const [i, step] of r.steps.steps.entries()) print(`    ${paragraph(`${i + 1}. ${field(step)}`, 7)}`);
  print(
    // A file redirect, never `echo '{…}' |`: a secret typed into a shell stays in its history.
    `  Then give Keyward the new key at the prompt, or from a file only you can read (mode 0600, deleted ` +
      `afterwards) holding {"slot":${slot.slot},"apiKey":"…","secret":"…"${r.needsPassphrase ? ',"passphrase":"…"' : ""}}: ` +
      "keyward rotate resume --credentials-stdin < new-key.json",
  );
}

export function printRevokeSteps(slot: SlotRow, steps: ManualSteps, print: (s: string) => void): void {
  print(
    `\n[slot ${slot.slot}] the new key is in place; now revoke the OLD key "${field(steps.recognise.label)}" (${steps.recognise.apiKeyStart}…${steps.recognise.apiKeyEnd}) on ${steps.url}:`,
  );
  for (const [i, step] of steps.steps.entries()) print(`    ${paragraph(`${i + 1}. ${field(step)}`, 7)}`);
  print("  Keyward probes the old key until it is dead.");
}

/** A slot as a person recognises it in a progress line. */
const slotName = (slot: SlotRow) =>
  `[slot ${slot.slot}] ${field(isCreateStandIn(slot.oldApiKey) ? createdKeyText(slot.oldLabel) : slot.oldLabel || "-")} (${slot.account})`;

/** The progress line for a step just journaled, or undefined for steps that say nothing new. */
function stepLine(slot: SlotRow, previous: SlotRow | undefined): string | undefined {
  const name = slotName(slot);
  const last = slot.evidence.at(-1) ?? "";
  switch (slot.step) {
    case "creating":
      return `${name}: creating the new key "${field(slot.newLabel)}"`;
    case "resetting":
      return `${name}: resetting the key's secret in place (the old secret dies now)`;
    case "created":
      return slot.newKeyId === slot.oldKeyId
        ? `${name}: new secret for the same key (${shortKey(slot.oldApiKey)}); delivering it…`
        : `${name}: new key created (${slot.newApiKey ? shortKey(slot.newApiKey) : "?"})`;
    case "verified":
      return `${name}: ${last || "new key verified"}`;
    case "delivering": {
      const before = previous?.delivered.length ?? 0;
      const added = slot.delivered.slice(before);
      return added.length > 0 ? `${name}: delivered to ${added.join(", ")}` : undefined;
    }
    case "delivered":
      return `${name}: delivered to every target`;
    case "checked":
      return `${name}: ${last || "checked"}`;
    case "revoked":
      return `${name}: old key revoked (${shortKey(slot.oldApiKey)}); proving it dead…`;
    case "dead":
      return `${name}: old key proven dead: ${last}`;
    case "finished":
      return slot.newKeyId === slot.oldKeyId ? `${name}: finished: ${last}` : `${name}: finished`;
    default:
      return undefined;
  }
}

/**
 * What the run shows while it works: a line per slot step (new key created, verified, delivered, old key
 * revoked, proven dead) on stderr, so stdout holds only the report (exactly the JSON with --json); with
 * --json and no terminal (a script) no progress lines. The person's steps always (on stderr with --json).
 */
export function eventPrinter(json: boolean): {
  onEvent(e: RotationEvent): void;
  onRefused(slot: number, reason: string): void;
} {
  const human = json ? err : out;
  const progress = !json || process.stderr.isTTY ? err : undefined;
  const previous = new Map<number, SlotRow>();
  return {
    onEvent(e) {
      switch (e.type) {
        case "step": {
          const line = stepLine(e.slot, previous.get(e.slot.slot));
          previous.set(e.slot.slot, e.slot);
          if (line) progress?.(line);
          break;
        }
        case "create-steps":
          printCreateRequest(e.slot, e.request, human);
          break;
        case "revoke-steps":
          printRevokeSteps(e.slot, e.steps, human);
          break;
        case "refused":
          this.onRefused(e.slot.slot, e.reason);
          break;
        case "waiting":
          progress?.(`${slotName(e.slot)}: waiting: ${e.reason}`);
          break;
        case "failed":
          progress?.(`${slotName(e.slot)}: stopped at ${e.slot.step}: ${e.slot.error?.message}`);
          break;
        case "grace":
          progress?.(
            `${slotName(e.slot)}: grace period for bots to reload until ${new Date(e.until).toLocaleTimeString()}`,
          );
          break;
      }
    },
    /** Credentials refused, by the engine (a probe) or before it (the passphrase rule). */
    onRefused(slot, reason) {
      human(`  refused the credentials for slot ${slot}: ${reason}`);
    },
  };
}

/** The command that carries a run on (or undoes it), when something is left to do. */
export function nextCommand(report: RotationReport): string | undefined {
  const m = report.summary;
  if (m.failed === 0 && m.waiting === 0 && m.active === 0) return undefined;
  return `Continue with \`keyward rotate resume ${report.runId}\`; undo with \`keyward rotate abort ${report.runId}\`.`;
}

export function printReport(report: RotationReport): void {
  out(
    `\n${table(
      ["#", "OUTCOME", "STEP", "KEY", "NEW LABEL", "DETAIL"],
      report.slots.map((s) => [
        String(s.slot),
        s.outcome,
        s.step,
        s.create ? createdKeyText(s.label) : s.label || "-",
        s.newLabel,
        s.error ? `${s.error.message}${s.error.hint ? ` (${s.error.hint})` : ""}` : (s.evidence.at(-1) ?? ""),
      ]),
      { fit: true },
    )}`,
  );
  const m = report.summary;
  out(
    `\nrotation ${report.runId}: ${W.finished} ${m.finished}, ${W.waiting} ${m.waiting}, ${W.failed} ${m.failed}, ${W.aborted} ${m.aborted}` +
      `${m.active ? `, interrupted ${m.active}` : ""} of ${m.total}`,
  );
  const next = nextCommand(report);
  if (next) out(next);
}

export function printStatus(runs: { run: RunRow; slots: SlotRow[] }[]): void {
  if (runs.length === 0) {
    out("No rotations yet.");
    return;
  }
  for (const { run, slots } of runs) {
    out(`\n${run.id}  ${run.state}  created ${run.createdAt}  (${slots.length} key(s))`);
    out(
      table(
        ["#", "STEP", "STATE", "KEY", "NEW KEY", "DELIVERED", "NOTE"],
        slots.map((s) => [
          String(s.slot),
          s.step,
          s.error
            ? s.error.waiting
              ? "waiting"
              : "failed"
            : s.step === "finished"
              ? "done"
              : s.step === "aborted"
                ? "aborted"
                : "-",
          slotKeyText(s.oldLabel, s.oldApiKey),
          s.newApiKey ? `${s.newLabel} (${shortKey(s.newApiKey)})` : s.newLabel,
          String(s.delivered.length),
          s.error?.message ?? "",
        ]),
        { fit: true },
      ),
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// New credentials for assisted rotations

interface StdinEntry extends CredentialsInput {
  slot?: number;
  for?: string;
}

/**
 * Credentials from stdin JSON, read once: one object `{apiKey, secret, passphrase?}` (for the only key
 * waiting), or a list of them each naming its key with `"slot": N` or `"for": "<old key id, API key or
 * label>"`. Each entry is used once.
 */
export function stdinCredentials(): (
  r: CreateRequest,
  slot: SlotRow,
) => Promise<CredentialsInput | undefined> {
  let entries: Promise<StdinEntry[]> | undefined;
  const used = new Set<StdinEntry>();
  const load = async (): Promise<StdinEntry[]> => {
    const text = await readStdin();
    if (text.trim() === "") return [];
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // Never echo the input: it holds secrets.
      throw usageError("stdin: not valid JSON", 'Send {"apiKey","secret"} or a list of {"slot",…} objects.');
    }
    const list = Array.isArray(json) ? json : [json];
    if (!list.every((e) => typeof e === "object" && e !== null)) {
      throw usageError("stdin: expected a JSON object or a list of objects");
    }
    return list as StdinEntry[];
  };
  return async (_request, slot) => {
    entries ??= load();
    const all = await entries;
    const matches = (e: StdinEntry) =>
      e.slot === slot.slot ||
      (e.for !== undefined && [slot.oldKeyId, slot.oldApiKey, slot.oldLabel].includes(e.for));
    const entry =
      all.find((e) => !used.has(e) && matches(e)) ??
      (all.length === 1 &&
      all[0]?.slot === undefined &&
      all[0]?.for === undefined &&
      !used.has(all[0] as StdinEntry)
        ? all[0]
        : undefined);
    if (!entry) return undefined;
    used.add(entry);
    const { slot: _slot, for: _for, ...credentials } = entry;
    return credentials;
  };
}

/** Credentials from hidden prompts, one key at a time; an empty API key means "not now". */
export function promptCredentials(): (
  r: CreateRequest,
  slot: SlotRow,
) => Promise<CredentialsInput | undefined> {
  let queue: Promise<unknown> = Promise.resolve();
  return (request, slot) => {
    const ask = queue.then(async () => {
      if (!isInteractive()) return undefined;
      const go = await promptText(
        `Slot ${slot.slot}: press Enter once the key "${field(request.label)}" exists (type "later" to stop waiting)`,
      );
      if (go.trim().toLowerCase() === "later") return undefined;
      return credentialsFromPrompt(exchangeProfile(request.exchange));
    });
    queue = ask.catch(() => {});
    return ask;
  };
}
