import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      // The API tests and the browser tests each start their own simulator, home and server; they mostly
      // wait on sockets, so two files run side by side even on a 2-core machine.
      maxWorkers: 2,
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  }),
);
