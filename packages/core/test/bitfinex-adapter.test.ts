/**
 * Bitfinex adapter behaviour beyond the shared conformance suite, over real HTTP against the simulator:
 * nonce serialisation and schemes (docs/exchanges/bitfinex.md#nonce-rules), the three rate-limit shapes and
 * error arrays that ccxt returns as data (docs/exchanges/bitfinex.md#error-codes), records of tracked keys,
 * manual steps, and canaries.
 */
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import ccxt from "ccxt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bitfinexAdapter } from "../src/adapters/bitfinex/adapter.js";
import { classify } from "../src/adapters/bitfinex/errors.js";
import { normalisePermissions } from "../src/adapters/bitfinex/permissions.js";
import type { AdapterOptions } from "../src/adapters/interface.js";
import { KeyRecordSchema, keyId, ManualStepsSchema } from "../src/domain/schemas.js";
import { isKeywardError } from "../src/errors.js";
import type { LogEntry } from "../src/log.js";
import { SimControl } from "../src/testing/index.js";
import {
  ACCOUNT_SCOPES,
  adapterFor,
  type BfxSeedKey,
  bfxKey,
  botCall,
  creds,
  scenarioOf,
  tracked,
} from "./bitfinex-fixtures.js";

const microNow = () => String(Date.now() * 1000);

// --- the world -------------------------------------------------------------------------------------
const ACCOUNT = bfxKey("keyward-admin", ACCOUNT_SCOPES);
const FRESH = bfxKey("fresh");
const MICRO_PINNED = bfxKey("micro-pinned", [["account", 1, 0]], { lastNonce: microNow() });
const MICRO_DETECT = bfxKey("micro-detect", [["account", 1, 0]], { lastNonce: microNow() });
const BOT = bfxKey("ms-bot");
const RACED = bfxKey("raced-bot");
const SKEWED = bfxKey("skewed-bot");
const ALL_SCOPES = bfxKey("everything", [
  ["account", 1, 1],
  ["history", 1, 0],
  ["orders", 1, 1],
  ["positions", 1, 1],
  ["funding", 1, 1],
  ["settings", 1, 1],
  ["wallets", 1, 1],
  ["withdraw", 1, 1],
  ["bfxpay", 0, 1],
]);
const READ_ONLY = bfxKey("read-only", [
  ["account", 1, 0],
  ["orders", 1, 0],
]);
const NO_SCOPES = bfxKey("no-scopes", []);
const NO_SECRET = bfxKey("no-secret");
const IP_BOUND = bfxKey("ip-bound", [["account", 1, 0]], { ip: ["10.1.2.3"] });
const STATUS_REVOKED = [bfxKey("revoked-400"), bfxKey("revoked-401")];
const STATUS_MICRO = [
  bfxKey("micro-400", [["orders", 1, 0]], { lastNonce: microNow() }),
  bfxKey("micro-401", [["orders", 1, 0]], { lastNonce: microNow() }),
];
const NO_ACCOUNT_READ = bfxKey("no-account-read", [["orders", 1, 1]]);
const GHOST = bfxKey("ghost");
const WRONG_SECRET = "BFXSECRETCANARYnotthesecretofthiskey00000";

const DESK = [
  ACCOUNT,
  FRESH,
  MICRO_PINNED,
  MICRO_DETECT,
  BOT,
  RACED,
  SKEWED,
  ALL_SCOPES,
  READ_ONLY,
  NO_SCOPES,
  NO_SECRET,
  IP_BOUND,
  ...STATUS_REVOKED,
  ...STATUS_MICRO,
];

/** A second simulator with tight limits, for the rate-limit answers. */
const TIGHT_ACCOUNT = bfxKey("tight-admin", ACCOUNT_SCOPES);
const TIGHT_KEYS = Array.from({ length: 6 }, (_, i) => bfxKey(`tight-${i + 1}`));

const CANARIES = [...DESK, NO_ACCOUNT_READ, GHOST, TIGHT_ACCOUNT, ...TIGHT_KEYS].map((k) => k.apiSecret);
CANARIES.push(WRONG_SECRET);

// Limits scaled UP on both sides: 1000 per second per endpoint, so 200-probe bursts are not paced.
const FAST = { limit: 1000, windowMs: 1000 };

