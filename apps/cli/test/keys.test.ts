/**
 * `keys`: the live inventory of every account (OKX, Bitfinex, Bybit), its filters (--exchange, --account, --label GLOB, --risky,
 * combined with AND) and its JSON shape, checked against the simulator's /state.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  BYBIT_ACCOUNT,
  desk,
  KEYS,
  OKX_ACCOUNT,
  parseJson,
  type RunResult,
  removeTempDirs,
  shortKey,
  show,
  statuses,
} from "./helpers.js";

afterAll(() => removeTempDirs());

const DAY = 86_400_000;

interface Row {
  id: string;
  exchange: string;
  account: string;
  subAccount: string | null;
  apiKey: string;
  label: string;
  permissions: string[];
  ip: string[];
  createdAt: string | null;
  expiresAt: string | null;
  management: "api" | "manual";
  risks: string[];
}
interface Inventory {
  keys: Row[];
  accounts: { account: string; exchange: string; keys: number; error?: unknown }[];
}

const inventory = (r: RunResult): Inventory => {
  expect(r.code, show(r)).toBe(0);
  return parseJson<Inventory>(r);
};
const labels = (inv: Inventory) => inv.keys.map((k) => k.label).sort();

/** Keyward's label for the Bitfinex account's own key is empty (Bitfinex cannot tell it). */
const KNOWN_TO_KEYWARD = [
  KEYS.okxMaster,
  KEYS.bot1,
  KEYS.bot2,
  KEYS.bot3,
  KEYS.opsReader,
  KEYS.bfxAccount,
  KEYS.bfxMm,
  KEYS.bybitMaster,
  KEYS.bybitScalp1,
  KEYS.bybitScalp2,
  KEYS.bybitReader,
].map((k) => k.apiKey);

