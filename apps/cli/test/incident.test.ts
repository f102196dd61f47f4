/**
 * Issue 10's "worst five minutes" through the command line: an account's own key is revoked first (on
 * the simulator, as a person would on the exchange's page), and the rest of the account can still be
 * revoked (exit 3 while a person's step is pending); an OKX master whose key died shows its sub-account
 * keys stale from the last listing, with their age; Keyward's own key is planned last, with a warning;
 * a tracked OKX master key is listed; each account says what its exchange cannot list. Every run is
 * scanned for canary secrets by the helpers.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  credentialsJson,
  desk,
  KEYS,
  OKX_ACCOUNT,
  parseJson,
  removeTempDirs,
  show,
  statuses,
} from "./helpers.js";

afterAll(() => removeTempDirs());

/**
 * Each CLI run opens the vault (scrypt) and asks the simulator; on a loaded 2-core machine one can take
 * tens of seconds. A test's budget: its sequential runs, plus one for its own simulator and home, times
 * the per-run limit (40 s, helpers.ts).
 */
const budget = (sequentialRuns: number) => (sequentialRuns + 1) * 40_000;

interface Row {
  id: string;
  apiKey: string;
  label: string;
  subAccount: string | null;
  location: string;
  management: "api" | "manual";
  permissions: string[];
  state: string;
  stale: { fetchedAt: string; ageMs: number } | null;
}
interface Inventory {
  keys: Row[];
  accounts: {
    account: string;
    keys: number;
    error?: { message: string };
    stale?: { fetchedAt: string; ageMs: number };
    unlisted?: string;
  }[];
}
interface Report {
  results: {
    apiKey: string;
    label: string;
    method: string;
    outcome: string;
    verified: boolean;
    evidence: string[];
    stale?: { fetchedAt: string };
    steps?: { url: string; steps: string[] };
  }[];
  summary: Record<string, number>;
  warnings: string[];
}
interface Plan {
  keys: { id: string; label: string; method: string; accountKey?: true; stale?: unknown }[];
  warnings: string[];
}

