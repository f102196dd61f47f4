/**
 * The Check page: the same policy check as `keyward check` (core's checkPolicy, the home's policy.json)
 * over the simulator's desk. The API answers the findings and the CLI's summary line; a bad policy.json
 * is a 400 naming the field; in Chromium a person opens the page from the nav, reads the findings
 * grouped by severity, follows a key's link into the inventory, and runs the check again after changing
 * the policy. Without Chromium the browser part is skipped, as e2e.test.ts says.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { type Client, type Desk, KEYS, leaks, login, OKX_ACCOUNT, startDesk } from "./helpers.js";

interface CheckAnswer {
  summary: string;
  policy: string;
  complete: boolean;
  counts: { error: number; warning: number; ignored: number };
  findings: {
    severity: string;
    rule: string;
    keyId?: string;
    label: string;
    account: string;
    message: string;
  }[];
}

const BOT2_ID = `okx:${OKX_ACCOUNT}:deskBots01:${KEYS.bot2.apiKey}`;

let desk: Desk;
let client: Client;
beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
});
afterAll(async () => {
  await desk?.close();
});

const policyPath = () => join(desk.dir, "policy.json");
const writePolicy = (policy: unknown) =>
  writeFileSync(policyPath(), typeof policy === "string" ? policy : JSON.stringify(policy), { mode: 0o600 });

describe.sequential("the policy check's API", () => {
  it("answers the findings, errors first, with the CLI's summary line", async () => {
    rmSync(policyPath(), { force: true });
    const res = await client.get("/api/check");
    expect(res.status, res.body).toBe(200);
    const body = res.json<CheckAnswer>();
    expect(body.policy).toBe("defaults");
    expect(body.complete).toBe(true);
    expect(body.counts.error).toBeGreaterThan(0);
    expect(body.summary).toMatch(
      /^FAILED: \d+ errors?, \d+ warnings? \(\d+ keys in \d+ accounts, policy: defaults\)$/,
    );
    const severities = body.findings.map((f) => f.severity);
    expect(severities).toEqual([...severities].sort());
    expect(body.findings).toContainEqual(
      expect.objectContaining({ severity: "error", rule: "no-ip", keyId: BOT2_ID, label: "bot-2" }),
    );
    expect(leaks()).toEqual([]);
  });

  it("applies the home's policy.json, and a bad one is a 400 naming the field", async () => {
    writePolicy({ rules: { "no-ip": "warning", withdraw: "off" } });
    const ok = (await client.get("/api/check")).json<CheckAnswer>();
    expect(ok.policy).toBe(policyPath());
    expect(ok.findings.filter((f) => f.rule === "no-ip").every((f) => f.severity === "warning")).toBe(true);
    expect(ok.findings.some((f) => f.rule === "withdraw")).toBe(false);

    writePolicy({ rules: { "no-ipp": "off" } });
    const bad = await client.get("/api/check");
    expect(bad.status).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toMatch(
      /policy\.json: rules: Unrecognized key: "no-ipp"/,
    );
    rmSync(policyPath(), { force: true });
  });
});

describe.skipIf(!chromiumAvailable())(
  `the Check page in the browser (skipped only when ${CHROMIUM} is missing)`,
  () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
      rmSync(policyPath(), { force: true });
    });

    it("shows the findings by severity, links a key into the inventory, and runs again after a policy change", async () => {
      rmSync(policyPath(), { force: true });
      const origin = desk.server.origin;
      const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(desk.server.loginUrl());
      expect(page.url()).toBe(`${origin}/inventory`);

      await page.getByRole("link", { name: "Check", exact: true }).click();
      expect(page.url()).toBe(`${origin}/check`);
      const summary = page.getByTestId("check-summary");
      await summary.waitFor();
      expect(await summary.textContent()).toMatch(/^FAILED: \d+ errors?/);

      const errors = page.getByTestId("error-findings");
      expect(await errors.locator("h2").textContent()).toMatch(/^Errors \(\d+\)$/);
      const bot2 = errors.locator("tr", { hasText: "bot-2" });
      expect(await bot2.textContent()).toContain("can trade, bound to no IP");
      expect(await bot2.getByRole("link", { name: "in inventory" }).getAttribute("href")).toBe(
        `/inventory?q=${encodeURIComponent(BOT2_ID)}`,
      );
      const warnings = page.getByTestId("warning-findings");
      expect(await warnings.locator("tr", { hasText: "bot-3" }).textContent()).toContain("days old");

      // A policy that lets IP-less and withdraw keys pass: "Run again" shows the check passing.
      writePolicy({ rules: { "no-ip": "warning", withdraw: "warning" } });
      await page.getByRole("button", { name: "Run again" }).click();
      await page.getByTestId("check-summary").filter({ hasText: /^ok: / }).waitFor();
      expect(await page.getByTestId("error-findings").count()).toBe(0);
      expect(
        await page.getByTestId("warning-findings").locator("tr", { hasText: "bot-2" }).count(),
      ).toBeGreaterThan(0);

      // The key's link opens the inventory.
      await page.goto(`${origin}/check`);
      await page
        .getByTestId("warning-findings")
        .locator("tr", { hasText: "bot-2" })
        .first()
        .getByRole("link")
        .click();
      await page.waitForURL(`${origin}/inventory?q=${encodeURIComponent(BOT2_ID)}`);
      await page.locator(".grid-row", { hasText: "bot-2" }).first().waitFor();
    });
  },
);
