/**
 * The demo scenario (scenarios/demo.json) and its desk (demo-desk.ts): the Bybit desk beside OKX and
 * Bitfinex, with facts that stay relative to today (a key near Bybit's 90-day expiry) through the
 * scenario's `now-<days>d` date-times.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  demoDesk,
  loadDemoScenario,
  parseScenario,
  type RunningSimulator,
  ScenarioError,
  startSimulator,
} from "../src/index.js";
import { bybitCall, envelope, retCode } from "./bybit-helpers.js";
import { deribitCall, type KeyObject, resultOf } from "./deribit-helpers.js";

const DAY = 86_400_000;

describe("scenario date-times", () => {
  const withCreated = (createdAt: string) => ({
    bybit: {
      masters: [
        {
          uid: "1",
          username: "m",
          keys: [{ apiKey: "K1", secret: "S1", readOnly: 0 as const, createdAt }],
        },
      ],
    },
  });

  it("now-<days>d and now+<days>d are days from loading, as ISO", () => {
    const before = Date.now();
    const parsed = parseScenario(withCreated("now-80d"));
    const at = Date.parse(parsed.bybit?.masters[0]?.keys[0]?.createdAt ?? "");
    expect(at).toBeGreaterThanOrEqual(before - 80 * DAY);
    expect(at).toBeLessThanOrEqual(Date.now() - 80 * DAY);
    const ahead = parseScenario(withCreated("now+3d"));
    expect(Date.parse(ahead.bybit?.masters[0]?.keys[0]?.createdAt ?? "")).toBeGreaterThan(before + 2 * DAY);
    expect(parseScenario(withCreated("2026-10-01T09:00:00Z")).bybit?.masters[0]?.keys[0]?.createdAt).toBe(
      "2026-10-01T09:00:00Z",
    );
  });

  it("anything else is refused, naming the field", () => {
    for (const bad of ["now", "now-80", "yesterday", "now-1.5d", "now-80h"]) {
      expect(() => parseScenario(withCreated(bad))).toThrow(ScenarioError);
      expect(() => parseScenario(withCreated(bad))).toThrow(/bybit\.masters\[0\]\.keys\[0\]\.createdAt/);
    }
  });
});

describe("the demo scenario's Bybit desk", () => {
  const scenario = loadDemoScenario();
  const master = scenario.bybit?.masters[0];
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("one master with four sub-accounts: a withdraw key, a key near its expiry, an old key, a read-only key, a sub with two keys", () => {
    expect(scenario.bybit?.masters).toHaveLength(1);
    expect(master?.subMembers).toHaveLength(4);
    const subKeys = master?.subMembers.flatMap((s) => s.keys) ?? [];
    const all = [...(master?.keys ?? []), ...subKeys];
    expect(all.some((k) => k.permissions.Wallet?.includes("Withdraw"))).toBe(true);
    const unbound = subKeys.filter((k) => k.ips.includes("*"));
    // No IP binding: 90 days from createdAt; the demo's is made so it has under 14 left, whatever today is.
    const daysLeft = unbound.map((k) => (Date.parse(k.createdAt) + 90 * DAY - Date.now()) / DAY);
    expect(daysLeft.some((d) => d > 0 && d < 14)).toBe(true);
    expect(all.some((k) => Date.now() - Date.parse(k.createdAt) > 365 * DAY && !k.ips.includes("*"))).toBe(
      true,
    );
    expect(all.some((k) => k.readOnly === 1)).toBe(true);
    expect(master?.subMembers.some((s) => s.keys.length >= 2)).toBe(true);
  });

  it("the desk manages it with the IP-bound master key holding Account Transfer, and tracks the others", async () => {
    const desk = demoDesk(scenario, sim);
    const accounts = desk.accounts.filter((a) => a.exchange === "bybit");
    expect(accounts).toHaveLength(1);
    const account = accounts[0];
    const admin = master?.keys.find((k) => k.apiKey === account?.credentials.apiKey);
    expect(admin?.ips).toContain("127.0.0.1");
    expect(admin?.permissions.Wallet).toContain("AccountTransfer");
    expect(account?.endpoint).toBe(sim.bybit);
    const others = master?.keys.filter((k) => k !== admin).map((k) => k.apiKey) ?? [];
    expect(desk.tracked.filter((t) => t.account === account?.name).map((t) => t.credentials.apiKey)).toEqual(
      others,
    );
    // The managing key works from here: it lists a sub-member's keys.
    const sub = master?.subMembers[0];
    const r = await bybitCall(
      sim.bybit,
      "/v5/user/sub-apikeys",
      { apiKey: admin?.apiKey ?? "", secret: admin?.secret ?? "" },
      { query: `subMemberId=${sub?.uid}`, now: Date.now() },
    );
    expect(retCode(r)).toBe(0);
    expect(envelope<{ result: unknown[] }>(r).result.result).toHaveLength(sub?.keys.length ?? -1);
  });
});

describe("the demo scenario's Deribit desk", () => {
  const scenario = loadDemoScenario();
  const account = scenario.deribit?.accounts[0];
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({ scenario });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("one main account: a trading key without a whitelist, a withdraw key, an old key, a disabled key", () => {
    expect(scenario.deribit?.accounts).toHaveLength(1);
    expect(account?.type).toBe("main");
    const keys = account?.keys ?? [];
    expect(keys.some((k) => k.max_scope.includes("trade:read_write") && k.ip_whitelist.length === 0)).toBe(
      true,
    );
    expect(keys.some((k) => k.max_scope.includes("wallet:read_write"))).toBe(true);
    expect(keys.some((k) => Date.now() - k.timestamp > 365 * DAY)).toBe(true);
    expect(keys.some((k) => !k.enabled)).toBe(true);
  });

  it("the desk manages it with its IP-bound account:read_write key and the account's seed; the API lists every key", async () => {
    const desk = demoDesk(scenario, sim);
    const accounts = desk.accounts.filter((a) => a.exchange === "deribit");
    expect(accounts).toHaveLength(1);
    const [own] = account?.keys ?? [];
    expect(accounts[0]).toMatchObject({
      name: "desk-deribit",
      endpoint: sim.deribit,
      credentials: { apiKey: own?.client_id, secret: own?.client_secret, totpSeed: account?.totpSeed },
    });
    expect(own?.max_scope).toContain("account:read_write");
    expect(own?.ip_whitelist).toContain("127.0.0.1");
    // Nothing tracked: list_api_keys shows every key of the account.
    expect(desk.tracked.filter((t) => t.account === "desk-deribit")).toEqual([]);
    const r = await deribitCall(sim.deribit, "private/list_api_keys", {
      apiKey: own?.client_id ?? "",
      secret: own?.client_secret ?? "",
    });
    expect(resultOf<KeyObject[]>(r).map((k) => k.client_id)).toEqual(account?.keys.map((k) => k.client_id));
  });
});
