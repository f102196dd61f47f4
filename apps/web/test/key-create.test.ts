/**
 * Issue 14, key creation from the web: POST /api/keys/create (core's key create, file targets only)
 * against the test desk's simulator, followed as a rotation run; and the "New key" page in Chromium,
 * filled and submitted like a person would, ending with the key created.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "dotenv";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM, chromiumAvailable, launchChromium } from "../perf/chromium.js";
import {
  type Client,
  type Desk,
  leaks,
  login,
  OKX_ACCOUNT,
  received,
  startDesk,
  waitFor,
} from "./helpers.js";

const SUB = "deskBots01";

let desk: Desk;
let client: Client;
let dir: string;

beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
  dir = mkdtempSync(join(tmpdir(), "keyward-web-create-"));
});
afterAll(async () => {
  await desk?.close();
  rmSync(dir, { recursive: true, force: true });
  expect(leaks()).toEqual([]);
});

const liveWithLabel = async (label: string) =>
  (await desk.state()).okx.accounts
    .flatMap((a) => a.subAccounts.flatMap((s) => s.keys))
    .filter((k) => k.label === label && k.status === "active");

const body = (label: string, extra: Record<string, unknown> = {}) => ({
  account: OKX_ACCOUNT,
  subAccount: SUB,
  label,
  permissions: ["read", "trade"],
  ip: ["127.0.0.1"],
  deliver: [`dotenv:${join(dir, `${label}.env`)}`],
  ...extra,
});

const finished = (runId: string) =>
  waitFor(
    `run ${runId} to finish`,
    async () => {
      const run = (await client.get(`/api/rotation/runs/${runId}`)).json<{
        state: string;
        running: boolean;
      }>();
      return run.state !== "active" && !run.running ? run : undefined;
    },
    60_000,
  );

describe("POST /api/keys/create", () => {
  it("creates an OKX sub-account key, delivers it to the file, and never answers with its secret", async () => {
    const res = await client.post("/api/keys/create", body("web-new-1"));
    expect(res.status, res.body).toBe(202);
    const { runId } = res.json<{ runId: string }>();
    expect((await finished(runId)).state).toBe("finished");
    const live = await liveWithLabel("web-new-1");
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ perm: "read_only,trade", ip: "127.0.0.1" });
    const env = parse(readFileSync(join(dir, "web-new-1.env"), "utf8"));
    expect(env.API_KEY).toBe(live[0]?.apiKey);
    expect(env.API_SECRET?.length).toBeGreaterThan(8);
    // No answer of the server carried the new secret.
    expect(received.filter((r) => r.body.includes(env.API_SECRET ?? "-"))).toEqual([]);
  });

  it("refuses programs, withdraw without consent, a trade key without IPs and a person-created kind, with no request to the exchange", async () => {
    const before = (await (await fetch(`${desk.sim.control}/requests`)).json()) as unknown[];
    const cases: [Record<string, unknown>, RegExp][] = [
      [body("w1", { deliver: ["exec:/usr/bin/touch /tmp/pwned"] }), /not allowed from the browser/],
      [body("w2", { permissions: ["read", "withdraw"] }), /withdraw/],
      [body("w3", { ip: [] }), /IP binding/],
      [body("w4", { subAccount: null }), /only by a person/],
      [body("w5", { showSecretOnce: true }), /showSecretOnce/],
      // The server's working directory means nothing to the person: a relative path is refused.
      [body("w6", { deliver: ["dotenv:relative.env"] }), /relative path; give the full path/],
    ];
    for (const [input, message] of cases) {
      const res = await client.post("/api/keys/create", input);
      expect(res.status, res.body).toBe(400);
      expect(res.body).toMatch(message);
    }
    const after = (await (await fetch(`${desk.sim.control}/requests`)).json()) as {
      method: string;
      path: string;
    }[];
    // No write reached the exchange. Reads are not counted: the run of a test before may still be
    // reading (the listing after its finish) while these refusals are made, which made a count flaky.
    expect(after.slice(before.length).filter((r) => r.method !== "GET")).toEqual([]);
  });
});

describe("POST /api/keys/create, a key bound to IPs other than this machine's", () => {
  it("is verified by the exchange's listing, and the run says so, not plain verified", async () => {
    const res = await client.post("/api/keys/create", body("web-far-1", { ip: ["203.0.113.7"] }));
    expect(res.status, res.body).toBe(202);
    const { runId } = res.json<{ runId: string }>();
    expect((await finished(runId)).state).toBe("finished");
    const run = (await client.get(`/api/rotation/runs/${runId}`)).json<{
      slots: { evidence: string[] }[];
    }>();
    const evidence = run.slots[0]?.evidence.join("\n") ?? "";
    expect(evidence).toContain(
      "new key verified by the exchange's listing (probe inconclusive: not whitelisted for this IP)",
    );
    expect(evidence).not.toMatch(/new key verified:/);
    expect(await liveWithLabel("web-far-1")).toHaveLength(1);
  });
});

describe("POST /api/keys/create, as every state-changing route", () => {
  it("is refused with a forged or missing Origin (403) and without the session's secret (401); nothing is created", async () => {
    const before = (await (await fetch(`${desk.sim.control}/requests`)).json()) as unknown[];
    for (const origin of ["http://evil.example", "null", undefined]) {
      const res = await client.post("/api/keys/create", body("csrf-1"), { headers: { origin } });
      expect(res.status, `from ${origin}`).toBe(403);
      expect(res.json<{ error: { code: string } }>().error.code).toBe("FORBIDDEN_ORIGIN");
    }
    for (const secret of [undefined, "wrong"]) {
      const res = await client.post("/api/keys/create", body("csrf-2"), {
        headers: { "x-keyward-session": secret },
      });
      expect(res.status, `secret=${secret}`).toBe(401);
    }
    const after = (await (await fetch(`${desk.sim.control}/requests`)).json()) as {
      method: string;
      path: string;
    }[];
    // No write reached the exchange. Reads are not counted: the run of a test before may still be
    // reading (the listing after its finish) while these refusals are made, which made a count flaky.
    expect(after.slice(before.length).filter((r) => r.method !== "GET")).toEqual([]);
  });
});

describe.skipIf(!chromiumAvailable())(`the New key page (skipped only when ${CHROMIUM} is missing)`, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("a person fills the form, creates the key and sees the run finished", async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto(desk.server.loginUrl());
    await page.getByRole("link", { name: "New key" }).click();
    await page.getByLabel("Account", { exact: true }).selectOption(OKX_ACCOUNT);
    await page.getByLabel("Sub-account").fill(SUB);
    await page.getByLabel("Label", { exact: true }).fill("web-form-1");
    await page.getByLabel("Permission trade").check();
    await page.getByLabel("Delivery targets").fill(`dotenv:${join(dir, "web-form-1.env")}`);
    // A trade key without an IP binding is refused, and the page says why.
    await page.getByRole("button", { name: "Create key" }).click();
    await page
      .getByText(/without an IP binding/)
      .first()
      .waitFor();
    await page.getByLabel("IP addresses").fill("127.0.0.1");
    await page.getByRole("button", { name: "Create key" }).click();
    await page
      .getByTestId("rotation-state")
      .filter({ hasText: /^finished$/ })
      .waitFor();
    const live = await liveWithLabel("web-form-1");
    expect(live).toHaveLength(1);
    expect(parse(readFileSync(join(dir, "web-form-1.env"), "utf8")).API_KEY).toBe(live[0]?.apiKey);
    expect(page.url()).toBe(`${desk.server.origin}/new-key`);
    // It reads as a key create: created, not rotated; no old key, nothing "proven dead".
    await page
      .getByTestId("job-title")
      .filter({ hasText: /^Created 1 key/ })
      .waitFor();
    expect(await page.title()).toBe("Created 1 key — Keyward");
    const summary = await page.getByTestId("rotation-summary").textContent();
    expect(summary).toBe("1 of 1 created. The new key is verified and delivered.");
    expect(await page.getByRole("columnheader", { name: "Old label" }).count()).toBe(0);
    expect(await page.getByText(/rotated|proven dead/i).count()).toBe(0);
    // The run's table names the slot as the key being made, never by the run's stand-in id "new:…".
    await page.getByRole("cell", { name: "(new) web-form-1", exact: true }).waitFor();
    expect(await page.locator("body").textContent()).not.toMatch(/new:/);
    await context.close();
  });
});
