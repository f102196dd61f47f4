/**
 * `keyward key create`: core's createKey (use-cases/key-create.ts) with this terminal's progress lines
 * (stderr), second-factor prompt and Ctrl-C; the report on stdout (`--json`: never the secret).
 */
import {
  type CreateKeyInput,
  type CreateKeyShell,
  createdKeySecret,
  createdWords,
  createKey,
  describeTarget,
  planKeyCreate,
  type RotationHooks,
  type RotationReport,
  TARGET_OPTIONS,
} from "@keyward/core";
import { withHome } from "../context.js";
import { readEnv } from "../env.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { err, field, out, paragraph, printJson } from "../output.js";
import type { GlobalOptions } from "../program.js";
import { eventPrinter, nextCommand } from "../rotation-io.js";
import { secondFactorOptions } from "../second-factor.js";

interface KeyCreateOptions {
  sub?: string;
  label: string;
  perm: string[];
  /** Commander: the --ip list, or false for --no-ip, or true when neither was given. */
  ip?: string[] | boolean;
  deliver?: string[];
  allowWithdraw?: boolean;
  showSecretOnce?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** The flags named after a target option (`--recipient` → recipient), as given. */
function targetOptionsOf(opts: KeyCreateOptions): NonNullable<CreateKeyShell["targetOptions"]> {
  const given = opts as unknown as Record<string, unknown>;
  return Object.fromEntries(
    TARGET_OPTIONS.flatMap((o) => (typeof given[o.name] === "string" ? [[o.name, given[o.name]]] : [])),
  ) as NonNullable<CreateKeyShell["targetOptions"]>;
}

export async function keyCreate(
  globals: GlobalOptions,
  accountName: string,
  opts: KeyCreateOptions,
): Promise<ExitCode> {
  if (opts.showSecretOnce && (opts.json || !process.stdout.isTTY)) {
    throw usageError(
      "--show-secret-once: the secret is shown only on a terminal, never into a file, a pipe or --json",
      "Run it on a terminal without --json, or deliver the key with --deliver instead.",
    );
  }
  const input = {
    account: accountName,
    subAccount: opts.sub ?? null,
    label: opts.label,
    permissions: opts.perm as CreateKeyInput["permissions"],
    ip: Array.isArray(opts.ip) ? opts.ip : [],
    noIp: opts.ip === false,
    allowWithdraw: opts.allowWithdraw === true,
    deliver: opts.deliver ?? [],
    showSecretOnce: opts.showSecretOnce === true,
  };
  // The target kinds' own options (e.g. an age recipient) are the command's flags of the same names,
  // added from core's list of them (program.ts), as `rotate plan` has them.
  const shell = { cwd: process.cwd(), allowPrograms: true, targetOptions: targetOptionsOf(opts) };
  return withHome(globals, async (home) => {
    if (opts.dryRun) {
      const { plan, warnings } = await planKeyCreate(home, input, shell, { dryRun: true });
      if (opts.json) printJson({ dryRun: true, plan });
      else {
        const slot = plan.slots[0];
        out(
          `Would create "${field(opts.label)}" in ${field(accountName)}${opts.sub ? `/${field(opts.sub)}` : ""}: ` +
            `${slot?.new.permissions.join(",")}, IPs ${slot?.old.ip.join(",") || "none"}`,
        );
        for (const target of slot?.deliver ?? []) out(`  deliver to ${describeTarget(target)}`);
        for (const w of warnings) out(`  warning: ${w}`);
        out("Nothing was created (--dry-run).");
      }
      return EXIT.OK;
    }
    const crashAt = readEnv().KEYWARD_TEST_CRASH_AFTER;
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once("SIGINT", onSigint);
    const printer = eventPrinter(Boolean(opts.json));
    const hooks: RotationHooks = {
      onEvent: (e) => {
        if (e.type === "ask-credentials" || e.type === "credentials-refused") return;
        printer.onEvent(e);
      },
      crashPoint: (point) => {
        if (crashAt !== undefined && point === crashAt) process.kill(process.pid, "SIGKILL");
      },
      env: process.env,
      signal: abort.signal,
      ...secondFactorOptions(home),
    };
    try {
      const result = await createKey(home, input, shell, hooks);
      for (const w of result.warnings) err(`warning: ${w}`);
      if (result.resumed) err(`Continuing the unfinished create ${result.plan.id} of "${opts.label}".`);
      else err(`Creating "${opts.label}" (${result.plan.id}).`);
      if (!result.session) {
        err(`key create ${result.plan.id} already ended; see \`keyward rotate status ${result.plan.id}\`.`);
        return EXIT.OK;
      }
      const report = await result.session.done;
      const slot = report.slots[0];
      const code = exitCodeOf(report);
      if (opts.json) {
        printJson({
          runId: report.runId,
          outcome: slot?.outcome,
          step: slot?.step,
          keyId: slot?.newKeyId ?? null,
          label: slot?.newLabel,
          delivered: result.plan.slots[0]?.deliver.length ?? 0,
          evidence: slot?.evidence ?? [],
          ...(slot?.error ? { error: slot.error } : {}),
        });
        const next = nextCommand(report);
        if (next) err(next);
        return code;
      }
      if (code === EXIT.OK) {
        // Wrapped at the table width: "verified by the exchange's listing (…)" makes it long.
        out(
          paragraph(
            `Created ${slot?.newKeyId} ("${field(slot?.newLabel ?? "")}"): ${createdWords(slot?.evidence ?? [])}.`,
          ),
        );
        for (const target of result.plan.slots[0]?.deliver ?? [])
          out(`  delivered to ${describeTarget(target)}`);
        if (opts.showSecretOnce) {
          const creds = await createdKeySecret(home, report);
          if (creds) {
            // Once, to the terminal only (checked above): never logged, never in JSON.
            process.stdout.write(
              `\nShown once, not stored anywhere else by this command:\n  apiKey: ${creds.apiKey}\n  secret: ${creds.secret.reveal()}\n${creds.passphrase ? `  passphrase: ${creds.passphrase.reveal()}\n` : ""}`,
            );
          }
        }
      } else {
        out(`key create ${report.runId} stopped at ${slot?.step}: ${slot?.error?.message ?? "interrupted"}`);
        if (slot?.error?.hint) out(`  ${slot.error.hint}`);
        out(`Continue with the same command, or \`keyward rotate resume ${report.runId}\`.`);
      }
      return code;
    } finally {
      process.off("SIGINT", onSigint);
    }
  });
}

function exitCodeOf(report: RotationReport): ExitCode {
  const s = report.summary;
  if (s.failed > 0 || s.active > 0) return EXIT.FAILED;
  if (s.waiting > 0) return EXIT.AWAITING_MANUAL;
  return EXIT.OK;
}
