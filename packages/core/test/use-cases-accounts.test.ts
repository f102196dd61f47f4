/**
 * The account and inventory use cases both shells call (checkAccounts, listAccounts, listInventory,
 * selectLiveKeys, needsPassphrase, confirmsPlan), over real HTTP against the in-process simulator, through a home
 * set up by core's own operations.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { exchangeProfile, needsPassphrase } from "../src/adapters/registry.js";
import { isKeywardError, KeywardError } from "../src/errors.js";
import { SelectorSchema } from "../src/inventory/selectors.js";
import {
  checkAccounts,
  confirmsPlan,
  type InventoryEvent,
  listAccounts,
  listInventory,
  selectLiveKeys,
} from "../src/use-cases/index.js";
import { BFX, canariesOf, type Desk, OKX, openDesk, SUB } from "./use-cases-fixtures.js";

let desk: Desk;
const seen: string[] = [];
const keep = <T>(v: T): T => {
  seen.push(JSON.stringify(v));
  return v;
};

beforeAll(async () => {
  desk = await openDesk();
});
afterEach(async () => {
  await desk.control.resetFaults();
});
afterAll(async () => {
  await desk?.close();
  const text = seen.join("\n");
  for (const canary of canariesOf(desk.keys)) expect(text).not.toContain(canary);
});

const selector = (input: Record<string, unknown>) => SelectorSchema.parse(input);

describe("checkAccounts", () => {
  it("probes every account's own key: health, permissions and the warnings that apply", async () => {
    const checks = keep(await checkAccounts(desk.home, { adapterFor: desk.adapterFor }));
    expect(checks.map((c) => [c.account, c.exchange, c.health?.status, c.problem])).toEqual([
      [OKX, "okx", "alive", null],
      [BFX, "bitfinex", "alive", null],
    ]);
    const okx = checks[0]?.health;
    expect(okx).toMatchObject({ master: true, permissions: ["read", "trade"], ip: ["127.0.0.1"] });
    expect(okx?.warnings).toEqual([]);
    expect(checks[1]?.health?.master).toBeNull();
  });

  it("checks one account by name; an unknown name is ACCOUNT_NOT_FOUND before anything is probed", async () => {
    const one = keep(await checkAccounts(desk.home, { account: "UC-BFX", adapterFor: desk.adapterFor }));
    expect(one.map((c) => c.account)).toEqual([BFX]);
    const before = await desk.control.lastSeq();
    await expect(checkAccounts(desk.home, { account: "nope" })).rejects.toSatisfy((e) =>
      isKeywardError(e, "ACCOUNT_NOT_FOUND"),
    );
    expect(await desk.control.requests(before)).toEqual([]);
  });

  it("one account's failure is its own result; the others still answer", async () => {
    const broken = new KeywardError("EXCHANGE_UNAVAILABLE", "cannot build the adapter");
    const checks = keep(
      await checkAccounts(desk.home, {
        adapterFor: async (name) => (name === OKX ? Promise.reject(broken) : desk.adapterFor(name)),
      }),
    );
    expect(checks[0]).toMatchObject({
      account: OKX,
      health: null,
      problem: { kind: "failed", error: broken },
    });
    expect(checks[1]).toMatchObject({ account: BFX, health: { status: "alive" }, problem: null });
  });

  it("an account whose credentials are missing from the vault says so instead of probing", async () => {
    const vault = await desk.home.vault();
    const ref = desk.home.account(BFX).credentialsRef;
    const saved = vault.get(ref);
    vault.delete(ref);
    try {
      const checks = keep(await checkAccounts(desk.home, { account: BFX, adapterFor: desk.adapterFor }));
      expect(checks).toEqual([
        { account: BFX, exchange: "bitfinex", health: null, problem: { kind: "no-credentials" } },
      ]);
    } finally {
      if (saved) vault.set(ref, saved);
    }
  });
});

describe("listAccounts", () => {
  it("lists each account with its tracked keys and whether Keyward could prove them revoked", async () => {
    const accounts = await listAccounts(desk.home);
    expect(accounts.map((a) => [a.name, a.exchange, a.endpoint])).toEqual([
      [OKX, "okx", desk.sim.okx],
      [BFX, "bitfinex", desk.sim.bitfinex],
    ]);
    expect(accounts[0]?.tracked).toEqual([]);
    expect(accounts[1]?.tracked).toEqual([
      { label: "uc-mm", apiKey: desk.keys.mm.apiKey, provable: true },
      { label: "uc-blind", apiKey: desk.keys.blind.apiKey, provable: false },
    ]);
  });
});

describe("listInventory and selectLiveKeys", () => {
  it("lists every account live, with progress events in order", async () => {
    const events: InventoryEvent["type"][] = [];
    const inventory = keep(
      await listInventory(desk.home, { adapters: desk.adapters, onEvent: (e) => events.push(e.type) }),
    );
    expect(events).toEqual(["listing", "account-done", "account-done", "listed"]);
    expect(inventory.accounts.map((a) => [a.account, a.error])).toEqual([
      [OKX, undefined],
      [BFX, undefined],
    ]);
    const k = desk.keys;
    expect(inventory.keys.map((r) => r.apiKey).sort()).toEqual(
      [k.admin, k.bot, k.reader, k.acct, k.mm, k.blind].map((x) => x.apiKey).sort(),
    );
    expect([...inventory.adapters.keys()]).toEqual([OKX, BFX]);
  });

  it("a selector's exchange or account narrows the accounts asked; an unknown account is an error", async () => {
    const before = await desk.control.lastSeq();
    const okxOnly = keep(
      await listInventory(desk.home, { selector: { exchange: "okx" }, adapters: desk.adapters }),
    );
    expect(okxOnly.accounts.map((a) => a.account)).toEqual([OKX]);
    expect((await desk.control.requests(before)).every((r) => r.exchange === "okx")).toBe(true);
    await expect(listInventory(desk.home, { selector: { account: "nope" } })).rejects.toSatisfy((e) =>
      isKeywardError(e, "ACCOUNT_NOT_FOUND"),
    );
  });

  it("selects by label glob, risk and id from the live listing; an id that matches nothing is KEY_NOT_FOUND", async () => {
    const bots = keep(
      await selectLiveKeys(desk.home, { selector: selector({ label: "uc-*" }), adapters: desk.adapters }),
    );
    expect(bots.keys.map((k) => k.label).sort()).toEqual(["uc-blind", "uc-mm"]);
    expect(bots.accountErrors).toEqual([]);

    const risky = keep(
      await selectLiveKeys(desk.home, {
        selector: selector({ account: OKX, risky: true }),
        adapters: desk.adapters,
      }),
    );
    // No IP binding: usable from anywhere.
    expect(risky.keys.map((k) => k.apiKey)).toEqual([desk.keys.reader.apiKey]);

    const bot = bots.inventory.keys.find((k) => k.apiKey === desk.keys.mm.apiKey);
    const byId = await selectLiveKeys(desk.home, {
      selector: selector({ ids: [bot?.id] }),
      adapters: desk.adapters,
    });
    expect(byId.keys.map((k) => k.id)).toEqual([bot?.id]);

    await expect(
      selectLiveKeys(desk.home, {
        selector: selector({ ids: ["okx:uc-okx:-:gone"] }),
        adapters: desk.adapters,
      }),
    ).rejects.toSatisfy((e) => isKeywardError(e, "KEY_NOT_FOUND"));
  });

  it("lists through the source it is given (the web server's held inventory), not a second time", async () => {
    const inventory = await listInventory(desk.home, { adapters: desk.adapters });
    const before = await desk.control.lastSeq();
    const selection = await selectLiveKeys(desk.home, {
      selector: selector({ exchange: "okx" }),
      list: async () => inventory,
    });
    expect(selection.inventory).toBe(inventory);
    expect(selection.keys.map((k) => k.subAccount ?? "-").sort()).toEqual(["-", SUB, SUB]);
    expect(await desk.control.requests(before)).toEqual([]);
  });

  it("an account that cannot be listed is reported beside the keys, which come from its last listing (stale)", async () => {
    await listInventory(desk.home, { adapters: desk.adapters }); // the last successful listing, cached
    await desk.control.faults({ exchange: "okx", errorRate: 1, errorStatus: 503 });
    const selection = keep(
      await selectLiveKeys(desk.home, { selector: selector({ all: true }), adapters: desk.adapters }),
    );
    expect(selection.accountErrors.map((a) => a.account)).toEqual([OKX]);
    expect(selection.accountErrors[0]?.message).toBeTruthy();
    const sub = selection.keys.filter((k) => k.subAccount === SUB);
    expect(sub).toHaveLength(2);
    for (const k of sub) {
      expect(k.stale?.fetchedAt).toBeTruthy();
      expect(k.actions.revoke).toBe("manual");
    }
  });
});

describe("needsPassphrase", () => {
  it("OKX keys carry a passphrase; Bitfinex keys have none", () => {
    expect(needsPassphrase(exchangeProfile("okx"))).toBe(true);
    expect(needsPassphrase(exchangeProfile("bitfinex"))).toBe(false);
  });
});

describe("confirmsPlan", () => {
  it("only the number of keys confirms a plan (spaces around it are fine)", () => {
    expect(confirmsPlan(" 2 ", 2)).toBe(true);
    for (const typed of ["", "y", "yes", "3", "2 keys", "02"]) expect(confirmsPlan(typed, 2)).toBe(false);
  });
});
