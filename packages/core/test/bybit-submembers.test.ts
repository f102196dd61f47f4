/**
 * A Bybit master with more sub-members than one page of `GET /v5/user/submembers` (100): the adapter
 * follows `nextCursor` to the last page for the inventory, for creating a key and for one sub-account's
 * keys, over real HTTP against the simulator, and never uses the capped `query-sub-members`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bybitAdapter } from "../src/adapters/bybit/adapter.js";
import type { ExchangeAdapter } from "../src/adapters/interface.js";
import { Secret } from "../src/domain/secret.js";
import { SimControl } from "../src/testing/index.js";

const MEMBERS = 230; // three pages: 100, 100, 30
const created = new Date(Date.now() - 86_400_000).toISOString();
const key = (apiKey: string, note: string, permissions: Record<string, string[]>) => ({
  apiKey,
  secret: `CANARYBYPAGES${apiKey}SECRET`,
  note,
  readOnly: 0 as const,
  ips: ["127.0.0.1", "::1"],
  permissions,
  createdAt: created,
});

const ADMIN = key("BYPGADMIN001", "admin", { Wallet: ["AccountTransfer"] });
const memberName = (i: number) => `bypage${String(i).padStart(3, "0")}`;
/** One key in the first page's first sub-member, one in the second page, one in the last page's last. */
const KEYED = new Map([
  [0, key("BYPGKEY00000", "first", { Spot: ["SpotTrade"] })],
  [150, key("BYPGKEY00150", "middle", { Spot: ["SpotTrade"] })],
  [MEMBERS - 1, key("BYPGKEY00229", "last", { Spot: ["SpotTrade"] })],
]);

const scenario = () => ({
  bybit: {
    masters: [
      {
        uid: "590000001",
        username: "desk-pages",
        keys: [ADMIN],
        subMembers: Array.from({ length: MEMBERS }, (_, i) => {
          const k = KEYED.get(i);
          return { uid: String(590001000 + i), username: memberName(i), keys: k ? [k] : [] };
        }),
      },
    ],
  },
});

let sim: Awaited<ReturnType<typeof startSimulator>>;
let control: SimControl;

const adapter = (): ExchangeAdapter =>
  bybitAdapter(
    {
      account: { name: "pages", exchange: "bybit", endpoint: sim.bybit, credentialsRef: "vault:pages" },
      credentials: { apiKey: ADMIN.apiKey, secret: new Secret(ADMIN.secret) },
    },
    {
      rateLimits: { read: sim.rateLimits.bybit.read, write: sim.rateLimits.bybit.write },
      retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
    },
  );

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  control = new SimControl(sim.control);
});
afterAll(async () => {
  await sim?.close();
});

describe("bybit sub-members beyond one page", () => {
  it("the inventory follows nextCursor to the last page and lists every sub-account's keys", async () => {
    const since = await control.lastSeq();
    const keys = await adapter().listKeys();
    expect(keys.map((k) => k.apiKey).sort()).toEqual(
      [ADMIN.apiKey, ...[...KEYED.values()].map((k) => k.apiKey)].sort(),
    );
    expect(keys.find((k) => k.label === "last")?.subAccount).toBe(memberName(MEMBERS - 1));
    const requests = await control.requests(since);
    // Answered requests only: a retried refusal under load is not a page.
    const answered = (path: string) => requests.filter((r) => r.path === path && r.code === "0");
    expect(answered("/v5/user/submembers")).toHaveLength(3);
    expect(requests.filter((r) => r.path === "/v5/user/query-sub-members")).toHaveLength(0);
    // Every sub-member's keys were listed, once each (none has more than one page of keys).
    expect(answered("/v5/user/sub-apikeys")).toHaveLength(MEMBERS);
  });

  it("finds a sub-member on the last page to create a key in it and to list its keys", async () => {
    const desk = adapter();
    const target = memberName(MEMBERS - 2);
    const made = await desk.createKey?.({
      subAccount: target,
      label: "paged-new",
      permissions: ["read"],
      ip: ["127.0.0.1"],
    });
    expect(made?.record).toMatchObject({ subAccount: target, label: "paged-new" });
    const listed = (await desk.listSubAccountKeys?.(target)) ?? [];
    expect(listed.map((k) => k.apiKey)).toEqual([made?.credentials.apiKey]);
    expect(await control.keyStatus(made?.credentials.apiKey ?? "")).toBe("active");
  });
});

describe("a hostile sub-member list", () => {
  /**
   * A server (not the simulator: no real exchange answers so) that answers query-api for the master and
   * then the same sub-member on every page, each time with a new cursor: listing must end with an error.
   */
  it("a page that brings nothing new ends the listing with an unexpected-answer error, not an endless loop", async () => {
    let pages = 0;
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const ok = (result: unknown) =>
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ retCode: 0, retMsg: "OK", result, retExtInfo: {}, time: Date.now() }));
      if (path === "/v5/user/query-api") {
        return ok({
          id: "1",
          note: "admin",
          apiKey: ADMIN.apiKey,
          readOnly: 0,
          permissions: { Wallet: ["AccountTransfer"] },
          ips: ["127.0.0.1"],
          userID: 777,
          isMaster: true,
        });
      }
      if (path === "/v5/user/submembers") {
        pages++;
        return ok({ subMembers: [{ uid: "778", username: "same" }], nextCursor: `c${pages}` });
      }
      if (path === "/v5/user/sub-apikeys") return ok({ result: [], nextPageCursor: "" });
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const hostile = bybitAdapter(
        {
          account: {
            name: "hostile",
            exchange: "bybit",
            endpoint: `http://127.0.0.1:${port}`,
            credentialsRef: "vault:hostile",
          },
          credentials: { apiKey: ADMIN.apiKey, secret: new Secret(ADMIN.secret) },
        },
        { retry: { retries: 0 } },
      );
      await expect(hostile.listKeys()).rejects.toMatchObject({
        code: "EXCHANGE_UNAVAILABLE",
        message: expect.stringMatching(/paging did not advance/),
      });
      expect(pages).toBe(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
