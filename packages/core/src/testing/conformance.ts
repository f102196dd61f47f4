/**
 * The adapter conformance suite: one set of cases every exchange adapter runs against the simulator
 * over real HTTP (as hono runs one case suite per runtime). An adapter that cannot support a case
 * lists it in `skips` with the reason, and the suite reports it as skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { AdapterOptions, ExchangeAdapter } from "../adapters/interface.js";
import { needsPassphrase } from "../adapters/profile.js";
import { isPace } from "../adapters/rate-limiter.js";
import { EXCHANGE_IDS, exchangeProfile } from "../adapters/registry.js";
import type { Credentials } from "../domain/credentials.js";
import { type KeyLocation, KeyRecordSchema, ManualStepsSchema, type ProbeResult } from "../domain/schemas.js";
import { isKeywardError } from "../errors.js";
import type { LogEntry } from "../log.js";
import { capabilityCases, lackedCapabilities } from "./conformance-capabilities.js";
import type { SimControl } from "./sim-control.js";

export const CONFORMANCE_CASES = [
  "the profile agrees with the adapter",
  "list matches the seeded state",
  "revoke, then list and probe show the key dead",
  "revoking twice is fine",
  "a lost response after a committed revoke is handled",
  "5xx answers are retried",
  "rate-limit answers are retried",
  "bursts at the documented pace never draw a rate-limit rejection",
  "probe: unknown key",
  "probe: revoked key",
  "probe: wrong secret",
  "probe: wrong passphrase",
  "probe: IP not whitelisted",
  "probe: skewed clock",
  "probe: low nonce",
  "a key whose permissions forbid the call gets a clear error",
  "kill switch: a disabled key fails its probe until enabled again",
  "reset in place: the old secret dies at once, the new one works",
  "no secret appears in any error, result or log line",
] as const;
export type ConformanceCase = (typeof CONFORMANCE_CASES)[number];

export type ProbeCase = Extract<ConformanceCase, `probe: ${string}`>;

export interface ProbeExpectation {
  credentials: Credentials;
  /** What the probe must answer; for `inconclusive`, optionally which reason. */
  expect: ProbeResult["status"];
  reason?: string;
  knownAliveFromHere?: boolean;
  /** Runs before the probe (e.g. move the simulator's clock) and returns an undo. */
  arrange?: (control: SimControl) => Promise<() => Promise<void>>;
}

/** A key the suite may revoke, with its secret so the suite can probe it. */
export interface Victim {
  apiKey: string;
  label: string;
  credentials: Credentials;
}

export interface ConformanceEnv {
  control: SimControl;
  /** Builds an adapter for the seeded account; the suite passes its own log sink and rate limits. */
  makeAdapter(options: AdapterOptions): ExchangeAdapter;
  /** The simulator's own rate limits, by the adapter's bucket names (e.g. read/write/config). */
  simulatorLimits: NonNullable<AdapterOptions["rateLimits"]>;
  /** The API keys `listKeys` must return, read from the simulator's /state. */
  expectedApiKeys(): Promise<string[]>;
  /**
   * Distinct keys to revoke, one per case that revokes (at least 4; one more for each of the kill switch
   * and the reset in place where the adapter has them).
   */
  victims: Victim[];
  /** The exchange's code for "rate limited" in the simulator's request log (e.g. "50011"). */
  rateLimitCode: string;
  /** Cases that need one: how each probe must answer. Missing ones must be in `skips`. */
  probes: Partial<Record<ProbeCase, ProbeExpectation>>;
  /** Calls something the account's key is not permitted to do (must reject with EXCHANGE_PERMISSION). */
  forbiddenCall?: (log: (e: LogEntry) => void) => Promise<unknown>;
  /** Every secret planted in the scenario. */
  canaries: string[];
  close(): Promise<void>;
}

export interface ConformanceHarness {
  exchange: string;
  setup(): Promise<ConformanceEnv>;
  skips?: Partial<Record<ConformanceCase, string>>;
}

