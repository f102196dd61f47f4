/**
 * OKX-specific behaviour beyond the conformance suite, against the simulator over real HTTP: paging,
 * a throttle shared across adapter instances, creating keys (also when answers get lost),
 * master-key checks, auth failures with hints, manual steps, and no secret leaking anywhere.
 */
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdapterOptions, CreatedKey } from "../src/adapters/interface.js";
import { okxAdapter } from "../src/adapters/okx/adapter.js";
import { generatePassphrase } from "../src/adapters/okx/records.js";
import { KeyRecordSchema, ManualStepsSchema } from "../src/domain/schemas.js";
import { Secret } from "../src/domain/secret.js";
import { KeywardError } from "../src/errors.js";
import type { LogEntry } from "../src/log.js";
import { SimControl } from "../src/testing/index.js";
import {
  adapterFor,
  canariesOf,
  creds,
  cuttingProxy,
  type OkxSeedKey,
  seed,
  seedKey,
  simOkxLimits,
  subName,
} from "./okx-fixtures.js";
import type { SimState } from "./sim-state.js";

const BIG = seedKey("big-admin");
const BIG_SUBS = 130;
const BIG_KEYS = Array.from({ length: BIG_SUBS }, (_, i) => seedKey(`big${i}`, "read_only", ""));
const ADMIN = seedKey("admin", "read_only,trade", "127.0.0.1");
const NO_IP = seedKey("noip-admin", "read_only,trade", "");
const FARAWAY = seedKey("faraway-admin", "read_only,trade", "10.9.9.9");
const SUB_KEY = seedKey("sub-own", "read_only", "");
const EEA = seedKey("eea-admin", "read_only", "");
const ROT = subName("rotsub", 1);
const SPARE = subName("rotsub", 2);
const ALL: OkxSeedKey[] = [BIG, ...BIG_KEYS, ADMIN, NO_IP, FARAWAY, SUB_KEY, EEA];

const scenario = () => ({
  okx: {
    accounts: [
      {
        uid: "9001",
        name: "big",
        keys: [seed(BIG)],
        // Creation times a minute apart (the simulator's default), newest last: pages of 100 by `after`.
        subAccounts: BIG_KEYS.map((k, i) => ({
          name: subName("bigsub", i),
          uid: String(90_000 + i),
          keys: [seed(k)],
        })),
      },
      {
        uid: "6001",
        name: "desk",
        keys: [seed(ADMIN), seed(NO_IP), seed(FARAWAY)],
        subAccounts: [
          { name: ROT, uid: "6101", keys: [seed(SUB_KEY)] },
          { name: SPARE, uid: "6102", keys: [] },
        ],
      },
      { uid: "5001", name: "eea-desk", region: "eea" as const, keys: [seed(EEA)] },
    ],
  },
});

