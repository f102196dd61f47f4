/**
 * The exchange seam: core, the CLI and the web app know exchanges only through their profiles.
 *
 * 1. No source outside `packages/core/src/adapters/` compares or switches on an exchange id (`=== "okx"`,
 *    `case "bitfinex":`, …): a branch like that is a fact that belongs in the exchange's profile.
 * 2. A third exchange registered with nothing but a profile is handled by the generic code: its risk
 *    rules, account warnings, IP reporting, write pacing, permission comparison, probe meta and credential
 *    fields come out of the profile, with no line of core naming it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccountSchema,
  ADAPTERS,
  accountHealth,
  accountProbeOptions,
  EXCHANGE_IDS,
  type ExchangeProfile,
  exchangeProfile,
  type KeyRecord,
  needsPassphrase,
  planRevoke,
  risksOf,
} from "../src/index.js";
import { estimateApiMs } from "../src/rotation/plan.js";
import type { PlanSlot } from "../src/rotation/schemas.js";
import { specMismatch } from "../src/rotation/verify.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const SCANNED = ["packages/core/src", "apps/cli/src", "apps/web/src"];
const ALLOWED = [join("packages/core/src/adapters", "")];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

describe("exchange-id branches", () => {
  it("no source outside packages/core/src/adapters/ compares or switches on an exchange id", () => {
    const ids = EXCHANGE_IDS.map((id) => id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
    const quoted = `["'\`](?:${ids})["'\`]`;
    const branch = new RegExp(
      `[!=]==?\\s*${quoted}|${quoted}\\s*[!=]==?|case\\s+${quoted}\\s*:|\\.includes\\(\\s*${quoted}\\s*\\)`,
    );
    const found: string[] = [];
    let scanned = 0;
    for (const dir of SCANNED) {
      for (const file of sources(join(ROOT, dir))) {
        const rel = relative(ROOT, file);
        if (ALLOWED.some((a) => rel.startsWith(a))) continue;
        scanned++;
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (branch.test(line)) found.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(scanned).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });

  it("the scan finds such a branch (the pattern is not vacuous)", () => {
    const id = EXCHANGE_IDS[0];
    const branch = new RegExp(`[!=]==?\\s*["'\`]${id}["'\`]`);
    expect(branch.test(`if (key.exchange === "${id}") risks.push("x");`)).toBe(true);
  });
});

/** A made-up exchange: everything core needs is in this object. */
const FAKE = "fakex";
const fakeProfile: ExchangeProfile<"fakex-dormant"> = {
  id: FAKE,
  name: "FakeX",
  credentials: [
    { name: "apiKey", prompt: "Key ID", secret: false },
    { name: "secret", prompt: "Private key", secret: true },
    { name: "passphrase", prompt: "Key phrase", secret: true },
  ],
  regions: {
    default: "global",
    hosts: { global: { rest: "https://api.fakex.test", ui: "https://fakex.test", site: "fakex.test" } },
  },
  list: "api",
  keys: { "sub-account": { list: "api", create: "api", revoke: "api" } },
  accountMeta: ["fxAccount"],
  reportsIpWhitelist: false,
  apiGrantable: ["read", "trade", "transfer"],
  writeSpacingMs: 250,
  risks: {
    "fakex-dormant": {
      text: "FakeX disables keys unused for 30 days",
      applies: (k) => k.label === "old-bot",
    },
  },
  accountKey: (probe) => ({
    master: true,
    warnings: probe.permissions.includes("trade") ? [] : ["FakeX needs Trade to revoke keys"],
  }),
  planNotes: () => ["FakeX note"],
  createStepsLabel: "new",
  comparePermissions: (want, got) => (String(want) === String(got) ? undefined : `${got} instead of ${want}`),
  describePermissions: (permissions) => permissions.join(" + "),
};

const fakeKey = (n: number, over: Partial<KeyRecord> = {}): KeyRecord =>
  ({
    id: `${FAKE}:desk:subA:k${n}`,
    exchange: FAKE,
    account: "desk",
    subAccount: "subA",
    apiKey: `fx-key-${n}`,
    label: `bot-${n}`,
    permissions: ["read", "trade"],
    rawPermissions: "rt",
    ip: [],
    createdAt: null,
    location: "sub-account",
    actions: { revoke: "api", create: "api" },
    probeable: false,
    state: "active",
    meta: { fxAccount: "A-1", other: "x" },
    ...over,
  }) as unknown as KeyRecord;

