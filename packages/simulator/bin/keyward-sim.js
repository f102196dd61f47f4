#!/usr/bin/env node
/**
 * The `keyward-sim` command as npm links it. This file is committed (with its execute bit) so the link
 * exists from `npm install` on, before any build, and keeps working however `dist/` was produced
 * (tsc, or turbo restoring it from its cache without execute bits). It only loads the build.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const built = new URL("../dist/bin.js", import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write(
    "keyward-sim: the simulator is not built yet (no packages/simulator/dist/bin.js)\n  hint: run `npm run build` first, in the repository's root.\n",
  );
  process.exitCode = 2;
}