describe.concurrent("incident: revoke keeps going when an account's own key dies", () => {
  it(
    "Bitfinex account key revoked on the exchange: `revoke --exchange bitfinex --label other --no-wait` still finds the tracked key and exits 3 with it pending",
    async ({ onTestFinished }) => {
      const { home, sim } = await desk({ onTestFinished });
      const track = await home.run(["key", "track", BFX_ACCOUNT, "--label", "other", "--credentials-stdin"], {
        input: credentialsJson(KEYS.bfxUntracked),
      });
      expect(track.code, show(track)).toBe(0);
      await sim.uiRevoke("bitfinex", KEYS.bfxAccount.apiKey); // the first key the operator kills

      const keys = await home.run(["keys", "--exchange", "bitfinex", "--json"]);
      expect(keys.code, show(keys)).toBe(1); // the account could not be listed, and says so
      const inv = parseJson<Inventory>(keys);
      expect(inv.accounts[0]?.error?.message).toBeTruthy();
      for (const k of [KEYS.bfxMm, KEYS.bfxUntracked]) {
        // Probed with their own secrets just now: live, not stale.
        expect(inv.keys.find((r) => r.apiKey === k.apiKey)).toMatchObject({ state: "active", stale: null });
      }

      const r = await home.run([
        "revoke",
        "--exchange",
        "bitfinex",
        "--label",
        "other",
        "--no-wait",
        "--yes",
        "--json",
      ]);
      expect(r.code, show(r)).toBe(3);
      const report = parseJson<Report>(r);
      expect(report.results).toEqual([
        expect.objectContaining({
          apiKey: KEYS.bfxUntracked.apiKey,
          method: "manual",
          outcome: "awaiting-manual",
        }),
      ]);
      expect(report.results[0]?.steps?.steps.length).toBeGreaterThan(0);
      expect(r.stderr).toMatch(new RegExp(`keyward: ${BFX_ACCOUNT}: could not list keys`));
      expect(statuses(await sim.state()).get(KEYS.bfxUntracked.apiKey)).toBe("active");
    },
    budget(3),
  );

  it(
    "OKX master key dead: sub-account keys shown stale from the last listing with their age; revoking them gives manual steps and exits 3",
    async ({ onTestFinished }) => {
      const { home, sim } = await desk({ onTestFinished });
      const first = await home.run(["keys", "--json"]);
      expect(first.code, show(first)).toBe(0);
      // Revoked (and proven dead) by API while the account still worked: it must not come back as stale.
      const ops = await home.run(["revoke", "--label", "ops-reader", "--yes", "--json"]);
      expect(ops.code, show(ops)).toBe(0);
      await sim.uiRevoke("okx", KEYS.okxMaster.apiKey);

      const [json, table] = await Promise.all([
        home.run(["keys", "--account", OKX_ACCOUNT, "--json"]),
        home.run(["keys", "--account", OKX_ACCOUNT]),
      ]);
      expect(json.code, show(json)).toBe(1);
      const inv = parseJson<Inventory>(json);
      const account = inv.accounts[0];
      expect(account?.error?.message).toBeTruthy();
      expect(account?.stale?.fetchedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(account?.stale?.ageMs).toBeGreaterThanOrEqual(0);
      expect(inv.keys.map((r) => r.apiKey)).not.toContain(KEYS.opsReader.apiKey);
      for (const k of [KEYS.bot1, KEYS.bot2, KEYS.bot3]) {
        expect(inv.keys.find((r) => r.apiKey === k.apiKey)).toMatchObject({
          management: "manual",
          stale: { fetchedAt: account?.stale?.fetchedAt },
        });
      }
      // The account's own key: its own probe says dead.
      expect(inv.keys.find((r) => r.apiKey === KEYS.okxMaster.apiKey)).toMatchObject({
        state: "dead",
        stale: null,
      });
      expect(table.code, show(table)).toBe(1);
      expect(table.stdout).toMatch(/bot-1\s.*\sSTALE \d+ min/);
      expect(table.stderr).toMatch(/marked stale; only a person can revoke this account's keys/);

      const r = await home.run([
        "revoke",
        "--account",
        OKX_ACCOUNT,
        "--label",
        "bot-*",
        "--yes",
        "--no-wait",
        "--json",
      ]);
      expect(r.code, show(r)).toBe(3);
      const report = parseJson<Report>(r);
      expect(report.summary).toMatchObject({ total: 3, awaitingManual: 3, failed: 0 });
      for (const x of report.results) {
        expect(x, x.label).toMatchObject({
          method: "manual",
          outcome: "awaiting-manual",
          stale: expect.any(Object),
        });
        expect(x.steps?.steps.join("\n"), x.label).toMatch(/Sub-accounts → deskBots0\d → API management/);
      }
      // Nothing was revoked by API (it could not be): the person's steps are what is pending.
      const now = statuses(await sim.state());
      expect([KEYS.bot1, KEYS.bot2, KEYS.bot3].map((k) => now.get(k.apiKey))).toEqual([
        "active",
        "active",
        "active",
      ]);
    },
    budget(5),
  );

  it(
    "a tracked Bitfinex key revoked on the exchange shows dead in a later run and is not offered for revoking again",
    async ({ onTestFinished }) => {
      const { home, sim } = await desk({ onTestFinished });
      const track = await home.run(["key", "track", BFX_ACCOUNT, "--label", "other", "--credentials-stdin"], {
        input: credentialsJson(KEYS.bfxUntracked),
      });
      expect(track.code, show(track)).toBe(0);
      await sim.uiRevoke("bitfinex", KEYS.bfxUntracked.apiKey);

      // A new process: only what `key track` stored says the key once authenticated from here, and so
      // that its "apikey: invalid" now means dead (not "maybe an IP it is not whitelisted for").
      const keys = await home.run(["keys", "--exchange", "bitfinex", "--json"]);
      expect(keys.code, show(keys)).toBe(0);
      const row = parseJson<Inventory>(keys).keys.find((r) => r.apiKey === KEYS.bfxUntracked.apiKey);
      expect(row).toMatchObject({ state: "dead" });

      // A dead key is not offered for revoking again (it was, as a key whose state nobody could tell).
      const plan = await home.run(["revoke", "--exchange", "bitfinex", "--dry-run", "--json"]);
      expect(plan.code, show(plan)).toBe(0);
      const planned = parseJson<Plan>(plan).keys.map((k) => k.label);
      expect(planned).not.toContain("other");
      expect(planned).toContain(KEYS.bfxMm.label);
    },
    budget(3),
  );
});

describe.concurrent("incident: Keyward's own access last; tracked keys never invisible", () => {
  it(
    "a plan that includes an account's own key puts it after the account's other keys and warns",
    async ({ onTestFinished }) => {
      const { home } = await desk({ onTestFinished });
      const [json, text] = await Promise.all([
        home.run(["revoke", "--exchange", "bitfinex", "--all", "--dry-run", "--json"]),
        home.run(["revoke", "--exchange", "bitfinex", "--all", "--dry-run"]),
      ]);
      expect(json.code, show(json)).toBe(0);
      const plan = parseJson<Plan>(json);
      expect(plan.keys.map((k) => k.id.split(":").at(-1))).toEqual([
        KEYS.bfxMm.apiKey,
        KEYS.bfxAccount.apiKey,
      ]);
      expect(plan.keys[1]).toMatchObject({ accountKey: true });
      expect(plan.warnings).toEqual([
        expect.stringMatching(new RegExp(`^Keyward loses access to ${BFX_ACCOUNT} after this`)),
      ]);
      expect(text.stdout).toMatch(new RegExp(`WARNING: Keyward loses access to ${BFX_ACCOUNT} after this`));
      expect(text.stdout).toMatch(/Keyward's own key: last/);
    },
    budget(1),
  );

  it(
    "`key track` on an OKX master key: it appears in `keys` and `revoke`, and each account says what its exchange cannot list",
    async ({ onTestFinished }) => {
      const { home } = await desk({ onTestFinished });
      const track = await home.run(
        ["key", "track", OKX_ACCOUNT, "--label", "legacy", "--credentials-stdin"],
        {
          input: credentialsJson(KEYS.okxLegacy),
        },
      );
      expect(track.code, show(track)).toBe(0);
      expect(track.stdout).toMatch(/key can: read, trade, withdraw/);

      const [json, text, plan] = await Promise.all([
        home.run(["keys", "--json"]),
        home.run(["keys"]),
        home.run(["revoke", "--label", "legacy", "--dry-run", "--json"]),
      ]);
      expect(json.code, show(json)).toBe(0);
      const legacy = parseJson<Inventory>(json).keys.find((k) => k.apiKey === KEYS.okxLegacy.apiKey);
      expect(legacy).toMatchObject({
        label: "legacy",
        location: "master",
        subAccount: null,
        management: "manual",
        permissions: ["read", "trade", "withdraw"],
        stale: null,
      });
      // The note is wrapped to 120 columns, its continuation lines indented: read it as one line.
      const notes = text.stdout.replace(/\n {2}(?=\S)/g, " ");
      expect(notes).toMatch(
        new RegExp(
          `^${OKX_ACCOUNT}: keys created on okx\\.com for the master account .*not visible by API: track them with \`keyward key track ${OKX_ACCOUNT}`,
          "m",
        ),
      );
      expect(notes).toMatch(new RegExp(`^${BFX_ACCOUNT}: Bitfinex has no API that lists keys`, "m"));
      expect(plan.code, show(plan)).toBe(0);
      expect(parseJson<Plan>(plan).keys).toEqual([
        expect.objectContaining({ label: "legacy", method: "manual" }),
      ]);
    },
    budget(2),
  );
});