let sim: RunningSimulator;
let tight: RunningSimulator;
let control: SimControl;
let tightControl: SimControl;
const logs: LogEntry[] = [];
/** Everything the adapter hands out, for the canary check at the end. */
const seen: string[] = [];
const keep = <T>(value: T): T => {
  seen.push(value instanceof Error ? `${value.message}\n${value.stack ?? ""}` : JSON.stringify(value));
  if (isKeywardError(value)) seen.push(value.describe());
  return value;
};
const opts = (extra: AdapterOptions = {}): AdapterOptions => ({
  log: (e) => logs.push(e),
  rateLimits: { auth: FAST },
  retry: { minTimeoutMs: 10, maxTimeoutMs: 50 },
  ...extra,
});
const desk = (
  extra: AdapterOptions = {},
  trackedKeys = DESK.slice(1).map((k) => tracked(k, k !== NO_SECRET)),
) => adapterFor(sim.bitfinex, ACCOUNT, opts(extra), trackedKeys);
const rowsFor = async (apiKey: string, since: number) =>
  (await control.requests(since)).filter((r) => r.apiKey === apiKey);

beforeAll(async () => {
  sim = await startSimulator({
    scenario: scenarioOf([
      { id: 9001, email: "desk@bfx.example", keys: DESK },
      { id: 9002, email: "other@bfx.example", keys: [NO_ACCOUNT_READ] },
    ]),
    rateLimits: {
      okx: {
        read: FAST,
        write: FAST,
        config: FAST,
        publicTime: FAST,
      },
      bitfinex: { auth: FAST, blockMs: 1000 },
    },
  });
  control = new SimControl(sim.control);
  tight = await startSimulator({
    scenario: scenarioOf([{ id: 9101, email: "tight@bfx.example", keys: [TIGHT_ACCOUNT, ...TIGHT_KEYS] }]),
    rateLimits: {
      okx: { read: FAST, write: FAST, config: FAST, publicTime: FAST },
      bitfinex: { auth: { limit: 3, windowMs: 300 }, blockMs: 300 },
    },
  });
  tightControl = new SimControl(tight.control);
});

afterAll(async () => {
  await sim?.close();
  await tight?.close();
});

