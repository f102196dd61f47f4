/**
 * `revoke` where the exchange has a kill switch (Deribit's disable_api_key), through the built CLI against
 * its own one-account simulator: the plan marks each key "disabled first" (and `--no-disable-first` does
 * not); a run in a script, where no one can type the two-factor code each removal asks for, switches every
 * key off (no code needed) and reports each DISABLED, not revoked (text, --json, exit 1, the command that
 * finishes it); `keys` then shows them DISABLED (table) and `"state": "disabled"` (--json). The simulator's
 * request log and state are the evidence, not the CLI's own words.
 */
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Home, initHome, parseJson, removeTempDirs, show } from "./helpers.js";

const DAY = 86_400_000;
const key = (id: number, name: string, max_scope: string, ip_whitelist: string[] = ["127.0.0.1"]) => ({
  id,
  client_id: `DRCLI${String(id).padStart(3, "0")}`,
  client_secret: `CANARY-deribit-secret-${name}-7a2e4d`,
  name,
  max_scope,
  enabled: true,
  ip_whitelist,
  timestamp: Date.now() - 10 * DAY,
});
const ADMIN = key(1, "keyward", "account:read_write trade:read wallet:none");
const BOT = key(2, "bot_1", "account:read trade:read_write", []);
const TREASURY = key(3, "treasury", "account:read wallet:read_write");
const OTHERS = [BOT, TREASURY];
const SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const CANARIES = [ADMIN, BOT, TREASURY].map((k) => k.client_secret);

const scenario = () => ({
  deribit: {
    accounts: [
      { id: 731001, username: "dr_cli", type: "main" as const, totpSeed: SEED, keys: [ADMIN, BOT, TREASURY] },
    ],
  },
});

let sim: RunningSimulator;
let home: Home;

/** The simulator's control API, as a person's tools would use it. */
async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sim.control}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as T;
}
interface SimKey {
  apiKey: string;
  status: string;
}
const status = async (clientId: string): Promise<string | undefined> => {
  const state = await control<{ deribit: { accounts: { keys: SimKey[] }[] } }>("GET", "/state");
  return state.deribit.accounts.flatMap((a) => a.keys).find((k) => k.apiKey === clientId)?.status;
};
const lastSeq = async () => (await control<{ seq: number }[]>("GET", "/requests")).at(-1)?.seq ?? 0;
/** Deribit methods the simulator saw since `since` (e.g. "disable_api_key"). */
const methods = async (since: number) =>
  (await control<{ seq: number; exchange: string; path: string }[]>("GET", `/requests?since=${since}`))
    .filter((r) => r.exchange === "deribit")
    .map((r) => r.path.split("/").at(-1) as string);

beforeAll(async () => {
  sim = await startSimulator({ scenario: scenario(), rateScale: 0.05 });
});
afterAll(async () => {
  await sim?.close();
  removeTempDirs();
});
beforeEach(async () => {
  await control("POST", "/scenario", scenario());
  home = await initHome();
  const add = await home.run(
    ["account", "add", "deribit", "dr-cli", "--endpoint", sim.deribit, "--credentials-stdin"],
    { input: JSON.stringify({ apiKey: ADMIN.client_id, secret: ADMIN.client_secret }) },
  );
  expect(add.code, show(add)).toBe(0);
});

interface DryRun {
  keys: { id: string; label: string; disableFirst?: true; accountKey?: true }[];
  disableFirst: { available: number; planned: number };
}
interface Report {
  results: {
    label: string;
    outcome: string;
    verified: boolean;
    disabledFirst?: true;
    error?: { code: string };
  }[];
  summary: { total: number; revoked: number; failed: number; disabled?: number; verified: number };
}

