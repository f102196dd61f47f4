/**
 * The CLI's version, from its package.json: read with `createRequire` so `keyward --version` loads no
 * core, ccxt, SQLite or vault (`program.ts` is loaded for every command, help included).
 */
import { createRequire } from "node:module";

// `src/` (tests) and `dist/` (the build) are both one level below the package root.
const pkg = createRequire(import.meta.url)("../package.json") as { version: string };

export const KEYWARD_VERSION: string = pkg.version;
