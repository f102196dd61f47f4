/**
 * "The worst five minutes" (issue 10, points 7-9), in-process against the simulator over real HTTP:
 * an account whose own key died (revoked first, as operators do, or no longer matching its IP binding)
 * still shows its keys, tracked ones probed with their own secrets and the rest from the last successful
 * inventory, marked stale with its age, and they can still be revoked by a person with Keyward probing;
 * the account's own key is revoked last and the plan says so; a tracked OKX master key is never
 * invisible; and each account says which keys its exchange cannot list. Every secret is a canary.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { AdapterOptions, ExchangeAdapter, TrackedKey } from "../src/adapters/interface.js";
import { okxAdapter } from "../src/adapters/okx/adapter.js";
import type { Credentials } from "../src/domain/credentials.js";
import type { KeyRecord } from "../src/domain/schemas.js";
import { fetchInventory, forgetRevoked } from "../src/inventory/inventory.js";
import { inventoryRow } from "../src/inventory/view.js";
import { planRevoke } from "../src/revoke/plan.js";
import { type RevokeDeps, type RevokeEvent, runRevoke } from "../src/revoke/run.js";
import { InventoryCache } from "../src/store/inventory-cache.js";
import { SqliteStateStore } from "../src/store/sqlite/sqlite-state-store.js";
import { SimControl } from "../src/testing/index.js";
import {
  ACCOUNT_SCOPES,
  adapterFor as bfxAdapterFor,
  creds as bfxCreds,
  bfxKey,
  seed as bfxSeed,
  tracked as bfxTracked,
} from "./bitfinex-fixtures.js";
import {
  type OkxSeedKey,
  creds as okxCreds,
  seed as okxSeed,
  seedKey,
  simOkxLimits,
} from "./okx-fixtures.js";

// OKX master account "okx-desk": Keyward's own master key, a second master key made on okx.com (tracked),
// two sub-account keys; Keyward holds the secret of one of them (as after a rotation).
const OWN = seedKey("own-master", "read_only,trade", "127.0.0.1");
const WEB_MASTER = seedKey("web-master", "read_only,trade,withdraw", "");
const S1 = seedKey("sub-trader", "read_only,trade", "127.0.0.1");
const S2 = seedKey("sub-reader", "read_only", "");
// A second OKX account whose own key is bound to an address this machine does not have.
const FAR = seedKey("far-master", "read_only,trade", "10.9.9.9");
const FAR_TRACKED = seedKey("far-tracked", "read_only", "127.0.0.1");
// Bitfinex user: Keyward's account key, a tracked key that can withdraw, another tracked key ("other").
const ACCT = bfxKey("keyward-reader", ACCOUNT_SCOPES);
const MM = bfxKey("mm", [
  ["orders", 1, 1],
  ["withdraw", 0, 1],
]);
const OTHER = bfxKey("other", [["orders", 1, 1]]);

const CANARIES = [
  ...[OWN, WEB_MASTER, S1, S2, FAR, FAR_TRACKED].flatMap((k) => [k.secretKey, k.passphrase]),
  ...[ACCT, MM, OTHER].map((k) => k.apiSecret),
];

const scenario = () => ({
  okx: {
    accounts: [
      {
        uid: "7001",
        name: "desk",
        keys: [okxSeed(OWN), okxSeed(WEB_MASTER)],
        subAccounts: [
          { name: "incSub0001", uid: "7101", keys: [okxSeed(S1)] },
          { name: "incSub0002", uid: "7102", keys: [okxSeed(S2)] },
        ],
      },
      { uid: "7002", name: "far", keys: [okxSeed(FAR), okxSeed(FAR_TRACKED)], subAccounts: [] },
    ],
  },
  bitfinex: { users: [{ id: 8001, email: "ops@incident.example", keys: [ACCT, MM, OTHER].map(bfxSeed) }] },
});

const OKX = "okx-desk";
const BFX = "bfx-desk";
const FAR_ACCOUNT = "okx-far";

const okxTracked = (k: OkxSeedKey): TrackedKey => ({
  apiKey: k.apiKey,
  label: k.label,
  credentials: okxCreds(k),
});

const dirs: string[] = [];
const sims: RunningSimulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Everything a test saw (inventories, plans, events, reports, audit entries) for the canary scan. */
let seen: string[] = [];
const keep = <T>(v: T): T => {
  seen.push(JSON.stringify(v));
  return v;
};
afterEach(() => {
  const all = seen.join("\n");
  seen = [];
  for (const canary of CANARIES) expect(all).not.toContain(canary);
});

