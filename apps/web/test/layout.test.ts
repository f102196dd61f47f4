/**
 * The pages as laid out in Chromium at a laptop's and a small screen's width: a key's label and every
 * permission are shown whole (wrapped, never cut: a cut hides what a revoke review is about), the audit
 * log's filter bar stays one row high, and every page names itself in the browser tab.
 */
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { type Desk, KEYS, startDesk } from "./helpers.js";

let desk: Desk;
beforeAll(async () => {
  desk = await startDesk();
});
afterAll(async () => {
  await desk?.close();
});

/** Where to leave pictures of the pages for a person to look at (not the README's). */
const SHOTS = process.env.KEYWARD_LAYOUT_SHOTS;

/** The element's content overflows its box (cut off, or scrolled out of view) in either direction. */
const clipped = (cell: Locator) =>
  cell.evaluate((el) => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1);

describe.skipIf(!chromiumAvailable())(`in the browser (skipped only when ${CHROMIUM} is missing)`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const open = async (width: number, height: number): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(desk.server.loginUrl());
    await page
      .getByTestId("shown-count")
      .filter({ hasText: /^\d+ of \d+ keys$/ })
      .waitFor();
    return page;
  };

  it.each([
    [1024, 768],
    [1400, 1000],
  ])(
    "at %ix%i the inventory shows every label and permission whole, the badge under the label",
    async (width, height) => {
      const page = await open(width, height);
      const row = (label: string) => page.locator(".grid-row", { hasText: label });
      // A key that can withdraw, and Keyward's own keys with their badge (one of them can transfer).
      const cases: [string, string[]][] = [
        ["bfx-mm", ["read", "trade", "withdraw"]],
        ["bybit-master", ["read", "trade", "transfer"]],
        [KEYS.okxMaster.label, ["read", "trade"]],
      ];
      for (const [label, permissions] of cases) {
        const r = row(label).first();
        const labelCell = r.locator(".col-label");
        const permCell = r.locator(".col-permissions");
        expect(await labelCell.textContent()).toContain(label);
        expect(await clipped(labelCell), `label ${label} cut at ${width}px`).toBe(false);
        expect(await clipped(permCell), `permissions of ${label} cut at ${width}px`).toBe(false);
        for (const p of permissions) expect(await permCell.textContent()).toContain(p);
        expect(await clipped(r.locator(".col-risks")), `risks of ${label} cut at ${width}px`).toBe(false);
      }
      await row(KEYS.okxMaster.label).locator(".badge.own-key").waitFor();
      await row("bybit-master").locator(".badge.own-key").waitFor();
      // The table fits the window: no column is cut off at the right edge.
      expect(await clipped(page.locator(".grid-head"))).toBe(false);
      if (SHOTS) await page.screenshot({ path: `${SHOTS}/inventory-${width}.png` });
      await page.context().close();
    },
  );

  it("the audit log's filter bar is one row of fields and buttons, not stretched", async () => {
    const page = await open(1400, 1000);
    await page.getByRole("link", { name: "Audit log" }).click();
    const filters = page.getByRole("form", { name: "Audit filters" });
    await filters.waitFor();
    await page.getByTestId("chain-status").waitFor();
    const form = await filters.boundingBox();
    const button = await filters.getByRole("button", { name: "Filter" }).boundingBox();
    const search = await filters.locator('input[type="search"]').boundingBox();
    expect(form?.height).toBeLessThan(80);
    expect(button?.height).toBeLessThan(40);
    expect(search?.height).toBeLessThan(40);
    // The chain status right under it, not half a screen down.
    const chain = await page.getByTestId("chain-status").boundingBox();
    expect((chain?.y ?? 1000) - ((form?.y ?? 0) + (form?.height ?? 0))).toBeLessThan(60);
    if (SHOTS) await page.screenshot({ path: `${SHOTS}/audit-1400.png` });
    await page.context().close();
  });

  it("every page names itself in the browser tab", async () => {
    const page = await open(1400, 1000);
    await expect.poll(() => page.title()).toBe("Inventory — Keyward");
    for (const [link, title] of [
      ["Revoke", "Revoke — Keyward"],
      ["Rotate", "Rotate — Keyward"],
      ["New key", "New key — Keyward"],
      ["Check", "Check — Keyward"],
      ["Audit log", "Audit log — Keyward"],
      ["Accounts", "Accounts — Keyward"],
      ["Inventory", "Inventory — Keyward"],
    ]) {
      await page.getByRole("navigation").getByRole("link", { name: link, exact: true }).click();
      await expect.poll(() => page.title()).toBe(title);
    }
    // A reload of a page keeps its name.
    await page.getByRole("navigation").getByRole("link", { name: "Audit log", exact: true }).click();
    await page.reload();
    await expect.poll(() => page.title()).toBe("Audit log — Keyward");
    await page.context().close();
  });
});
