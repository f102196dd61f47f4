/**
 * Bybit v5 key management against the simulator, over HTTP with the docs-written client: describe self,
 * the sub-member lists, sub-account keys with cursor paging, create (the only answer with a secret),
 * update and delete of sub-account keys and of the calling master key, master-only refusals and the
 * transfer-or-withdraw permission rule (docs/exchanges/bybit.md#endpoints).
 */
import { describe, expect, it } from "vitest";
import {
  BY_ADMIN,
  BY_READONLY,
  BY_SUB,
  BY_TRADER,
  type BybitCreds,
  bybitCall,
  bybitScenario,
  envelope,
  MASTER_UID,
  OTHER_SUB_UID,
  PAGED_KEYS,
  PAGED_UID,
  retCode,
  SUB_UID,
  T0,
} from "./bybit-helpers.js";
import { control, httpCall, useSimulator } from "./helpers.js";

// The clock stands still (expiry figures are exact), so the rate limits are lifted here (bybit-limits.test.ts).
const RELAXED = { limit: 10_000, windowMs: 1000 };
const sim = useSimulator({
  scenario: bybitScenario(),
  now: () => T0,
  rateLimits: { bybit: { read: RELAXED, write: RELAXED } },
});
const get = (path: string, creds: BybitCreds, query = "") =>
  bybitCall(sim().bybit, path, creds, { now: T0, method: "GET", query });
const post = (path: string, creds: BybitCreds, body: unknown) =>
  bybitCall(sim().bybit, path, creds, { now: T0, body });

type KeyRow = {
  apiKey: string;
  note: string;
  secret: string;
  status: number;
  ips: string[];
  readOnly: boolean;
};
type KeyPage = { result: KeyRow[]; nextPageCursor: string };

async function listAll(subMemberId: string, limit?: number): Promise<{ pages: number; keys: KeyRow[] }> {
  const keys: KeyRow[] = [];
  let cursor = "";
  let pages = 0;
  do {
    const q = new URLSearchParams({
      subMemberId,
      ...(limit ? { limit: String(limit) } : {}),
      ...(cursor ? { cursor } : {}),
    });
    const r = await get("/v5/user/sub-apikeys", BY_ADMIN, q.toString());
    expect(retCode(r)).toBe(0);
    const page = envelope<KeyPage>(r).result;
    keys.push(...page.result);
    cursor = page.nextPageCursor;
    pages++;
  } while (cursor !== "");
  return { pages, keys };
}

const state = async () =>
  (await httpCall(`${sim().control}/state`)).json as {
    bybit: {
      masters: {
        keys: { apiKey: string; status: string }[];
        subMembers: { uid: string; keys: { apiKey: string; status: string }[] }[];
      }[];
    };
  };

describe("bybit: sub-member lists", () => {
  it("query-sub-members lists the master's sub-members; submembers pages them with nextCursor ('0' = last)", async () => {
    const all = envelope<{ subMembers: { uid: string; memberType: number }[] }>(
      await get("/v5/user/query-sub-members", BY_ADMIN),
    ).result.subMembers;
    expect(all.map((s) => [s.uid, s.memberType])).toEqual([
      [SUB_UID, 1],
      [PAGED_UID, 6],
    ]);
    const first = envelope<{ subMembers: { uid: string }[]; nextCursor: string }>(
      await get("/v5/user/submembers", BY_ADMIN, "pageSize=1"),
    ).result;
    expect(first.subMembers.map((s) => s.uid)).toEqual([SUB_UID]);
    expect(first.nextCursor).not.toBe("0");
    const second = envelope<{ subMembers: { uid: string }[]; nextCursor: string }>(
      await get(
        "/v5/user/submembers",
        BY_ADMIN,
        `pageSize=1&nextCursor=${encodeURIComponent(first.nextCursor)}`,
      ),
    ).result;
    expect(second).toEqual({ subMembers: [expect.objectContaining({ uid: PAGED_UID })], nextCursor: "0" });
  });

  it("refused (10005) to a sub-member's key and to a master key without transfer or withdraw permission", async () => {
    expect(retCode(await get("/v5/user/query-sub-members", BY_SUB))).toBe(10005);
    expect(retCode(await get("/v5/user/query-sub-members", BY_TRADER))).toBe(10005);
    expect(retCode(await get("/v5/user/submembers", BY_TRADER))).toBe(10005);
  });
});

