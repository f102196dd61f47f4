/** `keyward revoke`: plan, confirm, revoke in bulk, guide the manual part, prove every key dead. */
import {
  apiDuration,
  confirmsPlan,
  howWord,
  isEmptySelector,
  type KeywardHome,
  type LiveInventory,
  PROVEN_WORDS,
  planLiveRevoke,
  REVOKE_OUTCOME_WORDS,
  type RevokeEvent,
  type RevokeKeyResult,
  type RevokePlan,
  type RevokeReport,
  revokeSummaryWords,
  type Selector,
  shortKey,
  startRevoke,
  verifiedWord,
  WAITING_WORDS,
} from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { isInteractive, parseDuration, promptText } from "../input.js";
import { err, field, out, paragraph, printJson, table } from "../output.js";
import type { GlobalOptions } from "../program.js";
import { secondFactorOptions } from "../second-factor.js";
import { listingProgress, parseSelector, type SelectorFlags, staleNote } from "../selection.js";

interface RevokeOptions extends SelectorFlags {
  dryRun?: boolean;
  yes?: boolean;
  wait: boolean;
  manualTimeout: string;
  json?: boolean;
  /** `--disable-first` / `--no-disable-first`; unset when neither is given (then on). */
  disableFirst?: boolean;
}

/** Why a plan item needs a second look: Keyward's own key, or a key known only from an old inventory. */
const noteOf = (item: RevokePlan["items"][number]): string =>
  [
    item.accountKey ? "Keyward's own key: last" : "",
    item.disableFirst ? "disabled first" : "",
    item.key.state === "disabled" ? "already disabled" : "",
    item.key.stale ? `STALE since ${item.key.stale.fetchedAt}` : "",
  ]
    .filter(Boolean)
    .join("; ");

function printWarnings(plan: RevokePlan, print: (text: string) => void): void {
  // Prose wraps at the table width (120 columns off a terminal), as the tables above it do.
  for (const warning of plan.warnings) print(`\n${paragraph(`WARNING: ${warning}`)}`);
  printHeldBack(plan, print);
}

/** Selected keys the plan leaves out (an account's own key revoked by API, not named), and how to add them. */
function printHeldBack(plan: RevokePlan, print: (text: string) => void): void {
  for (const { key, reason } of plan.heldBack)
    print(`\n${paragraph(field(reason))}\n  After this run, on its own: keyward revoke ${field(key.id)}`);
}

const heldBackJson = (plan: RevokePlan) =>
  plan.heldBack.map(({ key, reason }) => ({
    id: key.id,
    exchange: key.exchange,
    account: key.account,
    label: key.label,
    reason,
  }));

function printPlan(plan: RevokePlan): void {
  out(
    table(
      ["#", "HOW", "EXCHANGE", "ACCOUNT", "SUB-ACCOUNT", "LABEL", "API KEY", "PERMISSIONS", "NOTE"],
      plan.items.map((item, i) => [
        String(i + 1),
        howWord(item.method),
        item.key.exchange,
        item.key.account,
        item.key.subAccount ?? (item.key.location === "master" ? "(master)" : "-"),
        item.key.label || "-",
        shortKey(item.key.apiKey),
        item.key.permissions.join(","),
        noteOf(item),
      ]),
      { fit: true },
    ),
  );
  out(
    `\n${paragraph(
      `${plan.items.length} key(s): ${plan.byApi} by API, ${plan.byPerson} by a person on the exchange's site. ` +
        `Keys that can withdraw go first. The API part takes ${apiDuration(plan.estimatedApiMs)} at the exchanges' rate limits` +
        `${plan.accounts.length > 1 ? ` (${plan.accounts.length} accounts in parallel)` : ""}, plus verification.`,
    )}`,
  );
  const line = disableFirstLine(plan);
  if (line) out(paragraph(line));
  printWarnings(plan, out);
}

/** What the plan does with the exchanges' kill switches, when some selected key has one. */
function disableFirstLine(plan: RevokePlan): string | undefined {
  const { available, planned } = plan.disableFirst;
  if (available === 0) return undefined;
  return planned > 0
    ? `${planned} key(s) are disabled first, all of an account's before any is removed (the exchange's kill switch: it takes effect at once and can be undone), then removed; Keyward's own key is never disabled, it is removed last. --no-disable-first removes them directly.`
    : `${available} key(s) could be disabled first (the exchange's kill switch), but --no-disable-first removes them directly.`;
}

