import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { Encrypter, generateIdentity, identityToRecipient } from "age-encryption";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Credentials, isKeywardError, KeywardError, Secret } from "../src/index.js";
import { VAULT_SCRYPT_WORK_FACTOR, Vault } from "../src/vault/vault.js";

// Most tests use a cheap scrypt work factor; one test below runs the real default.
const FAST = { workFactor: 10 };
const PASS = new Secret("correct horse battery staple");
const CANARY_SECRET = "CANARY-SECRET-9f8e7d6c5b4a";
const CANARY_PASSPHRASE = "CANARY-OKX-PASSPHRASE-31337";
const creds = (apiKey: string, secret: string, passphrase?: string): Credentials => ({
  apiKey,
  secret: new Secret(secret),
  ...(passphrase === undefined ? {} : { passphrase: new Secret(passphrase) }),
});

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-vault-"));
  path = join(dir, "vault.age");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function caught(promise: Promise<unknown>): Promise<KeywardError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof KeywardError) return error;
    throw error;
  }
  throw new Error("expected a KeywardError");
}

async function encryptWith(plaintext: string, passphrase: string): Promise<Uint8Array> {
  const e = new Encrypter();
  e.setScryptWorkFactor(10);
  e.setPassphrase(passphrase);
  return e.encrypt(plaintext);
}

