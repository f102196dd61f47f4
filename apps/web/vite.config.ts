/**
 * The browser UI's build: React, compiled by Vite's own JSX transform (no plugin), into dist/ui, which
 * the server serves. The output has no inline script or style, so the strict Content-Security-Policy
 * (script-src 'self') holds.
 */
import { defineConfig } from "vite";

export default defineConfig({
  root: "src/ui",
  base: "/",
  logLevel: "warn",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: "../../dist/ui",
    emptyOutDir: true,
    sourcemap: false,
    // The polyfill would be bundled, not inlined, but every browser Keyward supports has modulepreload.
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1024,
  },
});