const planJson = (plan: RevokePlan) => ({
  dryRun: true,
  keys: plan.items.map((i, n) => ({
    order: n + 1,
    id: i.key.id,
    method: i.method,
    label: i.key.label,
    permissions: i.key.permissions,
    ...(i.accountKey ? { accountKey: true } : {}),
    ...(i.disableFirst ? { disableFirst: true } : {}),
    ...(i.key.state === "disabled" ? { state: i.key.state } : {}),
    ...(i.key.stale ? { stale: i.key.stale } : {}),
  })),
  disableFirst: plan.disableFirst,
  byApi: plan.byApi,
  byPerson: plan.byPerson,
  estimatedApiMs: plan.estimatedApiMs,
  warnings: plan.warnings,
  heldBack: heldBackJson(plan),
});

/** A key as a person recognises it in a progress line: label, where it lives, the API key's ends. */
const who = (r: RevokeKeyResult) =>
  `${field(r.label || "-")} (${r.exchange} ${r.account}${r.subAccount ? `/${field(r.subAccount)}` : ""}, ${shortKey(r.apiKey)})`;

/**
 * A line per key as it is revoked and proven dead (or not), so a long run never looks stalled. The
 * lines go to stderr: stdout holds only the report (exactly the JSON with --json).
 */
function progressLine(e: RevokeEvent): string | undefined {
  switch (e.type) {
    case "started":
      return `Revoking ${e.total} key(s): ${e.byApi} by API, ${e.byPerson} by a person on the exchange's site.`;
    case "disabled":
      return `  disabled (kill switch): ${who(e.result)}; removing once the account's others are disabled…`;
    case "revoked":
      return `  ${e.result.outcome === "already-revoked" ? REVOKE_OUTCOME_WORDS["already-revoked"] : e.result.disabledFirst ? "removed by API" : "revoked by API"}: ${who(e.result)}; verifying…`;
    case "failed":
      return e.result.outcome === "disabled"
        ? `  DISABLED, NOT REMOVED: ${who(e.result)}: ${e.result.error?.message ?? "unknown error"}`
        : `  FAILED: ${who(e.result)}: ${e.result.error?.message ?? "unknown error"}`;
    case "verified":
      return e.result.verified
        ? `  ${PROVEN_WORDS.yes}: ${who(e.result)}`
        : `  ${PROVEN_WORDS.no}: ${who(e.result)}: ${e.result.evidence.join("; ")}`;
    default:
      return undefined;
  }
}

/** What to run next for keys that are not (yet) proven dead; the manual ones can be checked again. */
function nextSteps(report: RevokeReport, print: (s: string) => void): void {
  const waiting = report.results.filter((r) => r.outcome === "awaiting-manual");
  const disabled = report.results.filter((r) => r.outcome === "disabled");
  if (disabled.length > 0) {
    // Listed as disabled by the exchange: a new run plans them (no switch needed) and removes them.
    print(
      `\n${paragraph(
        `${disabled.length} key(s) are DISABLED but NOT removed: ${disabled.map(who).join(", ")}. They fail authentication now, ` +
          "but anyone who can manage the account's keys can enable them again. To remove them, run:",
      )}\n  keyward revoke ${disabled.map((r) => r.id).join(" ")} --yes`,
    );
  }
  const unproven = report.results.filter(
    (r) => (r.outcome === "revoked" || r.outcome === "already-revoked") && !r.verified,
  );
  if (unproven.length > 0) {
    print(
      `\n${paragraph(
        `${unproven.length} key(s) the exchange said it revoked are ${PROVEN_WORDS.no}: ${unproven.map(who).join(", ")}. ` +
          "Treat them as alive: revoke them on the exchange's web site and check that they no longer work.",
      )}`,
    );
  }
  if (waiting.length > 0) {
    const command = `keyward revoke ${waiting.map((r) => r.id).join(" ")} --yes`;
    // Run again, it lists the keys live, shows the steps again and probes each key until it is dead.
    print(
      `\n${paragraph(`${waiting.length} key(s) are still ${WAITING_WORDS}, so not proven dead. To show their steps again and wait until they are, run:`)}\n  ${command}`,
    );
  }
}