describe("bybit: sub-apikeys", () => {
  it("pages with a cursor: 20 by default, any limit 1-20, every key once, secrets masked", async () => {
    const byDefault = await listAll(PAGED_UID);
    expect(byDefault.pages).toBe(2);
    expect(byDefault.keys.map((k) => k.note)).toEqual(
      Array.from({ length: PAGED_KEYS }, (_, i) => `paged-${i}`),
    );
    expect(new Set(byDefault.keys.map((k) => k.secret))).toEqual(new Set(["******"]));
    expect(byDefault.keys[0]).toMatchObject({ status: 1, ips: ["10.9.0.1"], readOnly: true });
    const bySeven = await listAll(PAGED_UID, 7);
    expect(bySeven.pages).toBe(4);
    expect(bySeven.keys.map((k) => k.apiKey)).toEqual(byDefault.keys.map((k) => k.apiKey));
  });

  it("limit outside 1-20, a bad cursor, no subMemberId or another master's sub-member: 10001", async () => {
    for (const q of [
      `subMemberId=${PAGED_UID}&limit=0`,
      `subMemberId=${PAGED_UID}&limit=21`,
      `subMemberId=${PAGED_UID}&cursor=zzz`,
      "",
      `subMemberId=${OTHER_SUB_UID}`,
    ])
      expect(retCode(await get("/v5/user/sub-apikeys", BY_ADMIN, q)), q).toBe(10001);
  });

  it("any master key may list (no permission needed); a sub-member's key may not (10005)", async () => {
    expect(retCode(await get("/v5/user/sub-apikeys", BY_TRADER, `subMemberId=${SUB_UID}`))).toBe(0);
    expect(retCode(await get("/v5/user/sub-apikeys", BY_SUB, `subMemberId=${SUB_UID}`))).toBe(10005);
  });
});

describe("bybit: create, update and delete sub-account keys", () => {
  it("create returns the secret once; the new key works, is listed masked, and no secret reaches /state or /requests", async () => {
    const created = envelope<{ apiKey: string; secret: string; readOnly: number; note: string }>(
      await post("/v5/user/create-sub-api", BY_ADMIN, {
        subuid: Number(SUB_UID),
        note: "rot-1234",
        readOnly: 0,
        ips: "127.0.0.1,::1",
        permissions: { Spot: ["SpotTrade"], Wallet: ["AccountTransfer"] },
      }),
    );
    expect(created.retCode).toBe(0);
    const made = created.result;
    expect(made).toMatchObject({ note: "rot-1234", readOnly: 0 });
    expect(made.secret.length).toBeGreaterThan(20);
    const self = envelope(await get("/v5/user/query-api", made));
    expect(self.result).toMatchObject({
      apiKey: made.apiKey,
      secret: "",
      ips: ["127.0.0.1", "::1"],
      isMaster: false,
    });
    const listed = (await listAll(SUB_UID)).keys.find((k) => k.apiKey === made.apiKey);
    expect(listed).toMatchObject({ secret: "******", note: "rot-1234", status: 1 });
    const stateText = (await httpCall(`${sim().control}/state`)).text;
    const requestsText = (await httpCall(`${sim().control}/requests`)).text;
    expect(stateText).toContain(made.apiKey);
    expect(stateText).not.toContain(made.secret);
    expect(requestsText).not.toContain(made.secret);
  });

  it("a key made without IPs carries the 90-day expiry (status 3, deadlineDay 90)", async () => {
    const made = envelope<{ apiKey: string }>(
      await post("/v5/user/create-sub-api", BY_ADMIN, { subuid: SUB_UID, readOnly: 1, permissions: {} }),
    ).result;
    const listed = (await listAll(SUB_UID)).keys.find((k) => k.apiKey === made.apiKey);
    expect(listed).toMatchObject({
      ips: ["*"],
      status: 3,
      deadlineDay: 90,
      expiredAt: new Date(T0 + 90 * 86_400_000).toISOString().replace(".000Z", "Z"),
    });
  });

  it("create is refused (10005) to keys without transfer/withdraw, to read-only keys and to sub-members' keys", async () => {
    const body = { subuid: SUB_UID, readOnly: 0, permissions: {} };
    for (const creds of [BY_TRADER, BY_READONLY, BY_SUB])
      expect(retCode(await post("/v5/user/create-sub-api", creds, body)), creds.apiKey).toBe(10005);
  });

  it("create refuses bad parameters (10001): withdraw on a sub key, no readOnly, another master's sub-member", async () => {
    expect(
      retCode(
        await post("/v5/user/create-sub-api", BY_ADMIN, {
          subuid: SUB_UID,
          readOnly: 0,
          permissions: { Wallet: ["Withdraw"] },
        }),
      ),
    ).toBe(10001);
    expect(
      retCode(await post("/v5/user/create-sub-api", BY_ADMIN, { subuid: SUB_UID, permissions: {} })),
    ).toBe(10001);
    expect(
      retCode(
        await post("/v5/user/create-sub-api", BY_ADMIN, {
          subuid: OTHER_SUB_UID,
          readOnly: 0,
          permissions: {},
        }),
      ),
    ).toBe(10001);
  });

  it("update-sub-api: the master names the key; the answer has no secret; binding IPs lifts the expiry", async () => {
    const made = envelope<{ apiKey: string; secret: string }>(
      await post("/v5/user/create-sub-api", BY_ADMIN, { subuid: SUB_UID, readOnly: 0, permissions: {} }),
    ).result;
    expect(retCode(await post("/v5/user/update-sub-api", BY_ADMIN, { readOnly: 1 }))).toBe(10001);
    const updated = await post("/v5/user/update-sub-api", BY_ADMIN, {
      apikey: made.apiKey,
      readOnly: 1,
      ips: "127.0.0.1",
      permissions: { Spot: ["SpotTrade"] },
    });
    expect(envelope(updated).result).toMatchObject({
      apiKey: made.apiKey,
      readOnly: 1,
      secret: "",
      ips: ["127.0.0.1"],
    });
    expect(updated.text).not.toContain(made.secret);
    const self = envelope(await get("/v5/user/query-api", made)).result;
    expect(self).toMatchObject({ readOnly: 1, expiredAt: "", deadlineDay: 0 });
    expect((self.permissions as Record<string, string[]>).Spot).toEqual(["SpotTrade"]);
  });

  it("a sub-member's key modifies itself without apikey, and may not name another key (10001)", async () => {
    const r = await post("/v5/user/update-sub-api", BY_SUB, { ips: "127.0.0.1,::1" });
    expect(envelope(r).result).toMatchObject({ apiKey: BY_SUB.apiKey, ips: ["127.0.0.1", "::1"] });
    expect(
      retCode(await post("/v5/user/update-sub-api", BY_SUB, { apikey: "BYPAGEDKEY00000000", readOnly: 1 })),
    ).toBe(10001);
  });

  it("delete-sub-api kills the key at once and takes it off the listing; a second delete is 10001", async () => {
    const made = envelope<{ apiKey: string; secret: string }>(
      await post("/v5/user/create-sub-api", BY_ADMIN, {
        subuid: SUB_UID,
        readOnly: 0,
        ips: "127.0.0.1",
        permissions: {},
      }),
    ).result;
    expect(retCode(await get("/v5/user/query-api", made))).toBe(0);
    expect(retCode(await post("/v5/user/delete-sub-api", BY_ADMIN, { apikey: made.apiKey }))).toBe(0);
    expect(retCode(await get("/v5/user/query-api", made))).toBe(10003);
    expect((await listAll(SUB_UID)).keys.map((k) => k.apiKey)).not.toContain(made.apiKey);
    expect(retCode(await post("/v5/user/delete-sub-api", BY_ADMIN, { apikey: made.apiKey }))).toBe(10001);
    const sub = (await state()).bybit.masters[0]?.subMembers.find((s) => s.uid === SUB_UID);
    expect(sub?.keys.find((k) => k.apiKey === made.apiKey)?.status).toBe("revoked");
  });

  it("a master may not name another master's sub-account key (10001)", async () => {
    expect(retCode(await post("/v5/user/delete-sub-api", BY_ADMIN, { apikey: "BYOTHERSUBKEY00007" }))).toBe(
      10001,
    );
  });
});

