/**
 * `account add`: good credentials are probed, reported (permissions, warnings; --json parses) and stored;
 * bad ones exit 2 and store nothing (no account in config, no vault entry, no audit entry). None of it
 * prints a secret: helpers.ts fails any run whose output holds a canary, the wrong secrets typed here too.
 */
import { readFileSync } from "node:fs";
import { Secret, Vault } from "@keyward/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  auditEntries,
  credentialsJson,
  initHome,
  KEYS,
  PASSPHRASE,
  parseJson,
  removeTempDirs,
  runCli,
  Sim,
  show,
  snapshotHome,
} from "./helpers.js";

let sim: Sim;
beforeAll(async () => {
  sim = await Sim.start();
});
afterAll(async () => {
  await sim?.close();
  removeTempDirs();
});

const vaultRefs = async (path: string) => (await Vault.open(path, new Secret(PASSPHRASE))).refs().sort();

describe.concurrent("account add", () => {
  it("with good credentials: probes, prints what the key can do, stores it", async () => {
    const home = await initHome();

    const okx = await home.run(
      ["account", "add", "okx", "desk-okx", "--endpoint", sim.okx, "--credentials-stdin", "--json"],
      { input: credentialsJson(KEYS.okxMaster) },
    );
    expect(okx.code, show(okx)).toBe(0);
    const added = parseJson<{ account: string; exchange: string; health: Record<string, unknown> }>(okx);
    expect(added).toMatchObject({
      account: "desk-okx",
      exchange: "okx",
      health: {
        status: "alive",
        master: true,
        permissions: ["read", "trade"],
        ip: ["127.0.0.1"],
        warnings: [],
      },
    });

    // A risky key: the human output names its permissions and warns (on stderr).
    const legacy = await home.run(
      ["account", "add", "okx", "desk-legacy", "--endpoint", sim.okx, "--credentials-stdin"],
      { input: credentialsJson(KEYS.okxLegacy) },
    );
    expect(legacy.code, show(legacy)).toBe(0);
    expect(legacy.stdout).toContain('Added okx account "desk-legacy"');
    expect(legacy.stdout).toMatch(/key can: read, trade, withdraw/);
    expect(legacy.stdout).toMatch(/IP binding: none/);
    expect(legacy.stderr).toMatch(/warning: this key can WITHDRAW funds/);
    expect(legacy.stderr).toMatch(/warning: this key is not bound to any IP address/);

    const bfx = await home.run(
      ["account", "add", "bitfinex", "desk-bfx", "--endpoint", sim.bitfinex, "--credentials-stdin"],
      { input: credentialsJson(KEYS.bfxAccount) },
    );
    expect(bfx.code, show(bfx)).toBe(0);
    expect(bfx.stdout).toContain('Added bitfinex account "desk-bfx"');
    expect(bfx.stdout).toMatch(/key can: read/);

    // KEYWARD_HOME works as --home does.
    const list = await runCli(["account", "list", "--json"], { env: { KEYWARD_HOME: home.dir } });
    expect(list.code, show(list)).toBe(0);
    expect(parseJson<{ name: string; exchange: string }[]>(list)).toEqual([
      expect.objectContaining({ name: "desk-okx", exchange: "okx", endpoint: sim.okx }),
      expect.objectContaining({ name: "desk-legacy", exchange: "okx" }),
      expect.objectContaining({ name: "desk-bfx", exchange: "bitfinex", endpoint: sim.bitfinex }),
    ]);
    const audit = auditEntries<{ action: string; subject: string }>(await home.run(["audit", "--json"]));
    expect(audit.map((e) => `${e.action} ${e.subject}`)).toEqual([
      "audit.keyed audit-log",
      "account.added desk-okx",
      "account.added desk-legacy",
      "account.added desk-bfx",
    ]);
  });

  it("with bad credentials: exit 2 and nothing stored", async () => {
    const home = await initHome();
    const before = snapshotHome(home);
    const attempts = [
      {
        what: "OKX, wrong secret",
        args: ["account", "add", "okx", "desk-okx", "--endpoint", sim.okx, "--credentials-stdin"],
        input: JSON.stringify({
          apiKey: KEYS.okxMaster.apiKey,
          secret: "CANARY-wrong-okx-secret-0a9d",
          passphrase: KEYS.okxMaster.passphrase,
        }),
      },
      {
        what: "OKX, wrong passphrase",
        args: ["account", "add", "okx", "desk-okx", "--endpoint", sim.okx, "--credentials-stdin", "--json"],
        input: JSON.stringify({
          apiKey: KEYS.okxMaster.apiKey,
          secret: KEYS.okxMaster.secretKey,
          passphrase: "CANARY-wrong-okx-pass-77c1",
        }),
      },
      {
        what: "Bitfinex, wrong secret",
        args: ["account", "add", "bitfinex", "desk-bfx", "--endpoint", sim.bitfinex, "--credentials-stdin"],
        input: JSON.stringify({ apiKey: KEYS.bfxAccount.apiKey, secret: "CANARY-wrong-bfx-secret-5e2b" }),
      },
    ];
    // One at a time: each opens the vault, and a failed add must leave it exactly as it was.
    for (const attempt of attempts) {
      const r = await home.run(attempt.args, { input: attempt.input });
      expect(r.code, `${attempt.what}${show(r)}`).toBe(2);
      expect(r.stderr, attempt.what).toMatch(/keyward: the credentials did not work/);
      expect(r.stderr, attempt.what).toMatch(/Nothing was stored/);
    }

    const list = await home.run(["account", "list", "--json"]);
    expect(list.code, show(list)).toBe(0);
    expect(parseJson(list)).toEqual([]);
    expect(snapshotHome(home)).toEqual(before); // config, vault bytes, audit log, tracked keys
    expect(await vaultRefs(home.vault)).toEqual([]);
    expect(readFileSync(home.config, "utf8")).not.toContain("desk-");
  });
});