function exitCodeOf(report: RevokeReport): ExitCode {
  const s = report.summary;
  if (s.failed > 0 || s.unverified > 0 || (s.disabled ?? 0) > 0) return EXIT.FAILED;
  if (s.awaitingManual > 0) return EXIT.AWAITING_MANUAL;
  return EXIT.OK;
}

export async function revoke(globals: GlobalOptions, ids: string[], opts: RevokeOptions): Promise<ExitCode> {
  const selector = parseSelector(ids, opts);
  if (isEmptySelector(selector)) {
    throw usageError(
      "nothing selected",
      "Name key ids, use --exchange/--account/--label/--risky, or say --all.",
    );
  }
  const timeoutMs = revokeFlags(opts);
  return withHome(globals, (home) => revokeSelected(home, selector, opts, timeoutMs));
}

/** The flags `keyward revoke` and `keyward scan --revoke` share (the plan, confirmation, the wait). */
export type RevokeFlowOptions = Pick<
  RevokeOptions,
  "dryRun" | "yes" | "wait" | "manualTimeout" | "json" | "disableFirst"
>;

/**
 * Checks the revoke flags before anything is read: returns the manual timeout; refuses (exit 2) to revoke
 * without --yes where no terminal can confirm.
 */
export function revokeFlags(opts: RevokeFlowOptions): number {
  const timeoutMs = parseDuration(opts.manualTimeout, "--manual-timeout");
  if (!opts.dryRun && !opts.yes && !isInteractive()) {
    throw usageError(
      "refusing to revoke without confirmation: no terminal to ask on",
      "Pass --yes to confirm in scripts.",
    );
  }
  return timeoutMs;
}

export interface RevokeFlowExtras {
  /** The live listing to select from (default: list the accounts the selector concerns now). */
  list?: () => Promise<LiveInventory>;
  /** What led to the revoke, recorded in `revoke.requested` (scan --revoke: the scan's audit seq). */
  cause?: { scan: number };
}

/**
 * The revoke workflow both `keyward revoke` and `keyward scan --revoke` run: plan live, print the plan
 * and ask for confirmation (or --yes), revoke at the rate limits, guide the manual steps, prove every
 * key dead, report, and return the exit code.
 */
