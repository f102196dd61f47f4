/**
 * The Scan page in the browser (playwright-core, Debian's Chromium, as e2e.test.ts): a person types the
 * path of a folder on this machine that holds a live key's id (and ordinary files), starts the scan,
 * sees the finding with its account and label, clicks "Revoke these" and lands on the existing revoke
 * plan with exactly that key; confirmed, the key is revoked and proven dead. Nothing the page received
 * carries file content or a secret. Without Chromium the suite is skipped, as e2e.test.ts says.
 */

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuditQuerySchema, queryAudit } from "@keyward/core";
import { DEMO_UNKNOWN_LEAK } from "@keyward/simulator";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { CANARIES, type Desk, KEYS, OKX_ACCOUNT, startDesk, statuses } from "./helpers.js";

const FILE_CANARY = "CANARY-e2e-scan-file-line-5b20c4";

describe.skipIf(!chromiumAvailable())(
  `the Scan page in the browser (skipped only when ${CHROMIUM} is missing)`,
  () => {
    let browser: Browser;
    let desk: Desk;
    let folder: string;
    /** The path field's default (the demo's leaky folder in `keyward demo`): never another scan's label. */
    let defaultFolder: string;

    beforeAll(async () => {
      defaultFolder = mkdtempSync(join(tmpdir(), "keyward-e2e-scan-default-"));
      [browser, desk] = await Promise.all([launchChromium(), startDesk({ scanDefaultPath: defaultFolder })]);
      folder = mkdtempSync(join(tmpdir(), "keyward-e2e-scan-"));
      mkdirSync(join(folder, "deploy"), { recursive: true });
      writeFileSync(join(folder, "README.md"), `# trading bot\n\n${FILE_CANARY}\n`);
      writeFileSync(
        join(folder, "deploy", "bot.env"),
        `# ${FILE_CANARY}\nLOG_LEVEL=info\nEXCHANGE_API_KEY=${KEYS.bot1.apiKey}\n`,
      );
      // A hostile file name: U+202E would make "vne.tob" read as "bot.env" if the page drew it raw.
      writeFileSync(join(folder, "deploy", "\u202Evne.tob"), `EXCHANGE_API_KEY=${KEYS.bot1.apiKey}\n`);
    });
    afterAll(async () => {
      await browser?.close();
      await desk?.close();
      if (folder) rmSync(folder, { recursive: true, force: true });
      if (defaultFolder) rmSync(defaultFolder, { recursive: true, force: true });
    });

    it("types a folder, starts, sees the live key with account and label, and revokes exactly it from the plan", async () => {
      const origin = desk.server.origin;
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.setDefaultTimeout(30_000);
      const bodies: { url: string; body: Promise<string> }[] = [];
      page.on("response", (res) => {
        const type = res.headers()["content-type"] ?? "";
        if (res.url().startsWith(`${origin}/api/`) && !type.includes("event-stream"))
          bodies.push({ url: res.url(), body: res.text().catch(() => "") });
      });
      await page.goto(desk.server.loginUrl());
      await page.getByTestId("shown-count").waitFor();

      // The Scan page, from the navigation; its title like the other pages'.
      await page.getByRole("link", { name: "Scan", exact: true }).click();
      expect(page.url()).toBe(`${origin}/scan`);
      await page.getByRole("heading", { name: "Scan for leaked keys" }).waitFor();
      expect(await page.title()).toMatch(/Scan/);

      // A relative path is refused with the field named; the absolute one starts.
      const path = page.getByLabel("Path to scan");
      // With no scan yet, the field starts as the server's default.
      await expect.poll(() => path.inputValue()).toBe(defaultFolder);
      await path.fill("deploy");
      await page.getByRole("button", { name: "Start scan" }).click();
      const refused = page.getByRole("alert").filter({ hasText: "path: must be an absolute path" });
      await refused.waitFor();
      // The field as the form names it (not "body: path: …"), and what to type.
      expect(await refused.textContent()).not.toContain("body:");
      expect(await refused.textContent()).toContain("Type the full path of a folder or file");
      await path.fill(folder);
      // The verify box warns that it sends found keys to the exchange (left off here).
      await page.getByLabel("Verify unknown keys").check();
      await page
        .getByRole("alert")
        .filter({ hasText: /sends each unknown key/ })
        .waitFor();
      await page.getByLabel("Verify unknown keys").uncheck();
      await page.getByRole("button", { name: "Start scan" }).click();

      // The finding: a known key, its account, sub-account and label, redacted key, where it was found.
      const row = page.getByTestId("scan-findings").locator("tbody tr");
      await row.first().waitFor();
      expect(await row.count()).toBe(1);
      const text = (await row.first().textContent()) ?? "";
      expect(text).toContain("known key");
      expect(text).toContain(OKX_ACCOUNT);
      expect(text).toContain("bot-1");
      expect(text).toContain(`${KEYS.bot1.apiKey.slice(0, 4)}…${KEYS.bot1.apiKey.slice(-4)}`);
      expect(text).toContain("deploy/bot.env:3");
      // Paths from the scanned tree go through visibleText: the override is written out, not obeyed.
      expect(text).toContain("deploy/\\u{202e}vne.tob:1");
      expect(text).not.toContain("\u202E");
      expect(text).not.toContain(KEYS.bot1.apiKey);
      // The box names what was scanned and when (the time as the page's other times: toLocaleTimeString).
      const source = (await page.getByTestId("scan-source").textContent()) ?? "";
      expect(source.startsWith(`Scanned ${folder} at `), source).toBe(true);
      expect(source.slice(`Scanned ${folder} at `.length)).toMatch(/^\d{1,2}:\d{2}:\d{2}(\s[AP]M)?$/);

      // Found by its id alone (no secret): listed with why, NOT ticked; ticked by hand, "Revoke these" takes it.
      const why = page.getByTestId("scan-revocable").locator("li");
      expect(await why.count()).toBe(1);
      expect(await why.first().textContent()).toMatch(/key id found at .*\(\+1 more\), no secret with it/);
      const tick = why.first().getByRole("checkbox");
      expect(await tick.isChecked()).toBe(false);
      expect(await page.getByRole("button", { name: /^Revoke these \(0 known keys\)$/ }).isDisabled()).toBe(
        true,
      );
      await tick.check();
      // "Revoke these" → the revoke page, its plan reviewed for exactly that key.
      await page.getByRole("button", { name: /^Revoke these \(1 known key\)$/ }).click();
      expect(page.url()).toBe(`${origin}/revoke`);
      await page
        .getByTestId("plan-summary")
        .filter({ hasText: /^1 key\(s\): 1 by API, 0 by a person/ })
        .waitFor();
      const bot1Id = `okx:${OKX_ACCOUNT}:deskBots01:${KEYS.bot1.apiKey}`;
      const planRows = page.locator("section.plan tr[data-key-id]");
      // The plan row says why the scan put the key there.
      expect(await planRows.first().getByTestId("plan-why").textContent()).toMatch(
        /^key id found at .*, no secret with it$/,
      );
      expect(await planRows.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-key-id")))).toEqual([
        bot1Id,
      ]);

      // Confirmed as any revoke: revoked by API and proven dead.
      await page.getByLabel("Type the number of keys to confirm").fill("1");
      await page.getByRole("button", { name: "Revoke 1 key" }).click();
      await page.getByTestId("job-status").filter({ hasText: "finished" }).waitFor();
      expect(statuses(await desk.state()).get(KEYS.bot1.apiKey)).toBe("revoked");
      // The audit log ties the revoke to the scan that led to it.
      const last = async (action: string) =>
        (await queryAudit(desk.home.state(), AuditQuerySchema.parse({ action, limit: 1 }))).entries[0];
      const requested = await last("revoke.requested");
      const scanned = await last("scan.done");
      expect(requested?.details.cause).toEqual({ scan: scanned?.seq });

      // Back on the Scan page, the same scan shows the key as the revoke left it (the revoke's result,
      // not the scan's "may work"), and "Revoke these" has nothing left to offer, and says why.
      await page.getByRole("link", { name: "Scan", exact: true }).click();
      await page
        .getByTestId("scan-revoke-state")
        .filter({ hasText: /^revoked, verified$/ })
        .waitFor();
      const revokedRow = page.getByTestId("scan-findings").locator("tbody tr").first();
      expect(await revokedRow.locator(".badge.dead").textContent()).toBe("revoked");
      expect(await revokedRow.getAttribute("class")).not.toContain("live");
      expect(await page.getByRole("heading", { name: "1 finding, 0 that may still work" }).count()).toBe(1);
      expect(await page.getByRole("button", { name: /^Revoke these \(0 known keys\)$/ }).isDisabled()).toBe(
        true,
      );
      expect(await page.getByTestId("scan-revocable").count()).toBe(0);
      expect(await page.getByTestId("scan-nothing-to-revoke").textContent()).toMatch(
        /^Nothing left to revoke here: 1 known key this scan found was revoked since \(see State above\)/,
      );

      // Scanned again: the key is found dead (nothing to revoke), and the first scan is listed as earlier.
      await page.getByRole("link", { name: "Scan", exact: true }).click();
      await page.getByLabel("Path to scan").fill(folder);
      await page.getByRole("button", { name: "Start scan" }).click();
      await page.getByRole("heading", { name: "Earlier scans (since the server started)" }).waitFor();
      await page.getByTestId("scan-findings").locator("tbody tr .badge.dead").waitFor();
      expect(await page.getByRole("button", { name: /^Revoke these/ }).count()).toBe(0);
      expect(await page.locator(".panel", { hasText: "Earlier scans" }).locator("li").count()).toBe(2);

      // Reloaded, the page shows the latest scan under its own path, in the field and in the box, not
      // under the server's default path.
      await page.reload();
      await page.getByTestId("scan-findings").locator("tbody tr .badge.dead").waitFor();
      expect(await page.getByLabel("Path to scan").inputValue()).toBe(folder);
      expect(await page.getByTestId("scan-source").textContent()).toContain(`Scanned ${folder} at `);

      // Nothing the page received carried a file's content or a secret.
      const received = await Promise.all(bodies.map(async (b) => ({ url: b.url, body: await b.body })));
      expect(received.some((b) => b.url.includes("/api/scan"))).toBe(true);
      for (const { url, body } of received) {
        for (const canary of [FILE_CANARY, ...CANARIES]) expect(body.includes(canary), url).toBe(false);
      }
      await page.close();
    });

    it("names a history place's repository, says when no history was read, how to read a too-large file, and keeps the unknown-key guidance after the revoke", async ({
      onTestFinished,
    }) => {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      page.setDefaultTimeout(30_000);
      await page.goto(desk.server.loginUrl());
      await page.getByTestId("shown-count").waitFor();
      await page.getByRole("link", { name: "Scan", exact: true }).click();
      const path = page.getByLabel("Path to scan");
      const source = page.getByTestId("scan-source");

      // A repository whose history held a key id in deploy/arb.yml, scanned from its subfolder deploy/.
      const repo = mkdtempSync(join(tmpdir(), "keyward-e2e-scan-repo-"));
      onTestFinished(() => rmSync(repo, { recursive: true, force: true }));
      const git = (...args: string[]) =>
        execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: repo });
      git("init", "-q");
      mkdirSync(join(repo, "deploy"));
      writeFileSync(join(repo, "deploy", "arb.yml"), `venue: okx\napiKey: ${KEYS.bot2.apiKey}\n`);
      git("add", ".");
      git("commit", "-q", "-m", "add");
      writeFileSync(join(repo, "deploy", "arb.yml"), "venue: okx\n");
      git("commit", "-q", "-am", "remove the key");
      await path.fill(join(repo, "deploy"));
      await page.getByLabel("Git history").check();
      await page.getByRole("button", { name: "Start scan" }).click();
      await page.getByTestId("scan-findings").locator("tbody tr").first().waitFor();
      expect(await page.getByTestId("scan-findings").textContent()).toMatch(
        /commit [0-9a-f]{12}: deploy\/arb\.yml:2/,
      );
      expect(await page.getByTestId("scan-repository").textContent()).toContain(
        `paths from the top of the repository ${repo}`,
      );
      expect(await source.textContent()).toMatch(/^Scanned, with its git history, /);

      // A folder in no repository, scanned "with its git history": a live known key with a secret of its
      // exchange's shape beside it (Keyward does not hold this key's secret), an unknown key pair, and a
      // file over the size limit (sparse: nothing is written).
      const plain = mkdtempSync(join(tmpdir(), "keyward-e2e-scan-plain-"));
      onTestFinished(() => rmSync(plain, { recursive: true, force: true }));
      writeFileSync(
        join(plain, ".env"),
        [
          `OKX_API_KEY=${KEYS.bot2.apiKey}`,
          "OKX_API_SECRET=3F9C2A7E51B04D86A2C9E7F105B3D84A",
          `BYBIT_API_KEY=${DEMO_UNKNOWN_LEAK.apiKey}`,
          `BYBIT_API_SECRET=${DEMO_UNKNOWN_LEAK.secret}`,
          "",
        ].join("\n"),
      );
      writeFileSync(join(plain, "dump.log"), "");
      truncateSync(join(plain, "dump.log"), 65 * 1024 * 1024);
      await path.fill(plain);
      await page.getByRole("button", { name: "Start scan" }).click();
      await source.filter({ hasText: plain }).waitFor();
      // Not "Scanned, with its git history": none was read, and the line says so.
      expect(await source.textContent()).toMatch(
        new RegExp(`^Scanned ${plain} \\(no git history read: not in a repository`),
      );
      expect(await page.getByTestId("scan-repository").count()).toBe(0);
      // The too-large file is named (the warning) and the page says how to read it.
      expect(await page.getByTestId("scan-too-large").textContent()).toMatch(
        new RegExp(`type its full path \\(e\\.g\\. ${plain}/dump\\.log\\) in the path field`),
      );
      const guidance = page.getByTestId("scan-unknown-guidance");
      expect(await guidance.textContent()).toMatch(/^Unknown keys are not Keyward's to revoke/);

      // Its secret found, the known key is ticked; revoked from the plan, the scan is shown again.
      await page.getByRole("button", { name: /^Revoke these \(1 known key\)$/ }).click();
      await page
        .getByTestId("plan-summary")
        .filter({ hasText: /^1 key\(s\)/ })
        .waitFor();
      await page.getByLabel("Type the number of keys to confirm").fill("1");
      await page.getByRole("button", { name: "Revoke 1 key" }).click();
      await page.getByTestId("job-status").filter({ hasText: "finished" }).waitFor();
      expect(statuses(await desk.state()).get(KEYS.bot2.apiKey)).toBe("revoked");
      await page.getByRole("link", { name: "Scan", exact: true }).click();
      await page
        .getByTestId("scan-revoke-state")
        .filter({ hasText: /^revoked, verified$/ })
        .waitFor();
      // Nothing left for "Revoke these", but the unknown key may still work: its guidance stays.
      expect(await page.getByTestId("scan-revocable").count()).toBe(0);
      expect(await guidance.textContent()).toMatch(/revoke them on their exchange's site/);
      await page.close();
    });
  },
);
