/**
 * The label of an account's own key where the exchange lists none (Bitfinex's API returns no key
 * label): given at `account add --label`, changed with `account set-label`, shown by `keys` (table and
 * --json, marked `labelGiven`) and `account list`; checked like any input (one line, 1-64 characters).
 * Also the one pair of words for how a key is revoked: "by API" / "by a person" in the tables, the
 * machine values `api` / `manual` in --json.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  credentialsJson,
  desk,
  initHome,
  KEYS,
  OKX_ACCOUNT,
  parseJson,
  removeTempDirs,
  Sim,
  shortKey,
  show,
} from "./helpers.js";

let sim: Sim;
beforeAll(async () => {
  sim = await Sim.start();
});
afterAll(async () => {
  await sim?.close();
  removeTempDirs();
});

interface Row {
  account: string;
  apiKey: string;
  label: string;
  management: "api" | "manual";
  labelGiven?: true;
}

/** The Bitfinex key's name on the simulator's page, which Bitfinex's API does not return. */
const GIVEN = KEYS.bfxAccount.label;

describe("account add --label", () => {
  it("stores the label, and keys shows it for the account's own key (table and --json)", async () => {
    const home = await initHome();
    const add = await home.run(
      [
        "account",
        "add",
        "bitfinex",
        "desk-bfx",
        "--endpoint",
        sim.bitfinex,
        "--credentials-stdin",
        "--label",
        GIVEN,
      ],
      { input: credentialsJson(KEYS.bfxAccount) },
    );
    expect(add.code, show(add)).toBe(0);
    expect(add.stdout).toContain(`key label: ${GIVEN}`);

    const json = await home.run(["keys", "--json"]);
    expect(json.code, show(json)).toBe(0);
    const own = parseJson<{ keys: Row[] }>(json).keys.find((k) => k.apiKey === KEYS.bfxAccount.apiKey);
    expect(own).toMatchObject({ label: GIVEN, labelGiven: true, management: "manual" });

    const table = await home.run(["keys"]);
    const line = table.stdout.split("\n").find((l) => l.includes(shortKey(KEYS.bfxAccount.apiKey)));
    expect(line).toMatch(new RegExp(`^bitfinex desk-bfx\\s+${GIVEN}\\s+`));
    expect(line).toContain("by a person");
    expect(table.stdout).toMatch(/^ACCOUNT\s+LABEL\s+API KEY\s+PERMISSIONS\s+IP\s+NOTES$/m);

    const list = await home.run(["account", "list"]);
    expect(list.stdout).toMatch(new RegExp(`desk-bfx\\s+bitfinex\\s+${GIVEN}\\s`));
  });

  it("refuses a label with a control character and stores nothing", async () => {
    const home = await initHome();
    const add = await home.run(
      [
        "account",
        "add",
        "bitfinex",
        "desk-bfx",
        "--endpoint",
        sim.bitfinex,
        "--credentials-stdin",
        "--label",
        "a\u001b[2Jb",
      ],
      { input: credentialsJson(KEYS.bfxAccount) },
    );
    expect(add.code, show(add)).not.toBe(0);
    expect(add.stderr).toMatch(/label: control or format characters are not allowed/);
    expect(add.stderr).not.toContain("\u001b");
    const list = await home.run(["account", "list", "--json"]);
    expect(parseJson<unknown[]>(list)).toEqual([]);
  });

  it("refuses a label for a key the exchange lists with its own (OKX), and stores nothing", async () => {
    const home = await initHome();
    const add = await home.run(
      ["account", "add", "okx", OKX_ACCOUNT, "--endpoint", sim.okx, "--credentials-stdin", "--label", "foo"],
      { input: credentialsJson(KEYS.okxMaster) },
    );
    expect(add.code, show(add)).toBe(2);
    expect(add.stderr).toContain(`with its own label "${KEYS.okxMaster.label}"`);
    expect(parseJson<unknown[]>(await home.run(["account", "list", "--json"]))).toEqual([]);
  });
});

describe("account set-label", () => {
  it("sets, shows and clears the label of the account's own key", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const before = parseJson<{ keys: Row[] }>(await home.run(["keys", "--json", "--account", BFX_ACCOUNT]));
    expect(before.keys.find((k) => k.apiKey === KEYS.bfxAccount.apiKey)?.label).toBe("");

    const set = await home.run(["account", "set-label", BFX_ACCOUNT, GIVEN]);
    expect(set.code, show(set)).toBe(0);
    const after = parseJson<{ keys: Row[] }>(await home.run(["keys", "--json", "--account", BFX_ACCOUNT]));
    const own = after.keys.find((k) => k.apiKey === KEYS.bfxAccount.apiKey);
    expect(own).toMatchObject({ label: GIVEN, labelGiven: true });
    // Only the account's own key: a tracked key keeps its own label.
    expect(after.keys.find((k) => k.apiKey === KEYS.bfxMm.apiKey)?.label).toBe(KEYS.bfxMm.label);
    expect((await home.run(["audit", "--json"])).stdout).toContain("account.label-set");

    const tooLong = await home.run(["account", "set-label", BFX_ACCOUNT, "x".repeat(65)]);
    expect(tooLong.code, show(tooLong)).not.toBe(0);
    expect(tooLong.stderr).toMatch(/label: use at most 64 characters/);

    const clear = await home.run(["account", "set-label", BFX_ACCOUNT, "--clear"]);
    expect(clear.code, show(clear)).toBe(0);
    const cleared = parseJson<{ keys: Row[] }>(await home.run(["keys", "--json", "--account", BFX_ACCOUNT]));
    expect(cleared.keys.find((k) => k.apiKey === KEYS.bfxAccount.apiKey)).toMatchObject({ label: "" });
  });

  it("refuses a label for a key the exchange lists with its own (OKX), before and after a listing", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    // No listing cached yet: the probe of the key says it has a label.
    const first = await home.run(["account", "set-label", OKX_ACCOUNT, "foo"]);
    expect(first.code, show(first)).toBe(2);
    expect(first.stderr).toContain(`with its own label "${KEYS.okxMaster.label}"`);
    // After `keys` cached the listing: decided from its record.
    expect((await home.run(["keys", "--json"])).code).toBe(0);
    const second = await home.run(["account", "set-label", OKX_ACCOUNT, "foo"]);
    expect(second.code, show(second)).toBe(2);
    const keys = parseJson<{ keys: Row[] }>(await home.run(["keys", "--json", "--account", OKX_ACCOUNT]));
    const own = keys.keys.find((k) => k.apiKey === KEYS.okxMaster.apiKey);
    expect(own?.label).toBe(KEYS.okxMaster.label);
    expect(own?.labelGiven).toBeUndefined();
    expect((await home.run(["audit", "--json"])).stdout).not.toContain("account.label-set");
    // --clear stays possible (nothing to clear is not an error).
    expect((await home.run(["account", "set-label", OKX_ACCOUNT, "--clear"])).code).toBe(0);
  });

  it("revoke plans say how each key goes: by API or by a person", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["revoke", "--all", "--dry-run"]);
    expect(r.code, show(r)).toBe(0);
    const rows = r.stdout.split("\n");
    expect(rows.find((l) => l.includes(shortKey(KEYS.bot1.apiKey)))).toMatch(/^\d+\s+by API\s+okx/);
    expect(rows.find((l) => l.includes(shortKey(KEYS.bfxMm.apiKey)))).toMatch(
      /^\d+\s+by a person\s+bitfinex/,
    );
    expect(r.stdout).not.toMatch(/PERSON/);
  });
});
