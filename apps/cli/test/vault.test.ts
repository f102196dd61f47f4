/**
 * The vault's cost. The tests' homes use a cheap scrypt work factor (KEYWARD_TEST_VAULT_WORK_FACTOR, see
 * helpers.ts); here `keyward init` without it writes and reopens a vault at the production factor. And
 * commands that need no secret (`audit`, `account list`, `rotate status`) never open the vault: they
 * run without a passphrase and with an unreadable vault.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { VAULT_SCRYPT_WORK_FACTOR } from "@keyward/core";
import { afterAll, describe, expect, it } from "vitest";
import {
  auditEntries,
  desk,
  Home,
  OKX_ACCOUNT,
  parseJson,
  removeTempDirs,
  show,
  TEST_VAULT_WORK_FACTOR,
  tempDir,
} from "./helpers.js";

afterAll(() => removeTempDirs());

const scryptFactor = (home: Home) => readFileSync(home.vault, "latin1").split("\n")[1]?.split(" ")[3];

describe("the vault's work factor", () => {
  it("keyward init writes the production factor, and opens it again", async () => {
    const home = new Home(tempDir());
    const production = { env: { KEYWARD_TEST_VAULT_WORK_FACTOR: undefined } };
    const created = await home.run(["init"], production);
    expect(created.code, show(created)).toBe(0);
    expect(scryptFactor(home)).toBe(String(VAULT_SCRYPT_WORK_FACTOR));
    expect(created.stderr).not.toContain("KEYWARD_TEST_VAULT_WORK_FACTOR");
    // Run again, init opens the existing vault with the passphrase.
    const again = await home.run(["init"], production);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain("the vault passphrase is correct");
  });

  it("the tests' override applies to new vaults only, and init says so", async () => {
    const home = new Home(tempDir());
    const created = await home.run(["init"]);
    expect(created.code, show(created)).toBe(0);
    expect(scryptFactor(home)).toBe(String(TEST_VAULT_WORK_FACTOR));
    expect(created.stderr).toContain("KEYWARD_TEST_VAULT_WORK_FACTOR, for tests only");
  });
});

describe("commands that need no secret do not open the vault", () => {
  it("audit, account list and rotate status run without a passphrase and with a broken vault", async (context) => {
    const { home } = await desk(context);
    writeFileSync(home.vault, "not an age file");
    const noSecrets = { env: { KEYWARD_PASSPHRASE: undefined } };

    const audit = await home.run(["audit", "--json"], noSecrets);
    expect(audit.code, show(audit)).toBe(0);
    expect(auditEntries<{ action: string }>(audit).map((e) => e.action)).toContain("account.added");
    const auditText = await home.run(["audit"], noSecrets);
    expect(auditText.code, show(auditText)).toBe(0);

    const accounts = await home.run(["account", "list", "--json"], noSecrets);
    expect(accounts.code, show(accounts)).toBe(0);
    expect(parseJson<{ name: string }[]>(accounts).map((a) => a.name)).toContain(OKX_ACCOUNT);

    const status = await home.run(["rotate", "status", "--json"], noSecrets);
    expect(status.code, show(status)).toBe(0);
    expect(parseJson<{ runs: unknown[] }>(status).runs).toEqual([]);

    // The control: a command that needs secrets finds the vault unusable.
    const keys = await home.run(["keys"]);
    expect(keys.code, show(keys)).toBe(2);
    expect(keys.stderr).toContain("not an age-encrypted file");
  });

  it("a command that needs the vault, with no passphrase and no terminal, names KEYWARD_PASSPHRASE", async (context) => {
    const { home } = await desk(context);
    const keys = await home.run(["keys"], { env: { KEYWARD_PASSPHRASE: undefined } });
    expect(keys.code, show(keys)).toBe(2);
    expect(keys.stderr).toMatch(/Vault passphrase: no terminal to ask on/);
    expect(keys.stderr).toContain("KEYWARD_PASSPHRASE");
    expect(keys.stderr).not.toContain("--credentials-stdin");
  });
});