describe.concurrent("keys", () => {
  it("--json lists every key of every account, with the documented fields", async ({ onTestFinished }) => {
    const { sim, home } = await desk({ onTestFinished });
    const inv = inventory(await home.run(["keys", "--json"]));

    expect(inv.accounts).toEqual([
      {
        account: OKX_ACCOUNT,
        exchange: "okx",
        keys: 5,
        unlisted: expect.stringMatching(/master account .* not visible by API: track them/),
      },
      {
        account: BFX_ACCOUNT,
        exchange: "bitfinex",
        keys: 2,
        unlisted: expect.stringMatching(/^Bitfinex has no API that lists keys/),
      },
      {
        account: BYBIT_ACCOUNT,
        exchange: "bybit",
        keys: 4,
        unlisted: expect.stringMatching(/master account's other API keys .* not visible by API: track them/),
      },
    ]);
    expect(inv.keys.map((k) => k.apiKey).sort()).toEqual([...KNOWN_TO_KEYWARD].sort());
    // Every key Keyward lists is active on the exchange.
    const state = statuses(await sim.state());
    for (const k of inv.keys) expect(state.get(k.apiKey), k.label).toBe("active");

    for (const k of inv.keys) {
      expect(k).toEqual(
        expect.objectContaining({
          id: expect.stringMatching(new RegExp(`^${k.exchange}:${k.account}:`)),
          exchange: expect.stringMatching(/^(okx|bitfinex|bybit)$/),
          account: expect.any(String),
          apiKey: expect.any(String),
          label: expect.any(String),
          permissions: expect.any(Array),
          ip: expect.any(Array),
          management: expect.stringMatching(/^(api|manual)$/),
          risks: expect.any(Array),
        }),
      );
      expect(k).toHaveProperty("subAccount");
      expect(k).toHaveProperty("createdAt");
    }
    const byKey = new Map(inv.keys.map((k) => [k.apiKey, k]));
    expect(byKey.get(KEYS.bot1.apiKey)).toMatchObject({
      id: `okx:${OKX_ACCOUNT}:deskBots01:${KEYS.bot1.apiKey}`,
      exchange: "okx",
      account: OKX_ACCOUNT,
      subAccount: "deskBots01",
      label: "bot-1",
      permissions: ["read", "trade"],
      ip: ["10.0.0.1"],
      createdAt: new Date(Number(KEYS.bot1.ts)).toISOString(),
      management: "api",
      risks: [],
    });
    // The master key and every Bitfinex key can only be revoked by a person.
    expect(byKey.get(KEYS.okxMaster.apiKey)).toMatchObject({ subAccount: null, management: "manual" });
    expect(byKey.get(KEYS.bfxMm.apiKey)).toMatchObject({
      exchange: "bitfinex",
      account: BFX_ACCOUNT,
      label: "bfx-mm",
      management: "manual",
      permissions: expect.arrayContaining(["withdraw"]),
      risks: ["withdraw"],
    });
    expect(byKey.get(KEYS.bfxAccount.apiKey)).toMatchObject({ label: "", management: "manual" });
  });

  it("each key's expiry: expiresAt in --json (null where none), the time left after the flags in the table", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const [json, table] = await Promise.all([home.run(["keys", "--json"]), home.run(["keys"])]);
    const byLabel = new Map(inventory(json).keys.map((k) => [k.label, k]));
    // scalp-2 has no IP binding: Bybit expires it 90 days after it was made (80 days ago).
    const scalp2 = byLabel.get("scalp-2");
    expect(scalp2?.createdAt).toBeTruthy();
    expect(scalp2?.expiresAt).toBe(new Date(Date.parse(scalp2?.createdAt ?? "") + 90 * DAY).toISOString());
    // Bound Bybit keys, and every OKX and Bitfinex key: no expiry.
    for (const k of inventory(json).keys) {
      if (k.label !== "scalp-2") expect(k.expiresAt, k.label).toBeNull();
    }

    expect(table.code, show(table)).toBe(0);
    const lines = table.stdout.split("\n");
    // A row and, when its detail (risks, expiry) does not fit 120 columns, the indented line under it.
    const line = (label: string) => {
      const i = lines.findIndex((l) => l.includes(` ${label} `));
      const next = lines[i + 1] ?? "";
      return i < 0 ? "" : `${lines[i]}${next.startsWith("    ") ? ` ${next.trim()}` : ""}`;
    };
    // Made 80 days ago: 9 whole days and some hours left.
    expect(line("scalp-2")).toMatch(/\sno-ip,bybit-expires-soon expires 9d$/);
    expect(line("scalp-1")).not.toMatch(/expire/);
    expect(line("bot-2")).toMatch(/\sno-ip,okx-idle-expiry$/);
    // The note is in the last column (NOTES, or the indented line under a row too wide for it), after the
    // flags: it widens no other column and no other row.
    const row = lines.find((l) => l.includes(" scalp-2 ")) ?? "";
    const risksAt = lines[0]?.indexOf("NOTES") ?? -1;
    const detail = row.length > risksAt ? row.slice(risksAt) : (lines[lines.indexOf(row) + 1] ?? "").trim();
    expect(detail).toBe("no-ip,bybit-expires-soon expires 9d");
  });

  it("--exchange and --account narrow the inventory (the table form too)", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const [table, byAccount] = await Promise.all([
      home.run(["keys", "--exchange", "okx"]),
      home.run(["keys", "--account", BFX_ACCOUNT.toUpperCase(), "--json"]), // account names: any case
    ]);
    expect(table.code, show(table)).toBe(0);
    expect(table.stdout).toMatch(/^ACCOUNT\s+LABEL\s+API KEY\s+PERMISSIONS\s+IP\s+NOTES$/m);
    for (const k of [KEYS.okxMaster, KEYS.bot1, KEYS.bot2, KEYS.bot3, KEYS.opsReader]) {
      expect(table.stdout).toContain(shortKey(k.apiKey));
    }
    expect(table.stdout).not.toMatch(/bitfinex|bfx-mm/);
    expect(table.stdout).toMatch(/5 key\(s\), 2 with risk flags/);

    const bfx = inventory(byAccount);
    expect(labels(bfx)).toEqual(["", "bfx-mm"]);
    // Only the accounts concerned are asked.
    expect(bfx.accounts.map((a) => a.account)).toEqual([BFX_ACCOUNT]);
  });

  it("the table marks a tracked key the exchange no longer knows DEAD, not live", async ({
    onTestFinished,
  }) => {
    const { sim, home } = await desk({ onTestFinished });
    await sim.uiRevoke("bitfinex", KEYS.bfxMm.apiKey);
    const table = await home.run(["keys", "--exchange", "bitfinex"]);
    expect(table.code, show(table)).toBe(0);
    const row = table.stdout.split("\n").find((l) => l.includes(` ${KEYS.bfxMm.label} `));
    expect(row, table.stdout).toMatch(/\sDEAD\s/);
    expect(row).not.toMatch(/\slive\s/);
  });

  it("rotate plan with every selected key refused says there is nothing to apply, not how to apply it (exit 2: the input was refused, nothing changed)", async ({
    onTestFinished,
  }) => {
    const { sim, home } = await desk({ onTestFinished });
    await sim.uiRevoke("bitfinex", KEYS.bfxMm.apiKey);
    const plan = await home.run([
      "rotate",
      "plan",
      "--exchange",
      "bitfinex",
      "--label",
      KEYS.bfxMm.label,
      "--deliver",
      "dotenv:/srv/never/{label}.env",
    ]);
    expect(plan.code, show(plan)).toBe(2);
    expect(plan.stdout).toMatch(/nothing to apply/);
    expect(plan.stdout).not.toMatch(/rotate apply/);
  });

  it("--label GLOB and --risky select keys; filters combine with AND", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const [bots, risky, riskyBfx, riskyBots] = await Promise.all([
      home.run(["keys", "--label", "bot-*", "--json"]),
      home.run(["keys", "--risky", "--json"]),
      home.run(["keys", "--exchange", "bitfinex", "--risky", "--json"]),
      home.run(["keys", "--label", "BOT-*", "--risky", "--json"]), // labels match in any case
    ]);
    expect(labels(inventory(bots))).toEqual(["bot-1", "bot-2", "bot-3"]);
    expect(Object.fromEntries(inventory(risky).keys.map((k) => [k.label, [...k.risks].sort()]))).toEqual({
      "bot-2": ["no-ip", "okx-idle-expiry"],
      "bot-3": ["old"],
      "bfx-mm": ["withdraw"],
      "bybit-master": ["transfer"],
      "scalp-2": ["bybit-expires-soon", "no-ip"],
    });
    expect(labels(inventory(riskyBfx))).toEqual(["bfx-mm"]);
    expect(labels(inventory(riskyBots))).toEqual(["bot-2", "bot-3"]);
  });
});
