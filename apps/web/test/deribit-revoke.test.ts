/**
 * The web app and an exchange with a kill switch (Deribit's disable_api_key), over HTTP against its own
 * one-account simulator: the inventory answers a key the exchange lists as switched off with
 * `state: "disabled"` (no "unverified" flag, its other flags kept); the revoke plan marks every key but
 * Keyward's own "disabled first" (the page's box, on by default) and `disableFirst: false` marks none; a key
 * already disabled needs no switch; a job switches the keys off before any removal and its live events and
 * results say "disabled". The simulator's state and request log are the evidence.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeywardHome, Secret } from "@keyward/core";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupHome, startWebServer, type WebServer } from "../src/server/index.js";
import { type Client, login, PASSPHRASE, UI_DIR, waitFor } from "./helpers.js";

const DAY = 86_400_000;
const key = (
  id: number,
  name: string,
  max_scope: string,
  ip_whitelist: string[] = ["127.0.0.1"],
  enabled = true,
) => ({
  id,
  client_id: `DRWEB${String(id).padStart(3, "0")}`,
  client_secret: `CANARY-web-deribit-secret-${name}-0e3b9c`,
  name,
  max_scope,
  enabled,
  ip_whitelist,
  timestamp: Date.now() - 10 * DAY,
});
const ADMIN = key(1, "keyward", "account:read_write trade:read wallet:none");
const BOT = key(2, "bot_1", "account:read trade:read_write", []);
const TREASURY = key(3, "treasury", "account:read wallet:read_write");
/** Switched off on the exchange before Keyward ever saw it. */
const PARKED = key(4, "parked", "trade:read_write", [], false);
const ALL = [ADMIN, BOT, TREASURY, PARKED];

let sim: RunningSimulator;
let dir: string;
let home: KeywardHome;
let server: WebServer;
let client: Client;

async function control<T>(method: string, path: string): Promise<T> {
  return (await (await fetch(`${sim.control}${path}`, { method })).json()) as T;
}
const status = async (clientId: string) =>
  (
    await control<{ deribit: { accounts: { keys: { apiKey: string; status: string }[] }[] } }>(
      "GET",
      "/state",
    )
  ).deribit.accounts
    .flatMap((a) => a.keys)
    .find((k) => k.apiKey === clientId)?.status;

beforeAll(async () => {
  sim = await startSimulator({
    scenario: {
      deribit: {
        accounts: [
          {
            id: 732001,
            username: "dr_web",
            type: "main",
            totpSeed: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            keys: ALL,
          },
        ],
      },
    },
    rateScale: 0.05,
  });
  dir = mkdtempSync(join(tmpdir(), "keyward-web-deribit-"));
  const credentials = { apiKey: ADMIN.client_id, secret: ADMIN.client_secret };
  await (
    await setupHome(dir, {
      passphrase: PASSPHRASE,
      workFactor: 10,
      accounts: [{ name: "dr-web", exchange: "deribit", endpoint: sim.deribit, credentials }],
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
  client = await login(server);
});
afterAll(async () => {
  await server?.close();
  await home?.close();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Row {
  id: string;
  label: string;
  state: string;
  risks: string[];
}
interface PlanAnswer {
  planId: string | null;
  items: { accountKey: boolean; disableFirst: boolean; key: Row }[];
  disableFirst: { available: number; planned: number };
}
interface JobAnswer {
  status: string;
  results: { id: string; label: string; outcome: string; pending: boolean; disabledFirst?: true }[];
}

describe("the web app and a kill switch", () => {
  it("the inventory answers a key switched off on the exchange as disabled, with its flags but not 'unverified'", async () => {
    const res = await client.get("/api/inventory?refresh=1");
    expect(res.status, res.body).toBe(200);
    const rows = res.json<{ keys: Row[] }>().keys;
    const parked = rows.find((r) => r.label === "parked");
    expect(parked?.state).toBe("disabled");
    expect(parked?.risks).toContain("no-ip");
    expect(parked?.risks).not.toContain("unverified");
    expect(rows.find((r) => r.label === "bot_1")?.state).toBe("active");
    for (const k of ALL) expect(res.body).not.toContain(k.client_secret);
  });

  it("plans every live key but Keyward's own to be disabled first (default), none with disableFirst: false, and a disabled key with no switch", async () => {
    const on = await client.post("/api/revoke/plan", { all: true });
    expect(on.status, on.body).toBe(200);
    const plan = on.json<PlanAnswer>();
    const first = plan.items.filter((i) => i.disableFirst).map((i) => i.key.label);
    expect(first.sort()).toEqual(["bot_1", "treasury"]);
    expect(plan.items.find((i) => i.key.label === "parked")).toMatchObject({
      disableFirst: false,
      key: { state: "disabled" },
    });
    expect(plan.disableFirst).toEqual({ available: 2, planned: 2 });

    const off = await client.post("/api/revoke/plan", { all: true, disableFirst: false });
    expect(off.status, off.body).toBe(200);
    const direct = off.json<PlanAnswer>();
    expect(direct.items.some((i) => i.disableFirst)).toBe(false);
    expect(direct.disableFirst).toEqual({ available: 2, planned: 0 });

    const bad = await client.post("/api/revoke/plan", { all: true, disableFirst: "yes" });
    expect(bad.status).toBe(400);
  });

  it("a job switches the keys off before removing any, and its events and results say 'disabled'", async () => {
    const planned = await client.post("/api/revoke/plan", { ids: [BOT.client_id, TREASURY.client_id] });
    const plan = planned.json<PlanAnswer>();
    const since = (await control<{ seq: number }[]>("GET", "/requests")).at(-1)?.seq ?? 0;
    const started = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "2" });
    expect(started.status, started.body).toBe(202);
    const jobId = started.json<{ jobId: string }>().jobId;

    // Each key is switched off (no code needed) before its removal is asked.
    await waitFor("both keys disabled", async () => {
      const states = await Promise.all([BOT, TREASURY].map((k) => status(k.client_id)));
      return states.every((s) => s === "disabled" || s === "revoked") ? states : undefined;
    });
    const job = await waitFor("the keys' results", async () => {
      const j = (await client.get(`/api/revoke/jobs/${jobId}`)).json<JobAnswer>();
      return j.results.every((r) => !r.pending) ? j : undefined;
    });
    for (const r of job.results) expect(r.disabledFirst).toBe(true);
    const log = await control<{ exchange: string; path: string }[]>("GET", `/requests?since=${since}`);
    const methods = log.filter((r) => r.exchange === "deribit").map((r) => r.path.split("/").at(-1));
    expect(methods.filter((m) => m === "disable_api_key")).toHaveLength(2);
    const firstRemove = methods.indexOf("remove_api_key");
    if (firstRemove >= 0) expect(methods.lastIndexOf("disable_api_key")).toBeLessThan(firstRemove);

    const events = await client.get(`/api/revoke/jobs/${jobId}/events`, {
      timeoutMs: 2_000,
    });
    const types = events.body
      .split("\n")
      .filter((l) => l.startsWith("event:"))
      .map((l) => l.slice(6).trim());
    expect(types.filter((t) => t === "disabled")).toHaveLength(2);
    for (const k of ALL) expect(events.body).not.toContain(k.client_secret);
    // Whatever the removal did, the job is not left running.
    await client.post(`/api/revoke/jobs/${jobId}/stop`, {});
  });
});
