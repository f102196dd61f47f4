/**
 * The browser and an exchange with a kill switch (Deribit's disable_api_key), on its own one-account
 * simulator: the inventory shows a key switched off on the exchange with a "disabled" badge; the revoke
 * plan offers "Disable first", ticked by default, with a "disabled first" badge per key, and unticking it
 * asks for a new plan without them. Nothing is revoked (the run itself is held by deribit-revoke.test.ts).
 * Without Chromium the suite is skipped, as e2e.test.ts says.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeywardHome, Secret } from "@keyward/core";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { setupHome, startWebServer, type WebServer } from "../src/server/index.js";
import { PASSPHRASE, UI_DIR } from "./helpers.js";

const key = (id: number, name: string, max_scope: string, ip_whitelist: string[], enabled = true) => ({
  id,
  client_id: `DRE2E${String(id).padStart(3, "0")}`,
  client_secret: `CANARY-e2e-deribit-secret-${name}-41c7aa`,
  name,
  max_scope,
  enabled,
  ip_whitelist,
  timestamp: Date.now() - 10 * 86_400_000,
});
const ADMIN = key(1, "keyward", "account:read_write trade:read wallet:none", ["127.0.0.1"]);
const KEYS = [
  ADMIN,
  key(2, "bot_1", "account:read trade:read_write", []),
  key(3, "treasury", "account:read wallet:read_write", ["127.0.0.1"]),
  key(4, "parked", "trade:read_write", [], false),
];

describe.skipIf(!chromiumAvailable())(`in the browser (skipped only when ${CHROMIUM} is missing)`, () => {
  let browser: Browser;
  let sim: RunningSimulator;
  let dir: string;
  let home: KeywardHome;
  let server: WebServer;

  beforeAll(async () => {
    sim = await startSimulator({
      scenario: {
        deribit: {
          accounts: [
            {
              id: 733001,
              username: "dr_e2e",
              type: "main",
              totpSeed: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
              keys: KEYS,
            },
          ],
        },
      },
      rateScale: 0.05,
    });
    dir = mkdtempSync(join(tmpdir(), "keyward-web-e2e-kill-"));
    const credentials = { apiKey: ADMIN.client_id, secret: ADMIN.client_secret };
    await (
      await setupHome(dir, {
        passphrase: PASSPHRASE,
        workFactor: 10,
        accounts: [{ name: "dr-e2e", exchange: "deribit", endpoint: sim.deribit, credentials }],
      })
    ).close();
    home = KeywardHome.open(dir, { passphrase: async () => new Secret(PASSPHRASE), actor: "web:test" });
    server = await startWebServer({
      home,
      port: 0,
      uiDir: UI_DIR,
      print: () => {},
      manual: { pollMs: 300, timeoutMs: 60_000 },
      extraSecrets: [PASSPHRASE],
    });
    await server.ready;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await home?.close();
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("shows a disabled key's badge, and the plan's 'Disable first' box (ticked by default, unticking re-plans)", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(msg.text());
      });
      await page.goto(server.loginUrl());
      await page
        .getByTestId("shown-count")
        .filter({ hasText: /^4 of 4 keys$/ })
        .waitFor();
      const parked = page.locator(".grid-row", { hasText: "parked" });
      expect(await parked.locator(".badge.disabled").textContent()).toBe("disabled");
      expect(await page.locator(".grid-row", { hasText: "bot_1" }).locator(".badge.disabled").count()).toBe(
        0,
      );

      for (const label of ["bot_1", "treasury", "parked"]) await page.getByLabel(`Select ${label}`).check();
      await page.getByText("3 selected").waitFor();
      await page.getByRole("button", { name: "Revoke selected (3)…" }).click();
      await page.getByRole("button", { name: "Review plan" }).click();
      const box = page.getByTestId("disable-first");
      await box.waitFor();
      expect(await box.isChecked()).toBe(true);
      const plan = page.getByRole("region", { name: "Plan" });
      // The two live keys are switched off first; the one already disabled needs no switch.
      await plan.locator(".badge.disabled", { hasText: "disabled first" }).nth(1).waitFor();
      expect(await plan.locator(".badge.disabled", { hasText: "disabled first" }).count()).toBe(2);
      // What will be done sits beside how (the method), not among the key's risks.
      expect(
        await plan.locator("td:nth-child(2) .badge.disabled", { hasText: "disabled first" }).count(),
      ).toBe(2);
      expect(await plan.locator(".badge.disabled", { hasText: "already disabled" }).count()).toBe(1);

      await box.uncheck();
      await plan
        .locator(".badge.disabled", { hasText: "disabled first" })
        .first()
        .waitFor({ state: "detached" });
      expect(await page.getByTestId("disable-first").isChecked()).toBe(false);
      expect(await plan.locator(".badge.disabled", { hasText: "disabled first" }).count()).toBe(0);
      expect(errors).toEqual([]);
      for (const k of KEYS) expect(await page.content()).not.toContain(k.client_secret);
    } finally {
      await context.close();
    }
  });
});
