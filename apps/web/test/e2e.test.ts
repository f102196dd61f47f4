/**
 * The browser, end to end: playwright-core drives Debian's Chromium (/usr/bin/chromium, no browser
 * download) against the server started in-process. A person logs in from the printed URL, sees the
 * inventory (Bybit's keys beside OKX's and Bitfinex's), revokes two keys (an OKX sub-account key by API; a tracked Bitfinex key whose manual step
 * the test performs on the simulator's HTML page), sees both proven dead, and checks the audit log; then
 * rotates an OKX sub-account key from the Rotate page and sees it finish.
 * The suite also saves the README's screenshots of every page of the demo desk (screenshots.ts) to
 * docs/screenshots/<page>.png, and runs `npm run demo` as the README says (the built
 * dist/server/demo.js) and opens every page it serves.
 * Without Chromium every suite here is skipped, and one line says so (perf/chromium.ts).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadDemoScenario, plantDemoLeak, startSimulator } from "@keyward/simulator";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, inChromium, launchChromium, serving } from "../perf/chromium.js";
import { DEMO_PASSPHRASE, demoSeed } from "../src/server/demo-seed.js";
import { setupHome, startWebServer } from "../src/server/index.js";
import { BYBIT_ACCOUNT, CANARIES, type Desk, KEYS, startDesk, statuses, UI_DIR, waitFor } from "./helpers.js";
import { SCREENSHOT_VIEWPORT, saveScreenshot, screenshotPath } from "./screenshots.js";

const SCREENSHOT = fileURLToPath(new URL("../../../docs/screenshots/inventory.png", import.meta.url));
const haveChromium = chromiumAvailable();

/** Collects what the page received from the Keyward server (not the event stream, not redirects) and its console errors. */
function watch(page: Page, origin: string) {
  const bodies: { url: string; body: string }[] = [];
  const pending: Promise<void>[] = [];
  const consoleErrors: string[] = [];
  page.on("response", (res) => {
    if (!res.url().startsWith(origin) || (res.headers()["content-type"] ?? "").includes("event-stream"))
      return;
    // A redirect has no body (the login's 303); asking for one can wait forever.
    if (res.status() >= 300 && res.status() < 400) return;
    pending.push(
      res.text().then(
        (body) => void bodies.push({ url: res.url(), body }),
        () => {},
      ),
    );
  });
  page.on("console", (msg) => {
    if (msg.type() === "error") consoleErrors.push(msg.text());
  });
  return {
    consoleErrors,
    async bodies() {
      await Promise.all(pending);
      return bodies;
    },
  };
}

