/**
 * Delivery targets through their public functions, with real files and real commands: dotenv keeps every
 * other line and writes 0600; json sets the fields at a pointer and nothing else; age files decrypt with
 * the identity (and only with it); exec gets the credentials on stdin, never in argv or env, and a
 * non-zero exit fails the delivery without echoing a secret.
 */
import { lstatSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { parse } from "dotenv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type DeliveryPayload,
  deliver,
  isKeywardError,
  type KeywardError,
  parseTarget,
  readDotenv,
  readJson,
  Secret,
  type Target,
} from "../src/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-targets-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = "CANARY-target-secret-7f3a1c";
const PASS = "CANARY-Pass!1-target-b2e9";

const payload = (over: Partial<DeliveryPayload> = {}): DeliveryPayload => ({
  credentials: { apiKey: "new-api-key-0001", secret: new Secret(SECRET), passphrase: new Secret(PASS) },
  keyId: "okx:desk:bots01:new-api-key-0001",
  exchange: "okx",
  account: "desk",
  subAccount: "bots01",
  label: "bot-1-rot-abc123-1",
  rotationId: "rot-abc123",
  slot: 1,
  replacesKeyId: "okx:desk:bots01:old",
  ...over,
});

const vars = { account: "desk", sub: "bots01", label: "bot-1", exchange: "okx", slot: 1 };
const target = (text: string): Target => parseTarget(text, vars, dir);
const mode = (path: string) => statSync(path).mode & 0o777;

async function errorOf(fn: () => Promise<unknown>): Promise<KeywardError> {
  try {
    await fn();
  } catch (error) {
    if (isKeywardError(error)) return error;
    throw error;
  }
  throw new Error("expected a KeywardError");
}

describe("dotenv target", () => {
  const ORIGINAL = [
    "# Bot configuration — do not commit",
    "EXCHANGE=okx",
    "",
    "export BOT_1_API_KEY=old-key # rotated by keyward",
    'BOT_1_API_SECRET="old-secret-line-1',
    'old-secret-line-2"',
    "  # an indented comment",
    "BOT_2_API_KEY=other-bot-key",
    "LOG_LEVEL='debug'",
    "",
  ].join("\n");

  it("rewrites only the key's variables, keeps every other line and comment, and writes 0600", async () => {
    const file = join(dir, "bots.env");
    writeFileSync(file, ORIGINAL, { mode: 0o644 });
    const t = target("dotenv:bots.env#{label}");
    expect(t).toEqual({ kind: "dotenv", path: file, prefix: "BOT_1" });
    const evidence = await deliver(t, payload());
    expect(evidence).not.toContain(SECRET);
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    expect(lines).toEqual([
      "# Bot configuration — do not commit",
      "EXCHANGE=okx",
      "",
      "export BOT_1_API_KEY='new-api-key-0001' # rotated by keyward",
      `BOT_1_API_SECRET='${SECRET}'`,
      "  # an indented comment",
      "BOT_2_API_KEY=other-bot-key",
      "LOG_LEVEL='debug'",
      `BOT_1_API_PASSPHRASE='${PASS}'`,
      "",
    ]);
    const parsed = parse(text);
    expect(parsed).toMatchObject({
      EXCHANGE: "okx",
      BOT_1_API_KEY: "new-api-key-0001",
      BOT_1_API_SECRET: SECRET,
      BOT_1_API_PASSPHRASE: PASS,
      BOT_2_API_KEY: "other-bot-key",
      LOG_LEVEL: "debug",
    });
    expect(mode(file)).toBe(0o600);
    expect(await readDotenv(t as Extract<Target, { kind: "dotenv" }>)).toEqual({
      apiKey: "new-api-key-0001",
      secret: SECRET,
      passphrase: PASS,
    });
  });

  it("uses API_KEY / API_SECRET without a prefix, creates a missing file, follows a symlink", async () => {
    const real = join(dir, "real.env");
    const link = join(dir, "link.env");
    symlinkSync(real, link);
    await deliver(
      target(`dotenv:${link}`),
      payload({ credentials: { apiKey: "bfx-key", secret: new Secret(SECRET) } }),
    );
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(parse(readFileSync(real, "utf8"))).toEqual({ API_KEY: "bfx-key", API_SECRET: SECRET });
    expect(mode(real)).toBe(0o600);
  });

  it("leaves no temp file behind and replaces atomically (a reader sees old or new, whole)", async () => {
    const file = join(dir, "a.env");
    writeFileSync(file, "A=1\n");
    await Promise.all([1, 2, 3].map((n) => deliver(target(`dotenv:a.env#K${n}`), payload())));
    const parsed = parse(readFileSync(file, "utf8"));
    expect([parsed.A, parsed.K1_API_KEY, parsed.K2_API_KEY, parsed.K3_API_KEY]).toEqual([
      "1",
      "new-api-key-0001",
      "new-api-key-0001",
      "new-api-key-0001",
    ]);
    expect(readFileSync(file, "utf8").match(/K\d_API_SECRET/g)).toHaveLength(3);
  });
});

