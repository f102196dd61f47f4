/**
 * Bybit beside OKX and Bitfinex in the CLI, against the shared test desk's simulator: `account add bybit`
 * (the managing key's warnings, from the shared rules and the Bybit profile, in text and --json;
 * `--testnet`), `keys` listing the Bybit master key and its sub-accounts' keys with their risks, and
 * `revoke` of Bybit sub-account keys by API (dry-run plan, then the real run, proven dead in /state).
 * Every run fails if it prints a canary (the Bybit secrets are canaries); keys made here through the
 * simulator's control API have secrets that are not, so those runs check them by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditEntries,
  BYBIT_ACCOUNT,
  credentialsJson,
  desk,
  initHome,
  KEYS,
  parseJson,
  type RunResult,
  removeTempDirs,
  Sim,
  shortKey,
  show,
  snapshotHome,
  statuses,
} from "./helpers.js";

afterAll(() => removeTempDirs());

/** The desk's Bybit master and its first sub-account (deskScenario in @keyward/simulator/testing). */
const MASTER_UID = "390000001";
const SUB_UID = "390000101";

interface Added {
  account: string;
  exchange: string;
  health: {
    status: string;
    master: boolean | null;
    permissions: string[];
    ip: string[] | null;
    warnings: string[];
  };
  advice?: string;
}

