/**
 * The README's screenshots, saved by the Chromium suites: one call per page, `docs/screenshots/<name>.png`,
 * each at the same fixed viewport with the text that changes with the clock hidden, so a run that changed
 * nothing on a page saves the same picture. A page added later (a new key form, the policy check) gets its
 * screenshot with one `saveScreenshot(page, "<name>")` in its own test.
 */
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";

/** Where the README takes its screenshots from. */
export const SCREENSHOT_DIR = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));

/** Every screenshot's viewport (a laptop screen): open the page with it, as the suites do. */
export const SCREENSHOT_VIEWPORT = { width: 1440, height: 860 } as const;

/**
 * Text that depends on the clock or on the run (times, durations, run ids, live-log lines, the home's
 * random path): hidden while the picture is taken, its space kept, so the layout is the page's own.
 */
const CLOCK_DEPENDENT = [
  ".topbar .home",
  ".page-head .muted",
  ".page-head .mono",
  "pre.log",
  "time",
  "[data-clock]",
];

/** The path of `<name>.png` in docs/screenshots. */
export const screenshotPath = (name: string): string => join(SCREENSHOT_DIR, `${name}.png`);

/**
 * Saves the page as it is shown (the viewport, not the whole scrollable page) to
 * docs/screenshots/<name>.png, and returns the path. Animations are stopped and the caret hidden.
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  if (!/^[a-z][a-z0-9-]*$/.test(name))
    throw new Error(`screenshot name ${JSON.stringify(name)}: use a-z, 0-9, -`);
  const path = screenshotPath(name);
  mkdirSync(dirname(path), { recursive: true });
  // Hidden through the elements' style objects: the app's Content-Security-Policy refuses an injected
  // stylesheet (Playwright's `style` option), not scripted style changes.
  const hide = (selector: string, visibility: string) =>
    page.evaluate(
      ([sel, v]) => {
        for (const el of document.querySelectorAll<HTMLElement>(sel as string))
          el.style.visibility = v as string;
      },
      [selector, visibility],
    );
  const selector = CLOCK_DEPENDENT.join(", ");
  await hide(selector, "hidden");
  try {
    await page.screenshot({ path, animations: "disabled", caret: "hide" });
  } finally {
    await hide(selector, "");
  }
  return path;
}