describe("Vault", () => {
  it("round-trips credentials through the encrypted file", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    expect(vault.refs()).toEqual([]);
    vault.set("okx-main", creds("okx-api-key-1", CANARY_SECRET, CANARY_PASSPHRASE));
    vault.set("bitfinex-main", creds("bfx-api-key-1", "bfx-secret-value"));
    await vault.save();

    const reopened = await Vault.open(path, PASS);
    expect(reopened.refs()).toEqual(["bitfinex-main", "okx-main"]);
    const okx = reopened.get("okx-main");
    expect(okx?.apiKey).toBe("okx-api-key-1");
    expect(okx?.secret).toBeInstanceOf(Secret);
    expect(okx?.secret.reveal()).toBe(CANARY_SECRET);
    expect(okx?.passphrase?.reveal()).toBe(CANARY_PASSPHRASE);
    const bfx = reopened.get("bitfinex-main");
    expect(bfx?.secret.reveal()).toBe("bfx-secret-value");
    expect(bfx && "passphrase" in bfx).toBe(false);
    expect(reopened.get("nope")).toBeUndefined();

    expect(reopened.delete("bitfinex-main")).toBe(true);
    expect(reopened.delete("bitfinex-main")).toBe(false);
    await reopened.save();
    expect((await Vault.open(path, PASS)).refs()).toEqual(["okx-main"]);
  });

  it("keeps the work factor of the file, and uses the measured default for new vaults", async () => {
    const vault = await Vault.create(path, PASS);
    const header = () => readFileSync(path, "latin1").split("\n")[1];
    expect(header()).toMatch(new RegExp(`^-> scrypt \\S+ ${VAULT_SCRYPT_WORK_FACTOR}$`));
    vault.set("a", creds("k", "secret-a"));
    const started = process.cpuUsage();
    await vault.save();
    const reopened = await Vault.open(path, PASS);
    const used = process.cpuUsage(started);
    expect(header()).toMatch(new RegExp(` ${VAULT_SCRYPT_WORK_FACTOR}$`));
    expect(reopened.get("a")?.secret.reveal()).toBe("secret-a");
    // The budget is ~1 s for open + save on the project's 2-core machine; allow for a slower CI box. CPU
    // time of this process (scrypt's worker thread included), not wall time: a machine loaded by other work
    // stretches the wall clock, not the work the chosen factor costs.
    expect((used.user + used.system) / 1000).toBeLessThan(5000);

    await Vault.create(join(dir, "fast.age"), PASS, FAST);
    const fast = await Vault.open(join(dir, "fast.age"), PASS);
    await fast.save();
    expect(readFileSync(join(dir, "fast.age"), "latin1").split("\n")[1]).toMatch(/ 10$/);
  });

  it("opens off the main thread: the event loop keeps turning while scrypt runs", async () => {
    // A vault at the production work factor, written by age-encryption's own scrypt (as `age` would).
    const e = new Encrypter();
    e.setScryptWorkFactor(VAULT_SCRYPT_WORK_FACTOR);
    e.setPassphrase(PASS.reveal());
    const document = { version: 1, entries: { a: { apiKey: "k", secret: CANARY_SECRET } } };
    writeFileSync(path, await e.encrypt(JSON.stringify(document)));

    let last = performance.now();
    let longestStall = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      longestStall = Math.max(longestStall, now - last);
      last = now;
    }, 5);
    const started = performance.now();
    const vault = await Vault.open(path, PASS);
    const openMs = performance.now() - started;
    clearInterval(tick);
    longestStall = Math.max(longestStall, performance.now() - last);

    expect(vault.get("a")?.secret.reveal()).toBe(CANARY_SECRET);
    // scrypt at factor 16 is hundreds of ms of work. On the main thread (age-encryption's pure-JS scrypt)
    // it is one stall as long as the open itself; on the thread pool the loop keeps ticking, so a command
    // loads ccxt meanwhile. Relative to the open's own duration, so a loaded machine changes nothing.
    expect(longestStall, `longest stall ${longestStall} ms of an open taking ${openMs} ms`).toBeLessThan(
      openMs / 2,
    );
  });

  it("never writes a secret, the passphrase or even an API key in clear", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    vault.set("okx-main", creds("okx-visible-api-key", CANARY_SECRET, CANARY_PASSPHRASE));
    await vault.save();
    const raw = readFileSync(path);
    for (const needle of [
      CANARY_SECRET,
      CANARY_PASSPHRASE,
      PASS.reveal(),
      "okx-visible-api-key",
      "okx-main",
    ]) {
      expect(raw.includes(Buffer.from(needle))).toBe(false);
    }
    expect(raw.subarray(0, 22).toString()).toBe("age-encryption.org/v1\n");
    // And nothing prints it either.
    const printed = [
      JSON.stringify(vault),
      inspect(vault, { depth: 10, showHidden: true }),
      inspect(vault.get("okx-main"), { depth: 10 }),
      JSON.stringify(vault.get("okx-main")),
    ].join("\n");
    expect(printed).not.toContain(CANARY_SECRET);
    expect(printed).not.toContain(CANARY_PASSPHRASE);
    expect(printed).not.toContain(PASS.reveal());
  });

  it("reports a wrong passphrase as VAULT_PASSPHRASE, without echoing anything secret", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    vault.set("okx-main", creds("k", CANARY_SECRET));
    await vault.save();
    const error = await caught(Vault.open(path, new Secret("wrong passphrase 123")));
    expect(error.code).toBe("VAULT_PASSPHRASE");
    expect(error.message).toMatch(/passphrase .* is wrong/);
    expect(error.hint).toContain("KEYWARD_PASSPHRASE");
    expect(error.hint).toContain("prompt");
    const text = `${error.describe()} ${JSON.stringify(error)} ${inspect(error)}`;
    expect(text).not.toContain("wrong passphrase 123");
    expect(text).not.toContain(CANARY_SECRET);
  });

  it("reports a missing vault as VAULT_MISSING, pointing at keyward init", async () => {
    const error = await caught(Vault.open(path, PASS));
    expect(error.code).toBe("VAULT_MISSING");
    expect(error.hint).toContain("keyward init");
  });

  it("refuses to create over an existing vault (VAULT_EXISTS) and leaves it untouched", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    vault.set("a", creds("k", "secret-a"));
    await vault.save();
    const before = readFileSync(path);
    expect((await caught(Vault.create(path, new Secret("other passphrase"), FAST))).code).toBe(
      "VAULT_EXISTS",
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect((await caught(Vault.create(path, new Secret(""), FAST))).code).toBe("CONFIG_INVALID");
  });

  it.each([
    ["a file that is not age at all", () => Buffer.from('{"version":1,"entries":{}}')],
    ["an empty file", () => Buffer.alloc(0)],
  ])("reports %s as VAULT_CORRUPT", async (_name, bytes) => {
    writeFileSync(path, bytes());
    expect((await caught(Vault.open(path, PASS))).code).toBe("VAULT_CORRUPT");
  });

  it("reports a truncated or bit-flipped vault as VAULT_CORRUPT, not as a wrong passphrase", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    vault.set("a", creds("k", "secret-a"));
    await vault.save();
    const good = readFileSync(path);
    writeFileSync(path, good.subarray(0, good.length - 20));
    expect((await caught(Vault.open(path, PASS))).code).toBe("VAULT_CORRUPT");
    const flipped = Buffer.from(good);
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] ?? 0) ^ 0xff;
    writeFileSync(path, flipped);
    expect((await caught(Vault.open(path, PASS))).code).toBe("VAULT_CORRUPT");
  });

  it("reports an age file encrypted to a key, not a passphrase, as VAULT_CORRUPT", async () => {
    const e = new Encrypter();
    e.addRecipient(await identityToRecipient(await generateIdentity()));
    writeFileSync(path, await e.encrypt("hello"));
    const error = await caught(Vault.open(path, PASS));
    expect(error.code).toBe("VAULT_CORRUPT");
    expect(error.message).toContain("not to a passphrase");
  });

  it("reports decrypted garbage as VAULT_CORRUPT without quoting the decrypted text", async () => {
    writeFileSync(path, await encryptWith(`{"version":1,"entries":{"x":${CANARY_SECRET}}}`, PASS.reveal()));
    let error = await caught(Vault.open(path, PASS));
    expect(error.code).toBe("VAULT_CORRUPT");
    expect(`${error.describe()} ${inspect(error)}`).not.toContain(CANARY_SECRET);

    // Valid JSON, wrong shape (the secret sits where a ref's object should be).
    writeFileSync(
      path,
      await encryptWith(JSON.stringify({ version: 1, entries: { x: CANARY_SECRET } }), PASS.reveal()),
    );
    error = await caught(Vault.open(path, PASS));
    expect(error.code).toBe("VAULT_CORRUPT");
    expect(`${error.describe()} ${inspect(error)}`).not.toContain(CANARY_SECRET);

    writeFileSync(path, await encryptWith(JSON.stringify({ version: 3, entries: {} }), PASS.reveal()));
    expect((await caught(Vault.open(path, PASS))).message).toContain("newer Keyward");
  });

  it("writes atomically: mode 0600, no temp file left, a leftover temp file from a crash is ignored", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    vault.set("a", creds("k", "secret-a"));
    await vault.save();
    expect(readdirSync(dir)).toEqual(["vault.age"]);

    // A save that died after writing part of its temp file (the rename never happened).
    const next = await encryptWith(JSON.stringify({ version: 1, entries: {} }), PASS.reveal());
    writeFileSync(join(dir, ".vault.age.4242.deadbeef0000.tmp"), next.subarray(0, next.length / 2));
    const reopened = await Vault.open(path, PASS);
    expect(reopened.get("a")?.secret.reveal()).toBe("secret-a");

    // A save puts the mode back to 0600 even if someone loosened it.
    await chmod(path, 0o644);
    const mine = await Vault.open(path, PASS);
    mine.set("b", creds("k2", "secret-b"));
    await mine.save();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect((await Vault.open(path, PASS)).refs()).toEqual(["a", "b"]);
    expect(readdirSync(dir).sort()).toEqual([".vault.age.4242.deadbeef0000.tmp", "vault.age"]);
  });

  it("refuses to overwrite a vault another process saved meanwhile (VAULT_CONFLICT)", async () => {
    await Vault.create(path, PASS, FAST);
    const first = await Vault.open(path, PASS);
    const second = await Vault.open(path, PASS);
    first.set("rotated", creds("new-key", "new-secret"));
    await first.save();
    second.set("other", creds("k", "s-other"));
    expect((await caught(second.save())).code).toBe("VAULT_CONFLICT");
    expect((await Vault.open(path, PASS)).refs()).toEqual(["rotated"]);
    // The same instance may save again and again: it knows its own writes.
    first.set("more", creds("k3", "s-more"));
    await Promise.all([first.save(), first.save()]);
    expect((await Vault.open(path, PASS)).refs()).toEqual(["more", "rotated"]);
  });

  it("re-encrypts with a new passphrase", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    vault.set("a", creds("k", "secret-a"));
    vault.setPassphrase(new Secret("a brand new passphrase"));
    await vault.save();
    expect((await caught(Vault.open(path, PASS))).code).toBe("VAULT_PASSPHRASE");
    expect((await Vault.open(path, new Secret("a brand new passphrase"))).get("a")?.apiKey).toBe("k");
  });

  it("validates refs and credentials", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    const codeOf = (fn: () => void): string => {
      try {
        fn();
        return "no error";
      } catch (error) {
        return isKeywardError(error) ? error.code : "not a KeywardError";
      }
    };
    for (const ref of ["", " padded", "__proto__", "line\nbreak"]) {
      expect(codeOf(() => vault.set(ref, creds("k", "s")))).toBe("CONFIG_INVALID");
    }
    expect(codeOf(() => vault.set("ok", creds("", "s")))).toBe("CONFIG_INVALID");
    expect(codeOf(() => vault.set("ok", creds("k", "")))).toBe("CONFIG_INVALID");
    vault.set("okx:main/sub-1", creds("k", "s"));
    expect(vault.has("okx:main/sub-1")).toBe(true);
  });
});

