import { parseScenario } from "@keyward/simulator";
import { describe, expect, it } from "vitest";
import {
  benchScenario,
  bitfinexCreds,
  bitfinexSection,
  bybitMasterCreds,
  bybitSection,
  deribitCreds,
  deribitSection,
  deribitSeed,
} from "../src/scenario.js";

describe("benchmark worlds", () => {
  it("the incident's world is a valid scenario: OKX, a Bybit master and a Bitfinex user side by side", () => {
    const scenario = parseScenario({
      okx: benchScenario([{ uid: "7201", subAccounts: 10, keysPerSub: 2 }]).okx,
      bybit: bybitSection([{ uid: "8201", subMembers: 10, keysPerSub: 8 }]),
      bitfinex: bitfinexSection(3_141_201, 5),
    });
    const [master] = scenario.bybit?.masters ?? [];
    expect(master?.subMembers).toHaveLength(10);
    expect(master?.subMembers.flatMap((s) => s.keys)).toHaveLength(80);
    // The managing key: read-write, IP-bound (so it never expires), with a permission Bybit requires to
    // create or delete keys.
    expect(master?.keys).toEqual([
      expect.objectContaining({
        apiKey: bybitMasterCreds("8201").apiKey,
        readOnly: 0,
        ips: ["127.0.0.1"],
        permissions: { Wallet: ["SubMemberTransfer"] },
      }),
    ]);
    const [user] = scenario.bitfinex?.users ?? [];
    expect(user?.keys.map((k) => k.apiKey)).toEqual(
      [0, 1, 2, 3, 4, 5].map((k) => bitfinexCreds(3_141_201, k).apiKey),
    );
  });

  it("two Bybit masters get distinct sub-account UIDs and keys (the scenario refuses duplicates)", () => {
    expect(() =>
      parseScenario({
        bybit: bybitSection([
          { uid: "8001", subMembers: 3, keysPerSub: 2 },
          { uid: "8002", subMembers: 3, keysPerSub: 2 },
        ]),
      }),
    ).not.toThrow();
  });

  it("the Deribit bench's accounts: Keyward's key and 7 bot keys each (Deribit's 8), distinct seeds, a drained bucket", () => {
    const ids = Array.from({ length: 12 }, (_, a) => 9101 + a);
    const scenario = parseScenario({
      deribit: deribitSection(ids.map((id) => ({ id, bots: 7, credits: 500 }))),
    });
    const accounts = scenario.deribit?.accounts ?? [];
    expect(accounts).toHaveLength(12);
    expect(new Set(ids.map(deribitSeed)).size).toBe(12);
    for (const account of accounts) {
      expect(account.keys).toHaveLength(8);
      expect(account.credits).toBe(500);
      expect(account.keys[0]).toEqual(
        expect.objectContaining({
          client_id: deribitCreds(account.id).apiKey,
          max_scope: "account:read_write trade:none wallet:none",
          ip_whitelist: ["127.0.0.1"],
        }),
      );
    }
  });
});
