/**
 * The Bybit adapter beyond the shared conformance suite, over real HTTP against the simulator: what the
 * inventory says of each kind of key, revoking the account's own key by API, tracked master keys, a
 * sub-account key's creation (including a lost answer), and a sub-account key given as the account key.
 */
import { startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bybitAdapter } from "../src/adapters/bybit/adapter.js";
import type { AdapterOptions, ExchangeAdapter, TrackedKey } from "../src/adapters/interface.js";
import type { Credentials } from "../src/domain/credentials.js";
import { Secret } from "../src/domain/secret.js";
import { exchangeProfile, isKeywardError, type KeywardError, type LogEntry, risksOf } from "../src/index.js";
import { SimControl } from "../src/testing/index.js";

const DAY = 86_400_000;
const MANAGE = { Wallet: ["AccountTransfer", "SubMemberTransferList"], Spot: ["SpotTrade"] };
const created = new Date(Date.now() - 30 * DAY).toISOString();

const key = (apiKey: string, note: string, over: Record<string, unknown> = {}) => ({
  apiKey,
  secret: `CANARYBYADAPTER${apiKey}SECRET`,
  note,
  readOnly: 0 as 0 | 1,
  ips: ["127.0.0.1", "::1"],
  permissions: { Spot: ["SpotTrade"] } as Record<string, string[]>,
  createdAt: created,
  ...over,
});

const ADMIN = key("BYADADMIN001", "admin", { permissions: MANAGE });
const SPARE_ADMIN = key("BYADADMIN002", "spare-admin", { permissions: MANAGE });
/** A master key no API lists: Keyward knows it only once it is tracked. */
const OTHER_MASTER = key("BYADOTHER003", "other-master", { ips: ["*"] });
/** Sooner than the 90 days of an unbound key: as after a password change. */
const BOT_EXPIRES = new Date(Date.now() + 5 * DAY).toISOString();
const BOT = key("BYADBOT00004", "bot", {
  ips: ["*"],
  permissions: { Wallet: ["AccountTransfer"], Spot: ["SpotTrade"] },
  expiredAt: BOT_EXPIRES,
});
const SUB_KEY = key("BYADSUB00005", "sub-as-account");

const scenario = () => ({
  bybit: {
    masters: [
      {
        uid: "490000001",
        username: "desk-by",
        keys: [ADMIN, SPARE_ADMIN, OTHER_MASTER],
        subMembers: [
          { uid: "490000101", username: "bybot01", keys: [BOT, SUB_KEY] },
          { uid: "490000102", username: "byspare", keys: [] },
        ],
      },
    ],
  },
});

const creds = (k: { apiKey: string; secret: string }): Credentials => ({
  apiKey: k.apiKey,
  secret: new Secret(k.secret),
});

let sim: Awaited<ReturnType<typeof startSimulator>>;
let control: SimControl;
const logs: LogEntry[] = [];

const adapter = (k = ADMIN, tracked: TrackedKey[] = []): ExchangeAdapter => {
  const options: AdapterOptions = {
    log: (e) => logs.push(e),
    rateLimits: { read: sim.rateLimits.bybit.read, write: sim.rateLimits.bybit.write },
    retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
  };
  return bybitAdapter(
    {
      account: { name: "desk", exchange: "bybit", endpoint: sim.bybit, credentialsRef: "vault:desk" },
      credentials: creds(k),
      tracked,
    },
    options,
  );
};

async function failure(p: Promise<unknown>): Promise<KeywardError> {
  try {
    await p;
  } catch (error) {
    if (isKeywardError(error)) return error;
    throw error;
  }
  throw new Error("expected a KeywardError");
}

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  control = new SimControl(sim.control);
});
afterAll(async () => {
  await sim?.close();
});