async function world() {
  const sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  sims.push(sim);
  const control = new SimControl(sim.control);
  const options: AdapterOptions = {
    rateLimits: simOkxLimits(sim),
    retry: { retries: 2, minTimeoutMs: 20, maxTimeoutMs: 100 },
  };
  const account = (name: string, exchange: "okx" | "bitfinex") => ({
    name,
    exchange,
    endpoint: exchange === "okx" ? sim.okx : sim.bitfinex,
    credentialsRef: `account:${name}`,
  });
  const adapters = new Map<string, ExchangeAdapter>([
    [
      OKX,
      okxAdapter(
        { account: account(OKX, "okx"), credentials: okxCreds(OWN), tracked: [okxTracked(WEB_MASTER)] },
        options,
      ),
    ],
    [
      FAR_ACCOUNT,
      okxAdapter(
        {
          account: account(FAR_ACCOUNT, "okx"),
          credentials: okxCreds(FAR),
          tracked: [okxTracked(FAR_TRACKED)],
        },
        options,
      ),
    ],
    [
      BFX,
      bfxAdapterFor(
        sim.bitfinex,
        ACCT,
        { retry: { retries: 2, minTimeoutMs: 10, maxTimeoutMs: 50 } },
        [bfxTracked(MM), bfxTracked(OTHER)],
        BFX,
      ),
    ],
  ]);
  const dir = mkdtempSync(join(tmpdir(), "keyward-incident-"));
  dirs.push(dir);
  const cache = new InventoryCache(SqliteStateStore.open(join(dir, "state.db")));
  /** The secrets Keyward holds: the accounts' own keys, tracked keys, and S1 (created by a rotation). */
  const held = new Map<string, Credentials>([
    [OWN.apiKey, okxCreds(OWN)],
    [WEB_MASTER.apiKey, okxCreds(WEB_MASTER)],
    [S1.apiKey, okxCreds(S1)],
    [FAR_TRACKED.apiKey, okxCreds(FAR_TRACKED)],
    [ACCT.apiKey, bfxCreds(ACCT)],
    [MM.apiKey, bfxCreds(MM)],
    [OTHER.apiKey, bfxCreds(OTHER)],
  ]);
  const accountKeys = new Map([
    [OKX, OWN.apiKey],
    [BFX, ACCT.apiKey],
    [FAR_ACCOUNT, FAR.apiKey],
  ]);
  const inventory = async (names: string[], now?: () => number) =>
    keep(
      await fetchInventory(
        names.map((name) => ({ name, exchange: name === BFX ? "bitfinex" : "okx" })),
        { adapterFor: (n) => adapters.get(n) as ExchangeAdapter, cache, ...(now ? { now } : {}) },
      ),
    );
  const audit: { action: string; subject: string; details: unknown }[] = [];
  const events: RevokeEvent[] = [];
  const deps = (manual: RevokeDeps["manual"], onEvent?: (e: RevokeEvent) => void): RevokeDeps => ({
    adapterFor: (n) => adapters.get(n) as ExchangeAdapter,
    credentialsFor: (key) => held.get(key.apiKey),
    audit: {
      append: async (action, subject, details) => {
        audit.push({ action, subject, details });
      },
    },
    manual,
    onEvent: (e) => {
      events.push(structuredClone(e));
      onEvent?.(e);
    },
  });
  return { sim, control, cache, inventory, accountKeys, deps, audit, events };
}

const byApiKey = (keys: readonly KeyRecord[], apiKey: string) => keys.find((k) => k.apiKey === apiKey);

