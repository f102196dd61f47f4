/**
 * Delivery targets through their public functions, with real files and real commands: dotenv keeps every
 * other line, the file's owner and mode (0600 for a new file) and writes values every reader takes
 * literally; no target writes into Keyward's home, through a placeholder that climbs out of its folder or
 * through a symlink in a world-writable folder; json sets the fields at a pointer and nothing else; age files decrypt with
 * the identity (and only with it); exec gets the credentials on stdin, never in argv or env, and a
 * non-zero exit fails the delivery without echoing a secret.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decrypter, generateX25519Identity, identityToRecipient } from "age-encryption";
import { parse } from "dotenv";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkTargetSyntax,
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
/** Keyward's home in these tests: beside the targets, never written. */
let home: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keyward-targets-"));
  home = mkdtempSync(join(tmpdir(), "keyward-targets-home-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

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

  it("rewrites only the key's variables, keeps every other line and comment, and the file's mode", async () => {
    const file = join(dir, "bots.env");
    writeFileSync(file, ORIGINAL, { mode: 0o644 });
    const t = target("dotenv:bots.env#{label}");
    expect(t).toEqual({ kind: "dotenv", path: file, prefix: "BOT_1" });
    const evidence = await deliver(t, payload(), { home });
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
    expect(mode(file)).toBe(0o644); // kept: the bot reading it may not be Keyward's user
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
      { home },
    );
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(parse(readFileSync(real, "utf8"))).toEqual({ API_KEY: "bfx-key", API_SECRET: SECRET });
    expect(mode(real)).toBe(0o600);
  });

  it("leaves no temp file behind and replaces atomically (a reader sees old or new, whole)", async () => {
    const file = join(dir, "a.env");
    writeFileSync(file, "A=1\n");
    await Promise.all([1, 2, 3].map((n) => deliver(target(`dotenv:a.env#K${n}`), payload(), { home })));
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
    await deliver(target("json:config.json#/exchange"), payload(), { home });
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^\{\n {4}"name"/);
    expect(JSON.parse(text)).toEqual({
      ...original,
      exchange: { ...original.exchange, apiKey: "new-api-key-0001", secret: SECRET, passphrase: PASS },
    });
    expect(mode(file)).toBe(0o644); // kept

    // RFC 6901 escapes, and objects created on the way.
    await deliver(target("json:config.json#/a~1b/keys/{label}"), payload(), { home });
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
    const e1 = await errorOf(() => deliver(target("json:c.json#/exchange/creds"), payload(), { home }));
    expect(e1.code).toBe("DELIVERY_FAILED");
    writeFileSync(file, `{"secret": "${SECRET}", oops`);
    const e2 = await errorOf(() => deliver(target("json:c.json#/x"), payload(), { home }));
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
    await deliver(t, payload(), { home, recipient });
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
    expect((await errorOf(() => deliver(target("age:drop"), payload(), { home }))).code).toBe(
      "CONFIG_INVALID",
    );
    expect(
      (await errorOf(() => deliver(target("age:drop"), payload(), { home, recipient: "age1nope" }))).code,
    ).toBe("CONFIG_INVALID");
  });
});

