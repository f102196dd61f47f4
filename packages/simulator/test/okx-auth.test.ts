/**
 * Fidelity checklist 1-6 (docs/exchanges/okx.md#simulator-fidelity-checklist): OKX request authentication,
 * over raw HTTP.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEMO_KEY, EEA_MASTER, FROZEN_KEY, MASTER, SUB_OTHER_IP, scenario } from "./fixtures.js";
import { control, okxCall, okxCode, okxData, useSimulator } from "./helpers.js";

const CONFIG = "/api/v5/account/config";

describe("OKX authentication", () => {
  const sim = useSimulator({ scenario: scenario() });

  it("accepts a correctly signed request and answers in the {code,msg,data} envelope", async () => {
    const r = await okxCall(sim().okx, MASTER, { path: CONFIG });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ code: "0", msg: "" });
    expect(Array.isArray(okxData(r))).toBe(true);
  });

  describe("1. signature over timestamp + METHOD + request-target + body", () => {
    it("rejects a signature made with another secret (50113, 401)", async () => {
      const r = await okxCall(sim().okx, MASTER, { path: CONFIG, signSecret: "not-the-secret" });
      expect([r.status, okxCode(r)]).toEqual([401, "50113"]);
    });

    it("verifies the query string exactly as sent (a re-ordered query fails)", async () => {
      const path = "/api/v5/users/subaccount/list?limit=10&enable=true";
      const ok = await okxCall(sim().okx, MASTER, { path });
      expect(okxCode(ok)).toBe("0");
      // Signed over one order, sent in another: a server that re-serialised the query would accept it.
      const timestamp = new Date().toISOString();
      const signedOther = await okxCall(sim().okx, MASTER, {
        path,
        timestamp,
        headers: {
          "OK-ACCESS-SIGN": createHmac("sha256", MASTER.secretKey)
            .update(`${timestamp}GET/api/v5/users/subaccount/list?enable=true&limit=10`)
            .digest("base64"),
        },
      });
      expect([signedOther.status, okxCode(signedOther)]).toEqual([401, "50113"]);
    });

    it("verifies the raw body bytes (whitespace matters)", async () => {
      const body = '{"subAcct": "botsub01", "apiKey": "nope"}';
      const r = await okxCall(sim().okx, MASTER, { path: "/api/v5/users/subaccount/delete-apikey", body });
      expect(okxCode(r)).toBe("59506");
      const timestamp = new Date().toISOString();
      const sign = createHmac("sha256", MASTER.secretKey)
        .update(`${timestamp}POST/api/v5/users/subaccount/delete-apikey${JSON.stringify(JSON.parse(body))}`)
        .digest("base64");
      const reserialised = await okxCall(sim().okx, MASTER, {
        path: "/api/v5/users/subaccount/delete-apikey",
        body,
        timestamp,
        headers: { "OK-ACCESS-SIGN": sign },
      });
      expect(okxCode(reserialised)).toBe("50113");
    });
  });

  describe("2. required headers", () => {
    it.each([
      ["OK-ACCESS-KEY", "50103"],
      ["OK-ACCESS-PASSPHRASE", "50104"],
      ["OK-ACCESS-SIGN", "50106"],
      ["OK-ACCESS-TIMESTAMP", "50107"],
    ])("missing %s answers %s with HTTP 401", async (name, code) => {
      const r = await okxCall(sim().okx, MASTER, { path: CONFIG, headers: { [name]: null } });
      expect([r.status, okxCode(r)]).toEqual([401, code]);
    });
  });

  describe("3. timestamp", () => {
    it("rejects a timestamp that is not ISO-8601 with milliseconds (50112)", async () => {
      for (const timestamp of ["1700000000000", "2026-11-27T10:00:00Z", "yesterday"]) {
        const r = await okxCall(sim().okx, MASTER, { path: CONFIG, timestamp });
        expect([r.status, okxCode(r)]).toEqual([401, "50112"]);
      }
    });

    it("rejects a timestamp more than 30 s away (50102), either direction", async () => {
      for (const skew of [-31_000, 31_000]) {
        const r = await okxCall(sim().okx, MASTER, {
          path: CONFIG,
          timestamp: new Date(Date.now() + skew).toISOString(),
        });
        expect([r.status, okxCode(r)]).toEqual([401, "50102"]);
      }
      const within = await okxCall(sim().okx, MASTER, {
        path: CONFIG,
        timestamp: new Date(Date.now() - 20_000).toISOString(),
      });
      expect(okxCode(within)).toBe("0");
    });

    it("follows the simulator clock, which the control API can move", async () => {
      await control(sim().control, "POST", "/clock", { advanceMs: 60_000 });
      try {
        const stale = await okxCall(sim().okx, MASTER, { path: CONFIG });
        expect(okxCode(stale)).toBe("50102");
        const time = await okxCall(sim().okx, MASTER, { path: "/api/v5/public/time" });
        const serverTs = Number(okxData<{ ts: string }>(time)[0]?.ts);
        const synced = await okxCall(sim().okx, MASTER, {
          path: CONFIG,
          timestamp: new Date(serverTs).toISOString(),
        });
        expect(okxCode(synced)).toBe("0");
      } finally {
        await control(sim().control, "POST", "/clock", { advanceMs: -60_000 });
      }
    });
  });

  describe("4. key lookup", () => {
    it("answers 50111 for an unknown key", async () => {
      const r = await okxCall(sim().okx, { ...MASTER, apiKey: "no-such-key" }, { path: CONFIG });
      expect([r.status, okxCode(r)]).toEqual([401, "50111"]);
    });

    it("answers 50119 for a key that lives on another regional host", async () => {
      const wrongHost = await okxCall(sim().okx, EEA_MASTER, { path: CONFIG });
      expect([wrongHost.status, okxCode(wrongHost)]).toEqual([401, "50119"]);
      const rightHost = await okxCall(sim().okxRegions.eea, EEA_MASTER, { path: CONFIG });
      expect(okxCode(rightHost)).toBe("0");
    });

    it("answers 50101 when a demo key is used live or a live key in demo mode", async () => {
      const demoLive = await okxCall(sim().okx, DEMO_KEY, { path: CONFIG });
      expect([demoLive.status, okxCode(demoLive)]).toEqual([401, "50101"]);
      const liveDemo = await okxCall(sim().okx, MASTER, {
        path: CONFIG,
        headers: { "x-simulated-trading": "1" },
      });
      expect(okxCode(liveDemo)).toBe("50101");
      const demoDemo = await okxCall(sim().okx, DEMO_KEY, {
        path: CONFIG,
        headers: { "x-simulated-trading": "1" },
      });
      expect(okxCode(demoDemo)).toBe("0");
    });

    it("answers 50100 with HTTP 400 for a frozen key", async () => {
      const r = await okxCall(sim().okx, FROZEN_KEY, { path: CONFIG });
      expect([r.status, okxCode(r)]).toEqual([400, "50100"]);
    });
  });

  describe("5. passphrase", () => {
    it("answers 50105 for a wrong passphrase", async () => {
      const r = await okxCall(sim().okx, { ...MASTER, passphrase: "Wrong-Pass-1!" }, { path: CONFIG });
      expect([r.status, okxCode(r)]).toEqual([401, "50105"]);
    });
  });

  describe("6. IP whitelist against the caller's socket address", () => {
    it("answers 50110 naming the caller's IP when it is not whitelisted", async () => {
      const r = await okxCall(sim().okx, SUB_OTHER_IP, { path: CONFIG, localAddress: "127.0.0.1" });
      expect([r.status, okxCode(r)]).toEqual([401, "50110"]);
      expect((r.json as { msg: string }).msg).toContain("127.0.0.1");
    });

    it("accepts a caller inside a whitelisted CIDR range", async () => {
      const r = await okxCall(sim().okx, SUB_OTHER_IP, { path: CONFIG, localAddress: "127.0.0.2" });
      expect(okxCode(r)).toBe("0");
    });

    it("checks the IP only after the signature (a forged request learns nothing)", async () => {
      const r = await okxCall(sim().okx, SUB_OTHER_IP, {
        path: CONFIG,
        signSecret: "forged",
        localAddress: "127.0.0.1",
      });
      expect(okxCode(r)).toBe("50113");
    });
  });
});