describe("tracked keys are never invisible (point 9)", () => {
  it("a tracked OKX master key is listed with what its own probe says, and each account names what its exchange cannot list", async () => {
    const w = await world();
    const [okx, bfx] = await w.inventory([OKX, BFX]);
    expect(okx?.error).toBeUndefined();
    const web = byApiKey(okx?.keys ?? [], WEB_MASTER.apiKey);
    expect(web).toMatchObject({
      id: `okx:${OKX}:-:${WEB_MASTER.apiKey}`,
      location: "master",
      label: "web-master",
      permissions: ["read", "trade", "withdraw"],
      state: "active",
      probeable: true,
      actions: { revoke: "manual" },
    });
    // The account's own key and both sub-account keys are still there, once each.
    expect(okx?.keys.map((k) => k.apiKey).sort()).toEqual(
      [OWN, WEB_MASTER, S1, S2].map((k) => k.apiKey).sort(),
    );
    expect(okx?.unlisted).toMatch(
      /keys created on okx\.com for the master account .* are not visible by API: track them with `keyward key track okx-desk/,
    );
    expect(bfx?.unlisted).toMatch(/Bitfinex has no API that lists keys.*keyward key track bfx-desk/);
    expect(bfx?.keys.map((k) => k.apiKey).sort()).toEqual([ACCT, MM, OTHER].map((k) => k.apiKey).sort());
    // A successful inventory is what a later failure falls back on.
    expect((await w.cache.get(OKX))?.records.map((k) => k.apiKey).sort()).toEqual(
      okx?.keys.map((k) => k.apiKey).sort(),
    );
  });

  it("an account whose key no longer matches its IP binding still lists its tracked keys, probed with their own secrets", async () => {
    const w = await world();
    const [far] = await w.inventory([FAR_ACCOUNT]);
    expect(far?.error?.message).toMatch(/IP|whitelist/i);
    expect(far?.stale).toBeUndefined(); // nothing cached: nothing stale to show
    expect(byApiKey(far?.keys ?? [], FAR_TRACKED.apiKey)).toMatchObject({
      state: "active",
      location: "master",
      permissions: ["read"],
      actions: { revoke: "manual" },
    });
    expect(byApiKey(far?.keys ?? [], FAR_TRACKED.apiKey)?.stale).toBeUndefined();
    // The account's own key answers "not from this IP": unknown, not dead.
    expect(byApiKey(far?.keys ?? [], FAR.apiKey)?.state).toBe("unknown");
  });
});

describe("revoke keeps going when an account's own key dies (point 7)", () => {
  it("OKX master key dead: sub-account keys shown stale from the last inventory with their age; revoking them gives manual steps and probes the one whose secret Keyward holds", async () => {
    const w = await world();
    const [before] = await w.inventory([OKX]);
    expect(before?.error).toBeUndefined();
    const fetchedAt = (await w.cache.get(OKX))?.fetchedAt as string;

    await w.control.uiRevoke("okx", OWN.apiKey); // the first key the operator kills
    const later = Date.parse(fetchedAt) + 5 * 60_000;
    const [after] = await w.inventory([OKX], () => later);
    const keys = after?.keys ?? [];
    expect(after?.error?.message).toBeTruthy();
    expect(after?.stale).toEqual({ fetchedAt, ageMs: 5 * 60_000 });
    for (const sub of [S1, S2]) {
      expect(byApiKey(keys, sub.apiKey)).toMatchObject({
        subAccount: sub === S1 ? "incSub0001" : "incSub0002",
        location: "sub-account",
        stale: { fetchedAt },
        actions: { revoke: "manual" },
      });
    }
    expect(
      inventoryRow(byApiKey(keys, S2.apiKey) as KeyRecord, { maxKeyAgeDays: 90, now: later }).stale,
    ).toEqual({
      fetchedAt,
      ageMs: 5 * 60_000,
    });
    // Its own probe says the account's key is dead; the tracked master key answers alive: both are live facts.
    expect(byApiKey(keys, OWN.apiKey)).toMatchObject({ state: "dead" });
    expect(byApiKey(keys, OWN.apiKey)?.stale).toBeUndefined();
    expect(byApiKey(keys, WEB_MASTER.apiKey)).toMatchObject({ state: "active", location: "master" });
    expect(byApiKey(keys, WEB_MASTER.apiKey)?.stale).toBeUndefined();

    const subs = keys.filter((k) => k.subAccount !== null && k.state !== "dead");
    const plan = keep(planRevoke(subs, { accountKeys: w.accountKeys }));
    expect(plan.items.map((i) => i.method)).toEqual(["manual", "manual"]);
    const report = keep(
      await runRevoke(
        plan,
        w.deps({ wait: true, timeoutMs: 30_000, pollMs: 50 }, (e) => {
          // The person revokes S1 on okx.com once the checklist is out.
          if (e.type === "manual-waiting") void w.control.uiRevoke("okx", S1.apiKey);
        }),
      ),
    );
    const s1 = report.results.find((r) => r.apiKey === S1.apiKey);
    const s2 = report.results.find((r) => r.apiKey === S2.apiKey);
    expect(s1).toMatchObject({ outcome: "revoked", verified: true, stale: { fetchedAt } });
    expect(s1?.steps?.recognise.where).toMatch(/incSub0001/);
    expect(s1?.evidence.join("\n")).toMatch(/after the manual step: probe: dead/);
    expect(s2).toMatchObject({ outcome: "awaiting-manual", verified: false, stale: { fetchedAt } });
    expect(s2?.evidence.join("\n")).toMatch(/not listed by the exchange now.*only a person/);
    expect(s2?.evidence.join("\n")).toMatch(/holds no secret/);
    expect(report.summary).toMatchObject({ revoked: 1, awaitingManual: 1, failed: 0 });
    expect(await w.control.keyStatus(S2.apiKey)).toBe("active"); // nothing but the person revoked anything
    keep([w.audit, w.events]);
  });

  it("keys proven revoked leave the last listing, so an account that dies later does not show them again", async () => {
    const w = await world();
    const [before] = await w.inventory([OKX]);
    const fetchedAt = (await w.cache.get(OKX))?.fetchedAt;
    const s2 = (before?.keys ?? []).filter((k) => k.apiKey === S2.apiKey);
    const report = keep(await runRevoke(planRevoke(s2), w.deps({ wait: false, timeoutMs: 0, pollMs: 50 })));
    expect(report.results[0]).toMatchObject({ outcome: "revoked", verified: true });
    await forgetRevoked(w.cache, report.results);
    expect((await w.cache.get(OKX))?.fetchedAt).toBe(fetchedAt); // still the date of that listing
    expect((await w.cache.get(OKX))?.records.map((k) => k.apiKey)).not.toContain(S2.apiKey);

    await w.control.uiRevoke("okx", OWN.apiKey);
    const [after] = await w.inventory([OKX]);
    expect(after?.error).toBeDefined();
    expect(after?.keys.map((k) => k.apiKey)).not.toContain(S2.apiKey);
    expect(byApiKey(after?.keys ?? [], S1.apiKey)?.stale).toEqual({ fetchedAt });
  });

  it("Bitfinex account key revoked first: the tracked keys are still listed live and revoked by a person, probed dead", async () => {
    const w = await world();
    await w.inventory([BFX]);
    await w.control.uiRevoke("bitfinex", ACCT.apiKey);
    const [bfx] = await w.inventory([BFX]);
    expect(bfx?.error).toBeDefined();
    for (const k of [MM, OTHER]) {
      const key = byApiKey(bfx?.keys ?? [], k.apiKey);
      expect(key).toMatchObject({ state: "active", probeable: true, actions: { revoke: "manual" } });
      expect(key?.stale).toBeUndefined();
    }
    const other = (bfx?.keys ?? []).filter((k) => k.label === "other");
    const plan = planRevoke(other, { accountKeys: w.accountKeys });
    const waiting = keep(await runRevoke(plan, w.deps({ wait: false, timeoutMs: 0, pollMs: 50 })));
    expect(waiting.results).toEqual([
      expect.objectContaining({ outcome: "awaiting-manual", apiKey: OTHER.apiKey }),
    ]);

    const done = keep(
      await runRevoke(
        plan,
        w.deps({ wait: true, timeoutMs: 30_000, pollMs: 50 }, (e) => {
          if (e.type === "manual-waiting") void w.control.uiRevoke("bitfinex", OTHER.apiKey);
        }),
      ),
    );
    expect(done.results).toEqual([
      expect.objectContaining({ outcome: "revoked", verified: true, apiKey: OTHER.apiKey }),
    ]);
    keep([w.audit, w.events]);
  });
});

describe("Keyward's own access is revoked last, and the plan says so (point 8)", () => {
  it("each account's own key comes after its other keys, with a warning; the checklist follows the plan's danger order", async () => {
    const w = await world();
    const inv = await w.inventory([OKX, BFX]);
    const keys = inv.flatMap((a) => a.keys);
    const plan = keep(planRevoke(keys, { accountKeys: w.accountKeys }));
    const order = plan.items.map((i) => i.key.apiKey);
    // Withdraw first (bitfinex before okx), then trade, then read; each account's own key after its others.
    expect(order).toEqual([MM, WEB_MASTER, OTHER, ACCT, S1, S2, OWN].map((k) => k.apiKey));
    expect(plan.items.filter((i) => i.accountKey).map((i) => i.key.apiKey)).toEqual([
      ACCT.apiKey,
      OWN.apiKey,
    ]);
    expect(plan.warnings).toHaveLength(2);
    expect(plan.warnings[0]).toMatch(/^Keyward loses access to bfx-desk after this/);
    expect(plan.warnings[1]).toMatch(/^Keyward loses access to okx-desk after this/);

    const report = keep(await runRevoke(plan, w.deps({ wait: false, timeoutMs: 0, pollMs: 50 })));
    const steps = w.events.flatMap((e) => (e.type === "manual-steps" ? [e.result.apiKey] : []));
    expect(steps).toEqual(plan.items.filter((i) => i.method === "manual").map((i) => i.key.apiKey));
    // Keyward's own OKX key is handed to the person only after both sub-account keys were revoked and verified.
    const at = (type: string, apiKey: string) =>
      w.events.findIndex((e) => e.type === type && "result" in e && e.result.apiKey === apiKey);
    expect(at("manual-steps", OWN.apiKey)).toBeGreaterThan(at("verified", S1.apiKey));
    expect(at("manual-steps", OWN.apiKey)).toBeGreaterThan(at("verified", S2.apiKey));
    for (const sub of [S1, S2]) {
      expect(report.results.find((r) => r.apiKey === sub.apiKey)).toMatchObject({
        outcome: "revoked",
        verified: true,
      });
    }
    expect(report.results.find((r) => r.apiKey === OWN.apiKey)).toMatchObject({
      accountKey: true,
      outcome: "awaiting-manual",
    });
    keep([w.audit, w.events]);
  });
});
