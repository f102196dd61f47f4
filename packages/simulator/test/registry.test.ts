/**
 * The exchange registry (src/exchanges.ts) and the test desk (@keyward/simulator/testing): every listed
 * exchange gets what the shared code gives each one, and the desk the CLI and web suites share is what it
 * says it is.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DEFAULT_RATE_LIMITS,
  EXCHANGE_IDS,
  parseScenario,
  type RunningSimulator,
  ScenarioError,
  startSimulator,
  UI_PATHS,
} from "../src/index.js";
import {
  DESK_CANARIES,
  DESK_KEYS,
  deskScenario,
  keyStatuses,
  revokedKeys,
  startTestDesk,
  type TestDesk,
  urlOf,
} from "../src/testing/index.js";
import { bfxCall, httpCall, okxCall } from "./helpers.js";

describe("every exchange in the registry", () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startSimulator({});
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("has a listener, a /state section, a faults entry, a UI page and default rate limits", async () => {
    expect(EXCHANGE_IDS.length).toBeGreaterThan(1);
    const state = (await httpCall(`${sim.control}/state`)).json as Record<string, unknown>;
    const faults = (await httpCall(`${sim.control}/faults`)).json as Record<string, unknown>;
    expect(Object.keys(state)).toEqual([...EXCHANGE_IDS]);
    expect(Object.keys(faults)).toEqual([...EXCHANGE_IDS]);
    for (const id of EXCHANGE_IDS) {
      expect(urlOf(sim, id)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await httpCall(`${urlOf(sim, id)}${UI_PATHS[id]}`);
      expect(page.status, id).toBe(200);
      expect(page.headers["content-type"]).toMatch(/^text\/html/);
      expect(DEFAULT_RATE_LIMITS[id], id).toBeDefined();
      const revoke = await httpCall(`${sim.control}/ui/revoke`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ exchange: id, apiKey: "no-such-key" }),
      });
      expect(revoke.status).toBe(404);
      expect(revoke.json).toEqual({ error: `no ${id} key no-such-key` });
    }
  });

  it("a scenario section no module owns is refused, naming it", () => {
    expect(() => parseScenario({ nosuchexchange: {} })).toThrow(ScenarioError);
    expect(() => parseScenario({ nosuchexchange: {} })).toThrow(/nosuchexchange/);
  });
});

describe("the test desk", () => {
  let desk: TestDesk;
  beforeAll(async () => {
    desk = await startTestDesk();
  });
  afterAll(async () => {
    await desk?.close();
  });

  it("seeds every desk key, active, and /state never shows a canary", async () => {
    const state = await desk.client.state();
    const statuses = keyStatuses(state);
    expect([...statuses.keys()].sort()).toEqual(
      Object.values(DESK_KEYS)
        .map((k) => k.apiKey)
        .sort(),
    );
    expect([...statuses.values()].every((s) => s === "active")).toBe(true);
    const text = JSON.stringify(state);
    for (const canary of DESK_CANARIES) expect(text).not.toContain(canary);
    expect(DESK_CANARIES.every((c) => c.startsWith("CANARY-"))).toBe(true);
  });

  it("its seed points each account at its exchange's listener; its credentials authenticate", async () => {
    expect(desk.seed.accounts.length).toBeGreaterThan(0);
    for (const account of desk.seed.accounts) {
      expect(account.endpoint).toBe(urlOf(desk.running, account.exchange));
    }
    const [okx, bfx] = desk.seed.accounts;
    const config = await okxCall(
      desk.running.okx,
      {
        apiKey: okx?.credentials.apiKey ?? "",
        secretKey: okx?.credentials.secret ?? "",
        passphrase: okx?.credentials.passphrase ?? "",
      },
      { path: "/api/v5/account/config" },
    );
    expect((config.json as { code: string }).code).toBe("0");
    const tracked = desk.seed.tracked[0];
    expect(tracked?.account).toBe(bfx?.name);
    const permissions = await bfxCall(
      desk.running.bitfinex,
      { apiKey: tracked?.credentials.apiKey ?? "", apiSecret: tracked?.credentials.secret ?? "" },
      "auth/r/permissions",
    );
    expect(permissions.status).toBe(200);
  });

  it("the client's uiRevoke shows in keyStatuses and revokedKeys", async () => {
    await desk.client.uiRevoke("bitfinex", DESK_KEYS.bfxUntracked.apiKey);
    const state = await desk.client.state();
    expect(keyStatuses(state).get(DESK_KEYS.bfxUntracked.apiKey)).toBe("revoked");
    expect(revokedKeys(state)).toEqual([DESK_KEYS.bfxUntracked.apiKey]);
  });

  it("deskScenario() is a valid scenario, fresh each call", () => {
    expect(() => parseScenario(deskScenario())).not.toThrow();
    const a = deskScenario();
    a.okx.accounts.pop();
    expect(deskScenario().okx.accounts).toHaveLength(1);
  });
});