describe("revoke --disable-first (the default where the exchange has a kill switch)", () => {
  it("plans every key but Keyward's own to be disabled first; --no-disable-first plans none", async () => {
    const on = await home.run(["revoke", "--account", "dr-cli", "--dry-run", "--json"]);
    expect(on.code, show(on)).toBe(0);
    const plan = parseJson<DryRun>(on);
    expect(plan.keys.map((k) => k.label).sort()).toEqual(["bot_1", "treasury"]);
    expect(plan.keys.every((k) => k.disableFirst === true)).toBe(true);
    expect(plan.disableFirst).toEqual({ available: 2, planned: 2 });

    const text = await home.run(["revoke", "--account", "dr-cli", "--dry-run"]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toContain("disabled first");
    expect(text.stdout).toMatch(/2 key\(s\) are disabled first/);

    const off = await home.run([
      "revoke",
      "--account",
      "dr-cli",
      "--no-disable-first",
      "--dry-run",
      "--json",
    ]);
    expect(off.code, show(off)).toBe(0);
    const direct = parseJson<DryRun>(off);
    expect(direct.keys.some((k) => k.disableFirst)).toBe(false);
    expect(direct.disableFirst).toEqual({ available: 2, planned: 0 });

    // The default may also be said: --disable-first plans the same as no flag.
    const said = await home.run(["revoke", "--account", "dr-cli", "--disable-first", "--dry-run", "--json"]);
    expect(said.code, show(said)).toBe(0);
    expect(parseJson<DryRun>(said).disableFirst).toEqual({ available: 2, planned: 2 });

    const help = await home.run(["revoke", "--help"]);
    expect(help.stdout).toContain("--no-disable-first");
    expect(help.stdout).toContain("--disable-first ");
    expect(help.stdout).toMatch(/Deribit\), every such key is DISABLED first/);
    for (const r of [on, text, off]) for (const c of CANARIES) expect(r.stdout + r.stderr).not.toContain(c);
  });

  it("with no one to type the removal's code, every key is switched off and reported DISABLED (not revoked, exit 1); keys shows them DISABLED", async () => {
    const since = await lastSeq();
    const run = await home.run(["revoke", "--account", "dr-cli", "--yes", "--json"]);
    expect(run.code, show(run)).toBe(1);
    const report = parseJson<Report>(run);
    expect(report.summary).toMatchObject({ total: 2, revoked: 0, failed: 0, disabled: 2, verified: 0 });
    for (const r of report.results) {
      expect(r).toMatchObject({ outcome: "disabled", verified: false, disabledFirst: true });
      expect(r.error?.code).toBe("SECOND_FACTOR_REQUIRED");
    }
    for (const k of OTHERS) expect(await status(k.client_id)).toBe("disabled");
    expect(await status(ADMIN.client_id)).toBe("active");
    const seen = await methods(since);
    expect(seen.filter((m) => m === "disable_api_key")).toHaveLength(2);
    expect(seen.lastIndexOf("disable_api_key")).toBeLessThan(seen.indexOf("remove_api_key"));

    const keysJson = await home.run(["keys", "--json"]);
    expect(keysJson.code, show(keysJson)).toBe(0);
    const rows = parseJson<{ keys: { label: string; state: string; risks: string[] }[] }>(keysJson).keys;
    for (const label of ["bot_1", "treasury"]) {
      const row = rows.find((r) => r.label === label);
      expect(row?.state).toBe("disabled");
      expect(row?.risks).not.toContain("unverified");
    }
    expect(rows.find((r) => r.label === "treasury")?.risks).toContain("withdraw");
    expect(rows.find((r) => r.label === "keyward")?.state).toBe("active");
    const picked = await home.run(["keys", "--state", "disabled", "--json"]);
    expect(picked.code, show(picked)).toBe(0);
    expect(
      parseJson<{ keys: { label: string }[] }>(picked)
        .keys.map((k) => k.label)
        .sort(),
    ).toEqual(["bot_1", "treasury"]);
    const wrong = await home.run(["keys", "--state", "asleep"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--state: .*\n.*active, disabled, dead or unknown/s);
    const table = await home.run(["keys"]);
    expect(table.stdout).toMatch(/bot_1.*DISABLED/);
    // Live: the NOTES column names a state only when a key is not simply live.
    expect(table.stdout.split("\n").find((l) => l.includes(" keyward "))).toMatch(
      /^deribit \S+\s+keyward\s+(?!.*(DISABLED|DEAD|STALE))/,
    );

    // The text report says what is left and how to finish it; a re-plan needs no switch.
    const again = await home.run(["revoke", "--account", "dr-cli", "--dry-run", "--json"]);
    const replan = parseJson<DryRun>(again);
    expect(replan.keys.map((k) => k.label).sort()).toEqual(["bot_1", "treasury"]);
    expect(replan.disableFirst).toEqual({ available: 0, planned: 0 });
    const text = await home.run(["revoke", "--account", "dr-cli", "--yes"]);
    expect(text.code, show(text)).toBe(1);
    expect(text.stdout).toMatch(/2 key\(s\) are DISABLED but NOT removed/);
    expect(text.stdout).toMatch(/keyward revoke \S+ \S+ --yes/);
    for (const r of [run, keysJson, table, again, text])
      for (const c of CANARIES) expect(r.stdout + r.stderr).not.toContain(c);
  });

  it("--no-disable-first sends no switch: a removal that fails leaves the key active and reported failed", async () => {
    const since = await lastSeq();
    const run = await home.run(["revoke", "--account", "dr-cli", "--no-disable-first", "--yes", "--json"]);
    expect(run.code, show(run)).toBe(1);
    const report = parseJson<Report>(run);
    expect(report.summary).toMatchObject({ total: 2, failed: 2 });
    expect(report.summary.disabled).toBeUndefined();
    expect(await methods(since)).not.toContain("disable_api_key");
    for (const k of OTHERS) expect(await status(k.client_id)).toBe("active");
  });
});
