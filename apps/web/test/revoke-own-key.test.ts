/**
 * The revoke plan's answer for an account's own key that the exchange revokes by API (a Bybit master key
 * deletes itself): a broad selection leaves it out and the answer says so (`heldBack`, with the line the
 * page shows); naming its id plans it last. Its own one-account simulator (a Bybit master, one
 * sub-account), so a broad selection plans exactly those keys; nothing is revoked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeywardHome, Secret } from "@keyward/core";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setupHome, startWebServer, type WebServer } from "../src/server/index.js";
import { login, PASSPHRASE, UI_DIR } from "./helpers.js";

const MANAGE = { Wallet: ["AccountTransfer", "SubMemberTransferList"], Spot: ["SpotTrade"] };
const key = (apiKey: string, note: string, permissions: Record<string, string[]>) => ({
  apiKey,
  secret: `CANARY-web-bybit-secret-${note}-7d2e0b`,
  note,
  readOnly: 0 as const,
  ips: ["127.0.0.1", "::1"],
  permissions,
  createdAt: new Date(Date.now() - 10 * 86_400_000).toISOString(),
});
const ADMIN = key("BYWEBADMIN01", "admin", MANAGE);
const BOT = key("BYWEBBOT0002", "bot-1", { Spot: ["SpotTrade"] });

let sim: RunningSimulator;
let dir: string;
let home: KeywardHome;
let server: WebServer;

beforeAll(async () => {
  sim = await startSimulator({
    scenario: {
      bybit: {
        masters: [
          {
            uid: "493000001",
            username: "by-desk",
            keys: [ADMIN],
            subMembers: [{ uid: "493000101", username: "bybot", keys: [BOT] }],
          },
        ],
      },
    },
    rateScale: 0.05,
  });
  dir = mkdtempSync(join(tmpdir(), "keyward-web-ownkey-"));
  const credentials = { apiKey: ADMIN.apiKey, secret: ADMIN.secret };
  await (
    await setupHome(dir, {
      passphrase: PASSPHRASE,
      workFactor: 10,
      accounts: [{ name: "by-desk", exchange: "bybit", endpoint: sim.bybit, credentials }],
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
});
afterAll(async () => {
  await server?.close();
  await home?.close();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface PlanAnswer {
  planId: string | null;
  items: { order: number; accountKey: boolean; key: { id: string; apiKey?: string; label: string } }[];
  warnings: string[];
  heldBack: { key: { id: string; account: string; exchange: string }; reason: string }[];
}

describe("POST /api/revoke/plan: the account's own key revoked by API", () => {
  it("is held back from a broad selection (heldBack with its line), and planned last when its id is sent", async () => {
    const client = await login(server);
    const broad = await client.post("/api/revoke/plan", { all: true });
    expect(broad.status, broad.body).toBe(200);
    const plan = broad.json<PlanAnswer>();
    expect(plan.items.map((i) => i.key.label)).toEqual(["bot-1"]);
    expect(plan.heldBack).toHaveLength(1);
    const [held] = plan.heldBack;
    expect(held?.key).toMatchObject({ exchange: "bybit", account: "by-desk" });
    expect(held?.key.id).toContain(ADMIN.apiKey);
    expect(held?.reason).toMatch(/revoke it on its own, by its id alone/);
    expect(held?.reason).toContain(held?.key.id);

    const named = await client.post("/api/revoke/plan", { ids: [held?.key.id] });
    expect(named.status, named.body).toBe(200);
    const own = named.json<PlanAnswer>();
    expect(own.heldBack).toEqual([]);
    expect(own.items).toEqual([expect.objectContaining({ accountKey: true, order: 1 })]);
    expect(own.warnings.join("\n")).toMatch(/Keyward loses access to by-desk/);
    for (const body of [broad.body, named.body]) expect(body).not.toContain(ADMIN.secret);
  });
});
