/**
 * The job pages as a person reads them, in Chromium: the revoke page's title (h1 and the browser tab)
 * says what is happening and then how it ended ("Revoking 1 key" → "Revoked 1 key"); the exchange's page
 * appears once in a manual step; the nav's Revoke badge clears when the job ends, even with the person on
 * another page by then; a finished rotation says "Rotated 1 key"; the Accounts page says what each probe
 * found in words.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { type Desk, KEYS, startDesk, statuses } from "./helpers.js";

const haveChromium = chromiumAvailable();

describe.skipIf(!haveChromium)(`job pages (in ${CHROMIUM})`, () => {
  let browser: Browser;
  let desk: Desk;

  beforeAll(async () => {
    [browser, desk] = await Promise.all([
      launchChromium(),
      startDesk({ manual: { pollMs: 300, timeoutMs: 120_000 } }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await desk?.close();
  });

  /** A logged-in page showing the loaded inventory. */
  async function open(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(desk.server.loginUrl());
    await page
      .getByTestId("shown-count")
      .filter({ hasText: /^\d+ of \d+ keys$/ })
      .waitFor();
    return { context, page };
  }

  /** Selects the key with this label, reviews its revoke and starts it. */
  async function revoke(page: Page, label: string): Promise<void> {
    const search = page.getByLabel("Search keys");
    await search.fill(label);
    await page.getByLabel(`Select ${label}`).check();
    await search.fill("");
    await page.getByRole("button", { name: "Revoke selected (1)…" }).click();
    await page.getByRole("button", { name: "Review plan" }).click();
    await page.getByLabel("Type the number of keys to confirm").fill("1");
    await page.getByRole("button", { name: "Revoke 1 key" }).click();
  }

  const badge = (page: Page) => page.locator(".topbar nav a", { hasText: "Revoke" }).locator(".pill");

  it("a finished revoke's title says 'Revoked 1 key' (h1 and browser tab); the nav badge clears", async () => {
    const { context, page } = await open();
    try {
      await revoke(page, "bot-3");
      const title = page.getByTestId("job-title");
      await page.getByTestId("job-status").filter({ hasText: "finished" }).waitFor();
      await title.filter({ hasText: /^Revoked 1 key$/ }).waitFor();
      expect(await page.title()).toBe("Revoked 1 key — Keyward");
      expect(await page.locator("body").textContent()).not.toMatch(/about 0 ms|Revoking/);
      await badge(page).waitFor({ state: "detached" });
      expect(statuses(await desk.state()).get(KEYS.bot3.apiKey)).toBe("revoked");
      // Leaving the job's page gives the page's own title back.
      await page.getByRole("button", { name: "Back to the inventory" }).click();
      await page.waitForFunction(() => document.title === "Inventory — Keyward");
    } finally {
      await context.close();
    }
  });

  it("while a person's step is awaited: 'Revoking 1 key', the exchange's page once in the step; the badge clears when the job ends elsewhere", async () => {
    const { context, page } = await open();
    try {
      await revoke(page, "bfx-mm");
      await page.getByTestId("job-status").filter({ hasText: "waiting for manual steps" }).waitFor();
      expect(await page.getByTestId("job-title").textContent()).toBe("Revoking 1 key");
      expect(await page.title()).toBe("Revoking 1 key — Keyward");
      expect(await badge(page).textContent()).toBe("1");

      // The exchange's page: once, as the link inside the step that says to open it.
      const url = `${desk.sim.bitfinex}/api`;
      const item = page.locator(".checklist li[data-key-id]", { hasText: "bfx-mm" });
      const text = (await item.textContent()) ?? "";
      expect(text.split(url).length - 1).toBe(1);
      expect(await item.getByRole("link").getAttribute("href")).toBe(url);
      expect(await item.locator(".steps li", { hasText: "Open" }).getByRole("link").count()).toBe(1);

      // The person goes back to the inventory, then revokes the key on the exchange's site: the job
      // proves it dead and ends, and the badge clears without the revoke page open.
      await page.getByRole("link", { name: "Inventory", exact: true }).click();
      await desk.uiRevoke("bitfinex", KEYS.bfxMm.apiKey);
      await badge(page).waitFor({ state: "detached", timeout: 30_000 });
      expect(statuses(await desk.state()).get(KEYS.bfxMm.apiKey)).toBe("revoked");
    } finally {
      await context.close();
    }
  });

  it("a finished rotation's title says 'Rotated 1 key'", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keyward-web-job-title-"));
    const { context, page } = await open();
    try {
      const search = page.getByLabel("Search keys");
      await search.fill("bot-1");
      await page.getByLabel("Select bot-1").check();
      await search.fill("");
      await page.getByRole("button", { name: "Rotate selected (1)…" }).click();
      await page.getByLabel("Delivery targets").fill(`dotenv:${dir}/{label}.env`);
      await page.getByLabel("Grace seconds").fill("0");
      await page.getByRole("button", { name: "Review rotation plan" }).click();
      await page.getByLabel("Type the number of keys to rotate").fill("1");
      await page.getByRole("button", { name: "Rotate 1 key" }).click();
      await page
        .getByTestId("rotation-state")
        .filter({ hasText: /^finished/ })
        .waitFor({ timeout: 40_000 });
      await page
        .getByTestId("job-title")
        .filter({ hasText: /^Rotated 1 key\b/ })
        .waitFor();
      expect(await page.title()).toBe("Rotated 1 key — Keyward");
    } finally {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the Accounts page says what each probe found in words, the raw evidence one click away", async () => {
    const { context, page } = await open();
    try {
      await page.getByRole("link", { name: "Accounts", exact: true }).click();
      const okx = page.locator('[data-account="desk-okx"] [data-testid="health-summary"]');
      await okx.waitFor();
      expect(await okx.textContent()).toBe("healthy: master key, read+trade, bound to 1 IP");
      const card = page.locator('[data-account="desk-okx"]');
      const raw = card.locator("details code");
      expect(await raw.isVisible()).toBe(false);
      await card.getByText("raw evidence").click();
      expect(await raw.isVisible()).toBe(true);
      expect(((await raw.textContent()) ?? "").length).toBeGreaterThan(0);
    } finally {
      await context.close();
    }
  });
});
