/**
 * The Deribit adapter beyond the shared conformance suite, over real HTTP against the simulator: what the
 * inventory says of each key (and that list_api_keys' secrets never leave the schema), the two-factor
 * challenge loop (from the vault's seed, from a person's codes, a refused code, no one to answer, a wrong
 * seed), a key of the account's own created by API with its IP whitelist, and the account key's probe.
 * Codes a test "types" are computed with the TOTP library from the scenario's seed, as a person's
 * authenticator would.
 */
import { startSimulator } from "@keyward/simulator";
import { Secret as OtpSecret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deribitAdapter } from "../src/adapters/deribit/adapter.js";
import type {
  AdapterOptions,
  ExchangeAdapter,
  SecondFactorEvent,
  SecondFactorRequest,
} from "../src/adapters/interface.js";
import type { Credentials } from "../src/domain/credentials.js";
import { Secret } from "../src/domain/secret.js";
import { exchangeProfile, isKeywardError, type KeywardError, type LogEntry, risksOf } from "../src/index.js";
import { SimControl } from "../src/testing/index.js";

const SEED = "KRUGS4ZANFZSAYLOEBQWG3LPOVXHI4ZAONSWKZA";
const DAY = 86_400_000;
const LOOPBACK = ["127.0.0.1", "::1"];

const key = (id: number, name: string, maxScope: string, over: Record<string, unknown> = {}) => ({
  id,
  client_id: `DRAD${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}${id}`,
  client_secret: `CANARYDRADAPTER${name.toUpperCase().replace(/[^A-Z0-9]/g, "")}SECRET${id}`,
  name,
  max_scope: maxScope,
  enabled: true,
  ip_whitelist: LOOPBACK,
  timestamp: Date.now() - 30 * DAY,
  ...over,
});

const ADMIN = key(1, "keyward", "account:read_write trade:read");
const READER = key(2, "reader", "account:read");
const TREASURY = key(3, "treasury", "wallet:read_write account:read", {
  ip_whitelist: [],
  timestamp: Date.now() - 400 * DAY,
});
const OFF = key(4, "off", "trade:read_write", { enabled: false });
const VICTIMS = [5, 6, 7, 8].map((id) => key(id, `victim${id}`, "trade:read_write"));
const ALL = [ADMIN, READER, TREASURY, OFF, ...VICTIMS];
/** The only key of a second account: Keyward's own, revoked at the end of an incident. */
const SELF = key(1, "self", "account:read_write");

const scenario = () => ({
  deribit: {
    accounts: [
      { id: 801, username: "desk_ad", type: "main" as const, totpSeed: SEED, keys: ALL },
      { id: 802, username: "desk_self", type: "main" as const, totpSeed: SEED, keys: [SELF] },
    ],
  },
});

const creds = (k: { client_id: string; client_secret: string }, totpSeed?: string): Credentials => ({
  apiKey: k.client_id,
  secret: new Secret(k.client_secret),
  ...(totpSeed ? { totpSeed: new Secret(totpSeed) } : {}),
});

/** The code a person's authenticator shows now. */
const codeNow = (seed = SEED) =>
  new TOTP({ secret: OtpSecret.fromBase32(seed), algorithm: "SHA1", digits: 6, period: 30 }).generate();
/** A code that is not valid now (nor one step either side). */
const wrongCode = () => {
  const near = [-30_000, 0, 30_000].map((d) =>
    new TOTP({ secret: OtpSecret.fromBase32(SEED), algorithm: "SHA1", digits: 6, period: 30 }).generate({
      timestamp: Date.now() + d,
    }),
  );
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!near.includes(code)) return code;
  }
};

let sim: Awaited<ReturnType<typeof startSimulator>>;
let control: SimControl;
const logs: LogEntry[] = [];
const events: SecondFactorEvent[] = [];
const seen: string[] = [];

