/**
 * Issue 9.9: the home is private. A home, or a file Keyward reads from it, that another local user can
 * write (or owns) is refused by `open` with HOME_INSECURE naming the path and the fix; `init` tightens
 * what the user owns. Account endpoints are https, or plain http to a loopback address only.
 */
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AccountSchema,
  emptyConfig,
  isKeywardError,
  KeywardError,
  KeywardHome,
  parseConfig,
  Secret,
} from "../src/index.js";

const OPTIONS = {
  passphrase: async () => new Secret("CANARY-home-privacy-passphrase"),
  vault: { workFactor: 10 },
  actor: "test:privacy",
};
/** Tests run as root in CI and containers: "another user" is made with chown. */
const isRoot = process.getuid?.() === 0;
const OTHER_UID = 4242;

let root: string;
let dir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "keyward-privacy-"));
  dir = join(root, "home");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

async function initHome(): Promise<void> {
  await (await KeywardHome.init(dir, OPTIONS)).home.close();
}

/** Opens the home and returns the error it is refused with. */
function refusal(): KeywardError {
  try {
    void KeywardHome.open(dir, OPTIONS).close();
  } catch (error) {
    if (error instanceof KeywardError) return error;
    throw error;
  }
  throw new Error("the home was opened");
}

describe.skipIf(process.platform === "win32")("home privacy", () => {
  it("init makes the home 0700 and its files 0600, whatever the umask left", async () => {
    await initHome();
    expect(mode(dir)).toBe(0o700);
    for (const f of ["config.json", "vault.age", "state.db"]) expect(mode(join(dir, f)), f).toBe(0o600);
    await KeywardHome.open(dir, OPTIONS).close();
  });

  it("init tightens a home made under a loose umask (0777 folder, 0666 files)", async () => {
    await initHome();
    chmodSync(dir, 0o777);
    for (const f of ["config.json", "vault.age", "state.db"]) chmodSync(join(dir, f), 0o666);
    await initHome();
    expect(mode(dir)).toBe(0o700);
    for (const f of ["config.json", "vault.age", "state.db"]) expect(mode(join(dir, f)), f).toBe(0o600);
  });

  it("init on an existing, group-writable folder it did not create tightens it", async () => {
    mkdirSync(dir, { mode: 0o775 });
    chmodSync(dir, 0o775);
    await initHome();
    expect(mode(dir)).toBe(0o700);
  });

  it("open refuses a group- or world-writable home, naming it and the fix", async () => {
    await initHome();
    for (const m of [0o770, 0o707, 0o777]) {
      chmodSync(dir, m);
      const error = refusal();
      expect(error.code).toBe("HOME_INSECURE");
      expect(error.message).toContain(dir);
      expect(error.message).toMatch(/is writable by (its group|every user)/);
      expect(error.hint).toContain(`chmod 700 ${dir}`);
    }
    chmodSync(dir, 0o700);
    await KeywardHome.open(dir, OPTIONS).close();
  });

  it("open refuses a home other users may list or enter, and a vault, database or head copy they may read (review 5)", async () => {
    await initHome();
    for (const m of [0o750, 0o755, 0o701]) {
      chmodSync(dir, m);
      const error = refusal();
      expect(error.code).toBe("HOME_INSECURE");
      expect(error.message).toMatch(
        new RegExp(
          `^${dir} is open to (its group|every user|its group and every user) \\(mode 0${m.toString(8)}\\)`,
        ),
      );
      expect(error.hint).toContain(`chmod 700 ${dir}`);
    }
    chmodSync(dir, 0o700);
    const head = join(dir, "audit-head.json");
    expect(statSync(head).isFile()).toBe(true); // init keyed the log, so the head copy exists
    for (const [f, fix, why] of [
      ["vault.age", "chmod 600", /guess the vault passphrase offline/],
      ["audit-head.json", "chmod 600", /guess the vault passphrase offline/],
      ["state.db", "chmod go-rwx", /tracked key, label, rotation and the audit log/],
    ] as const) {
      const path = join(dir, f);
      for (const m of [0o644, 0o640, 0o604]) {
        chmodSync(path, m);
        const error = refusal();
        expect(error.code, f).toBe("HOME_INSECURE");
        expect(error.message).toMatch(
          new RegExp(
            `^${path} is readable by (its group|every user|its group and every user) \\(mode 0${m.toString(8)}\\): `,
          ),
        );
        expect(error.message).toMatch(why);
        expect(error.hint).toContain(`${fix} ${path}`);
      }
      chmodSync(path, 0o600);
    }
    // config.json holds no secret: others may read it, not write it.
    chmodSync(join(dir, "config.json"), 0o644);
    await KeywardHome.open(dir, OPTIONS).close();
  });

  it("open checks state.db's -journal and -wal too", async () => {
    await initHome();
    for (const f of ["state.db-journal", "state.db-wal"]) {
      const path = join(dir, f);
      writeFileSync(path, "");
      chmodSync(path, 0o644);
      const error = refusal();
      expect(error.message, f).toMatch(new RegExp(`^${path} is readable by its group and every user`));
      expect(error.hint).toContain(`chmod go-rwx ${path}`);
      rmSync(path);
    }
  });

  it("init tightens a 0755 home with 0644 files it finds (review 5: the README said so)", async () => {
    await initHome();
    chmodSync(dir, 0o755);
    for (const f of ["vault.age", "state.db", "audit-head.json"]) chmodSync(join(dir, f), 0o644);
    await initHome();
    expect(mode(dir)).toBe(0o700);
    for (const f of ["vault.age", "state.db", "audit-head.json"]) expect(mode(join(dir, f)), f).toBe(0o600);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755); // a folder made by hand before `keyward init`
    await initHome();
    expect(mode(dir)).toBe(0o700);
  });

  it("refuses a home file that is a symlink, even one that leads to a private file (review 5)", async () => {
    await initHome();
    const config = join(dir, "config.json");
    const elsewhere = join(root, "elsewhere");
    mkdirSync(elsewhere, { mode: 0o700 });
    renameSync(config, join(elsewhere, "config.json"));
    symlinkSync(join(elsewhere, "config.json"), config);
    const error = refusal();
    expect(error.code).toBe("HOME_INSECURE");
    expect(error.message).toBe(
      `${config} is a symlink (to ${join(elsewhere, "config.json")}); the home's files must be the files themselves`,
    );
    await expect(KeywardHome.init(dir, OPTIONS)).rejects.toSatisfy((e) => isKeywardError(e, "HOME_INSECURE"));
  });

  it("open refuses a writable config.json, vault.age or state.db, naming the file and the fix", async () => {
    await initHome();
    for (const f of ["config.json", "vault.age", "state.db"]) {
      const path = join(dir, f);
      chmodSync(path, 0o620);
      const error = refusal();
      expect(error.code, f).toBe("HOME_INSECURE");
      expect(error.message).toBe(`${path} is writable by its group (mode 0620)`);
      expect(error.hint).toContain(f === "state.db" ? `chmod go-rwx ${path}` : `chmod 600 ${path}`);
      chmodSync(path, 0o600);
    }
    // A write-protected ("frozen") state.db is private and still opens, read-only.
    chmodSync(join(dir, "state.db"), 0o400); // `chmod a-w` on a private 0600 file
    const home = KeywardHome.open(dir, OPTIONS);
    expect(home.state().readonly).toBe(true);
    await home.close();
  });

  it("open refuses a swapped config.json pointing an endpoint elsewhere (world-writable)", async () => {
    await initHome();
    const config = join(dir, "config.json");
    chmodSync(config, 0o666);
    writeFileSync(config, JSON.stringify({ ...emptyConfig(), accounts: [] }));
    expect(refusal().code).toBe("HOME_INSECURE");
  });

  it.skipIf(!isRoot)("open refuses a home or a file owned by another user, even as root", async () => {
    await initHome();
    const config = join(dir, "config.json");
    chownSync(config, OTHER_UID, OTHER_UID);
    let error = refusal();
    expect(error.code).toBe("HOME_INSECURE");
    expect(error.message).toBe(
      `${config} is owned by uid ${OTHER_UID}, not by the user running Keyward (uid 0)`,
    );
    expect(error.hint).toContain(`chown 0 ${config}`);
    chownSync(config, 0, 0);

    chownSync(dir, OTHER_UID, OTHER_UID);
    error = refusal();
    expect(error.message).toContain(`${dir} is owned by uid ${OTHER_UID}`);
    // init does not take over another user's folder either.
    await expect(KeywardHome.init(dir, OPTIONS)).rejects.toSatisfy((e) => isKeywardError(e, "HOME_INSECURE"));
    expect(statSync(dir).uid).toBe(OTHER_UID);
  });

  it("a missing home is still reported as missing", () => {
    expect(refusal().code).toBe("CONFIG_INVALID");
    expect(refusal().message).toMatch(/no Keyward home at/);
  });
});

