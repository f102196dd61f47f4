import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // Builds the template home (through the CLI) once and measures `keyward --help` on an idle machine.
      globalSetup: ["test/global-setup.ts"],
      // The tests wait on `keyward` processes, and those are CPU-bound: each costs ~1-1.5 s of CPU
      // (Node start-up, ccxt, the probes; the vault's scrypt is cheap at the tests' work factor, see
      // KEYWARD_TEST_VAULT_WORK_FACTOR in helpers.ts). One file at a time, at most 3 of its tests at
      // once: at most 3 processes share the 2 cores, ~3 s of wall time each even with another CPU-heavy
      // process beside the suite. More side by side only stretches every test's wall time (and so its
      // timeout) without finishing the suite sooner: two rotation files side by side took over 90 s
      // for a test that takes 40 s alone.
      maxWorkers: 1,
      maxConcurrency: 3,
      // A test runs up to 8 `keyward` processes (the heavier rotation, revoke and fault tests set their
      // own budget): 8 x ~5 s under that load, plus its simulator and checks. A process that hangs is
      // killed sooner, naming its command and output, by its own timer in helpers.ts (40 s).
      testTimeout: 60_000,
    },
  }),
);
