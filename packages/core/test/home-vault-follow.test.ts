/**
 * `KeywardHome.vault()` follows the file (the web server is one long-lived home; the CLI saves from another
 * process): the same instance while nothing changed or after this home's own save (no second decryption),
 * a fresh read after another home saved, read with the passphrase the open vault holds (the provider is not
 * asked again), and an instance from before that read refuses to save (VAULT_CONFLICT) instead of writing
 * over the other process's change. The web's behaviour over HTTP: apps/web/test/vault-followed.test.ts.
 */
import { rmSync } from "node:fs";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { Secret } from "../src/domain/secret.js";
import { accountRef, KeywardHome } from "../src/home/home.js";
import { makeTestHome, type TestHome } from "./test-home.js";

let t: TestHome | undefined;
afterEach(async () => {
  await t?.remove();
  t = undefined;
});

const creds = (apiKey: string) => ({ apiKey, secret: new Secret(`CANARY-${apiKey}-secret`) });

describe("KeywardHome.vault() follows the vault file", () => {
  it("keeps its instance until another home saves, then reads the file again without asking for the passphrase", async () => {
    t = await makeTestHome("vault-follow");
    let asked = 0;
    const passphrase = t.passphrase;
    const home = KeywardHome.open(t.home.paths.dir, {
      passphrase: async () => {
        asked++;
        return new Secret(passphrase);
      },
      actor: "test:web",
      vault: { workFactor: 10 },
    });
    onTestFinished(() => home.close());
    const first = await home.vault();
    expect(await home.vault()).toBe(first);

    // This home's own save: the stat changes, the hash matches, the instance stays.
    first.set(accountRef("a"), creds("KEY-A1"));
    await first.save();
    expect(await home.vault()).toBe(first);

    // Another process (a second home on the same directory) saves.
    const other = await t.reopen();
    const theirs = await other.vault();
    theirs.set(accountRef("a"), creds("KEY-A2"));
    await theirs.save();

    const seen = await Promise.all([home.vault(), home.vault()]);
    expect(seen[0]).toBe(seen[1]); // concurrent callers share one re-read
    expect(seen[0]).not.toBe(first);
    expect(seen[0].get(accountRef("a"))?.apiKey).toBe("KEY-A2");
    expect(asked).toBe(1); // at the first open only
    expect(await home.accountKeys()).toEqual(new Map());

    // The instance from before the other save refuses to write over it.
    first.set(accountRef("b"), creds("KEY-B"));
    await expect(first.save()).rejects.toMatchObject({ code: "VAULT_CONFLICT" });
  });

  it("a vault file that is gone fails the call instead of answering from memory", async () => {
    t = await makeTestHome("vault-gone");
    const { home } = t;
    await home.vault();
    rmSync(home.paths.vault);
    await expect(home.vault()).rejects.toMatchObject({ code: "VAULT_MISSING" });
  });
});
