/** `keyward audit` and `keyward audit verify`. */

import { AuditLog, checkHomePrivacy, homePaths, StateDatabase } from "@keyward/core";
import { homeDir } from "../context.js";
import { EXIT, type ExitCode } from "../exit.js";
import { out, printJson, table } from "../output.js";
import type { GlobalOptions } from "../program.js";

/** The audit log needs no vault: reading and verifying it never asks for the passphrase. */
function openAudit(globals: GlobalOptions) {
  const paths = homePaths(homeDir(globals));
  // A log another user can rewrite proves nothing (its hash chain can be recomputed): refuse it.
  checkHomePrivacy(paths, { fix: false });
  const state = StateDatabase.open(paths.state, { readonly: true });
  return { state, log: new AuditLog(state) };
}

export async function auditList(globals: GlobalOptions, opts: { json?: boolean }): Promise<ExitCode> {
  const { state, log } = openAudit(globals);
  try {
    const entries = log.list();
    if (opts.json) printJson(entries);
    else if (entries.length === 0) out("The audit log is empty.");
    else {
      out(
        table(
          ["SEQ", "TIME", "ACTION", "ACTOR", "SUBJECT", "DETAILS"],
          entries.map((e) => [
            String(e.seq),
            e.ts,
            e.action,
            e.actor,
            e.subject,
            JSON.stringify(e.details).slice(0, 120),
          ]),
        ),
      );
    }
    return EXIT.OK;
  } finally {
    state.close();
  }
}

export async function auditVerify(globals: GlobalOptions, opts: { json?: boolean }): Promise<ExitCode> {
  const { state, log } = openAudit(globals);
  try {
    const result = log.verify();
    if (opts.json) printJson(result);
    else if (result.ok)
      out(`audit log intact: ${result.entries} entries, head ${result.head?.hash.slice(0, 16) ?? "(empty)"}`);
    else
      out(
        `audit log BROKEN at entry ${result.brokenAt}: ${result.reason} (${result.entries} entries intact before it)`,
      );
    return result.ok ? EXIT.OK : EXIT.FAILED;
  } finally {
    state.close();
  }
}