describe("nonces (docs/exchanges/bitfinex.md#nonce-rules)", () => {
  it("200 concurrent probes of a fresh key: all alive, zero 10114, and the key stays in milliseconds", async () => {
    const a = desk();
    const since = await control.lastSeq();
    const results = await Promise.all(Array.from({ length: 200 }, () => a.probe(creds(FRESH))));
    keep(results);
    expect(results.filter((r) => r.status !== "alive")).toEqual([]);
    const rows = await rowsFor(FRESH.apiKey, since);
    expect(rows).toHaveLength(200);
    expect(rows.filter((r) => r.code === "10114")).toEqual([]);
    expect(results.at(-1)?.meta).toEqual({ nonce: "ms" });
  });

  it("200 concurrent probes of a microsecond key whose scheme was remembered: zero 10114", async () => {
    const a = desk();
    const since = await control.lastSeq();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => a.probe(creds(MICRO_PINNED), { meta: { nonce: "us" } })),
    );
    keep(results);
    expect(results.filter((r) => r.status !== "alive")).toEqual([]);
    const rows = await rowsFor(MICRO_PINNED.apiKey, since);
    expect(rows).toHaveLength(200);
    expect(rows.filter((r) => r.code === "10114")).toEqual([]);
    expect(results.every((r) => r.meta?.nonce === "us")).toBe(true);
  });

  it("a microsecond key met for the first time: detected once (≤ 2 × 10114), then 200 probes clean", async () => {
    const a = desk();
    const since = await control.lastSeq();
    const results = await Promise.all(Array.from({ length: 200 }, () => a.probe(creds(MICRO_DETECT))));
    keep(results);
    expect(results.filter((r) => r.status !== "alive")).toEqual([]);
    const rows = await rowsFor(MICRO_DETECT.apiKey, since);
    const small = rows.filter((r) => r.code === "10114");
    expect(small.length).toBeGreaterThan(0);
    expect(small.length).toBeLessThanOrEqual(2);
    // The rejections are the first requests; after the switch every request passes.
    expect(rows.slice(0, small.length).every((r) => r.code === "10114")).toBe(true);
    expect(results.every((r) => r.meta?.nonce === "us")).toBe(true);
    expect(logs.some((l) => l.event === "nonce-scheme" && l.detail?.includes("microseconds"))).toBe(true);
  });

  it("a millisecond bot's key stays usable by the bot after Keyward probes it", async () => {
    const before = await botCall(sim.bitfinex, BOT, Date.now());
    expect(before.status).toBe(200);
    const a = desk();
    const results = await Promise.all(Array.from({ length: 20 }, () => a.probe(creds(BOT))));
    keep(results);
    expect(results.every((r) => r.status === "alive" && r.meta?.nonce === "ms")).toBe(true);
    await new Promise((r) => setTimeout(r, 3));
    const after = await botCall(sim.bitfinex, BOT, Date.now());
    expect(after).toEqual({ status: 200, body: expect.any(Array) });
  });

  it("a single rejection caused by a racing millisecond bot does not switch the key", async () => {
    // The bot's last nonce is 800 ms ahead of Keyward's clock: the first millisecond probe is rejected,
    // and the retry after RACE_PAUSE_MS (1 s) is past it. The lead is wide and taken last, just before the
    // probe, so a loaded machine (slow HTTP, a slow first ccxt load) cannot let the clock catch up first.
    const adapter = desk();
    expect((await botCall(sim.bitfinex, RACED, Date.now() + 800)).status).toBe(200);
    const since = await control.lastSeq();
    const result = keep(await adapter.probe(creds(RACED)));
    expect(result.status).toBe("alive");
    expect(result.meta).toEqual({ nonce: "ms" });
    expect((await rowsFor(RACED.apiKey, since)).map((r) => r.code)).toEqual(["10114", "0"]);
    await new Promise((r) => setTimeout(r, 3));
    expect((await botCall(sim.bitfinex, RACED, Date.now())).status).toBe(200);
  });

  it("a key remembered as milliseconds is never switched, even when a bot's clock runs far ahead", async () => {
    const ahead = Date.now() + 600_000;
    expect((await botCall(sim.bitfinex, SKEWED, ahead)).status).toBe(200);
    const result = keep(await desk().probe(creds(SKEWED), { meta: { nonce: "ms" } }));
    expect(result).toMatchObject({ status: "inconclusive", reason: "nonce", meta: { nonce: "ms" } });
    // Keyward sent no microsecond nonce: the bot's next (skewed) millisecond nonce still works.
    expect((await botCall(sim.bitfinex, SKEWED, ahead + 1)).status).toBe(200);
  });
});

