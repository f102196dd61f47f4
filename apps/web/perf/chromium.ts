/**
 * Headless Chromium for the browser tests (test/e2e.test.ts) and the perf run: Debian's /usr/bin/chromium
 * (no browser download) with the flags this machine needs, and the set-up and tear-down both share: a
 * simulator, a temporary Keyward home served by the web server, the browser.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeywardHome, Secret } from "@keyward/core";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

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
    home.close();
  }
}