/** `totpSeed` null: the vault holds no seed. */
const adapter = (k = ADMIN, totpSeed: string | null = SEED, extra: AdapterOptions = {}): ExchangeAdapter =>
  deribitAdapter(
    {
      account: { name: "desk", exchange: "deribit", endpoint: sim.deribit, credentialsRef: "vault:desk" },
      credentials: creds(k, totpSeed ?? undefined),
    },
    {
      log: (e) => logs.push(e),
      onSecondFactor: (e) => {
        events.push(e);
      },
      retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
      ...extra,
    },
  );

async function failure(p: Promise<unknown>): Promise<KeywardError> {
  try {
    await p;
  } catch (error) {
    if (isKeywardError(error)) {
      seen.push(error.describe(), String(error.stack));
      return error;
    }
    throw error;
  }
  throw new Error("expected a KeywardError");
}

const listed = async (apiKey: string) => (await adapter().listKeys()).find((k) => k.apiKey === apiKey);

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
  control = new SimControl(sim.control);
});
afterAll(async () => {
  await sim?.close();
});

describe("deribit adapter", () => {
  it("lists every key of the account with its scope, IP whitelist, state and age, and never a secret", async () => {
    const keys = await adapter().listKeys();
    seen.push(JSON.stringify(keys));
    expect(keys.map((k) => k.apiKey).sort()).toEqual(ALL.map((k) => k.client_id).sort());
    const admin = keys.find((k) => k.apiKey === ADMIN.client_id);
    expect(admin).toMatchObject({
      location: "master",
      subAccount: null,
      label: "keyward",
      actions: { revoke: "api", create: "api" },
      permissions: ["read", "settings"],
      rawPermissions: "account:read_write trade:read",
      ip: LOOPBACK,
      state: "active",
      probeable: true,
      meta: { userId: "801" },
    });
    const treasury = keys.find((k) => k.apiKey === TREASURY.client_id);
    // Token order normalised: the form's order, whatever Deribit answered.
    expect(treasury?.rawPermissions).toBe("account:read wallet:read_write");
    expect(treasury?.probeable).toBe(false);
    expect(treasury && risksOf(treasury, { maxKeyAgeDays: 90 })).toEqual([
      "withdraw",
      "transfer",
      "no-ip",
      "old",
    ]);
    // account:read_write manages every key of the account: flagged, Keyward's own key too.
    expect(admin && risksOf(admin, { maxKeyAgeDays: 90 })).toContain("deribit-manages-keys");
    expect(treasury && risksOf(treasury, { maxKeyAgeDays: 90 })).not.toContain("deribit-manages-keys");
    expect(keys.find((k) => k.apiKey === OFF.client_id)?.state).toBe("disabled");
    expect(admin?.createdAt).toBe(new Date(ADMIN.timestamp).toISOString());
    // list_api_keys answers every key's client_secret: none survives the schema.
    const text = JSON.stringify(keys);
    for (const k of ALL) expect(text).not.toContain(k.client_secret);
    expect(
      exchangeProfile("deribit").describePermissions(
        treasury?.permissions ?? [],
        treasury?.rawPermissions ?? "",
      ),
    ).toBe("Account: Read only; Trade: No access; Wallet: Read + Write; Block trade: No access");
  });

  it("answers the two-factor challenge from the vault's seed, and says so to onSecondFactor", async () => {
    events.length = 0;
    const a = adapter();
    const victim = await listed(VICTIMS[0]?.client_id ?? "");
    if (!victim) throw new Error("victim not listed");
    const since = await control.lastSeq();
    const result = await a.revokeKey(victim);
    seen.push(JSON.stringify(result));
    expect(result.outcome).toBe("revoked");
    expect(await control.keyStatus(victim.apiKey)).toBe("revoked");
    const action = expect.stringContaining("remove key");
    expect(events).toEqual([
      { account: "desk", action, answeredBy: "seed", phase: "answering" },
      { account: "desk", action, answeredBy: "seed", phase: "answered", accepted: true },
    ]);
    // The challenge, then the call with the code.
    const removes = (await control.requests(since)).filter((r) => r.path.endsWith("/remove_api_key"));
    expect(removes.length).toBe(2);
  });

  it("asks a person for the code when the vault has no seed, and goes on with it", async () => {
    events.length = 0;
    const asked: SecondFactorRequest[] = [];
    const typed: string[] = [];
    const a = adapter(ADMIN, null, {
      secondFactor: {
        code: async (request) => {
          asked.push(request);
          const code = codeNow();
          typed.push(code);
          return code;
        },
      },
    });
    const victim = await listed(VICTIMS[1]?.client_id ?? "");
    if (!victim) throw new Error("victim not listed");
    const before = Date.now();
    expect((await a.revokeKey(victim)).outcome).toBe("revoked");
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ account: "desk", action: expect.stringContaining("victim6") });
    expect(asked[0]?.retry).toBeUndefined();
    // Deribit gives a minute to answer.
    expect(asked[0]?.expiresAt).toBeGreaterThanOrEqual(before + 55_000);
    expect(events.map((e) => [e.phase, e.answeredBy, e.phase === "answered" && e.accepted])).toEqual([
      ["answering", "person", false],
      ["answered", "person", true],
    ]);
    for (const code of typed) expect(JSON.stringify(logs)).not.toContain(`"${code}"`);
  });

  it("asks again, saying so, when Deribit refuses a person's code; gives up after three", async () => {
    events.length = 0;
    const victim = await listed(VICTIMS[2]?.client_id ?? "");
    if (!victim) throw new Error("victim not listed");
    const asked: SecondFactorRequest[] = [];
    const wrongThenRight = adapter(ADMIN, null, {
      secondFactor: {
        code: async (request) => {
          asked.push(request);
          return asked.length === 1 ? wrongCode() : codeNow();
        },
      },
    });
    expect((await wrongThenRight.revokeKey(victim)).outcome).toBe("revoked");
    expect(asked.map((r) => r.retry === true)).toEqual([false, true]);
    expect(events.map((e) => e.phase === "answered" && e.accepted)).toEqual([false, false, false, true]);

    events.length = 0;
    const target = await listed(VICTIMS[3]?.client_id ?? "");
    if (!target) throw new Error("victim not listed");
    let tries = 0;
    const alwaysWrong = adapter(ADMIN, null, {
      secondFactor: {
        code: async () => {
          tries++;
          return wrongCode();
        },
      },
    });
    const error = await failure(alwaysWrong.revokeKey(target));
    expect(error.code).toBe("SECOND_FACTOR_REFUSED");
    expect(tries).toBe(3);
    expect(events.filter((e) => e.phase === "answered").map((e) => e.accepted)).toEqual([
      false,
      false,
      false,
    ]);
    expect(await control.keyStatus(target.apiKey)).toBe("active");
  });

  it("stops with SECOND_FACTOR_REQUIRED, naming both ways, when no seed and no person can answer", async () => {
    const target = await listed(VICTIMS[3]?.client_id ?? "");
    if (!target) throw new Error("victim not listed");
    const error = await failure(adapter(ADMIN, null).revokeKey(target));
    expect(error.code).toBe("SECOND_FACTOR_REQUIRED");
    expect(error.hint).toContain("keyward account set-seed");
    expect(error.hint).toContain("type the code");
    expect(await control.keyStatus(target.apiKey)).toBe("active");
    // A prompt that cannot answer (no one there) ends the call with its own error, as it is.
    const cancelled = await failure(
      adapter(ADMIN, null, {
        secondFactor: {
          code: async () => {
            throw new (await import("../src/errors.js")).KeywardError(
              "SECOND_FACTOR_REQUIRED",
              "no terminal",
            );
          },
        },
      }).revokeKey(target),
    );
    expect(cancelled.message).toBe("no terminal");
  });

  it("refuses at once, with a clock hint, a code from a seed Deribit does not accept", async () => {
    events.length = 0;
    const target = await listed(VICTIMS[3]?.client_id ?? "");
    if (!target) throw new Error("victim not listed");
    const otherSeed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const error = await failure(adapter(ADMIN, otherSeed).revokeKey(target));
    expect(error.code).toBe("SECOND_FACTOR_REFUSED");
    expect(error.hint).toMatch(/clock/);
    expect(events).toEqual([
      { account: "desk", action: expect.any(String), answeredBy: "seed", phase: "answering" },
      { account: "desk", action: expect.any(String), answeredBy: "seed", phase: "answered", accepted: false },
    ]);
    expect(await control.keyStatus(target.apiKey)).toBe("active");
    expect([...seen, JSON.stringify(logs)].join("\n")).not.toContain(otherSeed);
  });

  it("creates a key in the account itself with the exact scope and IP whitelist, named as Deribit allows", async () => {
    const a = adapter();
    const label = "victim-rot-k3f9q2-1";
    const created = await a.createKey?.({
      subAccount: null as unknown as string,
      label,
      permissions: ["read", "trade"],
      ip: LOOPBACK,
      rawPermissions: "trade:read_write account:read",
    });
    if (!created) throw new Error("no createKey");
    seen.push(JSON.stringify(created.record));
    expect(created.record).toMatchObject({
      location: "master",
      subAccount: null,
      label: exchangeProfile("deribit").storedLabel?.(label),
      rawPermissions: "account:read trade:read_write",
      ip: LOOPBACK,
      state: "active",
      probeable: true,
    });
    expect(created.record.label).toMatch(/^[A-Za-z0-9_]{1,16}$/);
    const probe = await a.probe(created.credentials);
    expect(probe).toMatchObject({
      status: "alive",
      rawPermissions: "account:read trade:read_write",
      ip: LOOPBACK,
    });
    // Nothing that moves money is created by API.
    const refused = await failure(
      a.createKey?.({
        subAccount: null as unknown as string,
        label: "treasury-2",
        permissions: ["read", "withdraw"],
        ip: LOOPBACK,
        rawPermissions: "wallet:read_write",
      }) ?? Promise.resolve(),
    );
    expect(refused.code).toBe("NOT_SUPPORTED");
    // Clean up: the account holds at most 8 keys.
    expect((await a.revokeKey(created.record)).outcome).toBe("revoked");
  });

  it("a new key whose IP whitelist cannot be set, nor the key removed (codes cancelled), is disabled and named in the error", async () => {
    const { KeywardError } = await import("../src/errors.js");
    let asked = 0;
    // The person answers the create's code, then cancels the edit's (the IP whitelist) and the removal's.
    const a = adapter(ADMIN, null, {
      secondFactor: {
        code: async () => {
          asked++;
          if (asked === 1) return codeNow();
          throw new KeywardError("SECOND_FACTOR_REQUIRED", "the prompt was cancelled");
        },
      },
    });
    const label = "stray-k3f9q2-1";
    const error = await failure(
      a.createKey?.({
        subAccount: null as unknown as string,
        label,
        permissions: ["read", "trade"],
        ip: LOOPBACK,
        rawPermissions: "trade:read_write account:read",
      }) ?? Promise.resolve(),
    );
    seen.push(JSON.stringify(error), String(error), error.hint ?? "");
    expect(asked).toBe(3);
    const stray = (await adapter().listKeys()).find(
      (k) => k.label === exchangeProfile("deribit").storedLabel?.(label),
    );
    if (!stray) throw new Error("the stray key is not listed");
    // Unusable: disabled (disable_api_key takes no code), and the error names it, never its secret.
    expect(await control.keyStatus(stray.apiKey)).toBe("disabled");
    expect(error.code).toBe("SECOND_FACTOR_REQUIRED");
    expect(error.message).toContain(stray.apiKey);
    expect(error.message).toContain(`"${stray.label}"`);
    expect(error.message).toMatch(/disabled/);
    expect(error.hint).toMatch(/keyward rotate resume.*keyward rotate abort/);
    expect((await adapter().revokeKey(stray)).outcome).toBe("revoked");
  });

  it("a lost answer to the call with the code: a removal is reconciled by listing, a creation by its name", async () => {
    // The fault is set from inside the prompt: after the challenge, before the call that carries the code.
    let drops = 1;
    const dropNext = adapter(ADMIN, null, {
      secondFactor: {
        code: async () => {
          if (drops > 0) {
            drops--;
            await control.faults({ exchange: "deribit", dropResponses: 1 });
          }
          return codeNow();
        },
      },
    });
    try {
      const target = await listed(VICTIMS[3]?.client_id ?? "");
      if (!target) throw new Error("victim not listed");
      const since = await control.lastSeq();
      const result = await dropNext.revokeKey(target);
      expect(result.outcome).toBe("revoked");
      expect(result.outcome === "revoked" && result.evidence).toContain("lost");
      expect(await control.keyStatus(target.apiKey)).toBe("revoked");
      expect((await control.requests(since)).filter((r) => r.fault === "drop")).toHaveLength(1);

      drops = 1;
      const beforeCreate = await control.lastSeq();
      const label = "lost-create";
      const created = await dropNext.createKey?.({
        subAccount: null as unknown as string,
        label,
        permissions: ["read", "trade"],
        ip: LOOPBACK,
        rawPermissions: "account:read trade:read_write",
      });
      if (!created) throw new Error("no createKey");
      // The orphan whose secret nobody saw was removed; only the key Keyward holds is left with that name.
      const named = (await adapter().listKeys()).filter((k) => k.label === label.replace("-", "_"));
      expect(named.map((k) => k.apiKey)).toEqual([created.credentials.apiKey]);
      expect((await dropNext.probe(created.credentials)).status).toBe("alive");
      const dropped = (await control.requests(beforeCreate)).filter((r) => r.fault === "drop");
      expect(dropped.map((r) => r.path)).toEqual(["/api/v2/private/create_api_key"]);
      await dropNext.revokeKey(created.record);
    } finally {
      await control.resetFaults();
    }
  });

  it("probes the account's key: alive, a main account's, its scope, user id and whitelist; warns of a read-only scope", async () => {
    const probe = await adapter().probe(creds(ADMIN));
    seen.push(JSON.stringify(probe));
    expect(probe).toMatchObject({
      status: "alive",
      accountId: "801",
      masterId: "801",
      ip: LOOPBACK,
      label: "keyward",
      meta: { userId: "801" },
    });
    const reader = await adapter().probe(creds(READER));
    if (reader.status !== "alive") throw new Error("reader not alive");
    const verdict = exchangeProfile("deribit").accountKey?.(reader);
    expect(verdict?.master).toBe(true);
    expect(verdict?.warnings.join(" ")).toContain("account:read_write");
    // A disabled key is not dead: it works again once enabled.
    const off = await adapter().probe(creds(OFF), { knownAliveFromHere: true });
    expect(off).toMatchObject({ status: "inconclusive", reason: "frozen" });
  });

  it("the account's own key: never disabled (it could not come back), removed by itself, then probed dead", async () => {
    const a = adapter(SELF);
    const own = (await a.listKeys()).find((k) => k.apiKey === SELF.client_id);
    if (!own || !a.disableKey) throw new Error("own key not listed, or no kill switch");
    expect((await failure(a.disableKey(own))).code).toBe("NOT_SUPPORTED");
    expect(await control.keyStatus(SELF.client_id)).toBe("active");
    expect((await a.revokeKey(own)).outcome).toBe("revoked");
    expect(await control.keyStatus(SELF.client_id)).toBe("revoked");
    // Its signed calls worked from here with this secret, so its 13004 now means removed.
    const probe = await a.probe(creds(SELF));
    seen.push(JSON.stringify(probe));
    expect(probe.status).toBe("dead");
    // Another secret for the same Client ID proves nothing.
    const other = await a.probe({
      apiKey: SELF.client_id,
      secret: new Secret("CANARYDRADAPTERNOTTHESECRET"),
    });
    expect(other).toMatchObject({ status: "inconclusive", reason: "ambiguous" });
  });

  it("no secret, seed or code appears in any error, record or log line", () => {
    const everything = [
      ...seen,
      ...logs.map((l) => JSON.stringify(l)),
      ...events.map((e) => JSON.stringify(e)),
    ].join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const k of [...ALL, SELF]) expect(everything).not.toContain(k.client_secret);
    expect(everything).not.toContain(SEED);
  });
});
