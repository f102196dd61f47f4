/**
 * `revoke` and an account's own key that the exchange revokes by API (a Bybit master key deletes itself):
 * a broad selection leaves it out and says how to include it (text and --json), naming its id plans it
 * last. Its own one-account simulator (a Bybit master, one sub-account), so `--all` plans exactly those keys;
 * nothing is revoked.
 */
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initHome, parseJson, removeTempDirs, show } from "./helpers.js";

const MANAGE = { Wallet: ["AccountTransfer", "SubMemberTransferList"], Spot: ["SpotTrade"] };
const key = (apiKey: string, note: string, permissions: Record<string, string[]>) => ({
  apiKey,
  secret: `CANARY-bybit-secret-${note}-4f1a9c`,
  note,
  readOnly: 0 as const,
  ips: ["127.0.0.1", "::1"],
  permissions,
  createdAt: new Date(Date.now() - 10 * 86_400_000).toISOString(),
});
const ADMIN = key("BYCLIADMIN01", "admin", MANAGE);
const BOT = key("BYCLIBOT0002", "bot-1", { Spot: ["SpotTrade"] });

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({
    scenario: {
      bybit: {
        masters: [
          {
            uid: "492000001",
            username: "by-desk",
            keys: [ADMIN],
            subMembers: [{ uid: "492000101", username: "bybot", keys: [BOT] }],
          },
        ],
      },
    },
    rateScale: 0.05,
  });
});
afterAll(async () => {
  await sim?.close();
  removeTempDirs();
});

interface DryRun {
  keys: { id: string; label: string; accountKey?: true }[];
  warnings: string[];
  heldBack: { id: string; exchange: string; account: string; reason: string }[];
}

describe("revoke: the account's own key revoked by API", () => {
  it("is held back from --account and --all (text and --json), and planned last when named by its id", async () => {
    const home = await initHome();
    const add = await home.run(
      ["account", "add", "bybit", "by-desk", "--endpoint", sim.bybit, "--credentials-stdin"],
      { input: JSON.stringify({ apiKey: ADMIN.apiKey, secret: ADMIN.secret }) },
    );
    expect(add.code, show(add)).toBe(0);

    const broad = await home.run(["revoke", "--account", "by-desk", "--dry-run", "--json"]);
    expect(broad.code, show(broad)).toBe(0);
    const plan = parseJson<DryRun>(broad);
    expect(plan.keys.map((k) => k.label)).toEqual(["bot-1"]);
    expect(plan.warnings).toEqual([]);
    expect(plan.heldBack).toHaveLength(1);
    const [held] = plan.heldBack;
    expect(held).toMatchObject({ exchange: "bybit", account: "by-desk" });
    expect(held?.id).toContain(ADMIN.apiKey);
    expect(held?.reason).toContain(held?.id);

    const text = await home.run(["revoke", "--all", "--dry-run"]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toMatch(/Not included: .*the key Keyward uses for by-desk/);
    expect(text.stdout).toContain(`keyward revoke ${held?.id}`);

    const named = await home.run(["revoke", held?.id as string, "--dry-run", "--json"]);
    expect(named.code, show(named)).toBe(0);
    const own = parseJson<DryRun>(named);
    expect(own.heldBack).toEqual([]);
    expect(own.keys).toEqual([expect.objectContaining({ id: held?.id, accountKey: true })]);
    expect(own.warnings.join("\n")).toMatch(/Keyward loses access to by-desk/);
    for (const r of [add, broad, text, named]) expect(r.stdout + r.stderr).not.toContain(ADMIN.secret);
  });
});