describe.skipIf(!haveChromium)(
  `in the browser (skipped only when ${CHROMIUM} is missing; CI installs it)`,
  () => {
    let browser: Browser;
    let desk: Desk;

    beforeAll(async () => {
      [browser, desk] = await Promise.all([
        launchChromium(),
        startDesk({ manual: { pollMs: 1000, timeoutMs: 120_000 } }),
      ]);
    });
    afterAll(async () => {
      await browser?.close();
      await desk?.close();
    });

    it("logs in from the printed URL, revokes an OKX key by API and a Bitfinex key by hand, and sees both proven dead", async () => {
      const origin = desk.server.origin;
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      const seen = watch(page, origin);

      // 1. Log in with the URL the server printed; the token leaves the address bar.
      const printed = desk.printed.map((l) => l.trim()).find((l) => l.startsWith(`${origin}/login?token=`));
      expect(printed).toBeDefined();
      await page.goto(printed as string);
      expect(page.url()).toBe(`${origin}/inventory`);
      expect(await page.evaluate(() => document.cookie)).toBe(""); // HttpOnly: not readable by scripts
      // The session's secret came in the redirect's fragment, now in this tab's sessionStorage only,
      // and gone from the address bar; without it even a same-origin request with the cookie is refused.
      expect(await page.evaluate(() => sessionStorage.getItem("keyward.session"))).toMatch(
        /^[A-Za-z0-9_-]{43}$/,
      );
      expect(
        await page.evaluate(() =>
          // The body is read, so the page's response log (watch) sees it complete.
          fetch("/api/inventory", { credentials: "same-origin" }).then(async (r) => {
            await r.text();
            return r.status;
          }),
        ),
      ).toBe(401);

      // 2. The inventory: every key, counts, risk badges.
      const count = page.getByTestId("shown-count");
      await count.filter({ hasText: /^\d+ of \d+ keys$/ }).waitFor();
      const total = Number(/of (\d+) keys/.exec((await count.textContent()) ?? "")?.[1]);
      expect(total).toBeGreaterThanOrEqual(7);
      expect(await page.getByTestId("count-exchange-okx").textContent()).toMatch(/\d+\s*okx/);
      expect(await page.getByTestId("count-risk-withdraw").textContent()).toMatch(/1\s*withdraw/);
      await page.locator(".grid-row", { hasText: "bot-2" }).locator(".risk-no-ip").waitFor();
      // Bybit beside OKX and Bitfinex: its count, and its own risk on the key near its 90-day expiry.
      expect(await page.getByTestId("count-exchange-bybit").textContent()).toMatch(/4\s*bybit/);
      await page.locator(".grid-row", { hasText: "scalp-2" }).locator(".risk-bybit-expires-soon").waitFor();
      // Beside the flag, the time left (made 80 days ago: 9 whole days), the full date in its title.
      const expiry = page.locator(".grid-row", { hasText: "scalp-2" }).locator(".expiry");
      expect(await expiry.textContent()).toBe("expires in 9 d");
      expect(await expiry.getAttribute("title")).toMatch(/^expires \S/);
      expect(await page.locator(".grid-row", { hasText: "scalp-1" }).locator(".expiry").count()).toBe(0);

      // 3. Select one OKX sub-account key and the tracked Bitfinex key, through search.
      const search = page.getByLabel("Search keys");
      await search.fill("bot-1");
      await count.filter({ hasText: `1 of ${total} keys` }).waitFor();
      await page.getByLabel("Select bot-1").check();
      await search.fill("bfx-mm");
      await count.filter({ hasText: `1 of ${total} keys` }).waitFor();
      await page.getByLabel("Select bfx-mm").check();
      await search.fill("");
      await count.filter({ hasText: `${total} of ${total} keys` }).waitFor();
      await page.getByText("2 selected").waitFor();

      // 4. Review: one by API, one by a person; type 2 to confirm.
      await page.getByRole("button", { name: "Revoke selected (2)…" }).click();
      expect(page.url()).toBe(`${origin}/revoke`);
      await page.getByRole("button", { name: "Review plan" }).click();
      const summary = page.getByTestId("plan-summary");
      await summary.waitFor();
      expect(await summary.textContent()).toMatch(/2 key\(s\): 1 by API, 1 by a person/);
      const go = page.getByRole("button", { name: "Revoke 2 keys" });
      expect(await go.isDisabled()).toBe(true);
      await page.getByLabel("Type the number of keys to confirm").fill("3");
      expect(await go.isDisabled()).toBe(true);
      await page.getByLabel("Type the number of keys to confirm").fill("2");
      await go.click();

      // 5. Live progress: the OKX key is revoked by API and proven dead; the Bitfinex key gets a checklist.
      const bot1Id = `okx:desk-okx:deskBots01:${KEYS.bot1.apiKey}`;
      await page
        .locator(`tr[data-key-id="${bot1Id}"] [data-testid="verified"]`, { hasText: "yes" })
        .waitFor();
      const item = page.locator(".checklist li[data-key-id]", { hasText: "bfx-mm" });
      await item.waitFor();
      await page.getByTestId("job-status").filter({ hasText: "waiting for manual steps" }).waitFor();
      expect(statuses(await desk.state()).get(KEYS.bot1.apiKey)).toBe("revoked");

      // "Verify now" before the step: the key still works, and the page says what to do.
      await item.getByRole("button", { name: "Verify now" }).click();
      await item.getByText(/Still alive: the exchange still accepts this key/).waitFor();

      // 6. The manual step, as a person does it on the exchange's page the checklist links to.
      const href = await item.getByRole("link").getAttribute("href");
      expect(href).toBe(`${desk.sim.bitfinex}/api`);
      const exchange = await context.newPage();
      await exchange.goto(href as string);
      await exchange
        .locator(`tr[data-api-key="${KEYS.bfxMm.apiKey}"]`)
        .getByRole("link", { name: "Revoke" })
        .click();
      await exchange.locator("#confirm-revoke").click();
      await exchange.getByText("API key revoked.").waitFor();
      await exchange.close();

      // 7. Keyward proves it dead; both keys are verified.
      await item.getByTestId("manual-status").filter({ hasText: "proven dead" }).waitFor();
      await page.getByTestId("job-status").filter({ hasText: "finished" }).waitFor();
      expect(await page.getByTestId("job-summary").textContent()).toMatch(/^2 of 2 proven dead/);
      const bfxId = `bitfinex:desk-bfx:-:${KEYS.bfxMm.apiKey}`;
      expect(await page.locator(`tr[data-key-id="${bfxId}"] [data-testid="verified"]`).textContent()).toBe(
        "yes",
      );
      const world = statuses(await desk.state());
      expect([world.get(KEYS.bot1.apiKey), world.get(KEYS.bfxMm.apiKey)]).toEqual(["revoked", "revoked"]);
      await page.screenshot({ path: join(tmpdir(), "keyward-web-revoke.png"), fullPage: true });

      // 8. The audit log shows the run, and its chain is intact.
      await page.getByRole("link", { name: "Audit log" }).click();
      await page.getByTestId("chain-status").filter({ hasText: "Chain intact" }).waitFor();
      await page.getByRole("cell", { name: "revoke.verified" }).first().waitFor();

      // 9. Accounts: health, permissions and warnings.
      await page.getByRole("link", { name: "Accounts" }).click();
      await page.locator('[data-account="desk-okx"] [data-testid="health"]', { hasText: "alive" }).waitFor();

      // Nothing the page received carried a secret; the CSP was never violated.
      const bodies = await seen.bodies();
      expect(bodies.length).toBeGreaterThan(5);
      for (const { url, body } of bodies) for (const c of CANARIES) expect(body.includes(c), url).toBe(false);
      expect(seen.consoleErrors.filter((e) => /Content Security Policy|Refused to/i.test(e))).toEqual([]);
      await context.close();
    });

    it("rotates an OKX sub-account key from the Rotate page and sees it finish", async () => {
      const dir = mkdtempSync(join(tmpdir(), "keyward-web-e2e-rotate-"));
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        await page.goto(desk.server.loginUrl());
        const count = page.getByTestId("shown-count");
        await count.filter({ hasText: /^\d+ of \d+ keys$/ }).waitFor();
        await page.getByLabel("Search keys").fill("bot-2");
        await count.filter({ hasText: /^1 of/ }).waitFor();
        await page.getByLabel("Select bot-2").check();
        await page.getByRole("button", { name: "Rotate selected (1)…" }).click();
        expect(page.url()).toBe(`${desk.server.origin}/rotate`);
        await page.getByLabel("Delivery targets").fill(`dotenv:${dir}/{label}.env`);
        await page.getByLabel("Grace seconds").fill("0");
        await page.getByRole("button", { name: "Review rotation plan" }).click();
        await page
          .getByTestId("rotation-summary")
          .filter({ hasText: "1 key(s) to rotate: 1 by API" })
          .waitFor();
        await page.getByLabel("Type the number of keys to rotate").fill("1");
        await page.getByRole("button", { name: "Rotate 1 key" }).click();
        await page
          .getByTestId("rotation-state")
          .filter({ hasText: /^finished/ })
          .waitFor({ timeout: 40_000 });
        expect(await page.getByTestId("slot-outcome").first().textContent()).toBe("finished");
        expect(await page.getByTestId("rotation-summary").textContent()).toMatch(/^1 of 1 rotated/);
        const env = readFileSync(join(dir, "bot-2.env"), "utf8");
        expect(env).toMatch(/API_KEY=/);
        expect(statuses(await desk.state()).get(KEYS.bot2.apiKey)).toBe("revoked");
        await page.screenshot({ path: join(tmpdir(), "keyward-web-rotate.png"), fullPage: true });
      } finally {
        await context.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("'Select the N shown' leaves out Keyward's own key revoked by API (Bybit's master), says so, and ticking it alone selects it", async () => {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(20_000);
        await page.goto(desk.server.loginUrl());
        const count = page.getByTestId("shown-count");
        await count.filter({ hasText: /^\d+ of \d+ keys$/ }).waitFor();
        await page.getByLabel("Account").selectOption(BYBIT_ACCOUNT);
        await count.filter({ hasText: /^4 of/ }).waitFor();
        const note = page.getByTestId("own-keys-note");
        expect(await note.textContent()).toMatch(
          /Left out: Keyward’s own key for desk-bybit \(bybit-master\).*Tick it on its own/,
        );
        await page.getByRole("button", { name: "Select the 3 shown" }).click();
        await page.getByText("3 selected").waitFor();
        expect(await page.getByLabel("Select bybit-master").isChecked()).toBe(false);
        for (const label of ["scalp-1", "scalp-2", "by-reader"]) {
          expect(await page.getByLabel(`Select ${label}`).isChecked()).toBe(true);
        }
        // Ticked on its own, it is a deliberate choice: selected, and the plan names it (planned last).
        await page.getByLabel("Select bybit-master").check();
        await page.getByText("4 selected").waitFor();
        await page.getByRole("button", { name: "Revoke selected (4)…" }).click();
        await page.getByRole("button", { name: "Review plan" }).click();
        expect(await page.getByTestId("plan-summary").textContent()).toMatch(/4 key\(s\): 4 by API/);
        expect(statuses(await desk.state()).get(KEYS.bybitMaster.apiKey)).toBe("active");
      } finally {
        await context.close();
      }
    });

    it("a page on another origin cannot read the API or use the session", async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const url = new URL(desk.server.loginUrl());
      await page.goto(url.href);
      // The simulator's page stands in for any other site open in the same browser.
      await page.goto(`${desk.sim.bitfinex}/api`);
      const result = await page.evaluate(async (origin) => {
        const out: string[] = [];
        try {
          const res = await fetch(`${origin}/api/inventory`, { credentials: "include" });
          out.push(`read:${res.status}`);
        } catch {
          out.push("read:blocked");
        }
        try {
          const res = await fetch(`${origin}/api/revoke/plan`, {
            method: "POST",
            credentials: "include",
            mode: "no-cors",
            headers: { "content-type": "text/plain" },
            body: JSON.stringify({ all: true }),
          });
          out.push(`write:${res.type}`);
        } catch {
          out.push("write:blocked");
        }
        return out;
      }, desk.server.origin);
      // CORS hides the answer. The POST is blocked by the browser or, if sent, goes without the
      // SameSite=Strict cookie and with a foreign Origin, which the server refuses (security.test.ts).
      expect(result[0]).toBe("read:blocked");
      expect(["write:blocked", "write:opaque"]).toContain(result[1]);
      await context.close();
    });
  },
);