describe("json target", () => {
  it("sets apiKey, secret and passphrase at the pointer; everything else stays, indentation too", async () => {
    const file = join(dir, "config.json");
    const original = {
      name: "mm-bot",
      exchange: { id: "okx", apiKey: "old", secret: "old-secret", options: { sandbox: false } },
      "a/b": { x: 1 },
      strategies: [{ pair: "BTC-USDT" }],
    };
    writeFileSync(file, `${JSON.stringify(original, null, 4)}\n`, { mode: 0o644 });
    await deliver(target("json:config.json#/exchange"), payload());
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^\{\n {4}"name"/);
    expect(JSON.parse(text)).toEqual({
      ...original,
      exchange: { ...original.exchange, apiKey: "new-api-key-0001", secret: SECRET, passphrase: PASS },
    });
    expect(mode(file)).toBe(0o600);

    // RFC 6901 escapes, and objects created on the way.
    await deliver(target("json:config.json#/a~1b/keys/{label}"), payload());
    const after = JSON.parse(readFileSync(file, "utf8"));
    expect(after["a/b"]).toEqual({
      x: 1,
      keys: { "bot-1": { apiKey: "new-api-key-0001", secret: SECRET, passphrase: PASS } },
    });
    expect(
      await readJson(target("json:config.json#/a~1b/keys/bot-1") as Extract<Target, { kind: "json" }>),
    ).toEqual({
      apiKey: "new-api-key-0001",
      secret: SECRET,
      passphrase: PASS,
    });
  });

  it("refuses a pointer through a non-object, and a file that is not JSON, without echoing it", async () => {
    const file = join(dir, "c.json");
    writeFileSync(file, JSON.stringify({ exchange: "okx" }));
    const e1 = await errorOf(() => deliver(target("json:c.json#/exchange/creds"), payload()));
    expect(e1.code).toBe("DELIVERY_FAILED");
    writeFileSync(file, `{"secret": "${SECRET}", oops`);
    const e2 = await errorOf(() => deliver(target("json:c.json#/x"), payload()));
    expect(e2.code).toBe("DELIVERY_FAILED");
    expect(e2.message).not.toContain(SECRET);
    expect(readFileSync(file, "utf8")).toContain("oops"); // untouched
  });
});

describe("age target", () => {
  it("writes one file per key that decrypts with the recipient's identity only", async () => {
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    const t = target("age:drop");
    expect(t).toMatchObject({ kind: "age", file: join(dir, "drop", "desk.bots01.bot-1.age") });
    await deliver(t, payload(), { recipient });
    const file = (t as Extract<Target, { kind: "age" }>).file;
    expect(mode(file)).toBe(0o600);
    const bytes = readFileSync(file);
    expect(bytes.toString("latin1")).not.toContain(SECRET);
    const d = new Decrypter();
    d.addIdentity(identity);
    const doc = JSON.parse(await d.decrypt(bytes, "text"));
    expect(doc).toMatchObject({
      apiKey: "new-api-key-0001",
      secret: SECRET,
      passphrase: PASS,
      keyId: "okx:desk:bots01:new-api-key-0001",
      rotationId: "rot-abc123",
    });
    const other = new Decrypter();
    other.addIdentity(await generateX25519Identity());
    await expect(other.decrypt(bytes, "text")).rejects.toThrow();
  });

  it("needs a valid recipient", async () => {
    expect((await errorOf(() => deliver(target("age:drop"), payload()))).code).toBe("CONFIG_INVALID");
    expect(
      (await errorOf(() => deliver(target("age:drop"), payload(), { recipient: "age1nope" }))).code,
    ).toBe("CONFIG_INVALID");
  });
});

describe("exec target", () => {
  it("passes the credentials as JSON on stdin, never in argv or the environment", async () => {
    const out = join(dir, "stdin.json");
    const env = join(dir, "env.txt");
    const args = join(dir, "args.txt");
    const t = target(`exec:cat > ${out}; env > ${env}; ps -o args= -p $$ > ${args} 2>/dev/null || true`);
    const evidence = await deliver(t, payload(), { env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } });
    expect(evidence).toContain("exited 0");
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({
      apiKey: "new-api-key-0001",
      secret: SECRET,
      passphrase: PASS,
      label: "bot-1-rot-abc123-1",
    });
    const environment = readFileSync(env, "utf8");
    expect(environment).toContain("KEYWARD_KEY_ID=okx:desk:bots01:new-api-key-0001");
    expect(environment).not.toContain(SECRET);
    expect(environment).not.toContain(PASS);
    expect(readFileSync(args, "utf8")).not.toContain(SECRET);
  });

  it("fails the delivery on a non-zero exit, with the secret redacted from what it printed", async () => {
    const e = await errorOf(() =>
      deliver(target(`exec:read -r line; echo "cannot use $line" >&2; exit 3`), payload()),
    );
    expect(e.code).toBe("DELIVERY_FAILED");
    expect(e.message).toContain("exited 3");
    expect(e.message).toContain("[redacted]");
    expect(e.message).not.toContain(SECRET);
  });
});

describe("target strings", () => {
  it("are parsed with clear errors", () => {
    const msg = (text: string) => {
      try {
        parseTarget(text, vars, dir);
        return "no error";
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(msg("ftp:/x")).toMatch(/unknown kind "ftp"/);
    expect(msg("nothing")).toMatch(/unknown kind/);
    expect(msg("json:cfg.json")).toMatch(/JSON pointer is required/);
    expect(msg("json:cfg.json#exchange")).toMatch(/must be empty or start with "\/"/);
    expect(msg("dotenv:.env#1BAD")).toMatch(/not a variable name/);
    expect(msg("dotenv:")).toMatch(/path is missing/);
    expect(msg("exec:  ")).toMatch(/command is missing/);
    expect(parseTarget("dotenv:/srv/{sub}/.env#{label}", vars, dir)).toEqual({
      kind: "dotenv",
      path: "/srv/bots01/.env",
      prefix: "BOT_1",
    });
    expect(parseTarget("json:/x.json#/k/{label}", { ...vars, label: "a/b~c" }, dir)).toEqual({
      kind: "json",
      path: "/x.json",
      pointer: "/k/a~1b~0c",
    });
  });
});
