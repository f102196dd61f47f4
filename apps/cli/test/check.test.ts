/**
 * `keyward check`: the policy check for cron, CI and monitoring, over HTTP against the simulator's desk.
 * The desk (see @keyward/simulator/testing) has, under the default policy: two trade keys bound to no IP
 * (OKX bot-2, Bybit scalp-2) and a Bitfinex key that can withdraw (bfx-mm): errors; an old key (bot-3),
 * keys about to expire and Bybit's master key with Account Transfer: warnings.
 */
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  BYBIT_ACCOUNT,
  desk,
  type Home,
  KEYS,
  OKX_ACCOUNT,
  parseJson,
  removeTempDirs,
  show,
  tempDir,
} from "./helpers.js";

afterAll(() => removeTempDirs());

interface Finding {
  severity: "error" | "warning";
  rule: string;
  keyId?: string;
  exchange: string;
  account: string;
  label: string;
  message: string;
}
interface Report {
  policy: string;
  keys: number;
  accounts: number;
  findings: Finding[];
  counts: { error: number; warning: number; ignored: number };
  complete: boolean;
}

const BOT2_ID = `okx:${OKX_ACCOUNT}:deskBots01:${KEYS.bot2.apiKey}`;
const lines = (text: string) => text.split("\n").filter((l) => l !== "");
const rulesOf = (r: Report) => r.findings.map((f) => `${f.severity} ${f.rule} ${f.label || f.account}`);

/** Writes a policy file (mode 0600) and returns its path. */
function policyFile(policy: unknown, name = "policy.json"): string {
  const path = join(tempDir("policy-"), name);
  writeFileSync(path, typeof policy === "string" ? policy : JSON.stringify(policy), { mode: 0o600 });
  return path;
}

async function report(home: Home, args: string[] = []): Promise<{ code: number | null; report: Report }> {
  const r = await home.run(["check", "--json", ...args]);
  return { code: r.code, report: parseJson<Report>(r) };
}

/**
 * A strict reader of Prometheus' text exposition format (0.0.4): HELP and TYPE before each metric's
 * samples, names and label names of the allowed characters, label values only with the three escapes.
 * Returns each sample's name, labels (unescaped) and value; throws on any line it cannot read.
 */
function parsePrometheus(text: string): { name: string; labels: Record<string, string>; value: number }[] {
  expect(text.endsWith("\n")).toBe(true);
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const typed = new Set<string>();
  for (const line of text.slice(0, -1).split("\n")) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") {
        expect(["gauge", "counter", "untyped"]).toContain(meta[3]);
        typed.add(meta[2] as string);
      }
      continue;
    }
    const head = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
    if (!head) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = head[1] as string;
    let rest = line.slice(name.length);
    const labels: Record<string, string> = {};
    if (rest.startsWith("{")) {
      rest = rest.slice(1);
      while (!rest.startsWith("}")) {
        const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,?)/.exec(rest);
        if (!m) throw new Error(`bad label in ${JSON.stringify(line)}`);
        labels[m[1] as string] = (m[2] as string).replace(/\\(\\|"|n)/g, (_, c: string) =>
          c === "n" ? "\n" : c,
        );
        rest = rest.slice(m[0].length);
        if (!m[3] && !rest.startsWith("}")) throw new Error(`bad label list in ${JSON.stringify(line)}`);
      }
      rest = rest.slice(1);
    }
    const value = /^ (-?[0-9.e+]+)$/.exec(rest);
    if (!value) throw new Error(`bad value in ${JSON.stringify(line)}`);
    if (!typed.has(name)) throw new Error(`${name} has no TYPE line before its samples`);
    samples.push({ name, labels, value: Number(value[1]) });
  }
  return samples;
}