describe("rate-limit answers (docs/exchanges/bitfinex.md#rate-limits)", () => {
  const shapes = [
    ["array", "11010"],
    ["err-object", "ERR_RATE_LIMIT"],
    ["null-code", "ERR_RATE_LIMIT"],
  ] as const;

  for (const [shape, code] of shapes) {
    it(`retries the "${shape}" shape until the block lifts`, async () => {
      await new Promise((r) => setTimeout(r, 350)); // the previous case's window and block
      await tightControl.faults({ exchange: "bitfinex", bitfinexRateLimitShape: shape });
      const ownLogs: LogEntry[] = [];
      try {
        // The adapter believes in limits ten times looser than the simulator's 3 per 300 ms.
        const a = adapterFor(tight.bitfinex, TIGHT_ACCOUNT, {
          log: (e) => {
            ownLogs.push(e);
            logs.push(e);
          },
          rateLimits: { auth: { limit: 30, windowMs: 300 } },
          retry: { retries: 8, minTimeoutMs: 40, maxTimeoutMs: 200 },
        });
        const since = await tightControl.lastSeq();
        const results = await Promise.all(TIGHT_KEYS.map((k) => a.probe(creds(k))));
        keep(results);
        expect(results.map((r) => r.status)).toEqual(TIGHT_KEYS.map(() => "alive"));
        const limited = (await tightControl.requests(since)).filter((r) => r.status === 429);
        expect(limited.length).toBeGreaterThan(0);
        expect(limited.every((r) => r.code === code)).toBe(true);
        expect(ownLogs.some((l) => l.event === "retry" && l.code === code)).toBe(true);
      } finally {
        await tightControl.resetFaults();
      }
    });
  }

  it("another process spending the IP's budget: waiting requests hold back a window instead of retrying into the block", async () => {
    await new Promise((r) => setTimeout(r, 350)); // the previous case's window and block
    // "Another process": an adapter with its own scheduler (a different limit is a different bucket)
    // spends the simulator's 3 per 300 ms; then ours, which believes it has the window to itself, probes
    // all six keys at once.
    const other = adapterFor(tight.bitfinex, TIGHT_ACCOUNT, {
      rateLimits: { auth: { limit: 3, windowMs: 301 } },
    });
    // Ours believes in a looser limit, so all six go out at once.
    const a = adapterFor(tight.bitfinex, TIGHT_ACCOUNT, {
      rateLimits: { auth: { limit: 30, windowMs: 300 } },
      retry: { retries: 8, minTimeoutMs: 40, maxTimeoutMs: 200 },
    });
    await Promise.all(TIGHT_KEYS.slice(0, 3).map((k) => other.probe(creds(k))));
    const since = await tightControl.lastSeq();
    const results = keep(await Promise.all(TIGHT_KEYS.map((k) => a.probe(creds(k)))));
    expect(results.map((r) => r.status)).toEqual(TIGHT_KEYS.map(() => "alive"));
    const limited = (await tightControl.requests(since)).filter((r) => r.status === 429);
    // The first answer over the limit holds every waiting request back a whole window: the six already
    // on the wire are refused, and at most one retry per key meets the block's tail (measured: 9).
    // Before, retries every 40-200 ms ran into the block again and again (measured: 24).
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.length).toBeLessThanOrEqual(2 * TIGHT_KEYS.length);
  });

  it("a probe that stays rate-limited is inconclusive; a listing fails with EXCHANGE_RATE_LIMITED", async () => {
    await new Promise((r) => setTimeout(r, 350));
    const a = adapterFor(
      tight.bitfinex,
      TIGHT_ACCOUNT,
      {
        log: (e) => logs.push(e),
        // A window of 100 ms: after a rejection the adapter holds back one window (plus margin), still
        // well inside the simulator's 300 ms block, so the retry is refused too.
        rateLimits: { auth: { limit: 100, windowMs: 100 } },
        retry: { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 },
      },
      [],
    );
    // Fill the simulator's window, then ask again at once: blocked for 300 ms, longer than the retries.
    await Promise.all(TIGHT_KEYS.slice(0, 3).map((k) => a.probe(creds(k))));
    const result = keep(await a.probe(creds(TIGHT_KEYS[3] as BfxSeedKey)));
    expect(result).toMatchObject({ status: "inconclusive", reason: "rate-limited" });
    // auth/r/info/user is its own bucket: four listings at once overrun its 3 per 300 ms.
    await new Promise((r) => setTimeout(r, 350));
    const lists = await Promise.allSettled(Array.from({ length: 4 }, () => a.listKeys()));
    const errors = lists.flatMap((l) => (l.status === "rejected" ? [keep(l.reason as unknown)] : []));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => isKeywardError(e, "EXCHANGE_RATE_LIMITED"))).toBe(true);
  });
});

