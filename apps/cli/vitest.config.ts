import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // Builds the template home (through the CLI) once and measures `keyward --help` on an idle machine.
      globalSetup: ["test/global-setup.ts"],
      // The end-to-end tests mostly wait on child processes and simulators, so files run side by side
      // even on a 2-core machine (vitest's default there is one worker).
      maxWorkers: 3,
      // Each test spawns several `keyward` processes (each opens the scrypt-protected vault and loads
      // ccxt: ~1.5 s of CPU) while other files do the same: allow for a loaded machine.
      testTimeout: 45_000,
    },
  }),
);
