/**
 * The account's second factor outside the adapter (issue 13): the TOTP seed rule (only where the
 * exchange's profile lists the field; base32 of a sane length), the seed's place in the vault, and
 * its never leaving it. Over real HTTP against the in-process simulator, through core's own operations.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchangeProfile } from "../src/adapters/registry.js";
import { Secret } from "../src/domain/secret.js";
import { normaliseTotpSeed, totpSeedProblem } from "../src/domain/totp-seed.js";
import { isKeywardError } from "../src/errors.js";
import { addAccount, setAccountSeed, trackKey } from "../src/home/accounts.js";
import { checkPassphraseRule } from "../src/use-cases/index.js";
import { creds as bfxCreds, bfxKey } from "./bitfinex-fixtures.js";
import { creds as okxCreds, seedKey } from "./okx-fixtures.js";
import { auditEntries, BFX, type Desk, OKX, openDesk } from "./use-cases-fixtures.js";

const SEED = "CANARYSEEDJBSWY3DPEHPK3PXPQ";

let desk: Desk;
beforeAll(async () => {
  desk = await openDesk();
});
afterAll(async () => {
  await desk?.close();
});

describe("the TOTP seed rule", () => {
  it("accepts base32 as apps show it (grouped, lower case, padded) and stores it normalised", () => {
    expect(normaliseTotpSeed("jbsw y3dp-ehpk 3pxp====")).toBe("JBSWY3DPEHPK3PXP");
  });

  it("refuses what is not a seed, naming the field and never quoting the value", () => {
    const takesSeed = {
      name: "Example",
      credentials: [{ name: "totpSeed" as const, prompt: "seed", secret: true, optional: true }],
    };
    for (const bad of [
      "123456",
      "JBSWY3DPEHPK3PX1",
      "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP",
      "A".repeat(129),
      "JBSWY3DPEHPK3PXPQ",
    ]) {
      const problem = totpSeedProblem(takesSeed, bad);
      expect(problem?.message, bad).toMatch(/^totpSeed: /);
      expect(`${problem?.message} ${problem?.hint}`).not.toContain(bad);
    }
    expect(totpSeedProblem(takesSeed, "JBSWY3DPEHPK3PXP")).toBeUndefined();
  });

  it("refuses a seed for an exchange whose profile lists no totpSeed field (OKX): nothing is stored or sent", async () => {
    const before = await desk.control.lastSeq();
    const key = seedKey("sfokx", "read_only", "127.0.0.1");
    const error = await addAccount(
      desk.home,
      { name: "sf-okx", exchange: "okx", endpoint: desk.sim.okx },
      { ...okxCreds(key), totpSeed: new Secret(SEED) },
    ).catch((e: unknown) => e);
    expect(isKeywardError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toMatch(/^totpSeed: OKX asks for no second-factor code/);
    expect(JSON.stringify(error)).not.toContain(SEED);
    expect(desk.home.config.accounts.map((a) => a.name)).not.toContain("sf-okx");
    expect((await desk.home.vault()).has("account:sf-okx")).toBe(false);
    expect(await desk.control.requests(before)).toEqual([]);
    expect(exchangeProfile("okx").credentials.some((f) => f.name === "totpSeed")).toBe(false);
  });

  it("refuses to set a seed on an existing account of such an exchange; the vault entry is unchanged", async () => {
    const error = await setAccountSeed(desk.home, OKX, new Secret(SEED)).catch((e: unknown) => e);
    expect(isKeywardError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toMatch(/^totpSeed: /);
    expect((await desk.home.vault()).get(`account:${OKX}`)?.totpSeed).toBeUndefined();
    expect((await auditEntries(desk.home)).map((e) => e.action)).not.toContain("account.seed-set");
  });

  it("a seed is the account's: refused for a tracked key and for a rotation's new key", async () => {
    const mm = bfxKey("sf-tracked", [["orders", 1, 1]]);
    const error = await trackKey(desk.home, BFX, "x", { ...bfxCreds(mm), totpSeed: new Secret(SEED) }).catch(
      (e: unknown) => e,
    );
    expect(isKeywardError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toMatch(/^totpSeed: belongs to the account/);
    expect(() =>
      checkPassphraseRule({ exchange: "bitfinex", needsPassphrase: false }, { totpSeed: SEED }),
    ).toThrow(/^totpSeed: /);
  });
});