describe.each([400, 401] as const)("error arrays with HTTP %i (ccxt returns them as data)", (status) => {
  const index = status === 400 ? 0 : 1;
  beforeAll(async () => {
    await control.faults({ exchange: "bitfinex", bitfinexErrorStatus: status });
  });
  afterAll(async () => {
    await control.resetFaults();
  });

  it("unknown key → inconclusive ambiguous; wrong secret → wrong-secret", async () => {
    const a = desk();
    expect(keep(await a.probe(creds(GHOST)))).toMatchObject({ status: "inconclusive", reason: "ambiguous" });
    const wrong = keep(await a.probe(creds({ apiKey: READ_ONLY.apiKey, apiSecret: WRONG_SECRET })));
    expect(wrong).toMatchObject({ status: "inconclusive", reason: "wrong-secret" });
    const rows = (await control.requests()).filter((r) => r.apiKey === GHOST.apiKey);
    expect(rows.at(-1)).toMatchObject({ code: "10100", status });
  });

  it("a revoked key seen alive from here → dead", async () => {
    const key = STATUS_REVOKED[index] as BfxSeedKey;
    const a = desk();
    expect(keep(await a.probe(creds(key))).status).toBe("alive");
    await control.uiRevoke("bitfinex", key.apiKey);
    expect(keep(await desk().probe(creds(key))).status).toBe("dead");
    // Without that history the same answer is ambiguous; an explicit "false" wins over memory.
    expect(keep(await desk().probe(creds(key), { knownAliveFromHere: false }))).toMatchObject({
      status: "inconclusive",
      reason: "ambiguous",
    });
  });

  it("nonce: small as data still switches a microsecond key", async () => {
    const result = keep(await desk().probe(creds(STATUS_MICRO[index] as BfxSeedKey)));
    expect(result).toMatchObject({ status: "alive", meta: { nonce: "us" } });
  });

  it("an account key without account read → EXCHANGE_PERMISSION naming the permission", async () => {
    const a = adapterFor(sim.bitfinex, NO_ACCOUNT_READ, opts(), [], "bfx-other");
    const error = keep(await a.listKeys().catch((e: unknown) => e));
    expect(isKeywardError(error, "EXCHANGE_PERMISSION")).toBe(true);
    if (isKeywardError(error)) {
      expect(error.exchangeCode).toBe("10001");
      expect(error.hint).toContain("Account Info");
      expect(error.hint).toContain('"account"');
    }
  });
});

describe("records", () => {
  it("lists the account key and every tracked key, probed, with normalised permissions", async () => {
    const keys = keep(await desk().listKeys());
    for (const key of keys) expect(KeyRecordSchema.parse(key)).toEqual(key);
    expect(keys.map((k) => k.apiKey)).toEqual(DESK.map((k) => k.apiKey));
    const byKey = new Map(keys.map((k) => [k.apiKey, k]));

    const account = byKey.get(ACCOUNT.apiKey);
    expect(account).toMatchObject({
      id: keyId("bitfinex", "bfx-desk", null, ACCOUNT.apiKey),
      exchange: "bitfinex",
      account: "bfx-desk",
      subAccount: null,
      label: "",
      permissions: ["read", "trade"],
      ip: [],
      createdAt: null,
      location: "tracked",
      actions: { revoke: "manual", create: "manual" },
      probeable: true,
      state: "active",
      meta: { accountId: "9001", email: "desk@bfx.example", nonce: "ms" },
    });
    expect(account?.rawPermissions).toContainEqual(["orders", 1, 1]);

    expect(byKey.get(ALL_SCOPES.apiKey)?.permissions).toEqual([
      "read",
      "trade",
      "withdraw",
      "transfer",
      "funding",
      "settings",
    ]);
    expect(byKey.get(READ_ONLY.apiKey)?.permissions).toEqual(["read"]);
    expect(byKey.get(NO_SCOPES.apiKey)).toMatchObject({ state: "active", permissions: [] });
    expect(byKey.get(NO_SECRET.apiKey)).toMatchObject({
      label: "no-secret",
      state: "unknown",
      probeable: false,
      permissions: [],
      rawPermissions: [],
    });
    expect(byKey.get(IP_BOUND.apiKey)).toMatchObject({ state: "unknown", probeable: true });
  });

  it("a tracked entry of the account key lends its label; duplicates are listed once", async () => {
    const keys = keep(
      await adapterFor(sim.bitfinex, ACCOUNT, opts(), [
        { apiKey: ACCOUNT.apiKey, label: "admin key" },
        tracked(FRESH),
        tracked(FRESH),
      ]).listKeys(),
    );
    expect(keys.map((k) => [k.apiKey, k.label])).toEqual([
      [ACCOUNT.apiKey, "admin key"],
      [FRESH.apiKey, FRESH.label],
    ]);
  });

  it("alive probes carry permissions, raw triples, no IP, and the account id for the account key", async () => {
    const a = desk();
    await a.listKeys();
    const result = keep(await a.probe(creds(ACCOUNT)));
    expect(result).toMatchObject({
      status: "alive",
      ip: null,
      accountId: "9001",
      permissions: ["read", "trade"],
    });
    const other = keep(await a.probe(creds(READ_ONLY)));
    expect(other).toMatchObject({ status: "alive", ip: null });
    expect(other).not.toHaveProperty("accountId");
  });

  it("maps the scopes as documented", () => {
    expect(normalisePermissions([["history", 1, 1]])).toEqual(["read"]);
    expect(normalisePermissions([["positions", 0, 1]])).toEqual(["trade"]);
    expect(normalisePermissions([["ui_withdraw", 0, 1]])).toEqual(["withdraw"]);
    expect(normalisePermissions([["wallets", 0, 1]])).toEqual(["transfer"]);
    expect(
      normalisePermissions([
        ["bfxpay", 0, 1],
        ["eaas_x", 0, 1],
      ]),
    ).toEqual([]);
    expect(normalisePermissions([])).toEqual([]);
  });
});

