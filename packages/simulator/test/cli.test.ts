/**
 * The `keyward-sim` binary, as built (`dist/bin.js`; the turbo test task builds first): ready line,
 * signals, exit codes and the shipped demo scenario.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WorldView } from "../src/index.js";
import { scenario } from "./fixtures.js";
import { bfxCall, control, httpCall, okxCall, okxCode } from "./helpers.js";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const DEMO = fileURLToPath(new URL("../scenarios/demo.json", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

interface Urls {
  okx: string;
  bitfinex: string;
  control: string;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Sim {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
}

const running: ChildProcess[] = [];

function spawnSim(args: string[]): Sim {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: PACKAGE_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Resolves with the parsed ready line; rejects if the process exits first. */
function ready(sim: Sim): Promise<Urls> {
  const line = new Promise<Urls>((resolve, reject) => {
    const check = () => {
      const newline = sim.stdout().indexOf("\n");
      if (newline === -1) return false;
      resolve(JSON.parse(sim.stdout().slice(0, newline)) as Urls);
      return true;
    };
    if (check()) return;
    const onData = () => {
      if (check()) sim.child.stdout?.off("data", onData);
    };
    sim.child.stdout?.on("data", onData);
    void sim.exited.then((exit) =>
      reject(new Error(`exited before ready (${JSON.stringify(exit)}): ${sim.stderr()}`)),
    );
  });
  return withTimeout(line, 10_000, "startup");
}

async function start(args: string[]): Promise<{ sim: Sim; urls: Urls }> {
  const sim = spawnSim(args);
  return { sim, urls: await ready(sim) };
}

/** Runs the binary to its end: for arguments that make it stop by itself. */
async function runToExit(args: string[]): Promise<Exit & { stdout: string; stderr: string }> {
  const sim = spawnSim(args);
  const exit = await withTimeout(sim.exited, 10_000, "exit");
  return { ...exit, stdout: sim.stdout(), stderr: sim.stderr() };
}

async function stop(sim: Sim, signal: NodeJS.Signals): Promise<Exit> {
  sim.child.kill(signal);
  return withTimeout(sim.exited, 5_000, `exit after ${signal}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let dir = "";
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
let fixtureFile = "";

beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx tsc -p tsconfig.build.json)`);
  dir = mkdtempSync(join(tmpdir(), "keyward-sim-cli-"));
  fixtureFile = file("fixture.json", JSON.stringify(scenario()));
});