describe("account endpoints", () => {
  const account = (endpoint: string) => ({
    name: "desk",
    exchange: "okx",
    endpoint,
    credentialsRef: "account:desk",
  });

  it("accept https anywhere and http only to loopback addresses (parsed, not pattern-matched)", () => {
    for (const ok of [
      "https://www.okx.com",
      "https://proxy.internal:8443/okx",
      "http://127.0.0.1:8080",
      "http://127.9.8.7",
      "http://localhost:9000",
      "http://LOCALHOST:9000",
      "http://[::1]:9000",
      "http://[0:0:0:0:0:0:0:1]/",
      "http://2130706433/", // 127.0.0.1, as the URL parser reads it
      "http://0x7f.1/",
    ]) {
      expect(AccountSchema.safeParse(account(ok)).success, ok).toBe(true);
    }
    for (const bad of [
      "http://example.com",
      "http://10.0.0.5:8080",
      "http://127.0.0.1.nip.io",
      "http://localhost.evil.example",
      "http://[::2]",
      "http://128.0.0.1",
      "ftp://127.0.0.1",
    ]) {
      const parsed = AccountSchema.safeParse(account(bad));
      expect(parsed.success, bad).toBe(false);
      expect(parsed.error?.issues[0]?.path, bad).toEqual(["endpoint"]);
    }
  });

  it("a config.json with a plain-http endpoint elsewhere is refused, naming the field", () => {
    const config = { version: 1, accounts: [account("http://attacker.example:8080")] };
    try {
      parseConfig(config, "/home/x/config.json");
      expect.unreachable("accepted");
    } catch (error) {
      expect(isKeywardError(error, "CONFIG_INVALID")).toBe(true);
      expect((error as Error).message).toMatch(
        /^\/home\/x\/config\.json: accounts\[0\]\.endpoint: must be https: .*"attacker\.example" is not one/,
      );
    }
  });
});