describe("OKX adapter", () => {
  let sim: RunningSimulator;
  let control: SimControl;
  const logs: LogEntry[] = [];
  const seen: string[] = [];
  const created: CreatedKey[] = [];
  const record = (value: unknown) => seen.push(typeof value === "string" ? value : JSON.stringify(value));
  const options = (extra: AdapterOptions = {}): AdapterOptions => ({
    log: (e) => logs.push(e),
    rateLimits: simOkxLimits(sim),
    retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
    ...extra,
  });
  const desk = (key: OkxSeedKey = ADMIN, extra: AdapterOptions = {}) =>
    adapterFor(sim.okx, key, options(extra));
  const failure = async (p: Promise<unknown>): Promise<KeywardError> => {
    const error = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof KeywardError)) throw new Error(`expected a KeywardError, got ${String(error)}`);
    record(error.describe());
    record(error.stack ?? "");
    return error;
  };
  const create = async (
    label: string,
    extra: Partial<Parameters<NonNullable<ReturnType<typeof desk>["createKey"]>>[0]> = {},
  ) => {
    const made = await desk().createKey?.({
      subAccount: SPARE,
      label,
      permissions: ["read", "trade"],
      ip: ["127.0.0.1"],
      ...extra,
    });
    if (!made) throw new Error("createKey missing");
    created.push(made);
    record(made);
    return made;
  };
  const activeWithLabel = async (label: string) => {
    const state = await control.state<SimState>();
    return state.okx.accounts
      .flatMap((a) => a.subAccounts.flatMap((s) => s.keys))
      .filter((k) => k.status === "active" && (k as { label?: string }).label === label);
  };

  beforeAll(async () => {
    sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
    control = new SimControl(sim.control);
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("pages through more than 100 sub-accounts", async () => {
    const since = await control.lastSeq();
    const keys = await adapterFor(sim.okx, BIG, options()).listKeys();
    record(keys);
    expect(keys).toHaveLength(BIG_SUBS + 1);
    for (const k of keys) expect(KeyRecordSchema.safeParse(k).success).toBe(true);
    expect(new Set(keys.map((k) => k.subAccount)).size).toBe(BIG_SUBS + 1);
    expect(keys[0]).toMatchObject({
      apiKey: BIG.apiKey,
      location: "master",
      probeable: true,
      createdAt: null,
    });
    const sub = keys.find((k) => k.apiKey === BIG_KEYS[7]?.apiKey);
    expect(sub).toMatchObject({
      subAccount: subName("bigsub", 7),
      location: "sub-account",
      actions: { revoke: "api", create: "api" },
      probeable: false,
      state: "active",
      permissions: ["read"],
      rawPermissions: "read_only",
      ip: [],
      meta: { uid: "90007" },
    });
    const lists = (await control.requests(since)).filter((r) => r.path.endsWith("/subaccount/list"));
    expect(lists).toHaveLength(2);
  });

  it("shares the throttle between adapter instances using one master", async () => {
    await new Promise((r) => setTimeout(r, 150));
    const since = await control.lastSeq();
    const [a, b] = await Promise.all([
      adapterFor(sim.okx, BIG, options()).listKeys(),
      adapterFor(sim.okx, BIG, options()).listKeys(),
    ]);
    expect(a).toHaveLength(BIG_SUBS + 1);
    expect(b).toHaveLength(BIG_SUBS + 1);
    const requests = await control.requests(since);
    expect(requests.filter((r) => r.path.endsWith("/subaccount/apikey")).length).toBe(2 * BIG_SUBS);
    expect(requests.filter((r) => r.code === "50011" || r.status === 429)).toEqual([]);
  });

  it("creates a key whose credentials work, with the permissions and IPs asked for", async () => {
    const { record: key, credentials } = await create("rot-1");
    expect(KeyRecordSchema.safeParse(key).success).toBe(true);
    expect(key).toMatchObject({
      subAccount: SPARE,
      label: "rot-1",
      permissions: ["read", "trade"],
      rawPermissions: "read_only,trade",
      ip: ["127.0.0.1"],
      location: "sub-account",
      probeable: true,
      meta: { uid: "6102" },
    });
    expect(credentials.secret).toBeInstanceOf(Secret);
    expect(credentials.passphrase).toBeInstanceOf(Secret);
    const probe = await desk().probe(credentials, { meta: key.meta });
    record(probe);
    expect(probe).toMatchObject({
      status: "alive",
      rawPermissions: "read_only,trade",
      ip: ["127.0.0.1"],
      label: "rot-1",
      accountId: "6102",
      masterId: "6001",
    });
    expect((await desk().listKeys()).map((k) => k.apiKey)).toContain(key.apiKey);
  });

  it("a create whose answer is lost leaves exactly one key with that label, and working credentials", async () => {
    const since = await control.lastSeq();
    await control.faults({ exchange: "okx", dropResponses: 1 });
    let made: CreatedKey;
    try {
      made = await create("rot-drop");
    } finally {
      await control.resetFaults();
    }
    const active = await activeWithLabel("rot-drop");
    expect(active.map((k) => k.apiKey)).toEqual([made.credentials.apiKey]);
    expect((await desk().probe(made.credentials)).status).toBe("alive");
    const requests = await control.requests(since);
    expect(requests.filter((r) => r.fault === "drop")).toHaveLength(1);
    expect(requests.filter((r) => r.path.endsWith("/delete-apikey") && r.code === "0")).toHaveLength(1);
    expect(logs.some((l) => l.event === "create-outcome-unknown")).toBe(true);
  });

  it("reports CREATE_OUTCOME_UNKNOWN when the answer is lost twice, after deleting the first orphan", async () => {
    const proxy = await cuttingProxy(
      sim.okx,
      (m, p) => m === "POST" && p === "/api/v5/users/subaccount/apikey",
    );
    try {
      // The proxy is another base URL, so other scheduler buckets: let earlier writes leave the window.
      await new Promise((r) => setTimeout(r, 100));
      proxy.state.cutsLeft = 2;
      const viaProxy = adapterFor(proxy.url, ADMIN, options());
      const error = await failure(
        viaProxy.createKey?.({ subAccount: SPARE, label: "rot-lost", permissions: ["read"], ip: [] }) ??
          Promise.resolve(),
      );
      expect(proxy.state.cut).toBe(2);
      expect(error.code).toBe("CREATE_OUTCOME_UNKNOWN");
      expect(error.hint).toContain('"rot-lost"');
      // Both creates took effect; the first one's orphan was deleted, the second one's remains.
      const state = await control.state<SimState>();
      const keys = state.okx.accounts
        .flatMap((a) => a.subAccounts.flatMap((s) => s.keys))
        .filter((k) => (k as { label?: string }).label === "rot-lost");
      expect(keys.map((k) => k.status).sort()).toEqual(["active", "revoked"]);
    } finally {
      await proxy.close();
    }
  });

  it("retries a create refused with 50011 (never applied) without any orphan check", async () => {
    // Looser limits than the simulator's: the second create in a write window draws 50011.
    const loose = desk(ADMIN, { rateLimits: { write: { limit: 10, windowMs: 50 } } });
    await new Promise((r) => setTimeout(r, 100));
    const since = await control.lastSeq();
    const made = await Promise.all([
      loose.createKey?.({ subAccount: SPARE, label: "rl-a", permissions: ["read"], ip: [] }),
      loose.createKey?.({ subAccount: SPARE, label: "rl-b", permissions: ["read"], ip: [] }),
    ]);
    for (const m of made) if (m) created.push(m);
    const requests = await control.requests(since);
    const creates = requests.filter((r) => r.method === "POST" && r.path.endsWith("/subaccount/apikey"));
    expect(creates.filter((r) => r.code === "50011").length).toBeGreaterThan(0);
    expect(creates.filter((r) => r.code === "0")).toHaveLength(2);
    expect(requests.filter((r) => r.path.endsWith("/delete-apikey"))).toEqual([]);
    expect(await activeWithLabel("rl-a")).toHaveLength(1);
    expect(await activeWithLabel("rl-b")).toHaveLength(1);
  });

  it("refuses withdraw before calling OKX", async () => {
    const since = await control.lastSeq();
    const error = await failure(create("rot-wd", { permissions: ["read", "withdraw"] }));
    expect(error.code).toBe("NOT_SUPPORTED");
    expect((await control.requests(since)).filter((r) => r.method === "POST")).toEqual([]);
  });

  it("refuses a label already used in the sub-account", async () => {
    const error = await failure(create("rot-1"));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(await activeWithLabel("rot-1")).toHaveLength(1);
  });

  it("revokes a sub-account key, and calls a second revoke already-revoked", async () => {
    const made = await create("rot-revoke");
    const a = desk();
    const first = await a.revokeKey(made.record);
    const second = await a.revokeKey(made.record);
    record([first, second]);
    expect(first.outcome).toBe("revoked");
    expect(second.outcome).toBe("already-revoked");
    expect(await a.probe(made.credentials)).toMatchObject({ status: "dead" });
  });

  it("turns a sub-account key given as the account's key into NOT_MASTER", async () => {
    const error = await failure(desk(SUB_KEY).listKeys());
    expect(error.code).toBe("NOT_MASTER");
    expect(error.hint).toContain("6001");
  });

  it("explains rejected account credentials", async () => {
    const wrongSecret = await failure(desk({ ...ADMIN, secretKey: "CANARYSECRETNOTTHEONE" }).listKeys());
    expect(wrongSecret).toMatchObject({ code: "EXCHANGE_AUTH", exchangeCode: "50113" });
    expect(wrongSecret.hint).toMatch(/secret/i);
    const wrongIp = await failure(desk(FARAWAY).listKeys());
    expect(wrongIp).toMatchObject({ code: "EXCHANGE_AUTH", exchangeCode: "50110" });
    expect(wrongIp.hint).toMatch(/IP whitelist does not include this machine/);
    const unbound = await failure(
      desk(NO_IP).createKey?.({ subAccount: SPARE, label: "never", permissions: ["read"], ip: [] }) ??
        Promise.resolve(),
    );
    expect(unbound).toMatchObject({ code: "EXCHANGE_PERMISSION", exchangeCode: "50035" });
    expect(unbound.hint).toMatch(/bind the master key to this machine's IP/);
  });

  it("gives manual steps on the simulator's API page for the master key", async () => {
    const master = (await desk().listKeys()).find((k) => k.location === "master");
    if (!master) throw new Error("master not listed");
    const result = await desk().revokeKey(master);
    record(result);
    if (result.outcome !== "manual") throw new Error(`expected manual, got ${result.outcome}`);
    expect(ManualStepsSchema.safeParse(result.steps).success).toBe(true);
    expect(result.steps.url).toBe(`${sim.okx}/account/my-api`);
    expect(result.steps.recognise).toMatchObject({
      label: "admin",
      apiKeyStart: ADMIN.apiKey.slice(0, 4),
      apiKeyEnd: ADMIN.apiKey.slice(-4),
    });
    const text = result.steps.steps.join("\n");
    expect(text).toContain('"desk"');
    expect(text).toContain(ADMIN.apiKey.slice(-4));
    const page = await fetch(result.steps.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(ADMIN.apiKey);
    expect(await control.keyStatus(ADMIN.apiKey)).toBe("active");
  });

  it("points manual steps at the region's web site without an endpoint override", () => {
    const eea = okxAdapter(
      {
        account: { name: "eu", exchange: "okx", region: "eea", credentialsRef: "x" },
        credentials: creds(EEA),
      },
      options(),
    );
    const key = { apiKey: EEA.apiKey, label: "eea-admin", location: "master", subAccount: null, meta: {} };
    const steps = eea.manualSteps(key as never, "revoke");
    expect(steps.url).toBe("https://my.okx.com/account/my-api");
  });

  it("calls a key from another regional host inconclusive, not dead", async () => {
    const probe = await desk().probe(creds(EEA));
    record(probe);
    expect(probe).toMatchObject({ status: "inconclusive", reason: "wrong-region" });
    if (probe.status !== "alive") expect(probe.evidence).toContain("50119");
  });

  it("resynchronises its clock for the account's own key", async () => {
    await control.advanceClock(45_000);
    try {
      const keys = await desk().listKeys();
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await control.advanceClock(-45_000);
    }
    expect(logs.some((l) => l.code === "50102")).toBe(true);
    expect(logs.some((l) => l.path === "/api/v5/public/time" && l.code === "0")).toBe(true);
  });

  it("generates passphrases that meet OKX's rule", () => {
    const all = Array.from({ length: 300 }, () => generatePassphrase());
    for (const p of all) {
      expect(p.length).toBeGreaterThanOrEqual(8);
      expect(p.length).toBeLessThanOrEqual(32);
      expect(p).toMatch(/\d/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[^A-Za-z0-9]/);
    }
    expect(new Set(all).size).toBe(all.length);
  });

  it("never lets a secret into an error, a result or a log line", () => {
    const createdSecrets = created.flatMap((c) => [
      c.credentials.secret.reveal(),
      c.credentials.passphrase?.reveal() ?? "",
    ]);
    expect(createdSecrets.length).toBeGreaterThan(0);
    const everything = [...seen, ...logs.map((l) => JSON.stringify(l))].join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const canary of [...canariesOf(ALL), ...createdSecrets]) expect(everything).not.toContain(canary);
  });
});
