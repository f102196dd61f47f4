/**
 * One outcome vocabulary, in Chromium: a revoke of three keys where one OKX delete is hollow (the exchange
 * answers "done", the key stays listed: unverified), the other is proven dead (verified) and the Bitfinex
 * key waits for a person. The revoke-job page and the audit page give each key the same word, from core's
 * table (domain/outcome-words.ts); the unproven key reads "unverified" on both, never "verified".
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { type Desk, startDesk } from "./helpers.js";

const haveChromium = chromiumAvailable();

describe.skipIf(!haveChromium)(`outcome words (in ${CHROMIUM})`, () => {
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

  it("the revoke-job page and the audit page say verified, unverified and waiting for a person alike", async () => {
    const res = await fetch(`${desk.sim.control}/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ exchange: "okx", hollowDeletes: 1 }),
    });
    expect(res.status).toBe(200);
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(desk.server.loginUrl());
      await page
        .getByTestId("shown-count")
        .filter({ hasText: /^\d+ of \d+ keys$/ })
        .waitFor();
      const labels = ["bot-1", "bot-2", "bfx-mm"];
      const search = page.getByLabel("Search keys");
      for (const label of labels) {
        await search.fill(label);
        await page.getByLabel(`Select ${label}`).check();
      }
      await search.fill("");
      await page.getByRole("button", { name: "Revoke selected (3)…" }).click();
      await page.getByRole("button", { name: "Review plan" }).click();
      await page.getByLabel("Type the number of keys to confirm").fill("3");
      await page.getByRole("button", { name: "Revoke 3 keys" }).click();

      // The job page: both OKX keys done (their proof known), the Bitfinex key waiting for a person.
      const row = (label: string) => page.locator("table.results tbody tr", { hasText: label });
      const outcome = (label: string) => row(label).locator("td").first();
      for (const label of ["bot-1", "bot-2"]) {
        await outcome(label)
          .filter({ hasText: /^revoked, (verified|unverified)/ })
          .waitFor();
      }
      await outcome("bfx-mm")
        .filter({ hasText: /^waiting for a person$/ })
        .waitFor();
      const job = new Map<string, string>();
      for (const label of labels) job.set(label, (await outcome(label).textContent()) ?? "");
      const proofs = ["bot-1", "bot-2"].map((l) => job.get(l)?.replace(/^revoked, /, "")).sort();
      expect(proofs.map((p) => p?.replace(/ \(.*\)$/, ""))).toEqual(["unverified", "verified"]);

      // The audit page, the same keys' entries: the same words.
      await page.getByRole("link", { name: "Audit log", exact: true }).click();
      await page.getByTestId("chain-status").filter({ hasText: "Chain intact" }).waitFor();
      const entry = (label: string, action: string) =>
        page
          .locator("tr[data-seq]", { hasText: action })
          .filter({ hasText: `${label} · ` })
          .getByTestId("outcome");
      for (const label of ["bot-1", "bot-2"]) {
        const proof = job.get(label)?.replace(/^revoked, /, "") ?? "";
        const action = proof.startsWith("unverified") ? "revoke.unverified" : "revoke.verified";
        expect(await entry(label, action).first().textContent(), label).toBe(proof);
      }
      expect(await entry("bfx-mm", "revoke.manual-steps").first().textContent()).toBe(job.get("bfx-mm"));
      expect(await page.locator("body").textContent()).not.toMatch(/awaiting a person/);
    } finally {
      await context.close();
    }
  }, 120_000);
});