describe("account add bybit", () => {
  let sim: Sim;
  beforeAll(async () => {
    sim = await Sim.start();
  });
  afterAll(async () => {
    await sim?.close();
  });

  /** A key a person made on Bybit's API Management page (the simulator's control API). */
  const made = (body: Record<string, unknown>) =>
    sim.uiCreate<{ apiKey: string; secret: string }>({ exchange: "bybit", readOnly: 0, ...body });
  const add = async (name: string, creds: { apiKey: string; secret: string }, json = false) => {
    const home = await initHome();
    const r = await home.run(
      [
        "account",
        "add",
        "bybit",
        name,
        "--endpoint",
        sim.bybit,
        "--credentials-stdin",
        ...(json ? ["--json"] : []),
      ],
      { input: JSON.stringify(creds) },
    );
    expect(`${r.stdout}${r.stderr}`).not.toContain(creds.secret);
    return Object.assign(r, { home });
  };

  it("the desk's managing key: master, transfer, IP-bound; no warning, and the note on which key Bybit needs", async () => {
    const home = await initHome();
    const text = await home.run(
      ["account", "add", "bybit", BYBIT_ACCOUNT, "--endpoint", sim.bybit, "--credentials-stdin"],
      { input: credentialsJson(KEYS.bybitMaster) },
    );
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toContain(`Added bybit account "${BYBIT_ACCOUNT}"`);
    expect(text.stdout).toMatch(/key can: read, trade, transfer/);
    expect(text.stdout).toMatch(/IP binding: 127\.0\.0\.1/);
    expect(text.stdout).toMatch(/master-account key: yes/);
    // The note is wrapped at 120 columns: read as one line.
    expect(text.stdout.replace(/\s+/g, " ")).toMatch(
      /note: Bybit creates and revokes keys only for a master-account key holding Account Transfer, Subaccount Transfer or Withdrawal/,
    );
    expect(text.stderr).not.toMatch(/warning/);

    // The same key again, for --json: in another home, as one home refuses a key it already has.
    const json = await (await initHome()).run(
      ["account", "add", "bybit", "desk-bybit-2", "--endpoint", sim.bybit, "--credentials-stdin", "--json"],
      { input: credentialsJson(KEYS.bybitMaster) },
    );
    expect(json.code, show(json)).toBe(0);
    expect(parseJson<Added>(json)).toEqual({
      account: "desk-bybit-2",
      exchange: "bybit",
      health: expect.objectContaining({
        status: "alive",
        master: true,
        permissions: ["read", "trade", "transfer"],
        ip: ["127.0.0.1"],
        warnings: [],
      }),
      advice: expect.stringMatching(/Account Transfer, Subaccount Transfer or Withdrawal/),
    });
  });

  it("warns about a managing key that can withdraw and has no IP binding (and Bybit's 90-day expiry of it), in text and --json", async () => {
    const creds = await made({
      uid: MASTER_UID,
      note: "risky-master",
      ips: ["*"],
      permissions: { Wallet: ["Withdraw"] },
    });
    const text = await add("by-risky", creds);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toMatch(/key can: read, withdraw/);
    expect(text.stdout).toMatch(/IP binding: none/);
    expect(text.stderr).toMatch(/warning: this key can WITHDRAW funds/);
    expect(text.stderr).toMatch(/warning: this key is not bound to any IP address/);
    expect(text.stderr).toMatch(/warning: Bybit expires a key without an IP binding after 90 days/);
    // Withdrawal is one of the grants Bybit accepts for managing keys: no "cannot manage" warning.
    expect(text.stderr).not.toMatch(/sees no sub-account key and can create or revoke none/);

    const json = parseJson<Added>(await add("by-risky-json", creds, true));
    expect(json.health.warnings).toEqual([
      expect.stringMatching(/WITHDRAW/),
      expect.stringMatching(/not bound to any IP address/),
      expect.stringMatching(/Bybit expires a key without an IP binding after 90 days/),
    ]);
  });

  it("warns that a master key without a transfer or withdraw grant cannot create or revoke keys, and that a sub-account key cannot manage any", async () => {
    const trader = await made({
      uid: MASTER_UID,
      note: "trade-only-master",
      ips: ["127.0.0.1"],
      permissions: { ContractTrade: ["Order", "Position"] },
    });
    const text = await add("by-trader", trader);
    expect(text.code, show(text)).toBe(0);
    expect(text.stderr).toMatch(
      /warning: Bybit lists sub-accounts and creates or revokes keys only for a master key with Account Transfer, Subaccount Transfer or Withdrawal: with this key Keyward sees no sub-account key and can create or revoke none/,
    );
    // What the warning says: Bybit refuses the sub-member list (10005); only the key itself shows.
    const keys = await text.home.run(["keys", "--json"]);
    expect(keys.code, show(keys)).toBe(1);
    const listed = parseJson<{ keys: { apiKey: string }[]; accounts: { error?: { message: string } }[] }>(
      keys,
    );
    expect(listed.accounts[0]?.error?.message).toMatch(/Bybit 10005/);
    expect(listed.keys.map((k) => k.apiKey)).toEqual([trader.apiKey]);
    const json = parseJson<Added>(await add("by-trader-json", trader, true));
    expect(json.health).toMatchObject({ master: true, permissions: ["read", "trade"] });
    expect(json.health.warnings).toEqual([
      expect.stringMatching(/sees no sub-account key and can create or revoke none/),
    ]);

    const sub = await made({
      uid: SUB_UID,
      note: "sub-key",
      ips: ["127.0.0.1"],
      permissions: { Spot: ["SpotTrade"] },
    });
    const subJson = parseJson<Added>(await add("by-sub", sub, true));
    expect(subJson.health.master).toBe(false);
    expect(subJson.health.warnings).toEqual([expect.stringMatching(/not a master-account key/)]);
  });

  it("--testnet: refused for an exchange without a testnet (naming the ones with one), and beside --endpoint or --region; nothing stored", async () => {
    const home = await initHome();
    const before = snapshotHome(home);
    const okx = await home.run(["account", "add", "okx", "x", "--testnet", "--credentials-stdin"], {
      input: credentialsJson(KEYS.okxMaster),
    });
    expect(okx.code, show(okx)).toBe(2);
    expect(okx.stderr).toMatch(/--testnet: OKX has no testnet/);
    expect(okx.stderr).toMatch(/Only Bybit \(bybit\) or Deribit \(deribit\) has one/);
    const bfx = await home.run(["account", "add", "bitfinex", "x", "--testnet", "--credentials-stdin"], {
      input: credentialsJson(KEYS.bfxAccount),
    });
    expect(bfx.code, show(bfx)).toBe(2);
    expect(bfx.stderr).toMatch(/--testnet: Bitfinex has no testnet/);
    for (const extra of [
      ["--endpoint", sim.bybit],
      ["--region", "live"],
    ]) {
      const r = await home.run(
        ["account", "add", "bybit", "x", "--testnet", ...extra, "--credentials-stdin"],
        {
          input: credentialsJson(KEYS.bybitMaster),
        },
      );
      expect(r.code, show(r)).toBe(2);
      expect(r.stderr).toMatch(/option '--testnet' cannot be used with option/);
    }
    expect(snapshotHome(home)).toEqual(before);
    const help = await home.run(["account", "add", "--help"]);
    expect(help.stdout).toMatch(
      /--testnet\s+the exchange's testnet, same as --region testnet \(Bybit\s+or\s+Deribit\s+only\)/,
    );
    expect(help.stdout).toMatch(/keyward account add bybit desk-test --testnet/);
  });
});

interface Row {
  id: string;
  exchange: string;
  account: string;
  subAccount: string | null;
  apiKey: string;
  label: string;
  permissions: string[];
  ip: string[];
  management: string;
  risks: string[];
}

