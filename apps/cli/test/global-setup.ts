/**
 * Runs once before the test files: builds the template home every `desk()` copies (through the CLI:
 * init, account add okx/bitfinex, key track, against a simulator seeded with the test scenario), and
 * measures `keyward --help` while the machine is still idle.
 */
import type { TestProject } from "vitest/node";
import { removeTempDirs, runCli, Sim, setupHome } from "./helpers.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The template home's directory. */
    templateHome: string;
    /** Wall times of `keyward --help`, ms, measured before any test runs. */
    helpWallMs: number[];
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const helpWallMs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await runCli(["--help"]);
    if (r.code !== 0) throw new Error(`keyward --help exited ${r.code}: ${r.stderr}`);
    helpWallMs.push(Math.round(r.ms));
  }
  project.provide("helpWallMs", helpWallMs);

  const sim = await Sim.start();
  try {
    const home = await setupHome(sim);
    project.provide("templateHome", home.dir);
  } finally {
    await sim.close();
  }
  return () => removeTempDirs();
}
