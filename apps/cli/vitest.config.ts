import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

// The end-to-end tests mostly wait on child processes and the simulator, so files run side by side
// even on a 2-core machine (vitest's default there would be one worker).
export default mergeConfig(shared, defineConfig({ test: { maxWorkers: 3 } }));