afterEach(() => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("keyward-sim", () => {
  it("prints exactly one JSON line of loopback URLs when ready, and they answer", async () => {
    const { sim, urls } = await start(["--scenario", fixtureFile]);
    for (const name of ["okx", "bitfinex", "control"] as const) {
      expect(urls[name]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
    expect(new Set([urls.okx, urls.bitfinex, urls.control]).size).toBe(3);

    const state = await control(urls.control, "GET", "/state");
    expect(state.status).toBe(200);
    const view = state.json as WorldView;
    expect(view.okx.accounts.map((a) => a.uid)).toEqual(["1001", "2001"]);
    expect(view.bitfinex.users.map((u) => u.id)).toEqual([501]);
    const time = await httpCall(`${urls.okx}/api/v5/public/time`);
    expect(okxCode(time)).toBe("0");
    const page = await httpCall(`${urls.bitfinex}/api`);
    expect(page.status).toBe(200);

    const lines = sim.stdout().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe("");
    expect(sim.stderr()).toBe("");
  });

  it.each(["SIGTERM", "SIGINT"] as const)("exits 0 on %s", async (signal) => {
    const { sim, urls } = await start(["--scenario", fixtureFile]);
    expect((await control(urls.control, "GET", "/state")).status).toBe(200);
    expect(await stop(sim, signal)).toEqual({ code: 0, signal: null });
    expect(sim.stdout().trim().split("\n")).toHaveLength(1);
  });

  it("exits 0 on a signal sent as soon as the ready line is out", async () => {
    const { sim } = await start(["--scenario", fixtureFile]);
    expect(await stop(sim, "SIGTERM")).toEqual({ code: 0, signal: null });
  });

  it("exits 0 on SIGTERM while a request hangs on an injected timeout", async () => {
    const { sim, urls } = await start(["--scenario", fixtureFile]);
    await control(urls.control, "POST", "/faults", { timeoutRate: 1 });
    const hung = new Promise<string>((resolve) => {
      const req = request(`${urls.okx}/api/v5/public/time`, (res) => resolve(`answered ${res.statusCode}`));
      req.on("error", (error) => resolve(error.message));
      req.end();
    });
    // Wait until the simulator has the request (it logs the timeout decision).
    await withTimeout(
      (async () => {
        for (;;) {
          const log = (await control(urls.control, "GET", "/requests")).json as unknown[];
          if (log.length > 0) return;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
      5_000,
      "hung request",
    );
    expect(await stop(sim, "SIGTERM")).toEqual({ code: 0, signal: null });
    expect(await hung).toMatch(/socket hang up|ECONNRESET/);
  });

  it("listens on the ports it is given and applies --latency-ms", async () => {
    const [okxPort, bitfinexPort, controlPort] = [await freePort(), await freePort(), await freePort()];
    const { urls } = await start([
      "--scenario",
      fixtureFile,
      "--okx-port",
      String(okxPort),
      "--bitfinex-port",
      String(bitfinexPort),
      "--control-port",
      String(controlPort),
      "--latency-ms",
      "300",
    ]);
    expect(urls).toMatchObject({
      okx: `http://127.0.0.1:${okxPort}`,
      bitfinex: `http://127.0.0.1:${bitfinexPort}`,
      control: `http://127.0.0.1:${controlPort}`,
    });
    const t0 = performance.now();
    const r = await httpCall(`${urls.okx}/api/v5/public/time`);
    expect(okxCode(r)).toBe("0");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    // The control API itself is not slowed down.
    const c0 = performance.now();
    await control(urls.control, "GET", "/state");
    expect(performance.now() - c0).toBeLessThan(250);
  });

  describe("bad scenarios exit 2 naming the problem", () => {
    it("a field of the wrong type", async () => {
      const s = scenario() as { okx: { accounts: Record<string, unknown>[] } };
      (s.okx.accounts[0] as Record<string, unknown>).uid = 5;
      const r = await runToExit(["--scenario", file("wrong-type.json", JSON.stringify(s))]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("okx.accounts[0].uid");
      expect(r.stdout).toBe("");
    });

    it("a missing field", async () => {
      const s = scenario() as { okx: { accounts: { keys: Record<string, unknown>[] }[] } };
      delete s.okx.accounts[0]?.keys[0]?.secretKey;
      const r = await runToExit(["--scenario", file("missing.json", JSON.stringify(s))]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("okx.accounts[0].keys[0].secretKey");
      expect(r.stdout).toBe("");
    });

    it("a Bitfinex field", async () => {
      const s = scenario() as { bitfinex: { users: { keys: Record<string, unknown>[] }[] } };
      const key = s.bitfinex.users[0]?.keys[1];
      if (key) key.permissions = [["account", 2, 0]];
      const r = await runToExit(["--scenario", file("bfx.json", JSON.stringify(s))]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("bitfinex.users[0].keys[1].permissions[0][1]");
    });

    it("invalid JSON", async () => {
      const path = file("broken.json", '{"okx": {"accounts": [');
      const r = await runToExit(["--scenario", path]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(path);
      expect(r.stderr).toMatch(/JSON/);
    });

    it("a file that does not exist", async () => {
      const path = join(dir, "no-such-file.json");
      const r = await runToExit(["--scenario", path]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(path);
      expect(r.stderr).toContain("ENOENT");
    });
  });

  describe("arguments", () => {
    it("an unknown flag exits 2 with the usage", async () => {
      const r = await runToExit(["--scenario", fixtureFile, "--bogus"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("--bogus");
      expect(r.stderr).toContain("Usage: keyward-sim");
      expect(r.stdout).toBe("");
    });

    it("a missing --scenario exits 2", async () => {
      const r = await runToExit([]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("--scenario");
    });

    it("a bad port exits 2 naming the flag", async () => {
      const r = await runToExit(["--scenario", fixtureFile, "--okx-port", "http"]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("--okx-port");
      const negative = await runToExit(["--scenario", fixtureFile, "--latency-ms", "-5"]);
      expect(negative.code, negative.stderr).toBe(2);
      expect(negative.stderr).toContain("--latency-ms");
    });

    it("--help prints the usage and exits 0", async () => {
      for (const flag of ["--help", "-h"]) {
        const r = await runToExit([flag]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain("Usage: keyward-sim --scenario FILE");
        for (const option of ["--okx-port", "--bitfinex-port", "--control-port", "--latency-ms"]) {
          expect(r.stdout).toContain(option);
        }
      }
    });

    it("a port in use exits 1", async () => {
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
      try {
        const { port } = blocker.address() as AddressInfo;
        const r = await runToExit(["--scenario", fixtureFile, "--control-port", String(port)]);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toContain("EADDRINUSE");
        expect(r.stdout).toBe("");
      } finally {
        await new Promise<void>((resolve) => blocker.close(() => resolve()));
      }
    });
  });

  describe("the shipped demo scenario", () => {
    interface DemoBfxKey {
      apiKey: string;
      apiSecret: string;
      ip: string[];
    }
    const demo = () =>
      JSON.parse(readFileSync(DEMO, "utf8")) as {
        okx: {
          accounts: { keys: { apiKey: string; secretKey: string; passphrase: string; ip: string }[] }[];
        };
        bitfinex: { users: { keys: DemoBfxKey[] }[] };
      };

    it("starts with 2 OKX accounts and 2 Bitfinex users, one Bitfinex key able to withdraw", async () => {
      const { urls } = await start(["--scenario", DEMO]);
      const view = (await control(urls.control, "GET", "/state")).json as WorldView;
      expect(view.okx.accounts).toHaveLength(2);
      expect(view.okx.accounts.every((a) => a.keys.length > 0 && a.subAccounts.length > 0)).toBe(true);
      expect(view.bitfinex.users).toHaveLength(2);
      const bfxKeys = view.bitfinex.users.flatMap((u) => u.keys);
      expect(bfxKeys).toHaveLength(6);
      const withdrawers = bfxKeys.filter((k) =>
        k.permissions.some(([scope, , write]) => scope === "withdraw" && write === 1),
      );
      expect(withdrawers).toHaveLength(1);
      expect(
        [...bfxKeys, ...view.okx.accounts.flatMap((a) => a.keys)].every((k) => k.status === "active"),
      ).toBe(true);
    });

    it("its keys work against the exchanges", async () => {
      const { urls } = await start(["--scenario", DEMO]);
      const seed = demo();
      const okxMaster = seed.okx.accounts[0]?.keys.find((k) => k.ip.split(",").includes("127.0.0.1"));
      if (!okxMaster) throw new Error("demo has no OKX master key bound to 127.0.0.1");
      const r = await okxCall(urls.okx, okxMaster, { path: "/api/v5/users/subaccount/list" });
      expect(okxCode(r)).toBe("0");
      const bfxKey = seed.bitfinex.users.flatMap((u) => u.keys).find((k) => k.ip.length === 0);
      if (!bfxKey) throw new Error("demo has no unbound Bitfinex key");
      const b = await bfxCall(urls.bitfinex, bfxKey, "auth/r/permissions");
      expect(b.status).toBe(200);
    });
  });
});
