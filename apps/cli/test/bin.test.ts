/**
 * The `keyward` and `keyward-sim` commands as npm links them: committed shims with their execute bit, so
 * `npx keyward` works after `npm install` and a build however `dist/` was produced (turbo restores it
 * from its cache without execute bits), and says what to do when nothing is built yet.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs, tempDir } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const COMMANDS = [
  { name: "keyward", shim: join(ROOT, "apps/cli/bin/keyward.js"), usage: "Usage: keyward" },
  {
    name: "keyward-sim",
    shim: join(ROOT, "packages/simulator/bin/keyward-sim.js"),
    usage: "Usage: keyward-sim",
  },
];

afterAll(() => removeTempDirs());

describe.each(COMMANDS)("$name", ({ name, shim, usage }) => {
  it("is linked by npm to the committed, executable shim, and runs", () => {
    const link = join(ROOT, "node_modules/.bin", name);
    expect(realpathSync(link)).toBe(realpathSync(shim));
    expect(statSync(shim).mode & 0o111).toBe(0o111);
    // Run as a shell or npx would: the link itself, no `node` in front.
    const r = spawnSync(link, ["--help"], { encoding: "utf8", timeout: 20_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(usage);
  });

  it("says to build first when there is no build", () => {
    const copy = join(tempDir("unbuilt-"), "bin");
    mkdirSync(copy);
    copyFileSync(shim, join(copy, `${name}.js`));
    const r = spawnSync(process.execPath, [join(copy, `${name}.js`), "--help"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("run `npm run build` first");
    expect(r.stdout).toBe("");
  });
});
