/**
 * `keyward scan`: find leaked exchange keys in files, folders and git history (core's `scanLeaks`),
 * print them (a table, JSON or SARIF 2.1.0), and with --revoke hand the live known ones to the revoke workflow.
 */
import { type ScanProgress, scanLeaks, toSarif } from "@keyward/core";
import { withHome } from "../context.js";
import { EXIT, type ExitCode, usageError } from "../exit.js";
import { err, out, printJson, terminalSafe } from "../output.js";
import type { GlobalOptions } from "../program.js";
import { listingProgress } from "../selection.js";
import { KEYWARD_VERSION } from "../version.js";
import { type RevokeFlowOptions, revokeFlags } from "./revoke.js";
import { revokeFound } from "./scan-revoke.js";
import { findingsTable, nothingFound, summaryLines } from "./scan-text.js";

export interface ScanOptions extends RevokeFlowOptions {
  git?: boolean;
  sarif?: boolean;
  revoke?: boolean;
  /** With --revoke: also keys found by their id alone (no secret with it). */
  revokeIdsAlone?: boolean;
  verify?: boolean;
  offline?: boolean;
  /** `--no-secrets` sets it false. */
  secrets: boolean;
  /** `--no-vault` sets it false: scan without opening the vault, on purpose. */
  vault: boolean;
  minConfidence: "high" | "medium" | "low";
  maxFileSize: string;
  binary?: boolean;
  exclude?: string[];
}

const SIZE_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** "64M", "512K", "1G", "100000" (bytes). */
export function parseSize(text: string): number {
  const match = /^(\d+)\s*([KMG]?)B?$/i.exec(text.trim());
  const bytes = match ? Number(match[1]) * (SIZE_UNITS[(match[2] ?? "").toUpperCase()] ?? 1) : 0;
  if (!match || bytes <= 0) {
    throw usageError(
      `--max-file-size: "${text}" is not a size`,
      "Use bytes or a number with K, M or G: 64M.",
    );
  }
  return bytes;
}

const MB = 1024 * 1024;

/** A progress line on a terminal's stderr, at most a few times a second. */
function progressLine(): { update(p: ScanProgress): void; finish(): void } {
  const tty = Boolean(process.stderr.isTTY);
  let last = 0;
  return {
    update(p) {
      if (!tty) return;
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const what =
        p.phase === "history"
          ? `${p.blobs} blob(s), ${p.commits} commit(s)`
          : `${p.files} file(s), ${(p.bytes / MB).toFixed(1)} MB`;
      process.stderr.write(
        `\r${terminalSafe(`scanning: ${what} ${p.current ?? ""}`)
          .slice(0, 119)
          .padEnd(119)}`,
      );
    },
    finish() {
      if (tty && last > 0) process.stderr.write(`${"\r".padEnd(120)}\r`);
    },
  };
}

export async function scan(globals: GlobalOptions, paths: string[], opts: ScanOptions): Promise<ExitCode> {
  if (opts.json && opts.sarif)
    throw usageError("--json and --sarif contradict each other", "Give one of them.");
  if (opts.revoke && (opts.json || opts.sarif)) {
    throw usageError(
      "--revoke is not for --json or --sarif: its plan and confirmation are for a person",
      "Run `keyward scan … --json` for the report, then `keyward revoke <ids…> --json` for a script.",
    );
  }
  if (!opts.revoke) {
    // Options that only mean something to the revoke: given alone, the person expected a revoke.
    const revokeOnly = [
      opts.yes && "--yes",
      opts.dryRun && "--dry-run",
      opts.revokeIdsAlone && "--revoke-ids-alone",
      opts.disableFirst === false && "--no-disable-first",
      opts.wait === false && "--no-wait",
      opts.manualTimeout !== undefined && opts.manualTimeout !== "15m" && "--manual-timeout",
    ].filter((o): o is string => typeof o === "string");
    if (revokeOnly.length > 0) {
      throw usageError(
        `${revokeOnly.join(", ")} ${revokeOnly.length === 1 ? "is" : "are"} for --revoke, which was not given`,
        "Add --revoke to revoke the known keys found, or leave them out to only scan.",
      );
    }
  }
  if (opts.revoke && !opts.vault) {
    throw usageError(
      "--revoke needs the vault: --no-vault contradicts it",
      "Give the vault passphrase (KEYWARD_PASSPHRASE or the prompt) and leave out --no-vault.",
    );
  }
  const maxFileBytes = parseSize(opts.maxFileSize);
  // Checked before anything is read: a revoke that could never be confirmed is refused at once.
  const timeoutMs = opts.revoke ? revokeFlags(opts) : 0;
  const machine = Boolean(opts.json || opts.sarif);
  return withHome(globals, async (home) => {
    const progress = progressLine();
    // Ctrl-C stops the reading (the engine ends with SCAN_ABORTED); nothing is audited then.
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once("SIGINT", onSigint);
    const report = await scanLeaks(
      home,
      {
        roots: paths,
        git: Boolean(opts.git),
        offline: Boolean(opts.offline),
        secrets: opts.secrets,
        vault: opts.vault,
        minConfidence: opts.minConfidence,
        maxFileBytes,
        binary: Boolean(opts.binary),
        exclude: opts.exclude ?? [],
        verify: Boolean(opts.verify),
      },
      {
        onProgress: (p) => progress.update(p),
        onInventory: listingProgress(!machine),
        signal: stop.signal,
      },
    ).finally(() => {
      process.off("SIGINT", onSigint);
      progress.finish();
    });
    const live = report.findings.some((f) => f.live);
    if (opts.json) {
      printJson(report);
      for (const w of report.warnings) err(`keyward: warning: ${w}`);
      return live ? EXIT.FAILED : EXIT.OK;
    }
    if (opts.sarif) {
      // Task 4's SARIF 2.1.0 (scan/sarif.ts): built from the report alone, so it holds no secret either.
      printJson(toSarif(report, { version: KEYWARD_VERSION }));
      for (const w of report.warnings) err(`keyward: warning: ${w}`);
      return live ? EXIT.FAILED : EXIT.OK;
    }
    if (report.findings.length === 0) out(nothingFound(report));
    else out(findingsTable(report));
    out("");
    for (const line of summaryLines(report, {
      vault: !opts.vault,
      secrets: opts.secrets,
      offline: Boolean(opts.offline),
    }))
      out(line);
    if (!opts.revoke) return live ? EXIT.FAILED : EXIT.OK;
    return revokeFound(home, report, opts, timeoutMs);
  });
}
