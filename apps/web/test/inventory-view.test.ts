/**
 * The inventory as an operator reads it, in both the API and the browser: the IP binding of every key,
 * Keyward's own keys marked, the label given at `account add` for a key the exchange lists without one
 * (the Bitfinex account's own key), and a view (filters, sort, selection) that survives a reload and can
 * be shared as a link.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { BFX_ACCOUNT, type Client, type Desk, KEYS, login, OKX_ACCOUNT, seed, startDesk } from "./helpers.js";

/** The name the Bitfinex account's key has on the simulator's page (Bitfinex's API does not return it). */
const GIVEN = KEYS.bfxAccount.label;

interface Row {
  id: string;
  account: string;
  apiKey: string;
  label: string;
  ip: string[];
  management: "api" | "manual";
  accountKey?: true;
  labelGiven?: true;
}

let desk: Desk;
let client: Client;

beforeAll(async () => {
  desk = await startDesk({}, (sim) => {
    const s = seed(sim);
    return {
      ...s,
      accounts: s.accounts.map((a) => (a.name === BFX_ACCOUNT ? { ...a, label: GIVEN } : a)),
    };
  });
  client = await login(desk.server);
});
afterAll(async () => {
  await desk?.close();
});

describe("GET /api/inventory and /api/accounts", () => {
  it("give each key's IP binding, mark Keyward's own keys, and show a label given at account add", async () => {
    const res = await client.get("/api/inventory");
    expect(res.status).toBe(200);
    const { keys } = res.json<{ keys: Row[] }>();
    const byKey = (apiKey: string, account: string) =>
      keys.find((k) => k.apiKey === apiKey && k.account === account);

    const bfxOwn = byKey(KEYS.bfxAccount.apiKey, BFX_ACCOUNT);
    expect(bfxOwn).toMatchObject({ label: GIVEN, labelGiven: true, accountKey: true });
    // A key the exchange names keeps the exchange's name and is not marked given.
    const okxOwn = byKey(KEYS.okxMaster.apiKey, OKX_ACCOUNT);
    expect(okxOwn).toMatchObject({ label: KEYS.okxMaster.label, accountKey: true });
    expect(okxOwn?.labelGiven).toBeUndefined();
    expect(byKey(KEYS.bot1.apiKey, OKX_ACCOUNT)).toMatchObject({ ip: ["10.0.0.1"] });
    expect(byKey(KEYS.bot1.apiKey, OKX_ACCOUNT)?.accountKey).toBeUndefined();

    const accounts = (await client.get("/api/accounts")).json<{
      accounts: { name: string; keyLabel: string | null }[];
    }>().accounts;
    expect(accounts.find((a) => a.name === BFX_ACCOUNT)?.keyLabel).toBe(GIVEN);
    expect(accounts.find((a) => a.name === OKX_ACCOUNT)?.keyLabel).toBeNull();
  });
});

describe.skipIf(!chromiumAvailable())(`in the browser (skipped only when ${CHROMIUM} is missing)`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("shows the IP column and Keyward's keys, keeps filters, sort and selection across a reload, and the Revoke page sees the selection", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(desk.server.loginUrl());
    expect(new URL(page.url()).pathname).toBe("/inventory");
    const count = page.getByTestId("shown-count");
    await count.filter({ hasText: /^\d+ of \d+ keys$/ }).waitFor();
    const total = Number(/of (\d+) keys/.exec((await count.textContent()) ?? "")?.[1]);

    // The IP binding as the CLI says it: the addresses, "any", or "n/a" where the exchange reports none.
    await page.getByRole("columnheader", { name: "IP binding" }).waitFor();
    const row = (text: string) => page.locator(".grid-row", { hasText: text });
    expect(await row("bot-1").locator(".col-ip").textContent()).toBe("10.0.0.1");
    expect(await row("bot-2").locator(".col-ip").textContent()).toBe("any");
    expect(await row(GIVEN).locator(".col-ip").textContent()).toBe("n/a");
    // Keyward's own keys carry the badge; the others do not. The given label is the Bitfinex key's name.
    await row(KEYS.okxMaster.label).locator(".badge.own-key", { hasText: "Keyward’s key" }).waitFor();
    await row(GIVEN).locator(".badge.own-key").waitFor();
    expect(await row("bot-1").locator(".badge.own-key").count()).toBe(0);
    // One pair of words: "by API" / "by a person".
    expect(await row("bot-1").locator(".col-management").textContent()).toBe("by API");
    expect(await row(GIVEN).locator(".col-management").textContent()).toBe("by a person");

    // Filters and sort go into the URL, and a reload (or a shared link) shows the same view.
    await page.getByLabel("Exchange", { exact: true }).selectOption("okx");
    await page.getByLabel("Search keys").fill("bot");
    await count.filter({ hasText: `3 of ${total} keys` }).waitFor();
    await page.getByRole("button", { name: "Label" }).click();
    await page.getByRole("button", { name: "Label ▲" }).click();
    await page.getByRole("button", { name: "Label ▼" }).waitFor();
    const labels = () => page.locator(".grid-row .col-label").allTextContents();
    expect(await labels()).toEqual(["bot-3", "bot-2", "bot-1"]);
    const url = new URL(page.url());
    expect(Object.fromEntries(url.searchParams)).toEqual({
      q: "bot",
      exchange: "okx",
      sort: "label",
      dir: "desc",
    });

    await page.reload();
    await count.filter({ hasText: `3 of ${total} keys` }).waitFor();
    expect(await page.getByLabel("Exchange", { exact: true }).inputValue()).toBe("okx");
    expect(await page.getByLabel("Search keys").inputValue()).toBe("bot");
    expect(await labels()).toEqual(["bot-3", "bot-2", "bot-1"]);

    // Back steps to the view before the last change (ascending), forward returns.
    await page.goBack();
    await page.getByRole("button", { name: "Label ▲" }).waitFor();
    expect(await labels()).toEqual(["bot-1", "bot-2", "bot-3"]);
    await page.goForward();
    await page.getByRole("button", { name: "Label ▼" }).waitFor();

    // Two keys selected survive a reload of the tab; the Revoke page plans exactly them.
    await page.getByLabel("Select bot-1").check();
    await page.getByLabel("Select bot-3").check();
    await page.getByText("2 selected").waitFor();
    await page.reload();
    await page.getByText("2 selected").waitFor();
    expect(await page.getByLabel("Select bot-1").isChecked()).toBe(true);
    expect(await page.getByLabel("Select bot-3").isChecked()).toBe(true);
    expect(await page.getByLabel("Select bot-2").isChecked()).toBe(false);
    await page.getByRole("button", { name: "Revoke selected (2)…" }).click();
    await page.getByRole("button", { name: "Review plan" }).click();
    const summary = page.getByTestId("plan-summary");
    await summary.waitFor();
    expect(await summary.textContent()).toMatch(/2 key\(s\): 2 by API, 0 by a person/);

    // The Accounts page shows the label given for the Bitfinex account's key.
    await page.getByRole("link", { name: "Accounts" }).click();
    const card = page.locator(`[data-account="${BFX_ACCOUNT}"]`);
    expect(await card.getByTestId("key-label").textContent()).toBe(GIVEN);
    expect(await page.locator(`[data-account="${OKX_ACCOUNT}"]`).getByTestId("key-label").count()).toBe(0);
    await context.close();
  }, 90_000);
});