describe.skipIf(!haveChromium)("the README screenshots", () => {
  it("saves every page of the demo desk to docs/screenshots/<page>.png (inventory, scan, revoke plan, finished revoke, rotate, audit, accounts, check, new key)", async ({
    onTestFinished,
  }) => {
    const scenario = loadDemoScenario();
    const sim = await startSimulator({ scenario, rateScale: 0.05 });
    await inChromium(sim, "keyward-web-shot-", async (browser, dir) => {
      await (
        await setupHome(dir, {
          ...demoSeed(scenario, sim),
          workFactor: 10,
        })
      ).close();
      // The demo's leaked bot server, as `npm run demo` plants it (beside the home), for the Scan page.
      const leakDir = mkdtempSync(join(tmpdir(), "keyward-web-shot-leak-"));
      onTestFinished(() => rmSync(leakDir, { recursive: true, force: true }));
      const leak = plantDemoLeak(leakDir, scenario);
      const start = (home: Parameters<typeof startWebServer>[0]["home"]) =>
        startWebServer({ home, port: 0, uiDir: UI_DIR, print: () => {}, scanDefaultPath: leak.folder });
      await serving(dir, { passphrase: DEMO_PASSPHRASE, actor: "web:demo" }, start, async (server) => {
        await server.ready;
        const page = await browser.newPage({ viewport: SCREENSHOT_VIEWPORT });
        page.setDefaultTimeout(20_000);
        await page.goto(server.loginUrl());
        const count = page.getByTestId("shown-count");
        await count.filter({ hasText: /^\d+ of \d+ keys$/ }).waitFor();
        // Two keys near the top of the risk-sorted list (rows out of view are not rendered): the
        // withdraw-capable keys of Bitfinex and Bybit.
        await page.getByLabel("Select alpha-treasury-bfx").check();
        await page.getByLabel("Select gamma-treasury").check();
        expect(existsSync(await saveScreenshot(page, "inventory"))).toBe(true);
        expect(SCREENSHOT).toBe(screenshotPath("inventory"));

        // Scan: the demo's leaked folder (the path is filled in), its live key and unknown key found.
        await page.getByRole("link", { name: "Scan", exact: true }).click();
        // The field is filled once the page has asked the server for its default path: wait for it.
        await expect.poll(() => page.getByLabel("Path to scan").inputValue()).toBe(leak.folder);
        await page.getByRole("button", { name: "Start scan" }).click();
        // The demo's headline: the live key leaked with its secret, so it is ticked and the button enabled.
        const revokeThese = page.getByRole("button", { name: "Revoke these (1 known key)" });
        await revokeThese.waitFor();
        expect(await revokeThese.isEnabled()).toBe(true);
        // Named as the report names it: the key redacted (first and last four), never in full.
        const shown = `${leak.known.apiKey.slice(0, 4)}…${leak.known.apiKey.slice(-4)}`;
        expect(await page.getByRole("checkbox", { name: new RegExp(shown) }).isChecked()).toBe(true);
        expect(await page.getByTestId("scan-revocable").textContent()).not.toContain(leak.known.apiKey);
        await saveScreenshot(page, "scan");
        await page.getByRole("link", { name: "Inventory", exact: true }).click();
        await count.filter({ hasText: /^\d+ of \d+ keys$/ }).waitFor();

        // The revoke plan of those two (one by a person, one by API), reviewed but not run.
        await page.getByRole("button", { name: "Revoke selected (2)…" }).click();
        await page.getByRole("button", { name: "Review plan" }).click();
        await page.getByTestId("plan-summary").waitFor();
        await saveScreenshot(page, "revoke-plan");

        // A finished revoke: two market-making sub-account keys, by API, proven dead.
        await page.getByRole("link", { name: "Inventory", exact: true }).click();
        await page.getByLabel("Select alpha-treasury-bfx").uncheck();
        await page.getByLabel("Select gamma-treasury").uncheck();
        const search = page.getByLabel("Search keys");
        for (const label of ["mm-bot-1", "mm-bot-2"]) {
          await search.fill(label);
          await page.getByLabel(`Select ${label}`).check();
        }
        await search.fill("");
        await page.getByRole("button", { name: "Revoke selected (2)…" }).click();
        await page.getByRole("button", { name: "Review plan" }).click();
        await page.getByLabel("Type the number of keys to confirm").fill("2");
        await page.getByRole("button", { name: "Revoke 2 keys" }).click();
        await page.getByTestId("job-status").filter({ hasText: "finished" }).waitFor();
        await page.getByTestId("job-title").filter({ hasText: "Revoked 2 keys" }).waitFor();
        await saveScreenshot(page, "revoke-done");

        // Rotate (one bot key selected, its plan form), the audit log, the accounts.
        await page.getByRole("button", { name: "Back to the inventory" }).click();
        await count.filter({ hasText: /^\d+ of \d+ keys$/ }).waitFor();
        await search.fill("arb-bot");
        await page.getByLabel("Select arb-bot").check();
        await search.fill("");
        await page.getByRole("button", { name: "Rotate selected (1)…" }).click();
        await page.getByRole("heading", { name: "Bulk rotation" }).waitFor();
        await saveScreenshot(page, "rotate");
        await page.getByRole("link", { name: "Audit log", exact: true }).click();
        await page.getByTestId("chain-status").filter({ hasText: "Chain intact" }).waitFor();
        await saveScreenshot(page, "audit");
        await page.getByRole("link", { name: "Accounts", exact: true }).click();
        await page.locator('[data-account="desk-alpha"] [data-testid="health-summary"]').waitFor();
        await saveScreenshot(page, "accounts");

        // Check: the demo desk breaks the default policy on purpose, so it says FAILED with its findings.
        await page.getByRole("link", { name: "Check", exact: true }).click();
        await page
          .getByTestId("check-summary")
          .filter({ hasText: /^FAILED: / })
          .waitFor();
        await saveScreenshot(page, "check");

        // New key: the form filled for a market-making key in an OKX sub-account (not sent).
        await page.getByRole("link", { name: "New key" }).click();
        await page.getByLabel("Account", { exact: true }).selectOption("desk-alpha");
        await page.getByLabel("Sub-account").fill("alphaMM01");
        await page.getByLabel("Label", { exact: true }).fill("mm-bot-3");
        await page.getByLabel("Permission trade").check();
        await page.getByLabel("IP addresses").fill("203.0.113.7");
        await page.getByLabel("Delivery targets").fill("dotenv:/srv/bots/mm-bot-3.env");
        await saveScreenshot(page, "new-key");
        for (const name of [
          "inventory",
          "scan",
          "revoke-plan",
          "revoke-done",
          "rotate",
          "audit",
          "accounts",
          "check",
          "new-key",
        ]) {
          expect(existsSync(screenshotPath(name)), name).toBe(true);
        }
      });
    });
  });
});