describe.concurrent("check", () => {
  it("the default policy: one line per finding, errors first, within 120 columns; exit 1", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["check"]);
    expect(r.code, show(r)).toBe(1);
    const out = lines(r.stdout);
    for (const line of out) expect(line.length, line).toBeLessThanOrEqual(120);
    expect(out).toContain(
      `error    no-ip               okx ${OKX_ACCOUNT}/deskBots01 bot-2 5e1f…0012: can trade, bound to no IP`,
    );
    const severities = out.slice(0, -1).map((l) => l.split(" ")[0]);
    expect(severities).toEqual([...severities].sort()); // every error before any warning
    expect(out.at(-1)).toBe("FAILED: 3 errors, 5 warnings (11 keys in 3 accounts, policy: defaults)");

    const { code, report: json } = await report(home);
    expect(code).toBe(1);
    expect(json.policy).toBe("defaults");
    expect(json.complete).toBe(true);
    expect(rulesOf(json)).toEqual([
      "error no-ip scalp-2",
      "error no-ip bot-2",
      "error withdraw bfx-mm",
      "warning bybit-expires-soon scalp-2",
      "warning expiring scalp-2",
      "warning okx-idle-expiry bot-2",
      "warning old bot-3",
      "warning transfer bybit-master",
    ]);
    expect(json.findings.find((f) => f.label === "bot-2" && f.rule === "no-ip")).toMatchObject({
      keyId: BOT2_ID,
      exchange: "okx",
      account: OKX_ACCOUNT,
    });
  });

  it("a policy that makes those rules warnings exits 0; one with them off prints exactly one summary line", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const lenient = policyFile({ rules: { "no-ip": "warning", withdraw: "warning" } });
    const r = await home.run(["check", "--policy", lenient]);
    expect(r.code, show(r)).toBe(0);
    expect(lines(r.stdout)).toHaveLength(9);
    expect(lines(r.stdout).at(-1)).toBe("ok: 11 keys in 3 accounts meet the policy (8 warnings)");

    const off = policyFile({
      rules: Object.fromEntries(
        ["no-ip", "withdraw", "transfer", "old", "expiring", "okx-idle-expiry", "bybit-expires-soon"].map(
          (rule) => [rule, "off"],
        ),
      ),
    });
    const clean = await home.run(["check", "--policy", off]);
    expect(clean.code, show(clean)).toBe(0);
    expect(clean.stdout).toBe("ok: 11 keys in 3 accounts meet the policy\n");
  });

  it("policy.json in the home applies without --policy", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    writeFileSync(
      join(home.dir, "policy.json"),
      JSON.stringify({ rules: { "no-ip": "off", withdraw: "off" } }),
      {
        mode: 0o600,
      },
    );
    const { code, report: json } = await report(home);
    expect(code).toBe(0);
    expect(json.policy).toBe(join(home.dir, "policy.json"));
    expect(json.findings.every((f) => f.severity === "warning")).toBe(true);
  });

  it("an account's override wins over its exchange's, whatever their order in the file", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const policy = policyFile({
      overrides: [
        { account: OKX_ACCOUNT, rules: { "no-ip": "error" } },
        { exchange: "okx", rules: { "no-ip": "off", old: "error" } },
        { exchange: "bybit", rules: { "no-ip": "off" } },
      ],
    });
    const { code, report: json } = await report(home, ["--policy", policy]);
    expect(code).toBe(1);
    const rules = rulesOf(json);
    // OKX: the account's "error" beats the exchange's "off"; the exchange's "old" applies where the account says nothing.
    expect(rules).toContain("error no-ip bot-2");
    expect(rules).toContain("error old bot-3");
    // Bybit: only its exchange's override, which switches no-ip off.
    expect(rules.filter((f) => f.includes("no-ip scalp-2"))).toEqual([]);
  });

  it("an ignore with a reason suppresses one key's findings; one past its date does not, and is reported", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const ignoring = policyFile({
      ignore: [{ key: BOT2_ID, reason: "bot moves to a fixed IP on Friday", until: "2999-01-01" }],
    });
    const { report: now } = await report(home, ["--policy", ignoring]);
    expect(rulesOf(now).filter((f) => f.endsWith(" bot-2"))).toEqual([]);
    expect(now.counts.ignored).toBe(2); // no-ip and okx-idle-expiry
    expect(rulesOf(now)).toContain("error no-ip scalp-2");

    const expired = policyFile({
      ignore: [{ key: BOT2_ID, reason: "was moving to a fixed IP", until: "2020-01-31" }],
    });
    const r = await home.run(["check", "--policy", expired]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toMatch(/^error +no-ip +okx .* bot-2 .*bound to no IP$/m);
    expect(r.stdout).toMatch(
      /^warning +ignore-expired +okx .* bot-2 5e1f…0012: no longer ignored: its ignore ended /m,
    );
    const { report: json } = await report(home, ["--policy", expired]);
    expect(json.findings).toContainEqual(
      expect.objectContaining({
        severity: "warning",
        rule: "ignore-expired",
        keyId: BOT2_ID,
        message: 'no longer ignored: its ignore ended 2020-01-31 ("was moving to a fixed IP")',
      }),
    );
  });

  it("an ignore naming a key id the inventory does not hold is reported, and suppresses nothing", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    // BOT2_ID with one character changed: a typo, which must not look handled.
    const typo = `${BOT2_ID.slice(0, -1)}9`;
    const policy = policyFile({ ignore: [{ key: typo, reason: "bot moves to a fixed IP on Friday" }] });
    const r = await home.run(["check", "--policy", policy]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toMatch(/^error +no-ip +okx .* bot-2 .*bound to no IP$/m);
    const line = r.stdout.split("\n").find((l) => / ignore-unknown /.test(l));
    expect(line).toMatch(/^warning +ignore-unknown +okx desk-okx: ignore names no key: deskBots01:/);
    expect(line).toContain(typo.split(":").slice(2).join(":"));
    const { report: json } = await report(home, ["--policy", policy]);
    expect(json.counts.ignored).toBe(0);
    expect(json.findings).toContainEqual(
      expect.objectContaining({ severity: "warning", rule: "ignore-unknown", keyId: typo }),
    );
    // The right id: nothing reported about the ignore.
    const right = policyFile({ ignore: [{ key: BOT2_ID, reason: "bot moves to a fixed IP on Friday" }] });
    const { report: ok } = await report(home, ["--policy", right]);
    expect(ok.findings.filter((f) => f.rule === "ignore-unknown")).toEqual([]);
  });

  it("a bad policy file exits 2 naming the field, before any exchange is asked", async ({
    onTestFinished,
  }) => {
    const { sim, home } = await desk({ onTestFinished });
    const cases: [unknown, RegExp][] = [
      [{ rules: { "no-ip": "fatal" } }, /policy\.json: rules\.no-ip: .*"error"\|"warning"\|"off"/],
      [{ rules: { "no-ipp": "off" } }, /policy\.json: rules: Unrecognized key: "no-ipp"/],
      [{ expiringWithinDays: "14" }, /policy\.json: expiringWithinDays: .*number/],
      [{ ignore: [{ key: BOT2_ID }] }, /policy\.json: ignore\[0\]\.reason: /],
      [
        { overrides: [{ account: "desk-typo", rules: {} }] },
        /policy\.json: overrides\[0\]\.account: "desk-typo" is not an account/,
      ],
      ["{not json", /policy\.json: not valid JSON/],
    ];
    const before = (await sim.requests()).length;
    for (const [policy, message] of cases) {
      const r = await home.run(["check", "--policy", policyFile(policy)]);
      expect(r.code, show(r)).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
    }
    const writable = policyFile({});
    chmodSync(writable, 0o666);
    const open = await home.run(["check", "--policy", writable]);
    expect(open.code, show(open)).toBe(2);
    expect(open.stderr).toContain(`${writable} is writable by every user (mode 0666)`);
    const missing = await home.run(["check", "--policy", join(tempDir(), "nope.json")]);
    expect(missing.code, show(missing)).toBe(2);
    expect(missing.stderr).toMatch(/no such policy file/);
    expect((await sim.requests()).length).toBe(before);
  });

  it("--format prometheus: the text exposition format, counts per severity, rule, exchange and account", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["check", "--format", "prometheus"]);
    expect(r.code, show(r)).toBe(1);
    const samples = parsePrometheus(r.stdout);
    const value = (name: string, labels: Record<string, string> = {}) =>
      samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    expect(value("keyward_keys_total")).toBe(11);
    expect(value("keyward_check_success")).toBe(1);
    expect(Math.abs((value("keyward_check_timestamp_seconds") ?? 0) - Date.now() / 1000)).toBeLessThan(120);
    expect(
      value("keyward_policy_findings", {
        severity: "error",
        rule: "no-ip",
        exchange: "okx",
        account: OKX_ACCOUNT,
      }),
    ).toBe(1);
    expect(
      value("keyward_policy_findings", {
        severity: "error",
        rule: "withdraw",
        exchange: "bitfinex",
        account: BFX_ACCOUNT,
      }),
    ).toBe(1);
    const findings = samples.filter((s) => s.name === "keyward_policy_findings");
    expect(findings.reduce((n, s) => n + s.value, 0)).toBe(8);
  });

  it("-o writes the file atomically (a new file renamed over the old one), readable by a scraper", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const dir = tempDir("textfile-");
    const target = join(dir, "keyward.prom");
    writeFileSync(target, "old contents\n");
    const inode = statSync(target).ino;
    const r = await home.run(["check", "--format", "prometheus", "-o", target]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toBe("");
    const written = readFileSync(target, "utf8");
    expect(parsePrometheus(written).some((s) => s.name === "keyward_keys_total" && s.value === 11)).toBe(
      true,
    );
    expect(statSync(target).ino).not.toBe(inode); // replaced by rename, never rewritten in place
    expect(statSync(target).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(["keyward.prom"]); // no temp file left behind
  });

  it("a tracked key revoked on the exchange's site is a dead-tracked error, no longer a withdraw one", async ({
    onTestFinished,
  }) => {
    const { sim, home } = await desk({ onTestFinished });
    await sim.uiRevoke("bitfinex", KEYS.bfxMm.apiKey);
    const r = await home.run(["check", "--json"]);
    expect(r.code, show(r)).toBe(1);
    const json = parseJson<Report>(r);
    expect(json.findings).toContainEqual(
      expect.objectContaining({
        severity: "error",
        rule: "dead-tracked",
        account: BFX_ACCOUNT,
        label: "bfx-mm",
        message: "tracked, but no longer authenticates",
      }),
    );
    expect(rulesOf(json)).not.toContain("error withdraw bfx-mm");
  });

  it("an account that cannot be reached is an error finding, not a crash; the others are still checked", {
    timeout: 120_000,
  }, async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const config = JSON.parse(readFileSync(home.config, "utf8")) as {
      accounts: { name: string; endpoint?: string }[];
    };
    for (const a of config.accounts) if (a.name === BYBIT_ACCOUNT) a.endpoint = "http://127.0.0.1:9";
    writeFileSync(home.config, `${JSON.stringify(config, null, 2)}\n`);
    // Nothing listens there: the adapter retries the connection before it gives up (~20 s).
    const r = await home.run(["check", "--json"], { timeoutMs: 100_000 });
    expect(r.code, show(r)).toBe(1);
    const json = parseJson<Report>(r);
    expect(json.complete).toBe(false);
    expect(json.findings).toContainEqual(
      expect.objectContaining({ severity: "error", rule: "unreachable", account: BYBIT_ACCOUNT }),
    );
    expect(json.findings).toContainEqual(
      expect.objectContaining({ severity: "error", rule: "account-unhealthy", account: BYBIT_ACCOUNT }),
    );
    // The other accounts were checked as usual.
    expect(rulesOf(json)).toContain("error no-ip bot-2");
    expect(rulesOf(json)).toContain("error withdraw bfx-mm");
  });
});
