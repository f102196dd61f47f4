/**
 * The audit page as an operator uses it: the API filters and pages in the store (account, area, key,
 * times; total and next; a bad parameter is a 400 naming it), gives each entry core's words (a key as
 * label · account/sub · short key, an unproven revoke as "unverified (probe inconclusive)"); and in
 * Chromium a person sets a filter, sees it in the URL, reloads to the same rows, pages to older ones,
 * goes back, and opens an entry's raw JSON. No secret in any answer.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import { type Client, type Desk, KEYS, leaks, login, OKX_ACCOUNT, received, startDesk } from "./helpers.js";

interface AuditAnswer {
  entries: {
    seq: number;
    action: string;
    subject: string;
    view: { subject: { text: string; kind: string }; outcome: { word: string; tone: string } };
  }[];
  total: number;
  more: boolean;
  next: number | null;
  chain: { ok: boolean };
}

const BOT1_ID = `okx:${OKX_ACCOUNT}:deskBots01:${KEYS.bot1.apiKey}`;
const short = (k: string) => `${k.slice(0, 4)}…${k.slice(-4)}`;

let desk: Desk;
let client: Client;
beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
  // Entries about a key, written through the home's own audit writer as the engines write them: a
  // request naming the key and its label, then an unproven outcome, 60 in all (more than a page).
  const audit = desk.home.audit();
  await audit.append("revoke.requested", "revoke", {
    keys: [BOT1_ID],
    labels: { [BOT1_ID]: "bot-1" },
    byApi: 1,
    byPerson: 0,
  });
  for (let i = 0; i < 59; i++) {
    await audit.append("revoke.unverified", BOT1_ID, {
      evidence: [`listing: gone (${i})`, "probe: inconclusive, timeout (no answer in 5 s)"],
    });
  }
}, 120_000);
afterAll(async () => {
  await desk?.close();
});

describe("the audit API", () => {
  it("filters by account, area and key in the store, pages newest first with a total, in words", async () => {
    const page = (
      await client.get(`/api/audit?account=${OKX_ACCOUNT}&action=revoke&limit=25`)
    ).json<AuditAnswer>();
    expect(page.total).toBe(60);
    expect(page.entries).toHaveLength(25);
    expect(page.more).toBe(true);
    const unverified = page.entries[0];
    expect(unverified?.action).toBe("revoke.unverified");
    expect(unverified?.view.subject.text).toBe(
      `bot-1 · ${OKX_ACCOUNT}/deskBots01 · ${short(KEYS.bot1.apiKey)}`,
    );
    expect(unverified?.view.outcome).toEqual({ word: "unverified (probe inconclusive)", tone: "warn" });

    const last = (
      await client.get(`/api/audit?account=${OKX_ACCOUNT}&action=revoke&limit=25&beforeSeq=${page.next}`)
    ).json<AuditAnswer>();
    const lastPage = (
      await client.get(`/api/audit?account=${OKX_ACCOUNT}&action=revoke&limit=25&beforeSeq=${last.next}`)
    ).json<AuditAnswer>();
    expect(lastPage.next).toBeNull();
    expect(lastPage.entries.at(-1)).toMatchObject({
      action: "revoke.requested",
      view: { subject: { kind: "run" } },
    });
    const seqs = [...page.entries, ...last.entries, ...lastPage.entries].map((e) => e.seq);
    expect(new Set(seqs).size).toBe(60);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));

    // By API key, the tracked Bitfinex key's entry names it by its label; an account by its exchange.
    const tracked = (await client.get(`/api/audit?key=${KEYS.bfxMm.apiKey}`)).json<AuditAnswer>();
    expect(tracked.entries.map((e) => e.action)).toEqual(["key.tracked"]);
    expect(tracked.entries[0]?.view.subject.text).toMatch(/^bfx-mm · /);
    const accounts = (await client.get("/api/audit?action=account.added&search=okx")).json<AuditAnswer>();
    expect(accounts.entries.map((e) => e.view.subject.text)).toContain(`${OKX_ACCOUNT} (okx)`);
    expect(leaks(received)).toEqual([]);
  });

  it("answers 400 naming a parameter that is not a time, an exchange or a number", async () => {
    for (const [query, named] of [
      ["since=last%20tuesday", /since/],
      ["exchange=mtgox", /exchange/],
      ["limit=0", /limit/],
      ["beforeSeq=x", /beforeSeq/],
      ["colour=red", /colour/],
    ] as const) {
      const res = await client.get(`/api/audit?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body, query).toMatch(named);
    }
  });
});

describe.skipIf(!chromiumAvailable())(`the audit page in the browser (${CHROMIUM})`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("keeps its filters in the URL through a reload, pages to older entries, goes back, shows raw JSON", async () => {
    const origin = desk.server.origin;
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(desk.server.loginUrl());
    await page.goto(`${origin}/audit`);
    await page.getByTestId("chain-status").filter({ hasText: "Chain intact" }).waitFor();

    // A filter, set as a person does: typed, then Filter.
    await page.getByLabel("Account").fill(OKX_ACCOUNT);
    await page.getByLabel("Action").fill("revoke");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(`${origin}/audit?action=revoke&account=${OKX_ACCOUNT}`);
    const count = page.getByTestId("audit-count");
    await count.filter({ hasText: "50 of 60 matching entries shown" }).waitFor();
    const subjects = page.getByTestId("subject");
    expect(await subjects.first().textContent()).toContain(`bot-1 · ${OKX_ACCOUNT}/deskBots01 · `);
    expect(await page.getByTestId("outcome").first().textContent()).toBe("unverified (probe inconclusive)");
    const firstSeq = await page.locator("tr[data-seq]").first().getAttribute("data-seq");

    // A reload keeps the filter, the form and the rows.
    await page.reload();
    await count.filter({ hasText: "50 of 60 matching entries shown" }).waitFor();
    expect(await page.getByLabel("Account").inputValue()).toBe(OKX_ACCOUNT);
    expect(await page.locator("tr[data-seq]").first().getAttribute("data-seq")).toBe(firstSeq);

    // Older entries: the last ten, ending with the request, and the page is in the URL too.
    await page.getByRole("button", { name: "Older entries" }).click();
    await count.filter({ hasText: /^10 of 60 matching entries shown \(older than #\d+\)/ }).waitFor();
    expect(page.url()).toMatch(/beforeSeq=\d+/);
    await page.locator("tr[data-seq]", { hasText: "revoke.requested" }).waitFor();

    // Back: the newest page again.
    await page.goBack();
    await count.filter({ hasText: "50 of 60 matching entries shown" }).waitFor();
    expect(await page.locator("tr[data-seq]").first().getAttribute("data-seq")).toBe(firstSeq);

    // One entry's raw JSON, and back to its fields.
    const row = page.locator("tr[data-seq]").first();
    await row.getByRole("button", { name: "Raw JSON" }).click();
    const raw = JSON.parse((await row.getByTestId("raw-json").textContent()) ?? "{}") as { subject?: string };
    expect(raw.subject).toBe(BOT1_ID);
    await row.getByRole("button", { name: "Fields" }).click();
    await row.getByText("probe: inconclusive, timeout (no answer in 5 s)").first().waitFor();
    await context.close();
  }, 120_000);
});