describe("Vault: an account's TOTP seed (issue 13)", () => {
  const SEED = "CANARYSEEDJBSWY3DPEHPK3PXP";

  it("keeps the seed beside the key's credentials, encrypted, and drops it only when the entry is replaced without it", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    vault.set("account:desk-deribit", {
      ...creds("deribit-client-1", CANARY_SECRET),
      totpSeed: new Secret(SEED),
    });
    await vault.save();
    expect(readFileSync(path).includes(Buffer.from(SEED))).toBe(false);

    const reopened = await Vault.open(path, PASS);
    const entry = reopened.get("account:desk-deribit");
    expect(entry?.totpSeed?.reveal()).toBe(SEED);
    expect(JSON.stringify(entry)).not.toContain(SEED);
    expect(inspect(reopened, { depth: 10, showHidden: true })).not.toContain(SEED);

    reopened.set("account:desk-deribit", creds("deribit-client-1", CANARY_SECRET));
    await reopened.save();
    expect((await Vault.open(path, PASS)).get("account:desk-deribit")?.totpSeed).toBeUndefined();
  });

  it("opens a vault written before seeds existed (entries without the field)", async () => {
    const old = JSON.stringify({ version: 1, entries: { a: { apiKey: "k", secret: CANARY_SECRET } } });
    writeFileSync(path, await encryptWith(old, PASS.reveal()), { mode: 0o600 });
    const vault = await Vault.open(path, PASS);
    expect(vault.get("a")?.secret.reveal()).toBe(CANARY_SECRET);
    expect(vault.get("a") && "totpSeed" in (vault.get("a") as object)).toBe(false);
  });

  it("refuses an empty seed", async () => {
    const vault = await Vault.create(path, PASS, FAST);
    const error = (() => {
      try {
        vault.set("a", { ...creds("k", CANARY_SECRET), totpSeed: new Secret("") });
      } catch (e) {
        return e;
      }
    })();
    expect(isKeywardError(error) && error.code).toBe("CONFIG_INVALID");
    expect(vault.has("a")).toBe(false);
  });
});
