/**
 * Headless Chromium for the browser tests (test/e2e.test.ts) and the perf run: Debian's /usr/bin/chromium
 * (no browser download) with the flags this machine needs, and the set-up and tear-down both share: a
 * simulator, a temporary Keyward home served by the web server, the browser.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeywardHome, Secret } from "@keyward/core";
import { type Browser, chromium } from "playwright-core";

/** Debian's Chromium; KEYWARD_TEST_CHROMIUM points elsewhere (the test of the skip note names a missing one). */
export const CHROMIUM = process.env.KEYWARD_TEST_CHROMIUM || "/usr/bin/chromium";

/**
 * Whether the browser tests can run here. When they cannot, says so in one line (once per process), so
 * a green run without them is never mistaken for one with them.
 */
let noted = false;
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (!noted) {
    noted = true;
    console.warn(
      `Browser tests SKIPPED: ${CHROMIUM} not found. To run them install Debian's Chromium (apt-get install chromium); CI installs it.`,
    );
  }
  return false;
}

/** The flags this machine needs (see the environment notes): no sandbox as root, no background networking. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  // playwright-core starts Chromium headless with a fresh, temporary --user-data-dir of its own.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

interface Closable {
  close(): Promise<void>;
}

/**
 * Runs `fn` with Chromium and a fresh temporary directory (named with `prefix`); afterwards closes the
 * browser and the simulator and removes the directory, whatever happened.
 */
export async function inChromium<T>(
  sim: Closable,
  prefix: string,
  fn: (browser: Browser, dir: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const browser = await launchChromium();
  try {
    return await fn(browser, dir);
  } finally {
    await browser.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens the home set up in `dir`, serves it with `start`, runs `fn`, then closes the server and the home. */
export async function serving<S extends Closable, T>(
  dir: string,
  { passphrase, actor }: { passphrase: string; actor: string },
  start: (home: KeywardHome) => Promise<S>,
  fn: (server: S) => Promise<T>,
): Promise<T> {
  const home = KeywardHome.open(dir, { passphrase: async () => new Secret(passphrase), actor });
  const server = await start(home);
  try {
    return await fn(server);
  } finally {
    await server.close();
    await home.close();
  }
}