describe("failures", () => {
  it("an account key with the wrong secret → EXCHANGE_AUTH with a hint", async () => {
    const a = bitfinexAdapter(
      {
        account: { name: "bfx-desk", exchange: "bitfinex", endpoint: sim.bitfinex, credentialsRef: "x" },
        credentials: creds({ apiKey: ACCOUNT.apiKey, apiSecret: WRONG_SECRET }),
      },
      opts(),
    );
    const error = keep(await a.listKeys().catch((e: unknown) => e));
    expect(isKeywardError(error, "EXCHANGE_AUTH")).toBe(true);
    expect(isKeywardError(error) && error.hint).toContain("secret");
  });

  it("5xx until retries run out: probe inconclusive, listing EXCHANGE_UNAVAILABLE", async () => {
    await control.faults({ exchange: "bitfinex", errorRate: 1, errorStatus: 503 });
    try {
      const a = desk({ retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 } });
      expect(keep(await a.probe(creds(READ_ONLY)))).toMatchObject({
        status: "inconclusive",
        reason: "exchange-error",
      });
      const error = keep(await a.listKeys().catch((e: unknown) => e));
      expect(isKeywardError(error, "EXCHANGE_UNAVAILABLE")).toBe(true);
    } finally {
      await control.resetFaults();
    }
  });

  it("no answer: probe inconclusive network, after the per-request timeout", async () => {
    await control.faults({ exchange: "bitfinex", timeoutRate: 1 });
    try {
      const a = desk({ timeoutMs: 200, retry: { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 } });
      expect(keep(await a.probe(creds(READ_ONLY)))).toMatchObject({
        status: "inconclusive",
        reason: "network",
      });
    } finally {
      await control.resetFaults();
    }
  });
});

