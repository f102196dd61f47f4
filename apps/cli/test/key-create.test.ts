/**
 * Issue 14, key creation: `keyward key create` through the built binary against the simulator. A key
 * created in an OKX sub-account is listed by the exchange with the asked permissions and IPs, its secret
 * is in the targets (a probe signed here proves it), in the vault (the inventory probes it) and nowhere
 * else; a crash right after the exchange answered the create, then the same command again, ends with
 * exactly one working key with the label; every refusal exits 2 before any request.
 */
import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { KeywardHome, Secret } from "@keyward/core";
import { parse } from "dotenv";
import { afterAll, describe, expect, it } from "vitest";
import {
  BIN,
  KEYS,
  OKX_ACCOUNT,
  openDb,
  PASSPHRASE,
  type RunResult,
  removeTempDirs,
  show,
} from "./helpers.js";
import { checkNoSecrets, okxProbe, outputOf, rotationDesk, stateBytes } from "./rotate-helpers.js";

afterAll(() => removeTempDirs());

const SUB = "rotbots01";

type Desk = Awaited<ReturnType<typeof rotationDesk>>;

const liveWithLabel = async (sim: Desk["sim"], label: string) =>
  (await sim.state()).okx.accounts
    .flatMap((a) => a.subAccounts.flatMap((s) => s.keys.map((k) => ({ ...k, sub: s.name }))))
    .filter((k) => k.label === label && k.status === "active");

function targets(dir: string, label: string) {
  const envFile = join(dir, "bot.env");
  const jsonFile = join(dir, "bot.json");
  writeFileSync(envFile, "LOG_LEVEL=info\n", { mode: 0o600 });
  writeFileSync(jsonFile, `${JSON.stringify({ bots: {} })}\n`, { mode: 0o600 });
  return {
    args: ["--deliver", `dotenv:${envFile}`, "--deliver", `json:${jsonFile}#/bots/${label}`],
    read() {
      const env = parse(readFileSync(envFile, "utf8"));
      const json = JSON.parse(readFileSync(jsonFile, "utf8")) as {
        bots: Record<string, { apiKey?: string; secret?: string; passphrase?: string }>;
      };
      return {
        dotenv: { apiKey: env.API_KEY, secret: env.API_SECRET, passphrase: env.API_PASSPHRASE },
        json: json.bots[label] ?? {},
      };
    },
  };
}

const auditActions = (home: Desk["home"]) => {
  const db = openDb(home.state, { readonly: true });
  const rows = db.prepare("SELECT action FROM audit_log").all() as { action: string }[];
  const all = JSON.stringify(db.prepare("SELECT * FROM audit_log").all());
  db.close();
  return { actions: rows.map((r) => r.action), all };
};

/** A colleague makes a key in a sub-account with the master key, by a signed request as a script would. */
async function okxCreateSubKey(
  base: string,
  spec: { sub: string; label: string; perm: string; ip: string },
): Promise<{ code: string; apiKey?: string }> {
  const path = "/api/v5/users/subaccount/apikey";
  const body = JSON.stringify({
    subAcct: spec.sub,
    label: spec.label,
    passphrase: "Colleague-pass-1!",
    perm: spec.perm,
    ip: spec.ip,
  });
  const ts = new Date().toISOString();
  const master = KEYS.okxMaster;
  const sign = createHmac("sha256", master.secretKey).update(`${ts}POST${path}${body}`).digest("base64");
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "OK-ACCESS-KEY": master.apiKey,
      "OK-ACCESS-SIGN": sign,
      "OK-ACCESS-TIMESTAMP": ts,
      "OK-ACCESS-PASSPHRASE": master.passphrase,
    },
    body,
  });
  const answer = (await res.json()) as { code: string; data?: { apiKey: string }[] };
  return { code: answer.code, ...(answer.data?.[0] ? { apiKey: answer.data[0].apiKey } : {}) };
}