describe("exec target", () => {
  it("passes the credentials as JSON on stdin, never in argv or the environment", async () => {
    const out = join(dir, "stdin.json");
    const env = join(dir, "env.txt");
    const args = join(dir, "args.txt");
    const t = target(`exec:cat > ${out}; env > ${env}; ps -o args= -p $$ > ${args} 2>/dev/null || true`);
    const evidence = await deliver(t, payload(), {
      home,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    });
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
      deliver(target(`exec:read -r line; echo "cannot use $line" >&2; exit 3`), payload(), { home }),
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

/** Every byte of every file in a folder, to prove nothing in it changed. */
const snapshot = (folder: string) =>
  Object.fromEntries(readdirSync(folder).map((f) => [f, readFileSync(join(folder, f), "latin1")]));

describe("no target writes into Keyward's home (issue 9.3)", () => {
  beforeEach(() => {
    writeFileSync(join(home, "vault.age"), "age-encryption.org/v1\n-> scrypt vault bytes\n", { mode: 0o600 });
    writeFileSync(join(home, "config.json"), '{\n  "accounts": []\n}\n', { mode: 0o600 });
  });

  it("refuses the home's files and folder, directly, through symlinks and through a symlinked folder", async () => {
    const before = snapshot(home);
    symlinkSync(join(home, "vault.age"), join(dir, "link-to-vault.env"));
    symlinkSync(join(home, "not-yet.env"), join(dir, "dangling.env")); // a new file inside the home
    symlinkSync(home, join(dir, "homedir"));
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    for (const text of [
      `dotenv:${home}/vault.age`,
      `json:${home}/config.json#/x`,
      `dotenv:${home}/new.env#BOT`,
      "dotenv:link-to-vault.env",
      "dotenv:dangling.env",
      "json:homedir/config.json#/exchange",
      "dotenv:homedir/../homedir/vault.age",
      `age:${home}`,
      "age:homedir/drop",
    ]) {
      const e = await errorOf(() => deliver(target(text), payload(), { home, recipient }));
      expect(e.code, text).toBe("DELIVERY_FAILED");
      expect(e.message, text).toMatch(/Keyward's home/);
      expect(e.message).not.toContain(SECRET);
    }
    expect(snapshot(home)).toEqual(before);
  });

  it("checks again at delivery time: a symlink swapped in after the plan was made is refused", async () => {
    const t = target("dotenv:bot.env#BOT");
    writeFileSync(join(dir, "bot.env"), "A=1\n");
    await deliver(t, payload(), { home });
    rmSync(join(dir, "bot.env"));
    symlinkSync(join(home, "vault.age"), join(dir, "bot.env"));
    const before = snapshot(home);
    expect((await errorOf(() => deliver(t, payload(), { home }))).message).toMatch(/Keyward's home/);
    expect(snapshot(home)).toEqual(before);
  });
});

describe("placeholders cannot move a file (issue 9.4)", () => {
  const parsed = (text: string, over: Partial<typeof vars>, cwd: string | null = dir) => {
    try {
      return parseTarget(text, { ...vars, ...over }, cwd);
    } catch (error) {
      return (error as Error).message;
    }
  };

  it("refuses a value of '..', '.' or nothing, and a path that leaves the literal prefix", () => {
    expect(parsed("dotenv:/srv/bots/{label}/.env", { label: ".." })).toMatch(
      /\{label\} expands to "\.\."[\s\S]*would change the folder/,
    );
    expect(parsed("dotenv:/srv/bots/{label}/.env", { label: "." })).toMatch(/\{label\} expands to "\."/);
    expect(parsed("json:/srv/{account}/{sub}.json#/x", { sub: "" })).toMatch(/\{sub\} expands to ""/);
    expect(parsed("age:/srv/{label}", { label: ".." })).toMatch(/expands to "\.\."/);
    expect(parsed("dotenv:bots/{label}/.env", { label: ".." })).toMatch(/expands to "\.\."/);
    expect(parsed("dotenv:/srv/bots/{label}/../../.env", {})).toMatch(
      /leads to \/srv\/\.env, outside \/srv\/bots\//,
    );
    // A literal ".." may climb back to the literal prefix, not past it.
    expect(parsed("dotenv:/srv/bots/{label}/../shared.env#{label}", {})).toEqual({
      kind: "dotenv",
      path: "/srv/bots/bot-1/../shared.env",
      prefix: "BOT_1",
    });
  });

  it("a value with '/', NUL or control characters stays one name in one folder", () => {
    for (const label of ["../../etc", "a/../../b", "x\0y", "tab\there", "new\nline", "/abs"]) {
      const t = parsed("dotenv:/srv/bots/{label}/.env", { label });
      expect(t, JSON.stringify(label)).toMatchObject({ kind: "dotenv" });
      const path = (t as Extract<Target, { kind: "dotenv" }>).path;
      expect(path.split("/").slice(0, 3)).toEqual(["", "srv", "bots"]);
      expect(path.split("/")).toHaveLength(5);
      expect(path).not.toMatch(/[\0\t\n]/);
    }
    expect(parsed("age:/drop", { label: "../x" })).toMatchObject({ file: "/drop/desk.bots01..._x.age" });
  });

  it("without a current directory (the web), relative paths are refused", () => {
    expect(parsed("dotenv:vault.age", {}, null)).toMatch(/relative path/);
    expect(parsed("json:./c.json#/x", {}, null)).toMatch(/relative path/);
    expect(parsed("age:drop", {}, null)).toMatch(/relative path/);
    expect(parsed("dotenv:/srv/bots/{label}.env", {}, null)).toMatchObject({ path: "/srv/bots/bot-1.env" });
    expect(() => checkTargetSyntax("dotenv:.env", null)).toThrow(/relative path/);
    expect(checkTargetSyntax("dotenv:.env")).toBe("dotenv"); // the CLI: against its directory
  });
});

describe("delivered files keep their owner and mode (issue 9.11)", () => {
  const owner = (path: string) => {
    const st = statSync(path);
    return { uid: st.uid, gid: st.gid, mode: st.mode & 0o777 };
  };
  const isRoot = process.getuid?.() === 0;

  it.runIf(isRoot)("keeps a bot user's owner, group and 0644 mode, also through a symlink", async () => {
    const file = join(dir, "bot.env");
    writeFileSync(file, "A=1\n");
    chownSync(file, 4321, 4322);
    chmodSync(file, 0o644);
    await deliver(target("dotenv:bot.env#BOT"), payload(), { home });
    expect(owner(file)).toEqual({ uid: 4321, gid: 4322, mode: 0o644 });
    expect(parse(readFileSync(file, "utf8")).BOT_API_SECRET).toBe(SECRET);

    const real = join(dir, "real.json");
    writeFileSync(real, "{}\n");
    chownSync(real, 4321, 4322);
    chmodSync(real, 0o640);
    symlinkSync(real, join(dir, "link.json"));
    await deliver(target("json:link.json#/exchange"), payload(), { home });
    expect(lstatSync(join(dir, "link.json")).isSymbolicLink()).toBe(true);
    expect(owner(real)).toEqual({ uid: 4321, gid: 4322, mode: 0o640 });
    expect(JSON.parse(readFileSync(real, "utf8")).exchange.secret).toBe(SECRET);
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  // Keyward's user may not give a file away: then the file is left as it was, and the error says why.
  // Run as another user (4321) in a child process over the built package; root can arrange that.
  const dist = join(import.meta.dirname, "..", "dist", "index.js");
  it.runIf(isRoot && existsSync(dist))(
    "refuses, naming owner and target, when Keyward's user cannot keep the file's owner",
    async () => {
      const bots = join(dir, "bots");
      mkdirSync(bots);
      chownSync(bots, 4321, 4321); // Keyward's user may write the folder...
      const file = join(bots, "bot.env");
      writeFileSync(file, "A=1\n");
      chownSync(file, 4400, 4400); // ...but the file belongs to the bot's user
      chmodSync(file, 0o644);
      chmodSync(dir, 0o711);
      chmodSync(home, 0o711);
      const script = `
        const { deliver, parseTarget, Secret } = await import(process.env.DIST);
        const vars = { account: "desk", sub: "bots01", label: "bot-1", exchange: "okx", slot: 1 };
        const target = parseTarget("dotenv:" + process.env.FILE + "#BOT", vars, null);
        const payload = { credentials: { apiKey: "k", secret: new Secret(process.env.S) }, keyId: "id",
          exchange: "okx", account: "desk", subAccount: "bots01", label: "bot-1-rot-abc123-1",
          rotationId: "rot-abc123", slot: 1, replacesKeyId: "old" };
        try { await deliver(target, payload, { home: process.env.HOME_DIR }); console.log("{}"); }
        catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }`;
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        uid: 4321,
        gid: 4321,
        cwd: "/",
        env: { DIST: dist, FILE: file, HOME_DIR: home, S: SECRET },
      }).toString("utf8");
      const error = JSON.parse(out) as { code?: string; message?: string; hint?: string };
      expect(error.code).toBe("DELIVERY_FAILED");
      expect(error.message).toContain(`dotenv:${file}#BOT`);
      expect(error.message).toMatch(/belongs to uid 4400, gid 4400.*cannot give its replacement that owner/);
      expect(out).not.toContain(SECRET);
      expect(readFileSync(file, "utf8")).toBe("A=1\n");
      expect(owner(file)).toEqual({ uid: 4400, gid: 4400, mode: 0o644 });
      expect(readdirSync(bots)).toEqual(["bot.env"]); // no temp file left
    },
  );

  it("a new file is 0600 and Keyward's", async () => {
    await deliver(target("dotenv:fresh.env"), payload(), { home });
    expect(owner(join(dir, "fresh.env"))).toMatchObject({ uid: process.getuid?.(), mode: 0o600 });
  });

  it("refuses a symlink in a world-writable folder, and leaves the real file alone", async () => {
    const shared = join(dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o1777); // as /tmp
    const real = join(dir, "real.env");
    writeFileSync(real, "A=1\n");
    symlinkSync(real, join(shared, "bot.env"));
    const e = await errorOf(() => deliver(target("dotenv:shared/bot.env"), payload(), { home }));
    expect(e.code).toBe("DELIVERY_FAILED");
    expect(e.message).toMatch(
      /bot\.env is a symlink, and .*shared is a folder its group and every user can write to/,
    );
    expect(readFileSync(real, "utf8")).toBe("A=1\n");
  });
});

/** The other local user of these tests ("nobody"): what they own, Keyward (root) must not trust. */
const NOBODY = 65534;

describe("a file target never hands the secret to another user (review 3)", () => {
  const isRoot = process.getuid?.() === 0;
  const refusal = async (text: string) => {
    const recipient = await identityToRecipient(await generateX25519Identity());
    const e = await errorOf(() => deliver(target(text), payload(), { home, recipient }));
    expect(e.code, text).toBe("DELIVERY_FAILED");
    expect(e.message, text).toContain(describe_(text));
    expect(`${e.message} ${e.hint}`).not.toContain(SECRET);
    expect(`${e.message} ${e.hint}`).not.toContain(PASS);
    return e.message;
  };
  const describe_ = (text: string) => {
    const t = target(text);
    return t.kind === "age" ? `age:${t.file}` : `${t.kind}:${(t as { path: string }).path}`;
  };

  it.runIf(isRoot)(
    "refuses a file another user made first in a sticky world-writable folder (umask 000: 0666), and leaves it as it was",
    async () => {
      const ww = join(dir, "ww");
      mkdirSync(ww);
      chmodSync(ww, 0o1777);
      // As `su nobody -c 'umask 000; : > ww/bot.env'` would leave it.
      const file = join(ww, "bot.env");
      writeFileSync(file, "");
      chownSync(file, NOBODY, NOBODY);
      chmodSync(file, 0o666);
      expect(await refusal("dotenv:ww/bot.env")).toMatch(
        /ww is a folder every user can write to; another user could put a file of their own/,
      );
      expect(readFileSync(file, "utf8")).toBe("");
      expect(statSync(file).uid).toBe(NOBODY);
      // A name not there yet is refused too (anyone could create it before Keyward does), and so is
      // a file of Keyward's own there: the folder decides, not who won the race this time.
      expect(await refusal("json:ww/new.json#/x")).toMatch(/every user can write to/);
      writeFileSync(join(ww, "mine.env"), "A=1\n", { mode: 0o600 });
      expect(await refusal("dotenv:ww/mine.env")).toMatch(/every user can write to/);
      expect(readFileSync(join(ww, "mine.env"), "utf8")).toBe("A=1\n");
      expect(readdirSync(ww).sort()).toEqual(["bot.env", "mine.env"]); // nothing created, no temp file
    },
  );

  it.runIf(isRoot)("refuses a folder on the way that others can rename or have made", async () => {
    // Below a world-writable folder without the sticky bit: anyone can rename bots/ and put theirs.
    const open = join(dir, "open");
    mkdirSync(join(open, "bots"), { recursive: true });
    chmodSync(open, 0o777);
    writeFileSync(join(open, "bots", "bot.env"), "A=1\n", { mode: 0o600 });
    expect(await refusal("dotenv:open/bots/bot.env")).toMatch(
      /open is a folder every user can write to, without the sticky bit/,
    );
    // Below a sticky one (as /tmp): a folder another user made there is theirs, whatever it is called.
    const sticky = join(dir, "sticky");
    mkdirSync(join(sticky, "bots"), { recursive: true });
    chmodSync(sticky, 0o1777);
    chownSync(join(sticky, "bots"), NOBODY, NOBODY);
    expect(await refusal("dotenv:sticky/bots/bot.env")).toMatch(
      /bots belongs to uid 65534 and is in .*sticky, a folder every user can write to/,
    );
    expect(await refusal("age:sticky/bots/drop")).toMatch(/belongs to uid 65534/);
    expect(existsSync(join(sticky, "bots", "drop"))).toBe(false);
    // Root's own folder there is fine (the sticky bit keeps others from renaming it): as every other
    // test in this file, under the system's /tmp.
    mkdirSync(join(sticky, "mine"), { mode: 0o755 });
    await deliver(target("dotenv:sticky/mine/bot.env"), payload(), { home });
  });

  it("refuses an existing file every user can write, and leaves it as it was", async () => {
    const file = join(dir, "loose.env");
    writeFileSync(file, "A=1\n");
    chmodSync(file, 0o666);
    expect(await refusal("dotenv:loose.env")).toMatch(/loose\.env is writable by every user \(mode 0666\)/);
    expect(readFileSync(file, "utf8")).toBe("A=1\n");
    // Group write and other read are the bot owner's choice: kept.
    chmodSync(file, 0o664);
    await deliver(target("dotenv:loose.env"), payload(), { home });
    expect(mode(file)).toBe(0o664);
  });
});

describe("a symlink only root or Keyward's user can change (review 6)", () => {
  const isRoot = process.getuid?.() === 0;

  it.runIf(isRoot)(
    "refuses a bot user's symlink (pointing at a root file) in the bot's own folder; the file is untouched",
    async () => {
      const sudoers = join(dir, "sudoers"); // stands for /etc/sudoers
      writeFileSync(sudoers, "root ALL=(ALL) ALL\n", { mode: 0o440 });
      const bot = join(dir, "bot");
      mkdirSync(bot, { mode: 0o755 });
      chownSync(bot, NOBODY, NOBODY);
      symlinkSync(sudoers, join(bot, ".env"));
      const e = await errorOf(() => deliver(target("dotenv:bot/.env"), payload(), { home }));
      expect(e.code).toBe("DELIVERY_FAILED");
      expect(e.message).toContain(`dotenv:${join(bot, ".env")}`);
      expect(e.message).toMatch(
        /\.env is a symlink, and .*bot belongs to uid 65534, neither root nor Keyward's user/,
      );
      expect(e.message).not.toContain(SECRET);
      expect(readFileSync(sudoers, "utf8")).toBe("root ALL=(ALL) ALL\n");
      // A real file in the bot's folder is the normal case: written, the bot's owner kept.
      rmSync(join(bot, ".env"));
      writeFileSync(join(bot, ".env"), "A=1\n");
      chownSync(join(bot, ".env"), NOBODY, NOBODY);
      await deliver(target("dotenv:bot/.env"), payload(), { home });
      expect(statSync(join(bot, ".env")).uid).toBe(NOBODY);
    },
  );

  it.runIf(isRoot)(
    "refuses a link in root's folder when a folder above it is another user's, or group-writable",
    async () => {
      const real = join(dir, "real.env");
      writeFileSync(real, "A=1\n");
      const bot = join(dir, "bot");
      mkdirSync(join(bot, "conf"), { recursive: true });
      chownSync(bot, NOBODY, NOBODY); // bot/conf stays root's, but the bot could rename it
      symlinkSync(real, join(bot, "conf", ".env"));
      const e1 = await errorOf(() => deliver(target("dotenv:bot/conf/.env"), payload(), { home }));
      expect(e1.message).toMatch(/is a symlink, and .*bot belongs to uid 65534/);
      const team = join(dir, "team");
      mkdirSync(team, { mode: 0o775 });
      chmodSync(team, 0o775);
      symlinkSync(real, join(team, ".env"));
      const e2 = await errorOf(() => deliver(target("dotenv:team/.env"), payload(), { home }));
      expect(e2.message).toMatch(/team is a folder its group can write to/);
      expect(readFileSync(real, "utf8")).toBe("A=1\n");
      // The same link in a folder only root can change is followed.
      symlinkSync(real, join(dir, "link.env"));
      await deliver(target("dotenv:link.env"), payload(), { home });
      expect(parse(readFileSync(real, "utf8")).API_SECRET).toBe(SECRET);
    },
  );
});

describe("dotenv values are safe to source (issue 9.12)", () => {
  const tricky = [
    "$(touch pwned)",
    "`touch pwned`",
    "$HOME $PATH $1 $$",
    'dq"inside',
    "hash # not a comment",
    "  spaces  ",
    "back\\slash",
    "!history&|;<>*?",
  ];

  it("writes values sh, python-dotenv and dotenv all read back literally, running nothing", async () => {
    const file = join(dir, "bots.env");
    for (const [i, secret] of tricky.entries()) {
      await deliver(
        target(`dotenv:bots.env#K${i}`),
        payload({ credentials: { apiKey: `key-${i}`, secret: new Secret(secret) } }),
        { home },
      );
    }
    const names = tricky.map((_, i) => `K${i}_API_SECRET`);
    const npm = parse(readFileSync(file, "utf8"));
    expect(names.map((n) => npm[n])).toEqual(tricky);
    const sh = execFileSync(
      "/bin/sh",
      ["-c", `set -a; . ./bots.env; for n in ${names.join(" ")}; do eval "printf '%s\\0' \\"\\$$n\\""; done`],
      { cwd: dir, env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent" } },
    );
    expect(sh.toString("utf8").split("\0").slice(0, -1)).toEqual(tricky);
    const py = execFileSync("python3", [
      "-c",
      "import json,sys; from dotenv import dotenv_values; print(json.dumps(dotenv_values(sys.argv[1])))",
      file,
    ]).toString("utf8");
    const fromPython = JSON.parse(py) as Record<string, string>;
    expect(names.map((n) => fromPython[n])).toEqual(tricky);
    expect(readdirSync(dir)).not.toContain("pwned");
  });

  it("refuses a value no quoting keeps literal everywhere, naming the target and key, never the value", async () => {
    const file = join(dir, "bot.env");
    writeFileSync(file, "A=1\n");
    for (const [bad, why] of [
      ["CANARY-it's-$(id)", /a single quote/],
      ["CANARY-line\nbreak", /line break/],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal "${PATH}" in a secret
      ["CANARY-${PATH}", /python-dotenv expands/],
      ["CANARY-two\\\\backslashes", /two backslashes/],
      ["CANARY-trailing\\", /trailing backslash/],
    ] as const) {
      const e = await errorOf(() =>
        deliver(
          target("dotenv:bot.env#BOT"),
          payload({ credentials: { apiKey: "k", secret: new Secret(bad) } }),
          { home },
        ),
      );
      expect(e.code).toBe("DELIVERY_FAILED");
      expect(e.message).toMatch(why);
      expect(e.message).toContain(`dotenv:${file}#BOT`);
      expect(e.message).toContain('key "bot-1-rot-abc123-1"');
      expect(e.message).toContain("BOT_API_SECRET");
      expect(e.message).not.toContain("CANARY");
      expect(`${e.hint}`).not.toContain("CANARY");
    }
    expect(readFileSync(file, "utf8")).toBe("A=1\n");
  });
});
