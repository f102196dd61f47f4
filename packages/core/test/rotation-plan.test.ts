/**
 * Planning a rotation: the method per key, the new key's spec and label, refusals with reasons, target
 * clashes, and the plan file's round trip (zod-validated, no secrets).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  baseLabel,
  buildRotationPlan,
  type KeyRecord,
  KeywardError,
  newLabel,
  type PlanInput,
  readPlanFile,
  writePlanFile,
} from "../src/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-plan-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function key(over: Partial<KeyRecord> & Pick<KeyRecord, "apiKey" | "label">): KeyRecord {
  const exchange = over.exchange ?? "okx";
  const subAccount = over.subAccount === undefined ? "bots01" : over.subAccount;
  const location =
    over.location ?? (exchange === "bitfinex" ? "tracked" : subAccount ? "sub-account" : "master");
  const api = location === "sub-account";
  return {
    id: `${exchange}:${over.account ?? "desk"}:${subAccount ?? "-"}:${over.apiKey}`,
    exchange,
    account: over.account ?? "desk",
    subAccount,
    permissions: ["read", "trade"],
    rawPermissions: exchange === "okx" ? "read_only,trade" : [["orders", 1, 1]],
    ip: exchange === "okx" ? ["127.0.0.1"] : [],
    createdAt: null,
    expiresAt: null,
    location,
    actions: { revoke: api ? "api" : "manual", create: api ? "api" : "manual" },
    probeable: true,
    state: "active",
    meta: {},
    ...over,
  };
}

const input = (keys: KeyRecord[], over: Partial<PlanInput> = {}): PlanInput => ({
  keys,
  deliver: ["dotenv:/srv/bots.env#{label}"],
  cwd: dir,
  home: join(dir, "home"),
  isAccountKey: (k) => k.location === "master",
  holdsSecret: (k) => k.location !== "tracked" || k.label !== "untracked-secret",
  id: "rot-abc123",
  ...over,
});

describe("buildRotationPlan", () => {
  it("plans OKX sub-account keys by API and master and Bitfinex keys as assisted", async () => {
    const plan = await buildRotationPlan(
      input([
        key({ apiKey: "sub-1", label: "bot-1" }),
        key({ apiKey: "master-1", label: "desk-master", subAccount: null, location: "master" }),
        key({ apiKey: "bfx-1", label: "bfx-mm", exchange: "bitfinex", subAccount: null, account: "bfx" }),
      ]),
    );
    expect(plan.refused).toEqual([]);
    const byKey = Object.fromEntries(plan.slots.map((s) => [s.old.apiKey, s]));
    expect(byKey["sub-1"]?.method).toBe("api");
    expect(byKey["master-1"]?.method).toBe("assisted");
    expect(byKey["master-1"]?.old.accountKey).toBe(true);
    expect(byKey["bfx-1"]?.method).toBe("assisted");
    expect(byKey["bfx-1"]?.new.ip).toBeNull(); // Bitfinex does not report whitelists
    expect(byKey["bfx-1"]?.new.rawPermissions).toEqual([["orders", 1, 1]]);
    expect(byKey["sub-1"]?.new).toEqual({
      label: expect.stringMatching(/^bot-1-rot-abc123-\d+$/),
      subAccount: "bots01",
      permissions: ["read", "trade"],
      rawPermissions: "read_only,trade",
      ip: ["127.0.0.1"],
    });
    expect(byKey["sub-1"]?.deliver).toEqual([{ kind: "dotenv", path: "/srv/bots.env", prefix: "BOT_1" }]);
    expect(plan.estimatedApiMs).toBe(1000);
  });

  it("refuses keys it cannot rotate, with the reason", async () => {
    const plan = await buildRotationPlan(
      input(
        [
          key({ apiKey: "sub-w", label: "withdrawer", permissions: ["read", "trade", "withdraw"] }),
          key({ apiKey: "bfx-2", label: "untracked-secret", exchange: "bitfinex", subAccount: null }),
          key({ apiKey: "sub-dead", label: "gone", state: "dead" }),
          key({ apiKey: "sub-busy", label: "busy" }),
          key({ apiKey: "sub-ok", label: "fine" }),
        ],
        { busy: new Map([["okx:desk:bots01:sub-busy", "rot-zzzzzz"]]) },
      ),
    );
    expect(plan.slots.map((s) => s.old.apiKey)).toEqual(["sub-ok"]);
    const reasons = Object.fromEntries(plan.refused.map((r) => [r.apiKey, r.reason]));
    expect(reasons["sub-w"]).toMatch(
      /cannot grant withdraw to a new OKX key by API \(it creates only read, trade keys there\): replace it by hand/,
    );
    expect(reasons["bfx-2"]).toMatch(/holds no secret/);
    expect(reasons["sub-dead"]).toMatch(/already dead/);
    expect(reasons["sub-busy"]).toMatch(/rot-zzzzzz/);
  });

  it("refuses a key known only from an old listing (its account's own key failed)", async () => {
    const stale = { fetchedAt: "2026-12-01T10:00:00.000Z" };
    const plan = await buildRotationPlan(
      input([
        key({ apiKey: "sub-stale", label: "stale", stale, actions: { revoke: "manual", create: "manual" } }),
        key({ apiKey: "sub-ok", label: "fine" }),
      ]),
    );
    expect(plan.slots.map((s) => s.old.apiKey)).toEqual(["sub-ok"]);
    expect(plan.refused).toEqual([
      expect.objectContaining({
        apiKey: "sub-stale",
        reason: expect.stringMatching(/could not be listed just now .*2026-12-01T10:00:00\.000Z/),
      }),
    ]);
  });

  it("refuses two keys delivered to the same place, and age targets without a recipient", async () => {
    const keys = [key({ apiKey: "a", label: "bot-a" }), key({ apiKey: "b", label: "bot-b" })];
    await expect(buildRotationPlan(input(keys, { deliver: ["dotenv:/srv/.env"] }))).rejects.toThrow(
      KeywardError,
    );
    await expect(
      buildRotationPlan(input(keys, { deliver: ["json:/srv/c.json#/keys/{label}"] })),
    ).resolves.toBeDefined();
    await expect(buildRotationPlan(input(keys, { deliver: ["age:/drop"] }))).rejects.toThrow(/--recipient/);
    await expect(buildRotationPlan(input(keys, { deliver: [] }))).rejects.toThrow(/--deliver is required/);
  });

  it("refuses a target that leads into Keyward's home, also through a symlink or a relative path", async () => {
    const home = join(dir, "home");
    mkdirSync(home);
    writeFileSync(join(home, "vault.age"), "vault bytes");
    writeFileSync(join(home, "config.json"), "{}");
    symlinkSync(join(home, "vault.age"), join(dir, "bot.env"));
    const keys = [key({ apiKey: "sub-1", label: "bot-1" })];
    for (const [deliver, cwd] of [
      [`dotenv:${home}/vault.age`, dir],
      [`json:${home}/config.json#/x`, dir],
      [`dotenv:${home}/{label}.env`, dir],
      ["dotenv:bot.env", dir],
      ["dotenv:vault.age", home], // relative, planned from inside the home
      [`age:${dir}/home/drop`, dir],
    ] as const) {
      const error = await buildRotationPlan(input(keys, { deliver: [deliver], cwd, home })).catch((e) => e);
      expect(error, deliver).toBeInstanceOf(KeywardError);
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toMatch(/Keyward's home/);
    }
    expect(readFileSync(join(home, "vault.age"), "utf8")).toBe("vault bytes");
    // The web plans with no current directory: a relative path is refused, not resolved against the home.
    await expect(
      buildRotationPlan(input(keys, { deliver: ["dotenv:vault.age"], cwd: null, home })),
    ).rejects.toThrow(/relative path/);
    mkdirSync(join(dir, "bots"));
    await expect(
      buildRotationPlan(input(keys, { deliver: [`dotenv:${dir}/bots/{label}.env`], cwd: null, home })),
    ).resolves.toBeDefined();
  });

  it("refuses a dotenv or JSON target whose folder does not exist, before any key is created", async () => {
    const keys = [key({ apiKey: "sub-1", label: "bot-1" })];
    for (const deliver of [`dotenv:${dir}/nodir/{label}/.env`, `json:${dir}/nodir/cfg.json#/x`]) {
      const error = await buildRotationPlan(input(keys, { deliver: [deliver] })).catch((e) => e);
      expect(error, deliver).toBeInstanceOf(KeywardError);
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toMatch(/the folder .*nodir.* does not exist/);
    }
    mkdirSync(join(dir, "nodir", "bot-1"), { recursive: true });
    await expect(
      buildRotationPlan(input(keys, { deliver: [`dotenv:${dir}/nodir/{label}/.env`] })),
    ).resolves.toBeDefined();
  });

  it("refuses a key whose label would move its file out of the target's folder", async () => {
    const keys = [key({ apiKey: "sub-1", label: "bot-1" }), key({ apiKey: "sub-2", label: ".." })];
    await expect(
      buildRotationPlan(input(keys, { deliver: ["dotenv:/srv/bots/{label}/.env"] })),
    ).rejects.toThrow(/\{label\} expands to "\.\."/);
  });

  it("labels carry the rotation id, stay within 32 characters and lose an earlier rotation's suffix", () => {
    expect(newLabel("bot-1", "rot-abc123", 3)).toBe("bot-1-rot-abc123-3");
    expect(baseLabel("bot-1-rot-abc123-3")).toBe("bot-1");
    expect(newLabel("bot-1-rot-abc123-3", "rot-def456", 12)).toBe("bot-1-rot-def456-12");
    const long = newLabel("a-very-long-label-for-a-market-making-bot", "rot-abc123", 1);
    expect(long.length).toBeLessThanOrEqual(32);
    expect(long.endsWith("-rot-abc123-1")).toBe(true);
  });

  it("round-trips through the plan file, which is validated when read", async () => {
    const plan = await buildRotationPlan(input([key({ apiKey: "sub-1", label: "bot-1" })]));
    const file = join(dir, "plan.json");
    await writePlanFile(file, plan);
    expect(await readPlanFile(file)).toEqual(plan);
    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.slots[0].method = "teleport";
    const { writeFileSync } = await import("node:fs");
    writeFileSync(file, JSON.stringify(doc));
    await expect(readPlanFile(file)).rejects.toThrow(/slots\[0\]\.method/);
  });
});

describe("a plan file no other user could have changed (review 4)", () => {
  const isRoot = process.getuid?.() === 0;
  const NOBODY = 65534; // the other local user
  const refusal = async (file: string) => {
    try {
      await readPlanFile(file);
    } catch (error) {
      expect(error).toBeInstanceOf(KeywardError);
      expect((error as KeywardError).code).toBe("HOME_INSECURE");
      expect((error as KeywardError).message).toContain(`the plan ${file}`);
      return (error as KeywardError).message;
    }
    throw new Error(`${file} was read`);
  };
  const written = async (file: string) => {
    await writePlanFile(file, await buildRotationPlan(input([key({ apiKey: "sub-1", label: "bot-1" })])));
    return file;
  };

  it("is written 0600, and refused once group or other users may write it", async () => {
    const file = await written(join(dir, "plan.json"));
    const { statSync, chmodSync } = await import("node:fs");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await readPlanFile(file);
    chmodSync(file, 0o664);
    expect(await refusal(file)).toMatch(/writable by its group \(mode 0664\)/);
    chmodSync(file, 0o646);
    expect(await refusal(file)).toMatch(/writable by every user \(mode 0646\)/);
    chmodSync(file, 0o644); // others may read it (it holds no secret), not write it
    await readPlanFile(file);
  });

  it.runIf(isRoot)(
    "refuses a plan another user owns, or that sits where another user could swap it",
    async () => {
      const { chownSync, chmodSync } = await import("node:fs");
      // The review's repro: a plan in a folder another user owns, its deliver rewritten to exec:.
      const shared = join(dir, "shared");
      mkdirSync(shared, { mode: 0o755 });
      chownSync(shared, NOBODY, NOBODY);
      const theirs = await written(join(shared, "plan.json"));
      expect(await refusal(theirs)).toMatch(/shared belongs to uid 65534/);
      chownSync(theirs, NOBODY, NOBODY);
      expect(await refusal(theirs)).toMatch(/owned by uid 65534, not by the user running Keyward \(uid 0\)/);
      // A folder every user can write to, without the sticky bit: anyone could rename the plan away.
      const open = join(dir, "open");
      mkdirSync(open);
      chmodSync(open, 0o777);
      expect(await refusal(await written(join(open, "plan.json")))).toMatch(
        /open is a folder .*every user can write to/,
      );
      // A symlink to a private plan, in a folder another user owns: they could point it elsewhere.
      const mine = await written(join(dir, "mine.json"));
      symlinkSync(mine, join(shared, "link.json"));
      expect(await refusal(join(shared, "link.json"))).toMatch(/shared belongs to uid 65534/);
      // A sticky folder such as /tmp may hold your own plan: nobody else can replace it there.
      const sticky = join(dir, "sticky");
      mkdirSync(sticky);
      chmodSync(sticky, 0o1777);
      await readPlanFile(await written(join(sticky, "plan.json")));
    },
  );
});