const isoDateTime = z.iso.datetime();
const isIsoDateTime = (value: unknown): boolean => isoDateTime.safeParse(value).success;

export function testAdapter(harness: ConformanceHarness): void {
  describe(`${harness.exchange} adapter conformance`, () => {
    let env: ConformanceEnv;
    const logs: LogEntry[] = [];
    const seen: string[] = [];
    const record = (value: unknown) => {
      seen.push(typeof value === "string" ? value : JSON.stringify(value));
    };
    const adapter = (extra: AdapterOptions = {}) =>
      env.makeAdapter({
        log: (e) => logs.push(e),
        rateLimits: env.simulatorLimits,
        retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
        ...extra,
      });
    let victimIndex = 0;
    const nextVictim = () => {
      const v = env.victims[victimIndex++];
      if (!v) throw new Error("harness provided too few victims");
      return v;
    };
    // Cases of an optional capability run only where the profile declares it (conformance-capabilities.ts).
    const lacking = lackedCapabilities(harness.exchange);
    /** Secrets the suite itself obtained (a reset's new secret): checked like the harness's canaries. */
    const obtained: string[] = [];
    const caseFn = (name: ConformanceCase, fn: () => Promise<void>, timeout?: number) => {
      const skip = harness.skips?.[name] ?? lacking[name];
      if (skip) it.skip(`${name} — skipped: ${skip}`, () => {});
      else it(name, fn, timeout);
    };

    beforeAll(async () => {
      env = await harness.setup();
    });
    afterAll(async () => {
      await env?.close();
    });

    // The profile is what core, the CLI and the web app believe about the exchange: an adapter that does
    // something else (creates keys the profile calls manual, lists kinds it does not declare, …) would
    // make them promise what the adapter cannot do.
    caseFn("the profile agrees with the adapter", async () => {
      const a = adapter();
      expect(EXCHANGE_IDS as readonly string[]).toContain(a.exchange);
      const profile = exchangeProfile(a.exchange);
      expect(profile.id).toBe(a.exchange);
      const kinds = Object.entries(profile.keys) as [
        KeyLocation,
        NonNullable<(typeof profile.keys)[KeyLocation]>,
      ][];
      expect(kinds.length).toBeGreaterThan(0);
      // Capabilities are the methods' presence; the profile must say the same.
      const createsByApi = kinds.some(([, k]) => k.create === "api");
      expect(typeof a.createKey === "function", "createKey ⇔ a kind created by API").toBe(createsByApi);
      expect(profile.apiGrantable.length > 0, "apiGrantable ⇔ createKey").toBe(createsByApi);
      expect(
        typeof a.listSubAccountKeys === "function",
        "listSubAccountKeys ⇔ sub-account keys listed by API",
      ).toBe(profile.keys["sub-account"]?.list === "api");
      // The account's own key deleting itself: what a rotation of it relies on once Keyward has switched.
      expect(typeof a.revokeSelf === "function", "revokeSelf ⇔ master keys revoked by API").toBe(
        profile.keys.master?.revoke === "api",
      );
      expect(
        typeof a.disableKey === "function" && typeof a.enableKey === "function",
        "disableKey and enableKey ⇔ a kind disabled by API",
      ).toBe(kinds.some(([, k]) => k.disable === "api"));
      expect(typeof a.resetKey === "function", "resetKey ⇔ a kind reset in place by API").toBe(
        kinds.some(([, k]) => k.resetInPlace === "api"),
      );
      expect(profile.list === "api", "list: api ⇔ a kind listed by API").toBe(
        kinds.some(([, k]) => k.list === "api"),
      );
      if (kinds.some(([, k]) => k.list === "tracked")) expect(a.unlisted, "unlisted sentence").toBeTruthy();
      const writesByApi = kinds.some(([, k]) => k.create === "api" || k.revoke === "api");
      expect(profile.writeSpacingMs > 0, "writeSpacingMs ⇔ key writes by API").toBe(writesByApi);
      if (profile.regions) expect(Object.keys(profile.regions.hosts)).toContain(profile.regions.default);
      // Every listed key is of a declared kind, with the actions its kind says.
      const keys = await a.listKeys();
      record(keys);
      const mode = (way: "api" | "person") => (way === "api" ? "api" : "manual");
      for (const key of keys) {
        const kind = profile.keys[key.location];
        expect(kind, `${key.location} keys are declared in the profile`).toBeDefined();
        if (!kind) continue;
        expect(key.actions).toEqual({ revoke: mode(kind.revoke), create: mode(kind.create) });
      }
      for (const name of profile.accountMeta) {
        expect(
          keys.some((k) => k.meta[name] !== undefined),
          `accountMeta "${name}" set on listed keys`,
        ).toBe(true);
      }
      // Credential fields: apiKey and secret always; a passphrase exactly when the probe needs one.
      const fields = profile.credentials.map((f) => f.name);
      expect(fields).toEqual(expect.arrayContaining(["apiKey", "secret"]));
      const victim = env.victims.at(-1);
      if (!victim) throw new Error("harness provided no victims");
      const alive = await a.probe(victim.credentials);
      record(alive);
      expect(alive.status).toBe("alive");
      if (alive.status === "alive") {
        expect(alive.ip === null).toBe(!profile.reportsIpWhitelist);
        if (alive.expiresAt !== undefined)
          expect(isIsoDateTime(alive.expiresAt), "probe's expiresAt").toBe(true);
      }
      // A live key says where it sits, as listed keys do: a rotation refuses a replacement from elsewhere.
      const victimRecord = keys.find((k) => k.apiKey === victim.credentials.apiKey);
      for (const name of profile.accountMeta) {
        expect(alive.meta?.[name], `a live probe carries accountMeta "${name}"`).toBeTruthy();
        if (victimRecord?.meta[name] !== undefined)
          expect(alive.meta?.[name], `the probe's "${name}" is the listing's`).toBe(victimRecord.meta[name]);
      }
      expect(victim.credentials.passphrase !== undefined).toBe(needsPassphrase(profile));
      if (needsPassphrase(profile)) {
        const { passphrase: _, ...without } = victim.credentials;
        const refused = await a.probe(without).then(
          (r) => r.status,
          (error: unknown) => (isKeywardError(error) ? error.code : "thrown"),
        );
        expect(refused, "a probe without the passphrase is refused").not.toBe("alive");
      }
    });

    caseFn("list matches the seeded state", async () => {
      const keys = await adapter().listKeys();
      record(keys);
      for (const key of keys) {
        expect(KeyRecordSchema.safeParse(key).success).toBe(true);
        // The schema defaults a missing expiresAt to null (old caches): an adapter must set it itself.
        expect(key.expiresAt === null || isIsoDateTime(key.expiresAt), `${key.label}: expiresAt`).toBe(true);
      }
      expect(keys.map((k) => k.apiKey).sort()).toEqual((await env.expectedApiKeys()).sort());
      expect(new Set(keys.map((k) => k.id)).size).toBe(keys.length);
      const again = await adapter().listKeys();
      expect(again.map((k) => k.id).sort()).toEqual(keys.map((k) => k.id).sort());
    });

    /** Revokes by API, or does the person's part through the simulator's stand-in page. */
    const revoke = async (a: ExchangeAdapter, apiKey: string) => {
      const key = (await a.listKeys()).find((k) => k.apiKey === apiKey);
      if (!key) throw new Error(`victim ${apiKey} not listed`);
      const result = await a.revokeKey(key);
      record(result);
      if (result.outcome === "manual") {
        expect(ManualStepsSchema.safeParse(result.steps).success).toBe(true);
        expect(result.steps.recognise.label).toBe(key.label);
        expect(apiKey.startsWith(result.steps.recognise.apiKeyStart)).toBe(true);
        expect(apiKey.endsWith(result.steps.recognise.apiKeyEnd)).toBe(true);
        await env.control.uiRevoke(a.exchange, apiKey);
      }
      return result;
    };

    caseFn("revoke, then list and probe show the key dead", async () => {
      const a = adapter();
      const victim = nextVictim();
      const before = await a.probe(victim.credentials);
      record(before);
      expect(before.status).toBe("alive");
      await revoke(a, victim.apiKey);
      expect(await env.control.keyStatus(victim.apiKey)).toBe("revoked");
      const after = await a.probe(victim.credentials, { knownAliveFromHere: true });
      record(after);
      expect(after.status).toBe("dead");
      const listed = (await a.listKeys()).find((k) => k.apiKey === victim.apiKey);
      expect(listed === undefined || listed.state === "dead").toBe(true);
    });

    caseFn("revoking twice is fine", async () => {
      const a = adapter();
      const victim = nextVictim();
      const key = (await a.listKeys()).find((k) => k.apiKey === victim.apiKey);
      if (!key) throw new Error("victim not listed");
      const first = await revoke(a, victim.apiKey);
      const second = await a.revokeKey(key);
      record(second);
      if (first.outcome === "manual") expect(second.outcome).toBe("manual");
      else expect(second.outcome).toBe("already-revoked");
      expect(await env.control.keyStatus(victim.apiKey)).toBe("revoked");
    });

    caseFn("a lost response after a committed revoke is handled", async () => {
      const a = adapter();
      const victim = nextVictim();
      const key = (await a.listKeys()).find((k) => k.apiKey === victim.apiKey);
      if (!key) throw new Error("victim not listed");
      await env.control.faults({ exchange: harness.exchange, dropResponses: 1 });
      try {
        const result = await a.revokeKey(key);
        record(result);
        expect(["revoked", "already-revoked"]).toContain(result.outcome);
      } finally {
        await env.control.resetFaults();
      }
      expect(await env.control.keyStatus(victim.apiKey)).toBe("revoked");
      const drops = (await env.control.requests()).filter((r) => r.fault === "drop");
      expect(drops.length).toBeGreaterThan(0);
    });

    caseFn("5xx answers are retried", async () => {
      // Eight retries: at a 40 % failure rate, one request failing nine times in a row is ~0.03 %.
      const a = adapter({ retry: { retries: 8, minTimeoutMs: 20, maxTimeoutMs: 200 } });
      const expected = (await env.expectedApiKeys()).sort();
      const since = await env.control.lastSeq();
      await env.control.faults({ exchange: harness.exchange, errorRate: 0.4, errorStatus: 502, seed: 7 });
      try {
        const keys = await a.listKeys();
        record(keys);
        expect(
          keys
            .filter((k) => k.state !== "dead")
            .map((k) => k.apiKey)
            .sort(),
        ).toEqual(expected);
      } finally {
        await env.control.resetFaults();
      }
      const faulted = (await env.control.requests(since)).filter((r) => r.fault === "error");
      expect(faulted.length).toBeGreaterThan(0);
    });

    caseFn(
      "rate-limit answers are retried",
      async () => {
        // The adapter believes in limits five times looser than the simulator's, so it meets 429s.
        const loose = Object.fromEntries(
          Object.entries(env.simulatorLimits).map(([bucket, l]) => [
            bucket,
            isPace(l) ? { intervalMs: l.intervalMs / 5 } : { limit: l.limit * 5, windowMs: l.windowMs },
          ]),
        );
        const a = adapter({ rateLimits: loose, retry: { retries: 8, minTimeoutMs: 50, maxTimeoutMs: 400 } });
        const since = await env.control.lastSeq();
        const expected = (await env.expectedApiKeys()).sort();
        // Bursts of parallel listings until the simulator has answered at least one with a rate limit: on
        // a loaded machine one burst may reach it slower than its window allows, and never draw one.
        let limited: unknown[] = [];
        for (let burst = 0; burst < 8 && limited.length === 0; burst++) {
          const lists = await Promise.all(Array.from({ length: 4 + 4 * burst }, () => a.listKeys()));
          for (const keys of lists)
            expect(
              keys
                .filter((k) => k.state !== "dead")
                .map((k) => k.apiKey)
                .sort(),
            ).toEqual(expected);
          limited = (await env.control.requests(since)).filter((r) => r.code === env.rateLimitCode);
        }
        expect(limited.length).toBeGreaterThan(0);
      },
      60_000,
    );

    caseFn(
      "bursts at the documented pace never draw a rate-limit rejection",
      async () => {
        await new Promise((r) =>
          setTimeout(
            r,
            Math.max(
              ...Object.values(env.simulatorLimits).map((l) => (isPace(l) ? l.intervalMs : l.windowMs)),
            ) + 50,
          ),
        );
        const a = adapter();
        const since = await env.control.lastSeq();
        const victim = nextVictim();
        await Promise.all([...Array.from({ length: 4 }, () => a.listKeys()), revoke(a, victim.apiKey)]);
        const requests = await env.control.requests(since);
        expect(requests.length).toBeGreaterThan(0);
        expect(requests.filter((r) => r.code === env.rateLimitCode || r.status === 429)).toEqual([]);
      },
      60_000,
    );

    for (const probeCase of CONFORMANCE_CASES.filter((c): c is ProbeCase => c.startsWith("probe: "))) {
      caseFn(probeCase, async () => {
        const expectation = env.probes[probeCase];
        if (!expectation)
          throw new Error(`harness gives no expectation for "${probeCase}" and does not skip it`);
        const undo = expectation.arrange ? await expectation.arrange(env.control) : undefined;
        try {
          const result = await adapter().probe(expectation.credentials, {
            ...(expectation.knownAliveFromHere === undefined
              ? {}
              : { knownAliveFromHere: expectation.knownAliveFromHere }),
          });
          record(result);
          expect(result.status).toBe(expectation.expect);
          if (expectation.reason && result.status === "inconclusive")
            expect(result.reason).toBe(expectation.reason);
          expect(result.status === "alive" || result.evidence.length > 0).toBe(true);
        } finally {
          await undo?.();
        }
      });
    }

    caseFn("a key whose permissions forbid the call gets a clear error", async () => {
      if (!env.forbiddenCall) throw new Error("harness gives no forbiddenCall and does not skip this case");
      const error = await env
        .forbiddenCall((e) => logs.push(e))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      record(String(error));
      expect(isKeywardError(error, "EXCHANGE_PERMISSION")).toBe(true);
      if (isKeywardError(error)) {
        record(error.describe());
        expect(error.hint ?? "").not.toBe("");
      }
    });

    // The kill switch and the reset in place, in this order (conformance-capabilities.ts).
    capabilityCases({ env: () => env, adapter: () => adapter(), nextVictim, record, obtained, caseFn });

    caseFn("no secret appears in any error, result or log line", async () => {
      // Provoke failures whose messages could carry request details.
      const broken = adapter({ retry: { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 10 } });
      await env.control.faults({ exchange: harness.exchange, errorRate: 1, errorStatus: 503 });
      try {
        const error = await broken.listKeys().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeDefined();
        record(String(error));
        record(error instanceof Error ? (error.stack ?? "") : "");
        if (isKeywardError(error)) record(error.describe());
      } finally {
        await env.control.resetFaults();
      }
      const everything = [...seen, ...logs.map((l) => JSON.stringify(l))].join("\n");
      expect(logs.length).toBeGreaterThan(0);
      for (const canary of [...env.canaries, ...obtained]) expect(everything).not.toContain(canary);
    });
  });
}
