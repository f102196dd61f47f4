/**
 * `npm run bench`: the CLI latency table (cli-latency.ts), the OKX list+revoke benchmark (run.ts), the
 * Bybit list+revoke benchmark (bybit.ts), the Deribit list+disable+remove benchmark (deribit.ts), the
 * three-exchange incident revoke (incident.ts), the rotation benchmark (rotate.ts), then the leak scan
 * rows (scan.ts: ~1 GB of files and a 10k-commit history, Keyward's engine beside grep), one after the
 * other (they must not share the machine), each given this command's flags (--quick, --json).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

let failed = false;
for (const script of [
  "cli-latency.js",
  "run.js",
  "bybit.js",
  "deribit.js",
  "incident.js",
  "rotate.js",
  "scan.js",
]) {
  const path = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const r = spawnSync(process.execPath, [path, ...process.argv.slice(2)], { stdio: "inherit" });
  if (r.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