export async function revokeSelected(
  home: KeywardHome,
  selector: Selector,
  opts: RevokeFlowOptions,
  timeoutMs: number,
  extras: RevokeFlowExtras = {},
): Promise<ExitCode> {
  // Refused before any exchange is touched when the audit log cannot be written (unless a dry run).
  // Adapters that ask this terminal for a second-factor code when an account has no seed in the vault.
  const secondFactor = secondFactorOptions(home);
  const { plan, inventory } = await planLiveRevoke(home, {
    selector,
    ...(extras.list ? { list: extras.list } : {}),
    adapters: (names) => home.adapters(names, secondFactor),
    refuseUnauditable: !opts.dryRun,
    // Neither flag given: the default, on (commander leaves it unset when both spellings are defined).
    disableFirst: opts.disableFirst !== false,
    onEvent: listingProgress(!opts.json, (listed) => {
      for (const a of listed.accounts.filter((x) => x.error)) {
        err(`keyward: ${a.account}: could not list keys: ${a.error?.message}`);
        err(staleNote(a));
      }
    }),
  });
  if (plan.items.length === 0) {
    if (opts.json)
      printJson(
        opts.dryRun ? planJson(plan) : { results: [], summary: { total: 0 }, heldBack: heldBackJson(plan) },
      );
    else {
      out(plan.heldBack.length > 0 ? "Nothing else to revoke." : "No keys match; nothing to revoke.");
      printHeldBack(plan, out);
    }
    return inventory.accounts.some((a) => a.error) ? EXIT.FAILED : EXIT.OK;
  }
  if (opts.dryRun) {
    if (opts.json) printJson(planJson(plan));
    else printPlan(plan);
    return EXIT.OK;
  }
  if (opts.yes) printWarnings(plan, opts.json ? err : out);
  else {
    printPlan(plan);
    const typed = await promptText(`Type ${plan.items.length} to revoke these ${plan.items.length} key(s)`);
    if (!confirmsPlan(typed, plan.items.length)) throw usageError("not confirmed; nothing was revoked");
  }

  const human = opts.json ? err : out;
  // Progress lines on a terminal, and without --json; a script reading --json gets a quiet stderr.
  const progress = !opts.json || process.stderr.isTTY ? err : undefined;
  let checklist = 0;
  const session = await startRevoke(home, plan, {
    // The adapters that listed the keys (their rate-limit windows already hold those requests).
    adapterFor: async (name) => inventory.adapters.get(name) ?? home.adapterFor(name, secondFactor),
    manual: { wait: opts.wait, timeoutMs, pollMs: 2000 },
    ...(extras.cause ? { cause: extras.cause } : {}),
    onEvent: (e) => {
      if (e.type === "finished" || e.type === "error" || e.type === "stopping" || e.type === "verify-now")
        return;
      const line = progress && progressLine(e);
      if (line) progress?.(line);
      if (e.type === "manual-steps") {
        checklist++;
        human(
          `\n[${checklist}] ${e.steps.exchange}: revoke "${field(e.steps.recognise.label)}" (${e.steps.recognise.apiKeyStart}…${e.steps.recognise.apiKeyEnd}) on ${e.steps.url}`,
        );
        for (const [i, step] of e.steps.steps.entries())
          human(`    ${paragraph(`${i + 1}. ${field(step)}`, 7)}`);
      }
      // The answer to the person's step, on stderr like the wait it ends (stdout holds the report).
      if (e.type === "manual-done") err(`  proven dead after the manual step: ${who(e.result)}`);
      if (e.type === "manual-waiting") {
        human(
          `\nWaiting for ${e.pending} manual revocation(s); probing until they are dead (until ${new Date(e.deadline).toLocaleTimeString()}). Ctrl-C stops waiting.`,
        );
      }
    },
  });
  const onSigint = () => session.stopWaiting();
  process.once("SIGINT", onSigint);
  try {
    const report = await session.finished();
    if (opts.json) printJson({ ...report, warnings: plan.warnings, heldBack: heldBackJson(plan) });
    else {
      out(
        `\n${table(
          ["OUTCOME", "VERIFIED", "EXCHANGE", "ACCOUNT", "LABEL", "API KEY", "DETAIL"],
          report.results.map((r) => [
            REVOKE_OUTCOME_WORDS[r.outcome],
            // Only a revoked key has a proof to show; one waiting for a person or failed is not revoked.
            r.outcome === "revoked" || r.outcome === "already-revoked" ? verifiedWord(r) : "-",
            r.exchange,
            r.account,
            r.label || "-",
            shortKey(r.apiKey),
            r.error
              ? `${r.error.message}${r.error.hint ? ` (${r.error.hint})` : ""}`
              : (r.evidence.at(-1) ?? ""),
          ]),
          { fit: true },
        )}`,
      );
      const s = report.summary;
      out(`\n${revokeSummaryWords(s)}`);
    }
    nextSteps(report, human);
    return exitCodeOf(report);
  } finally {
    process.off("SIGINT", onSigint);
  }
}
