/**
 * The vitest settings every workspace shares. Besides the console report, each run writes a JSON
 * report that `.ci/run` sums into one closing "N passed, N failed" line.
 */
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]],
  },
});
