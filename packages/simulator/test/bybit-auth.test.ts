/**
 * Bybit v5 authentication, from the server's side: signatures recomputed from the bytes received, the
 * receive-window rule, the envelope, and the codes for bad timestamps, keys, signatures and IPs
 * (docs/exchanges/bybit.md#signing).
 */
import { describe, expect, it } from "vitest";
import {
  BY_ADMIN,
  BY_FAR,
  BY_OLD,
  BY_SUB,
  bybitCall,
  bybitScenario,
  envelope,
  MASTER_UID,
  retCode,
  SUB_UID,
  T0,
} from "./bybit-helpers.js";
import { httpCall, useSimulator } from "./helpers.js";

const QUERY_API = "/v5/user/query-api";
let clock = T0;
const sim = useSimulator({ scenario: bybitScenario(), now: () => clock });
const call = (creds = BY_ADMIN, opts: Partial<Parameters<typeof bybitCall>[3]> = {}) =>
  bybitCall(sim().bybit, QUERY_API, creds, { now: clock, ...opts });

describe("bybit: signing and the receive window", () => {
  it("a request signed as documented answers the calling key in the v5 envelope, with no secret", async () => {
    const r = await call();
    expect(r.status).toBe(200);
    const body = envelope(r);
    expect(Object.keys(body).sort()).toEqual(["result", "retCode", "retExtInfo", "retMsg", "time"]);
    expect(body.retCode).toBe(0);
    expect(body.time).toBe(clock);
    expect(body.result).toMatchObject({
      apiKey: BY_ADMIN.apiKey,
      note: "keyward-admin",
      readOnly: 0,
      secret: "",
      ips: ["127.0.0.1", "::1"],
      isMaster: true,
      userID: Number(MASTER_UID),
      expiredAt: "",
      deadlineDay: 0,
    });
    expect((body.result.permissions as Record<string, string[]>).Wallet).toEqual([
      "AccountTransfer",
      "SubMemberTransfer",
    ]);
    expect(r.text).not.toContain(BY_ADMIN.secret);
  });

  it("a sub-member's key describes itself too (isMaster false, its master as parentUid)", async () => {
    const r = await call(BY_SUB);
    expect(envelope(r).result).toMatchObject({
      apiKey: BY_SUB.apiKey,
      isMaster: false,
      userID: Number(SUB_UID),
      parentUid: MASTER_UID,
    });
  });

  it("the signature covers the query string as sent: the same parameters signed in another order get 10004", async () => {
    const base = { method: "GET" as const, query: "b=2&a=1" };
    expect(retCode(await call(BY_ADMIN, base))).toBe(0);
    expect(retCode(await call(BY_ADMIN, { ...base, signedPayload: "a=1&b=2" }))).toBe(10004);
  });

  it("a POST is signed over the raw body: a body re-serialised with other spacing gets 10004", async () => {
    const sent = { readOnly: 0 };
    const r = await bybitCall(sim().bybit, "/v5/user/update-api", BY_ADMIN, {
      now: clock,
      body: sent,
      signedPayload: JSON.stringify(sent, null, 1),
    });
    expect(retCode(r)).toBe(10004);
  });

  it("a wrong secret gets 10004, an unknown key 10003, a key called from an unbound address 10010", async () => {
    expect(retCode(await call({ apiKey: BY_ADMIN.apiKey, secret: "not-the-secret" }))).toBe(10004);
    expect(retCode(await call({ apiKey: "NOSUCHKEY000000000", secret: "x" }))).toBe(10003);
    const far = await call(BY_FAR);
    expect(far.status).toBe(200);
    expect(retCode(far)).toBe(10010);
  });

  it("server_time - recv_window <= timestamp < server_time + 1000, else 10002", async () => {
    expect(retCode(await call(BY_ADMIN, { timestamp: clock - 5000 }))).toBe(0);
    expect(retCode(await call(BY_ADMIN, { timestamp: clock - 5001 }))).toBe(10002);
    expect(retCode(await call(BY_ADMIN, { timestamp: clock + 999 }))).toBe(0);
    expect(retCode(await call(BY_ADMIN, { timestamp: clock + 1000 }))).toBe(10002);
    // A wider window, sent and signed, admits an older timestamp.
    expect(retCode(await call(BY_ADMIN, { timestamp: clock - 15_000, recvWindow: "20000" }))).toBe(0);
    // No header: 5000 applies, and the pre-hash carries no window.
    expect(retCode(await call(BY_ADMIN, { recvWindow: null }))).toBe(0);
    expect(retCode(await call(BY_ADMIN, { recvWindow: null, timestamp: clock - 5001 }))).toBe(10002);
  });

  it("missing headers: no key 10003, no signature 10004, no timestamp 10002", async () => {
    const url = `${sim().bybit}${QUERY_API}`;
    expect(retCode(await httpCall(url))).toBe(10003);
    expect(retCode(await httpCall(url, { headers: { "X-BAPI-API-KEY": BY_ADMIN.apiKey } }))).toBe(10004);
    expect(
      retCode(await httpCall(url, { headers: { "X-BAPI-API-KEY": BY_ADMIN.apiKey, "X-BAPI-SIGN": "ab" } })),
    ).toBe(10002);
  });

  it("an unknown route answers 404 with 10017", async () => {
    const r = await bybitCall(sim().bybit, "/v5/user/no-such-thing", BY_ADMIN, { now: clock });
    expect(r.status).toBe(404);
    expect(retCode(r)).toBe(10017);
  });
});

describe("bybit: keys without an IP binding expire after 90 days", () => {
  it("query-api shows the expiry; a day later the key no longer authenticates (10003)", async () => {
    const r = await call(BY_OLD);
    expect(envelope(r).result).toMatchObject({
      ips: ["*"],
      expiredAt: "2026-12-02T00:00:00Z",
      deadlineDay: 1,
    });
    clock = T0 + 86_400_000;
    try {
      expect(retCode(await call(BY_OLD))).toBe(10003);
      const state = (await httpCall(`${sim().control}/state`)).json as {
        bybit: { masters: { keys: { apiKey: string; status: string }[] }[] };
      };
      expect(state.bybit.masters[0]?.keys.find((k) => k.apiKey === BY_OLD.apiKey)?.status).toBe("revoked");
    } finally {
      clock = T0;
    }
  });
});