describe("bybit adapter", () => {
  it("lists the calling master key (revocable by API) and every sub-account key, with Bybit's facts", async () => {
    const keys = await adapter().listKeys();
    expect(keys.map((k) => k.apiKey).sort()).toEqual([ADMIN.apiKey, BOT.apiKey, SUB_KEY.apiKey].sort());
    const admin = keys.find((k) => k.apiKey === ADMIN.apiKey);
    expect(admin).toMatchObject({
      location: "master",
      subAccount: null,
      actions: { revoke: "api", create: "manual" },
      permissions: ["read", "trade", "transfer"],
      ip: ["127.0.0.1", "::1"],
      meta: { uid: "490000001" },
    });
    const bot = keys.find((k) => k.apiKey === BOT.apiKey);
    expect(bot).toMatchObject({
      location: "sub-account",
      subAccount: "bybot01",
      actions: { revoke: "api", create: "api" },
      label: "bot",
      ip: [],
      rawPermissions: "rw|Spot:SpotTrade;Wallet:AccountTransfer",
    });
    expect(bot && risksOf(bot, { maxKeyAgeDays: 90 })).toEqual(["transfer", "no-ip", "bybit-expires-soon"]);
    // No secret in any record.
    expect(JSON.stringify(keys)).not.toContain("CANARY");
  });

  it("gives a key without an IP binding its expiry (expiresAt), a bound key none: listed or probed", async () => {
    const tracked: TrackedKey = {
      apiKey: OTHER_MASTER.apiKey,
      label: "other",
      credentials: creds(OTHER_MASTER),
    };
    const keys = await adapter(ADMIN, [tracked]).listKeys();
    const byKey = new Map(keys.map((k) => [k.apiKey, k]));
    // sub-apikeys: the scenario's expiry (a password change, say), to the second.
    expect(byKey.get(BOT.apiKey)?.expiresAt).toBe(BOT_EXPIRES.replace(/\.\d{3}Z$/, ".000Z"));
    // Bound keys: Bybit gives none.
    expect(byKey.get(ADMIN.apiKey)?.expiresAt).toBeNull();
    expect(byKey.get(SUB_KEY.apiKey)?.expiresAt).toBeNull();
    // A tracked unbound master key, from its own query-api: 90 days after it was made.
    expect(byKey.get(OTHER_MASTER.apiKey)?.expiresAt).toBe(
      new Date(Date.parse(created) + 90 * DAY).toISOString().replace(/\.\d{3}Z$/, ".000Z"),
    );
    const probe = await adapter().probe(creds(OTHER_MASTER));
    expect(probe.status === "alive" && probe.expiresAt).toBe(byKey.get(OTHER_MASTER.apiKey)?.expiresAt);
    // The date is a field, no longer a meta entry.
    for (const k of keys) expect(Object.keys(k.meta)).not.toContain("expiredAt");
  });

  it("a tracked master key is probed with its own credentials and revoked by a person", async () => {
    const tracked: TrackedKey = {
      apiKey: OTHER_MASTER.apiKey,
      label: "other",
      credentials: creds(OTHER_MASTER),
    };
    const keys = await adapter(ADMIN, [tracked]).listKeys();
    const other = keys.find((k) => k.apiKey === OTHER_MASTER.apiKey);
    expect(other).toMatchObject({ location: "tracked", state: "active", actions: { revoke: "manual" } });
    const result = other ? await adapter(ADMIN, [tracked]).revokeKey(other) : undefined;
    expect(result?.outcome).toBe("manual");
    expect(await control.keyStatus(OTHER_MASTER.apiKey)).toBe("active");
  });

  it("a sub-account key as the account key is refused with NOT_MASTER", async () => {
    const error = await failure(adapter(SUB_KEY).listKeys());
    expect(error.code).toBe("NOT_MASTER");
    expect(error.message).not.toContain(SUB_KEY.secret);
  });

  it("creates a sub-account key whose note is the label, and refuses a label already in use", async () => {
    const desk = adapter();
    const made = await desk.createKey?.({
      subAccount: "byspare",
      label: "rot-1",
      permissions: ["read", "trade"],
      ip: ["127.0.0.1"],
    });
    expect(made?.record).toMatchObject({ subAccount: "byspare", label: "rot-1", location: "sub-account" });
    expect(made && (await desk.probe(made.credentials)).status).toBe("alive");
    const again = await failure(
      desk.createKey?.({ subAccount: "byspare", label: "rot-1", permissions: ["read"], ip: [] }) ??
        Promise.resolve(),
    );
    expect(again.code).toBe("CONFIG_INVALID");
    const withdraw = await failure(
      desk.createKey?.({ subAccount: "byspare", label: "rot-w", permissions: ["withdraw"], ip: [] }) ??
        Promise.resolve(),
    );
    expect(withdraw.code).toBe("NOT_SUPPORTED");
  });

  it("creates a key with the exact grants it is given (a rotation keeps the replaced key's)", async () => {
    const desk = adapter();
    const raw = "rw|Spot:SpotTrade";
    const made = await desk.createKey?.({
      subAccount: "byspare",
      label: "rot-exact",
      permissions: ["read", "trade"],
      ip: ["127.0.0.1"],
      rawPermissions: raw,
    });
    const listed = (await desk.listSubAccountKeys?.("byspare"))?.find((k) => k.label === "rot-exact");
    expect(listed?.rawPermissions).toBe(raw);
    const probe = made ? await desk.probe(made.credentials) : undefined;
    expect(probe?.status === "alive" ? probe.rawPermissions : undefined).toBe(raw);
    expect(exchangeProfile("bybit").comparePermissions?.(raw, listed?.rawPermissions ?? "")).toBeUndefined();
  });

  it("a create whose answer is lost leaves exactly one key with that label, and working credentials", async () => {
    const since = await control.lastSeq();
    await control.faults({ exchange: "bybit", dropResponses: 1 });
    const desk = adapter();
    let made: Awaited<ReturnType<NonNullable<ExchangeAdapter["createKey"]>>> | undefined;
    try {
      made = await desk.createKey?.({
        subAccount: "byspare",
        label: "rot-drop",
        permissions: ["read"],
        ip: ["127.0.0.1"],
      });
    } finally {
      await control.resetFaults();
    }
    const listed = (await desk.listSubAccountKeys?.("byspare")) ?? [];
    expect(listed.filter((k) => k.label === "rot-drop").map((k) => k.apiKey)).toEqual([
      made?.credentials.apiKey,
    ]);
    expect(made && (await desk.probe(made.credentials)).status).toBe("alive");
    const requests = await control.requests(since);
    expect(requests.filter((r) => r.fault === "drop")).toHaveLength(1);
    expect(requests.filter((r) => r.path.endsWith("/delete-sub-api") && r.code === "0")).toHaveLength(1);
    expect(logs.some((l) => l.event === "create-outcome-unknown")).toBe(true);
  });

  it("revokes the account's own master key by API; afterwards its probe says dead", async () => {
    const spare = adapter(SPARE_ADMIN);
    const own = (await spare.listTrackedKeys?.())?.find((k) => k.apiKey === SPARE_ADMIN.apiKey);
    expect(own).toMatchObject({ location: "master", actions: { revoke: "api" } });
    const result = own ? await spare.revokeKey(own) : undefined;
    expect(result?.outcome).toBe("revoked");
    expect(await control.keyStatus(SPARE_ADMIN.apiKey)).not.toBe("active");
    expect((await adapter().probe(creds(SPARE_ADMIN))).status).toBe("dead");
    // Revoking it again is "already revoked", not an error.
    expect(own && (await spare.revokeKey(own)).outcome).toBe("already-revoked");
  });
});

describe("bybit manual steps", () => {
  it("name the simulator's stand-in API management page, the key's ends and the sub-account", async () => {
    const keys = await adapter().listKeys();
    const bot = keys.find((k) => k.apiKey === BOT.apiKey);
    const steps = bot ? adapter().manualSteps(bot, "revoke") : undefined;
    expect(steps?.url).toBe(`${sim.bybit}/app/user/api-management`);
    expect(steps?.recognise).toMatchObject({ label: "bot", apiKeyStart: "BYAD", apiKeyEnd: "0004" });
    expect(steps?.steps.join("\n")).toContain("bybot01");
    const page = await fetch(steps?.url ?? "");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(BOT.apiKey.slice(0, 4));
  });
});