describe("bybit: the calling master key modifies and deletes itself", () => {
  it("update-api changes only the calling key; sub-members' keys are refused (10005)", async () => {
    const r = await post("/v5/user/update-api", BY_ADMIN, { ips: "127.0.0.1,::1,10.0.0.0/8" });
    expect(envelope(r).result).toMatchObject({
      apiKey: BY_ADMIN.apiKey,
      secret: "",
      ips: ["127.0.0.1", "::1", "10.0.0.0/8"],
    });
    expect(retCode(await post("/v5/user/update-api", BY_SUB, { readOnly: 1 }))).toBe(10005);
    expect(retCode(await post("/v5/user/update-api", BY_TRADER, { readOnly: 1 }))).toBe(10005);
  });

  it("a master key made on the site (POST /ui/create, secret once) deletes itself by API and is dead at once", async () => {
    const made = await control(sim().control, "POST", "/ui/create", {
      exchange: "bybit",
      uid: MASTER_UID,
      note: "new-admin",
      readOnly: 0,
      ips: ["127.0.0.1"],
      permissions: { Wallet: ["SubMemberTransfer"] },
    });
    expect(made.status).toBe(201);
    const creds = made.json as BybitCreds;
    expect(creds.secret).toBeTruthy();
    expect(envelope(await get("/v5/user/query-api", creds)).result).toMatchObject({
      note: "new-admin",
      isMaster: true,
    });
    expect(retCode(await post("/v5/user/delete-api", creds, {}))).toBe(0);
    expect(retCode(await get("/v5/user/query-api", creds))).toBe(10003);
    const master = (await state()).bybit.masters[0];
    expect(master?.keys.find((k) => k.apiKey === creds.apiKey)?.status).toBe("revoked");
    expect(master?.keys.find((k) => k.apiKey === BY_ADMIN.apiKey)?.status).toBe("active");
  });

  it("the API Management page lists the keys and revokes one after confirming", async () => {
    const page = await httpCall(`${sim().bybit}/app/user/api-management`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(BY_TRADER.apiKey);
    expect(page.text).not.toContain(BY_TRADER.secret);
    const revoke = await httpCall(`${sim().bybit}/app/user/api-management/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `apiKey=${BY_TRADER.apiKey}&confirm=yes`,
    });
    expect(revoke.status).toBe(303);
    expect(retCode(await get("/v5/user/query-api", BY_TRADER))).toBe(10003);
  });
});