describe.skipIf(!haveChromium)("npm run demo", () => {
  it("serves every page with its real content: nothing is withheld as a secret", async ({
    onTestFinished,
  }) => {
    // Exactly what `npm run demo` runs (apps/web's `demo` script), on any free port.
    const script = fileURLToPath(new URL("../dist/server/demo.js", import.meta.url));
    const child = spawn(process.execPath, [script], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...process.env, KEYWARD_WEB_PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString("utf8");
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString("utf8");
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    onTestFinished(() => {
      // Passed, the demo was stopped with Ctrl-C and removed its home; failed, it is killed and its
      // throwaway home (named in its first lines) removed here.
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGKILL");
      const dir = /throwaway Keyward home in (\/\S+)/.exec(out)?.[1];
      if (dir?.includes("keyward-demo-")) rmSync(dir, { recursive: true, force: true });
      const leakDir = /folder sits at (\/\S+)\/leaky-server/.exec(out)?.[1];
      if (leakDir?.includes("keyward-demo-leak-")) rmSync(leakDir, { recursive: true, force: true });
    });
    const browser = await launchChromium();
    onTestFinished(() => browser.close());

    const url = await waitFor(
      "the demo's login URL",
      async () => /(http:\/\/127\.0\.0\.1:\d+\/login\?token=[A-Za-z0-9_-]+)/.exec(out)?.[1],
      45_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}; the demo printed:\n${out}`);
    });
    // The line that points the CLI at the same home (printed once the inventory is in); its
    // passphrase must be no word of that path (checked below).
    const home = await waitFor(
      "the demo's KEYWARD_HOME line",
      async () => /KEYWARD_HOME=(\S+) KEYWARD_PASSPHRASE=(\S+)/.exec(out) ?? undefined,
    );

    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(20_000);
    await page.goto(url);
    const origin = new URL(url).origin;
    // The first page either is the app or says what went wrong: it must not be the "withheld" error.
    await page.locator(".topbar, .login-needed, [role=alert]").first().waitFor();
    expect((await page.locator("body").textContent()) ?? "").not.toMatch(/withheld|this is a bug/i);
    const pages: [string, () => Promise<unknown>][] = [
      [
        "Inventory",
        () =>
          page
            .getByTestId("shown-count")
            .filter({ hasText: /^[1-9]\d* of \d+ keys$/ })
            .waitFor(),
      ],
      ["Revoke", () => page.getByRole("heading", { name: "Bulk revoke" }).waitFor()],
      ["Rotate", () => page.getByRole("heading", { name: "Bulk rotation" }).waitFor()],
      ["Audit log", () => page.getByTestId("chain-status").filter({ hasText: "Chain intact" }).waitFor()],
      [
        "Accounts",
        () =>
          page.locator('[data-account="desk-alpha"] [data-testid="health"]', { hasText: "alive" }).waitFor(),
      ],
      // The demo's leaked folder is planted and the Scan page's path field starts with it.
      [
        "Scan",
        async () => {
          await page.getByRole("heading", { name: "Scan for leaked keys" }).waitFor();
          // Filled once the page has asked the server for its default path: wait for it.
          await expect
            .poll(() => page.getByLabel("Path to scan").inputValue())
            .toMatch(/keyward-demo-.*\/leaky-server$/);
        },
      ],
    ];
    for (const [name, shown] of pages) {
      await page.getByRole("link", { name, exact: true }).click();
      await shown();
      const text = (await page.locator("body").textContent()) ?? "";
      expect(text, name).not.toMatch(/withheld|this is a bug/i);
      // The session loaded: the header names the demo's home.
      expect(text, name).toContain(home?.[1] ?? "?");
    }
    // Opened directly (a reload, a bookmark) in the same tab, each page works too.
    for (const path of ["/inventory", "/revoke", "/rotate", "/audit", "/accounts", "/scan"]) {
      await page.goto(`${origin}${path}`);
      await page.locator(".topbar").waitFor();
      expect((await page.locator("body").textContent()) ?? "", path).not.toMatch(
        /withheld|this is a bug|not logged in/i,
      );
    }
    expect(out).not.toMatch(/BUG: withheld/);
    expect(home?.[1]).toMatch(/keyward-demo-/);
    expect(home?.[1]).not.toContain(home?.[2]);
    expect(home?.[2]).toBe(DEMO_PASSPHRASE);
    // The demo's text names the leaked folder the Scan page starts with (beside the home, not in it).
    const leaked = /folder sits at (\/\S+\/leaky-server)/.exec(out)?.[1];
    expect(leaked).toMatch(/keyward-demo-leak-/);

    // Ctrl-C (SIGINT) stops the demo and deletes its throwaway home.
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(existsSync(home?.[1] ?? "/nonexistent")).toBe(false);
    expect(existsSync(leaked ?? "/nonexistent")).toBe(false);
  });
});