describe("key create", () => {
  it.concurrent("creates an OKX sub-account key: listed as asked, delivered, in the vault, audited, secret nowhere else", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 2);
    const t = targets(dir, "mm-new-1");
    const runs: RunResult[] = [];
    const r = await home.run(
      [
        "key",
        "create",
        OKX_ACCOUNT,
        "--sub",
        SUB,
        "--label",
        "mm-new-1",
        "--perm",
        "read,trade",
        "--ip",
        "127.0.0.1",
        ...t.args,
        "--json",
      ],
      { timeoutMs: 60_000 },
    );
    runs.push(r);
    expect(r.code, show(r)).toBe(0);
    const report = JSON.parse(r.stdout) as { outcome: string; keyId: string; label: string };
    expect(report).toMatchObject({ outcome: "finished", label: "mm-new-1" });
    const live = await liveWithLabel(sim, "mm-new-1");
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ sub: SUB, perm: "read_only,trade", ip: "127.0.0.1" });
    expect(report.keyId).toContain(live[0]?.apiKey);
    const delivered = t.read();
    expect(delivered.dotenv.apiKey).toBe(live[0]?.apiKey);
    expect(delivered.json).toEqual(expect.objectContaining(delivered.dotenv));
    expect(await okxProbe(sim.okx, delivered.dotenv)).toEqual({
      code: "0",
      perm: "read_only,trade",
      ip: "127.0.0.1",
    });
    // The vault holds it under the key's id (as a rotated key's), where inventory and probes find it.
    const opened = KeywardHome.open(home.dir, {
      passphrase: async () => new Secret(PASSPHRASE),
      actor: "test",
    });
    try {
      const held = (await opened.vault()).get(`key:${report.keyId}`);
      expect(held?.apiKey).toBe(delivered.dotenv.apiKey);
      expect(held?.secret.reveal()).toBe(delivered.dotenv.secret);
    } finally {
      await opened.close();
    }
    // The inventory lists it.
    const keys = await home.run(["keys", "--json"], { timeoutMs: 60_000 });
    runs.push(keys);
    expect(keys.code, show(keys)).toBe(0);
    expect(keys.stdout).toContain(live[0]?.apiKey);
    const { actions, all } = auditActions(home);
    expect(actions).toEqual(
      expect.arrayContaining([
        "key.creating",
        "key.created",
        "key.verified",
        "key.delivered",
        "key.finished",
        // The run itself reads as a create too: not `rotation.requested` / `rotation.run-finished`.
        "key.create-requested",
        "key.create-finished",
      ]),
    );
    expect(actions).not.toContain("rotation.requested");
    expect(actions).not.toContain("rotation.run-finished");
    // A probe proved this one (it is bound to this machine's IP): plain "verified".
    expect(JSON.stringify(report)).toMatch(/new key verified: probe: alive/);
    const status = await home.run(["rotate", "status", "--json"]);
    runs.push(status);
    checkNoSecrets({ "stdout/stderr": outputOf(runs), "the audit log": all, "state.db": stateBytes(home) }, [
      delivered.dotenv.secret ?? "",
      delivered.dotenv.passphrase ?? "",
    ]);
    expect((await home.run(["audit", "verify"])).code).toBe(0);
  });

  it.concurrent("bound to other IPs: verified by the exchange's listing and said so; a relative --deliver path is made absolute; --dry-run needs no target", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 2);
    const base = ["key", "create", OKX_ACCOUNT, "--sub", SUB, "--perm", "read,trade", "--ip", "203.0.113.7"];
    const before = (await sim.control<unknown[]>("GET", "/requests")).length;
    // --dry-run plans and checks without a target, and says a real run needs one; nothing is sent.
    const dry = await home.run([...base, "--label", "mm-dry", "--dry-run"]);
    expect(dry.code, show(dry)).toBe(0);
    expect(dry.stdout).toMatch(/a real run needs at least one --deliver target/);
    expect(dry.stdout).toMatch(/Nothing was created/);
    expect((await sim.control<unknown[]>("GET", "/requests")).length).toBe(before);
    // The CLI runs in tmpdir(): the target is given relative to it, and written where it resolves.
    const absolute = join(dir, "far.env");
    const rel = relative(tmpdir(), absolute);
    expect(rel.startsWith("/")).toBe(false);
    const planned = await home.run([...base, "--label", "mm-far", "--deliver", `dotenv:${rel}`, "--dry-run"]);
    expect(planned.code, show(planned)).toBe(0);
    expect(planned.stdout).toContain(absolute);
    const r = await home.run([...base, "--label", "mm-far", "--deliver", `dotenv:${rel}`], {
      timeoutMs: 60_000,
    });
    expect(r.code, show(r)).toBe(0);
    const words = "verified by the exchange's listing (probe inconclusive: not whitelisted for this IP)";
    // Read as one line: the final line wraps at 120 columns.
    const oneLine = r.stdout.replace(/\s+/g, " ");
    expect(oneLine).toContain(`: ${words}, and delivered.`);
    expect(oneLine).not.toMatch(/verified and delivered/);
    expect(r.stdout).toContain(absolute);
    expect(r.stderr).toContain(`new key ${words}`);
    const live = await liveWithLabel(sim, "mm-far");
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ ip: "203.0.113.7" });
    expect(parse(readFileSync(absolute, "utf8")).API_KEY).toBe(live[0]?.apiKey);
    const db = openDb(home.state, { readonly: true });
    const verified = db.prepare("SELECT details FROM audit_log WHERE action = 'key.verified'").all() as {
      details: string;
    }[];
    db.close();
    expect(verified).toHaveLength(1);
    expect(verified[0]?.details).toContain(words);
    expect(verified[0]?.details).not.toMatch(/new key verified:/);
  });

  it.concurrent("killed right after the exchange answered the create, the same command again leaves exactly one working key", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 2);
    const t = targets(dir, "mm-crash");
    const args = [
      "key",
      "create",
      OKX_ACCOUNT,
      "--sub",
      SUB,
      "--label",
      "mm-crash",
      "--perm",
      "read,trade",
      "--ip",
      "127.0.0.1",
      ...t.args,
    ];
    const crashed = await home.run(args, {
      env: { KEYWARD_TEST_CRASH_AFTER: "create-answered" },
      timeoutMs: 60_000,
    });
    expect(crashed.signal, show(crashed)).toBe("SIGKILL");
    // The secret the exchange answered with was lost with the process: that key is an orphan.
    const orphan = await liveWithLabel(sim, "mm-crash");
    expect(orphan).toHaveLength(1);
    // The same label with another intent is refused, not mixed up with the unfinished create.
    const other = await home.run([...args.slice(0, 8), "read", "--ip", "127.0.0.1", ...t.args]);
    expect(other.code, show(other)).toBe(2);
    expect(other.stderr).toMatch(/unfinished key create/);
    const again = await home.run(args, { timeoutMs: 60_000 });
    expect(again.code, show(again)).toBe(0);
    expect(again.stderr).toMatch(/Continuing the unfinished create/);
    const live = await liveWithLabel(sim, "mm-crash");
    expect(live).toHaveLength(1);
    expect(live[0]?.apiKey).not.toBe(orphan[0]?.apiKey);
    const delivered = t.read();
    expect(delivered.dotenv.apiKey).toBe(live[0]?.apiKey);
    expect(await okxProbe(sim.okx, delivered.dotenv)).toMatchObject({ code: "0" });
    expect(auditActions(home).actions).toContain("rotation.orphan-deleted");
    // A third run: the label now names a live key, so it is refused rather than duplicated.
    const third = await home.run(args, { timeoutMs: 60_000 });
    expect(third.code, show(third)).toBe(2);
    expect(await liveWithLabel(sim, "mm-crash")).toHaveLength(1);
  });

  it.concurrent("stopped at `creating`, a colleague's key with the same label is left alone: no orphan delete, a clear stop, resumable", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 2);
    const t = targets(dir, "mm-shared");
    const args = [
      "key",
      "create",
      OKX_ACCOUNT,
      "--sub",
      SUB,
      "--label",
      "mm-shared",
      "--perm",
      "read,trade",
      "--ip",
      "127.0.0.1",
      ...t.args,
    ];
    // (a) Keyward journals `creating` and dies before its create request.
    const crashed = await home.run(args, {
      env: { KEYWARD_TEST_CRASH_AFTER: "creating" },
      timeoutMs: 60_000,
    });
    expect(crashed.signal, show(crashed)).toBe("SIGKILL");
    expect(await liveWithLabel(sim, "mm-shared")).toHaveLength(0);
    // (b) A colleague makes their own key with that label there (other permissions and IPs).
    const colleague = await okxCreateSubKey(sim.okx, {
      sub: SUB,
      label: "mm-shared",
      perm: "read_only",
      ip: "10.0.0.7",
    });
    expect(colleague.code).toBe("0");
    // (c) The same command again, as the operator is told: the colleague's key is not Keyward's orphan.
    const again = await home.run(args, { timeoutMs: 60_000 });
    expect(again.code, show(again)).not.toBe(0);
    const output = `${again.stdout}\n${again.stderr}`;
    expect(output).toMatch(/mm-shared/);
    expect(output).toMatch(/cannot prove it made/);
    expect(output).toMatch(/permissions differ/);
    const theirs = colleague.apiKey ?? "-";
    expect(output).toContain(`${theirs.slice(0, 4)}…${theirs.slice(-4)}`);
    expect(output).toMatch(/revoke it yourself/);
    expect(output).toMatch(/another label/);
    const live = await liveWithLabel(sim, "mm-shared");
    expect(live.map((k) => k.apiKey)).toEqual([colleague.apiKey]);
    expect(live[0]).toMatchObject({ perm: "read_only", ip: "10.0.0.7" });
    const { actions } = auditActions(home);
    expect(actions).not.toContain("rotation.orphan-deleted");
    expect(actions).toContain("rotation.failed");
    // State consistent: the slot is still at `creating`, stopped with the reason, nothing created.
    const status = await home.run(["rotate", "status", "--json"]);
    expect(status.code, show(status)).toBe(0);
    expect(status.stdout).toMatch(/"step": ?"creating"/);
    expect(status.stdout).toMatch(/ROTATION_CONFLICT/);
    // Resumable: once the colleague's key is out of the way (they revoke it), the same command finishes.
    await sim.control("POST", "/ui/revoke", { exchange: "okx", apiKey: colleague.apiKey });
    const resumed = await home.run(args, { timeoutMs: 60_000 });
    expect(resumed.code, show(resumed)).toBe(0);
    const mine = await liveWithLabel(sim, "mm-shared");
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ perm: "read_only,trade", ip: "127.0.0.1" });
    expect(t.read().dotenv.apiKey).toBe(mine[0]?.apiKey);
    expect(auditActions(home).actions).not.toContain("rotation.orphan-deleted");
    expect((await home.run(["audit", "verify"])).code).toBe(0);
  });

  it.concurrent("refuses, exit 2 and no request: person-created kind, withdraw, trade without IP, bad label, no target, secret to a pipe", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 2);
    const t = targets(dir, "x");
    const base = ["key", "create", OKX_ACCOUNT];
    const cases: [string[], RegExp][] = [
      [[...base, "--label", "m1", "--perm", "read", ...t.args], /only by a person[\s\S]*keyward key track/],
      [
        [...base, "--sub", SUB, "--label", "w1", "--perm", "read,withdraw", "--ip", "127.0.0.1", ...t.args],
        /--allow-withdraw/,
      ],
      [[...base, "--sub", SUB, "--label", "t1", "--perm", "read,trade", ...t.args], /--no-ip/],
      [[...base, "--sub", SUB, "--label", "bad label!", "--perm", "read", ...t.args], /label "bad label!"/],
      [
        [...base, "--sub", SUB, "--label", "ip1", "--perm", "read", "--ip", "300.1.1.1", ...t.args],
        /not an IP address/,
      ],
      [[...base, "--sub", SUB, "--label", "n1", "--perm", "read"], /--deliver/],
      [
        [...base, "--sub", SUB, "--label", "s1", "--perm", "read", "--show-secret-once"],
        /only on a terminal/,
      ],
    ];
    const before = (await sim.control<unknown[]>("GET", "/requests")).length;
    for (const [args, message] of cases) {
      const r = await home.run(args);
      expect(r.code, show(r)).toBe(2);
      expect(r.stderr, show(r)).toMatch(message);
    }
    expect((await sim.control<unknown[]>("GET", "/requests")).length).toBe(before);
    const dry = await home.run([
      ...base,
      "--sub",
      SUB,
      "--label",
      "d1",
      "--perm",
      "read,trade",
      "--no-ip",
      ...t.args,
      "--dry-run",
    ]);
    expect(dry.code, show(dry)).toBe(0);
    expect(dry.stdout).toMatch(/Nothing was created/);
    expect((await sim.control<unknown[]>("GET", "/requests")).length).toBe(before);
  });

  it.concurrent("--show-secret-once on a terminal prints the secret once (the one delivered) and audits that it was shown", {
    timeout: 90_000,
  }, async (context) => {
    const { sim, home, dir } = await rotationDesk(context, 2);
    const t = targets(dir, "mm-once");
    const args = [
      "--home",
      home.dir,
      "key",
      "create",
      OKX_ACCOUNT,
      "--sub",
      SUB,
      "--label",
      "mm-once",
      "--perm",
      "read",
      ...t.args,
      "--show-secret-once",
    ];
    const env: NodeJS.ProcessEnv = { NO_COLOR: "1", KEYWARD_PASSPHRASE: PASSPHRASE };
    for (const [k, v] of Object.entries(process.env))
      if (!k.startsWith("KEYWARD_") && !k.startsWith("VITEST")) env[k] ??= v;
    // `script` gives the command a terminal (a pty) for stdin and stdout, as a person's shell would.
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
    const output = await new Promise<string>((resolve, reject) =>
      execFile("script", ["-qec", quoted, "/dev/null"], { env, timeout: 60_000 }, (error, stdout) =>
        error ? reject(new Error(`${error.message}\n${stdout}`)) : resolve(stdout),
      ),
    );
    const delivered = t.read();
    expect(delivered.dotenv.apiKey).toBe((await liveWithLabel(sim, "mm-once"))[0]?.apiKey);
    const secret = delivered.dotenv.secret ?? "-";
    expect(output.split(secret).length - 1, output).toBe(1);
    const { actions, all } = auditActions(home);
    expect(actions).toContain("key.secret-shown");
    expect(all).not.toContain(secret);
  });
});