describe("a third exchange registered with only a profile", () => {
  const registry = ADAPTERS as unknown as Record<string, { profile: ExchangeProfile; load(): never }>;
  beforeAll(() => {
    registry[FAKE] = {
      profile: fakeProfile as ExchangeProfile,
      load: () => {
        throw new Error("no adapter: this test needs none");
      },
    };
  });
  afterAll(() => {
    delete registry[FAKE];
  });

  it("reads the profile by id", () => {
    expect(exchangeProfile(FAKE).name).toBe("FakeX");
    expect(needsPassphrase(exchangeProfile(FAKE))).toBe(true);
    expect(() => exchangeProfile("nope")).toThrow(/unknown exchange/);
  });

  it("risk flags: the profile's own rule, and no `no-ip` where IP whitelists are not reported", () => {
    expect(risksOf(fakeKey(1, { label: "old-bot" }), { maxKeyAgeDays: 90 })).toEqual(["fakex-dormant"]);
    expect(risksOf(fakeKey(2), { maxKeyAgeDays: 90 })).toEqual([]);
  });

  it("account health: the profile's account-key rule adds its warnings after the shared ones", () => {
    const health = accountHealth(FAKE as never, {
      status: "alive",
      permissions: ["read", "withdraw"],
      rawPermissions: "rw",
      ip: null,
      evidence: "probe",
    });
    expect(health.master).toBe(true);
    expect(health.warnings).toEqual([
      "this key can WITHDRAW funds; Keyward needs no withdraw permission: use a key without it",
      "FakeX needs Trade to revoke keys",
    ]);
  });

  it("revoke plan: API revokes paced at the profile's write spacing", () => {
    const plan = planRevoke([1, 2, 3, 4, 5].map((n) => fakeKey(n)));
    expect(plan.byApi).toBe(5);
    expect(plan.estimatedApiMs).toBe(4 * 250);
  });

  it("rotation: API pacing and the new key's permission check come from the profile", () => {
    // (The plan file itself validates exchange ids against the registry's static list, so a full plan
    // needs the registry line; what the generic code reads of the profile is checked here.)
    const old = fakeKey(1);
    const slot = {
      slot: 1,
      method: "api",
      old: { ...old, accountKey: false },
      new: {
        label: "bot-1-rot-abcdef-1",
        subAccount: "subA",
        permissions: old.permissions,
        rawPermissions: "rt",
        ip: null,
      },
      deliver: [],
      notes: [],
    } as unknown as PlanSlot;
    expect(estimateApiMs([slot, { ...slot, slot: 2 }])).toBe(2 * 250);
    const alive = { status: "alive" as const, permissions: [], ip: null, evidence: "" };
    expect(specMismatch(slot, { ...alive, rawPermissions: "rt" })).toBeUndefined();
    expect(specMismatch(slot, { ...alive, rawPermissions: "r" })).toBe(
      "its permissions differ: r instead of rt",
    );
  });

  it("probe options carry only the meta the profile says locates a key", () => {
    expect(accountProbeOptions(fakeKey(1))).toEqual({ meta: { fxAccount: "A-1" } });
  });

  it("account regions are checked against the profile", () => {
    const base = { name: "desk", exchange: EXCHANGE_IDS[0], credentialsRef: "r" };
    const regional = EXCHANGE_IDS.find((id) => exchangeProfile(id).regions);
    const plain = EXCHANGE_IDS.find((id) => !exchangeProfile(id).regions);
    if (regional) {
      const [region] = Object.keys(exchangeProfile(regional).regions?.hosts ?? {});
      expect(AccountSchema.safeParse({ ...base, exchange: regional, region }).success).toBe(true);
      expect(AccountSchema.safeParse({ ...base, exchange: regional, region: "mars" }).success).toBe(false);
    }
    if (plain) {
      const [region] = Object.keys(regional ? (exchangeProfile(regional).regions?.hosts ?? {}) : {});
      expect(AccountSchema.safeParse({ ...base, exchange: plain, region: region ?? "x" }).success).toBe(
        false,
      );
    }
  });
});
