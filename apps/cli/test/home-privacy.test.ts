/**
 * Issue 9.9: the home is private. A local user who can change `config.json` could point an account's
 * endpoint at their own listener and receive the signed requests (API key, signature, OKX passphrase).
 * So a home or a file in it that another user can write, or owns, is refused (exit 2, the path and the
 * fix named) before anything is read or sent; `init` tightens a home made under a loose umask; and
 * endpoints are https, or plain http to a loopback address only.
 */
import { chmodSync, chownSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import {
  credentialsJson,
  desk,
  Home,
  KEYS,
  type RunResult,
  removeTempDirs,
  show,
  tempDir,
} from "./helpers.js";

afterAll(() => removeTempDirs());

const isRoot = process.getuid?.() === 0;
const mode = (path: string) => statSync(path).mode & 0o777;

const expectRefused = (r: RunResult, message: string, hint: string) => {
  expect(r.code, show(r)).toBe(2);
  expect(r.stderr).toContain(`keyward: ${message}`);
  expect(r.stderr).toContain(hint);
  expect(r.stdout).toBe("");
};

/** An "attacker's" listener on this machine that records every request it gets. */
async function listener(context: { onTestFinished(fn: () => unknown): void }) {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)}`);
    res.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  context.onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe.concurrent("home privacy (issue 9.9)", () => {
  it("a group- or world-writable home is refused with the fix; nothing is sent", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    chmodSync(home.dir, 0o770);
    expectRefused(
      await home.run(["keys"]),
      `${home.dir} is writable by its group (mode 0770)`,
      `chmod 700 ${home.dir}`,
    );
    chmodSync(home.dir, 0o777);
    expectRefused(
      await home.run(["revoke", "--all", "--yes"]),
      `${home.dir} is writable by its group and every user (mode 0777)`,
      `chmod 700 ${home.dir}`,
    );
    expect(await sim.requests()).toEqual([]);
    chmodSync(home.dir, 0o700);
    const ok = await home.run(["keys", "--json"]);
    expect(ok.code, show(ok)).toBe(0);
  });

  it("a swapped, world-writable config.json pointing at another listener is refused before any request", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const attacker = await listener({ onTestFinished });
    const config = JSON.parse(readFileSync(home.config, "utf8")) as { accounts: { endpoint?: string }[] };
    for (const account of config.accounts) account.endpoint = attacker.url;
    writeFileSync(home.config, JSON.stringify(config));
    chmodSync(home.config, 0o666);
    expectRefused(
      await home.run(["account", "check"]),
      `${home.config} is writable by its group and every user (mode 0666)`,
      `chmod 600 ${home.config}`,
    );
    expect(attacker.seen).toEqual([]);
    expect(await sim.requests()).toEqual([]);
  });

  it("a writable vault.age or state.db is refused too", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    chmodSync(home.vault, 0o606);
    expectRefused(
      await home.run(["keys"]),
      `${home.vault} is writable by every user (mode 0606)`,
      `chmod 600 ${home.vault}`,
    );
    chmodSync(home.vault, 0o600);
    chmodSync(home.state, 0o660);
    expectRefused(
      await home.run(["audit"]),
      `${home.state} is writable by its group (mode 0660)`,
      `chmod go-rwx ${home.state}`,
    );
  });

  it.skipIf(!isRoot)(
    "a config.json or home owned by another user is refused, even for root",
    async ({ onTestFinished }) => {
      const { home, sim } = await desk({ onTestFinished });
      chownSync(home.config, 4242, 4242);
      expectRefused(
        await home.run(["keys"]),
        `${home.config} is owned by uid 4242, not by the user running Keyward (uid 0)`,
        `chown 0 ${home.config}`,
      );
      chownSync(home.config, 0, 0);
      chownSync(home.dir, 4242, 4242);
      expectRefused(await home.run(["keys"]), `${home.dir} is owned by uid 4242`, "Use a home of your own");
      expectRefused(await home.run(["init"]), `${home.dir} is owned by uid 4242`, "Use a home of your own");
      expect(statSync(home.dir).uid).toBe(4242);
      expect(await sim.requests()).toEqual([]);
    },
  );

  it("a home others may enter, or a vault others may read, is refused; init tightens them (review 5)", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    chmodSync(home.dir, 0o755);
    expectRefused(
      await home.run(["keys"]),
      `${home.dir} is open to its group and every user (mode 0755)`,
      `chmod 700 ${home.dir}`,
    );
    chmodSync(home.vault, 0o644);
    const init = await home.run(["init"]);
    expect(init.code, show(init)).toBe(0);
    expect(mode(home.dir)).toBe(0o700);
    expect(mode(home.vault)).toBe(0o600);
    chmodSync(home.vault, 0o644);
    expectRefused(
      await home.run(["keys"]),
      `${home.vault} is readable by its group and every user (mode 0644): anyone who can read it can copy it and guess the vault passphrase offline`,
      `chmod 600 ${home.vault}`,
    );
    expect(await sim.requests()).toEqual([]);
  });

  it.skipIf(!isRoot)(
    "rotate apply refuses a plan file another user owns or could swap (review 4), before anything runs",
    async ({ onTestFinished }) => {
      const { home, sim } = await desk({ onTestFinished });
      const shared = tempDir("shared-");
      chownSync(shared, 65534, 65534); // "nobody" owns the folder the plan is in
      chmodSync(shared, 0o755);
      const plan = `${shared}/plan.json`;
      writeFileSync(plan, "{}\n", { mode: 0o600 });
      expectRefused(
        await home.run(["rotate", "apply", plan]),
        `the plan ${plan}: ${shared} belongs to uid 65534, neither root nor Keyward's user (uid 0)`,
        "make the plan again",
      );
      chownSync(plan, 65534, 65534);
      expectRefused(
        await home.run(["rotate", "apply", plan]),
        `the plan ${plan}: owned by uid 65534, not by the user running Keyward (uid 0)`,
        `chown 0 ${plan}`,
      );
      expect(await sim.requests()).toEqual([]);
    },
  );

  it("init tightens a home folder made under a loose umask to 0700, its files 0600", async () => {
    const home = new Home(`${tempDir()}/nested`);
    mkdirSync(home.dir, { mode: 0o777 });
    chmodSync(home.dir, 0o777); // what mkdir gives under umask 000
    const r = await home.run(["init"]);
    expect(r.code, show(r)).toBe(0);
    expect(mode(home.dir)).toBe(0o700);
    for (const f of [home.config, home.vault, home.state]) expect(mode(f), f).toBe(0o600);
    // And the same when run again on a loosened home.
    chmodSync(home.config, 0o664);
    const again = await home.run(["init"]);
    expect(again.code, show(again)).toBe(0);
    expect(mode(home.config)).toBe(0o600);
  });

  it("account add refuses a plain-http endpoint that is not loopback, before probing anything", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const before = readFileSync(home.config, "utf8");
    const r = await home.run(
      ["account", "add", "okx", "elsewhere", "--endpoint", "http://10.11.12.13:8080", "--credentials-stdin"],
      { input: credentialsJson(KEYS.okxMaster) },
    );
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/keyward: --endpoint: must be https: .*"10\.11\.12\.13" is not one/);
    expect(readFileSync(home.config, "utf8")).toBe(before);
    expect(await sim.requests()).toEqual([]);
  });

  it("config.json with a plain-http endpoint elsewhere names the field", async ({ onTestFinished }) => {
    const { home, sim } = await desk({ onTestFinished });
    const config = JSON.parse(readFileSync(home.config, "utf8")) as { accounts: { endpoint?: string }[] };
    const first = config.accounts[0];
    if (first) first.endpoint = "http://keyward-proxy.example:8080";
    writeFileSync(home.config, JSON.stringify(config));
    const r = await home.run(["keys"]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/config\.json: accounts\[0\]\.endpoint: must be https:/);
    expect(await sim.requests()).toEqual([]);
  });
});