describe("manual steps", () => {
  it("revoke is always manual, pointing at the simulator's stand-in page", async () => {
    const a = desk();
    const keys = await a.listKeys();
    const key = keys.find((k) => k.apiKey === READ_ONLY.apiKey);
    if (!key) throw new Error("not listed");
    const result = keep(await a.revokeKey(key));
    expect(result.outcome).toBe("manual");
    if (result.outcome !== "manual") return;
    const { steps } = result;
    expect(ManualStepsSchema.parse(steps)).toEqual(steps);
    expect(steps.url).toBe(`${sim.bitfinex}/api`);
    expect(steps.recognise).toMatchObject({
      label: "read-only",
      apiKeyStart: READ_ONLY.apiKey.slice(0, 4),
      apiKeyEnd: READ_ONLY.apiKey.slice(-4),
    });
    const text = steps.steps.join("\n");
    expect(text).toContain("desk@bfx.example");
    expect(text).toContain('"read-only"');
    expect(text).toMatch(/Revoke/);
    expect(text).toMatch(/2FA/);
    // The page is there and shows the key.
    const page = await fetch(steps.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("read-only");

    const create = a.manualSteps(key, "create");
    expect(ManualStepsSchema.parse(create).action).toBe("create");
    expect(create.steps.join("\n")).toContain('Account Info ("account"): read, Orders ("orders"): read');
  });

  it("without an endpoint the steps point at Bitfinex's own API Keys page", () => {
    const a = bitfinexAdapter(
      {
        account: { name: "real", exchange: "bitfinex", credentialsRef: "x" },
        credentials: creds(ACCOUNT),
      },
      opts(),
    );
    const steps = a.manualSteps(
      {
        id: keyId("bitfinex", "real", null, "abcdefghijklmnop"),
        exchange: "bitfinex",
        account: "real",
        subAccount: null,
        apiKey: "abcdefghijklmnop",
        label: "",
        permissions: [],
        rawPermissions: [],
        ip: [],
        createdAt: null,
        expiresAt: null,
        location: "tracked",
        actions: { revoke: "manual", create: "manual" },
        probeable: false,
        state: "unknown",
        meta: {},
      },
      "revoke",
    );
    expect(steps.url).toBe("https://setting.bitfinex.com/api");
    expect(steps.steps.join("\n")).toContain('starts with "abcd" and ends with "mnop"');
  });
});

describe("classification when no raw answer was captured (thrown ccxt errors, docs/ccxt.md#timeouts and #errors-from-the-status-and-body-never-from-ccxts-class)", () => {
  const kind = (thrown: unknown) => {
    const result = classify({ thrown, secrets: [] });
    return result.ok ? "ok" : `${result.failure.kind} ${result.failure.code}`;
  };
  it("reads the code or text out of ccxt's messages", () => {
    expect(kind(new ccxt.AuthenticationError("bitfinex apikey: invalid"))).toBe("key-invalid 10100");
    expect(kind(new ccxt.AuthenticationError("bitfinex apikey: digest invalid"))).toBe(
      "digest-invalid 10100",
    );
    expect(kind(new ccxt.InvalidNonce("bitfinex nonce: small"))).toBe("nonce-small 10114");
    expect(kind(new ccxt.PermissionDenied("bitfinex api_key: permission invalid"))).toBe("permission 10001");
    expect(kind(new ccxt.RateLimitExceeded('bitfinex ["error",11010,"ratelimit: error"]'))).toBe(
      "rate-limited 11010",
    );
    expect(kind(new ccxt.ExchangeError('bitfinex {"error":"ERR_RATE_LIMIT"}'))).toBe(
      "rate-limited ERR_RATE_LIMIT",
    );
    expect(kind(new ccxt.ExchangeError("bitfinex ERR_RATE_LIMIT (#)"))).toBe("rate-limited ERR_RATE_LIMIT");
    expect(kind(new ccxt.OnMaintenance("bitfinex maintenance (#20060)"))).toBe("unavailable 20060");
    expect(kind(new ccxt.ExchangeError("bitfinex x (#20000)"))).toBe("unexpected 20000");
  });
  it("tells network failures and timeouts apart, including raw undici errors", () => {
    expect(kind(new ccxt.RequestTimeout("bitfinex POST http://h/v2/x request timed out (500 ms)"))).toBe(
      "timeout timeout",
    );
    expect(kind(new ccxt.NetworkError("bitfinex POST http://h/v2/x fetch failed: other side closed"))).toBe(
      "network network",
    );
    expect(kind(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }))).toBe(
      "network network",
    );
    expect(kind(Object.assign(new Error("body timeout"), { code: "UND_ERR_BODY_TIMEOUT" }))).toBe(
      "timeout timeout",
    );
  });
  it("classifies captured answers by body first, status second", () => {
    const answer = (status: number, body: string) => {
      const result = classify({ thrown: new Error("x"), response: { status, body }, secrets: [] });
      return result.ok ? "ok" : `${result.failure.kind} ${result.failure.code}`;
    };
    expect(answer(500, '["error",null,"ERR_RATE_LIMIT"]')).toBe("rate-limited ERR_RATE_LIMIT");
    expect(answer(502, "<html>bad gateway</html>")).toBe("unavailable http-502");
    expect(answer(200, '{"code":"0"}')).toBe("unexpected http-200");
    expect(classify({ value: ["error", 10100, "apikey: invalid"], secrets: [] })).toMatchObject({
      ok: false,
      failure: { kind: "key-invalid" },
    });
  });
});

describe("secrets", () => {
  it("no canary appears in any error, result or log line of this file", () => {
    const everything = [...seen, ...logs.map((l) => JSON.stringify(l))].join("\n");
    expect(logs.length).toBeGreaterThan(100);
    expect(seen.length).toBeGreaterThan(10);
    for (const canary of CANARIES) expect(everything).not.toContain(canary);
    // Log lines name keys only shortened.
    expect(logs.every((l) => !JSON.stringify(l).includes(FRESH.apiKey))).toBe(true);
  });
});