describe.concurrent("Bybit keys and revoke", () => {
  it("keys lists the Bybit master key and its sub-accounts' keys with their risks (table and --json)", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const [table, json] = await Promise.all([
      home.run(["keys", "--exchange", "bybit"]),
      home.run(["keys", "--exchange", "bybit", "--json"]),
    ]);
    expect(table.code, show(table)).toBe(0);
    // A row and, when its detail does not fit 120 columns, the indented line under it.
    const lines = table.stdout.split("\n");
    const line = (label: string) => {
      const i = lines.findIndex((l) => l.includes(` ${label} `));
      const next = lines[i + 1] ?? "";
      return i < 0 ? "" : `${lines[i]}${next.startsWith("    ") ? ` ${next.trim()}` : ""}`;
    };
    expect(line("bybit-master")).toMatch(
      new RegExp(
        `^bybit ${BYBIT_ACCOUNT}\\s+bybit-master\\s+${shortKey(KEYS.bybitMaster.apiKey)}\\s+read,trade,transfer\\s+127\\.0\\.0\\.1\\s+transfer \\(Keyward's key\\)$`,
      ),
    );
    expect(line("scalp-2")).toMatch(
      /deskScalp01\s+scalp-2\s+\S+\s+read,trade\s+any\s+no-ip,bybit-expires-soon/,
    );
    expect(line("by-reader")).toMatch(/deskRead01\s+by-reader\s+\S+\s+read\s+10\.0\.5\.9$/);
    expect(table.stdout).toMatch(/4 key\(s\), 2 with risk flags/);
    expect(table.stdout).not.toMatch(/^(okx|bitfinex)\s/m);

    expect(json.code, show(json)).toBe(0);
    const keys = parseJson<{ keys: Row[] }>(json).keys;
    const byLabel = new Map(keys.map((k) => [k.label, k]));
    expect([...byLabel.keys()].sort()).toEqual(["by-reader", "bybit-master", "scalp-1", "scalp-2"]);
    expect(byLabel.get("scalp-1")).toMatchObject({
      id: `bybit:${BYBIT_ACCOUNT}:deskScalp01:${KEYS.bybitScalp1.apiKey}`,
      subAccount: "deskScalp01",
      permissions: ["read", "trade"],
      ip: ["10.0.5.1"],
      management: "api",
      risks: [],
    });
    expect(byLabel.get("scalp-2")?.risks.sort()).toEqual(["bybit-expires-soon", "no-ip"]);
  });

  it("revoke of Bybit sub-account keys by API: the dry run plans and changes nothing; the run revokes them, proven dead", async ({
    onTestFinished,
  }) => {
    const { sim, home } = await desk({ onTestFinished });
    const select = ["--account", BYBIT_ACCOUNT, "--label", "scalp-*"];
    const before = snapshotHome(home);
    const [dry, dryJson] = await Promise.all([
      home.run(["revoke", ...select, "--dry-run"]),
      home.run(["revoke", ...select, "--dry-run", "--json"]),
    ]);
    expect(dry.code, show(dry)).toBe(0);
    for (const k of [KEYS.bybitScalp1, KEYS.bybitScalp2]) {
      expect(dry.stdout).toMatch(
        new RegExp(
          `by API\\s+bybit\\s+${BYBIT_ACCOUNT}\\s+deskScalp01\\s+${k.note}\\s+${shortKey(k.apiKey)}`,
        ),
      );
    }
    expect(dry.stdout).toMatch(/2 key\(s\): 2 by API, 0 by a person/);
    expect(dry.stdout).not.toMatch(/loses access/);
    const plan = parseJson<{ dryRun: boolean; byApi: number; keys: { method: string; label: string }[] }>(
      dryJson,
    );
    expect(plan).toMatchObject({ dryRun: true, byApi: 2, byPerson: 0 });
    expect(plan.keys.map((k) => [k.method, k.label]).sort()).toEqual([
      ["api", "scalp-1"],
      ["api", "scalp-2"],
    ]);
    expect(snapshotHome(home).tables).toEqual(before.tables);
    expect([...statuses(await sim.state()).values()].every((s) => s === "active")).toBe(true);

    const run: RunResult = await home.run(["revoke", ...select, "--yes", "--json"]);
    expect(run.code, show(run)).toBe(0);
    const report = parseJson<{
      results: { id: string; outcome: string; verified: boolean; method: string }[];
    }>(run);
    expect(report.results).toHaveLength(2);
    for (const r of report.results)
      expect(r).toMatchObject({ outcome: "revoked", verified: true, method: "api" });
    const state = statuses(await sim.state());
    expect(state.get(KEYS.bybitScalp1.apiKey)).toBe("revoked");
    expect(state.get(KEYS.bybitScalp2.apiKey)).toBe("revoked");
    expect(state.get(KEYS.bybitReader.apiKey)).toBe("active");
    expect(state.get(KEYS.bybitMaster.apiKey)).toBe("active");
    // Deleted through Bybit's own endpoint, by the master key Keyward manages the account with.
    const deletes = (await sim.requests()).filter((q) => q.path === "/v5/user/delete-sub-api");
    expect(deletes.length).toBeGreaterThanOrEqual(2);

    const audit = auditEntries<{ action: string; subject: string }>(await home.run(["audit", "--json"]));
    const verified = audit.filter((e) => e.action === "revoke.verified").map((e) => e.subject);
    expect(verified.sort()).toEqual(
      [KEYS.bybitScalp1, KEYS.bybitScalp2]
        .map((k) => `bybit:${BYBIT_ACCOUNT}:deskScalp01:${k.apiKey}`)
        .sort(),
    );
  });
});
