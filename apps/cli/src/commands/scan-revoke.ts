/**
 * `keyward scan --revoke`: the live known keys the scan found (those whose secret was found; with
 * --revoke-ids-alone also those found by their id alone) go to the revoke workflow, as they are listed
 * now. It always ends with one closing paragraph: what was revoked, what was not and why, and what the
 * person must do for each key Keyward cannot revoke (an unknown key, a key no longer listed).
 */
import { type KeywardHome, listInventory, revocableKeys, type ScanReport } from "@keyward/core";
import { EXIT, type ExitCode } from "../exit.js";
import { field, out, paragraph } from "../output.js";
import { secondFactorOptions } from "../second-factor.js";
import { listingProgress, parseSelector } from "../selection.js";
import { revokeSelected } from "./revoke.js";
import type { ScanOptions } from "./scan.js";

export async function revokeFound(
  home: KeywardHome,
  report: ScanReport,
  opts: ScanOptions,
  timeoutMs: number,
): Promise<ExitCode> {
  // A key id is no secret: anyone can plant one, so a key found by its id alone is left out unless asked.
  const found = revocableKeys(report);
  const why = new Map(found.map((k) => [k.keyId, k.reason]));
  // People read a key as the report shows it (label, account, redacted key), never its full id.
  const shownOf = new Map(found.map((k) => [k.keyId, k.shown]));
  const line = (id: string) => `  ${paragraph(`${field(shownOf.get(id) ?? id)}: ${why.get(id) ?? ""}`, 4)}`;
  const idsAlone = opts.revokeIdsAlone ? [] : found.filter((k) => !k.secretFound);
  if (idsAlone.length > 0) {
    out(
      paragraph(
        `\nNot revoked: ${idsAlone.length} key(s) found by their id alone, with no secret (anyone who knows an id can plant it). Add --revoke-ids-alone to revoke them too:`,
      ),
    );
    for (const k of idsAlone) out(line(k.keyId));
  }
  const wanted = found.filter((k) => k.secretFound || opts.revokeIdsAlone).map((k) => k.keyId);
  const unknownLive = report.findings.filter((f) => f.live && f.kind === "unknown-key").length;
  const close = (outcome: Outcome, present: number, missing: number): ExitCode => {
    out(`\n${closingParagraph({ outcome, present, missing, idsAlone: idsAlone.length, unknownLive })}`);
    if (outcome.kind === "revoke" && outcome.code !== EXIT.OK) return outcome.code;
    // Anything found live that is still live (a dry run revoked nothing) ends with 1, as the table says.
    const left = missing + idsAlone.length + unknownLive + (outcome.kind === "dry-run" ? present : 0);
    return left > 0 ? EXIT.FAILED : EXIT.OK;
  };
  if (wanted.length === 0) return close({ kind: "none" }, 0, 0);
  if (report.auditSeq === null) {
    // Files were read and live keys found: that is exit 1 (not a usage error), with the way out named.
    out(
      paragraph(
        `\nNot revoked: the scan could not be audited (see the warning), and a revoke from a scan must be recorded after it. ${wanted.length} live known key(s) found: fix what the warning names (\`keyward audit verify\` checks the log) and run this scan again, or revoke them directly with \`keyward revoke ${wanted.join(" ")}\`.`,
      ),
    );
    return EXIT.FAILED;
  }
  const secondFactor = secondFactorOptions(home);
  const inventory = await listInventory(home, {
    adapters: (names) => home.adapters(names, secondFactor),
    onEvent: listingProgress(true),
  });
  const listed = new Set(inventory.keys.map((k) => k.id));
  const present = wanted.filter((id) => listed.has(id));
  const missing = wanted.filter((id) => !listed.has(id));
  for (const id of missing) {
    out(
      paragraph(
        `WARNING: ${field(shownOf.get(id) ?? id)} is not in the live inventory now (gone already, or its account could not be listed): not revoked from here. If it may still work, revoke it on the exchange's site.`,
      ),
    );
  }
  if (present.length === 0) return close({ kind: "none" }, 0, missing.length);
  // A dry run revokes nothing: it says what it would do.
  out(
    `\n${opts.dryRun ? "Would revoke" : "Revoking"} the ${present.length} live known key(s) the scan found (audit entry ${report.auditSeq}):`,
  );
  out("Why each is here:");
  for (const id of present) out(line(id));
  const code = await revokeSelected(home, parseSelector(present, {}), opts, timeoutMs, {
    list: async () => inventory,
    cause: { scan: report.auditSeq },
  });
  return close(opts.dryRun ? { kind: "dry-run" } : { kind: "revoke", code }, present.length, missing.length);
}

type Outcome = { kind: "none" } | { kind: "dry-run" } | { kind: "revoke"; code: ExitCode };

/** The last words of `scan --revoke`: revoked, not revoked and why, and what is left to the person. */
export function closingParagraph(p: {
  outcome: Outcome;
  present: number;
  missing: number;
  idsAlone: number;
  unknownLive: number;
}): string {
  const { outcome, present } = p;
  const done =
    outcome.kind === "none"
      ? "Revoked: none."
      : outcome.kind === "dry-run"
        ? `Would revoke ${present} key(s) (a dry run: nothing was revoked; run again without --dry-run).`
        : outcome.code === EXIT.OK
          ? `Revoked: ${present} key(s), each proven dead.`
          : outcome.code === EXIT.AWAITING_MANUAL
            ? `Handed ${present} key(s) to the revoke: some still wait for a person on the exchange's site (above).`
            : `Handed ${present} key(s) to the revoke: not all were revoked or proven dead (see above).`;
  const not = [
    p.idsAlone > 0
      ? `${p.idsAlone} known key(s) found by their id alone (add --revoke-ids-alone to take them)`
      : "",
    p.missing > 0
      ? `${p.missing} known key(s) no longer in the live inventory (revoke them on the exchange's site if they may still work)`
      : "",
    p.unknownLive > 0
      ? `${p.unknownLive} unknown key(s) that may still work: Keyward does not manage them (in no inventory), so it cannot revoke them; revoke each on its exchange's web site (find it by the first and last four characters in the table), or add its account (keyward account add) and run this scan again`
      : "",
  ].filter(Boolean);
  return paragraph(`${done}${not.length > 0 ? ` Not revoked: ${not.join("; ")}.` : ""}`);
}
