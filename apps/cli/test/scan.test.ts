/**
 * `keyward scan` end to end: the built CLI over a temporary tree of ordinary files with keys planted in
 * it, against the desk's simulator. Known key ids (live and revoked), held secrets, unknown keys created
 * on the simulator behind Keyward's back, --json, --revoke --yes, --verify, a path that does not exist.
 * Every desk secret is a CANARY-… string runCli rejects in any output; the secrets the simulator makes
 * for the unknown keys are checked here.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ScanReportSchema } from "@keyward/core";
import { afterAll, describe, expect, it } from "vitest";
import {
  auditEntries,
  credentialsJson,
  desk,
  KEYS,
  OKX_ACCOUNT,
  parseJson,
  removeTempDirs,
  revokedKeys,
  shortKey,
  show,
  tempDir,
} from "./helpers.js";
import { plantedTree, sarifValidator } from "./scan-fixtures.js";

afterAll(() => removeTempDirs());

/** A tree of ordinary source files, with `planted` files (path → content) in it. */
const tree = (planted: Record<string, string>): string => plantedTree(planted, 30);

interface Entry {
  seq: number;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

describe.concurrent("scan", () => {
  it("a live known key id: exit 1, the table names its account and label, the key redacted", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = tree({ "deploy/bot.env": `# bot-1\nEXCHANGE=okx\nAPI_KEY=${KEYS.bot1.apiKey}\n` });
    const r = await home.run(["scan", root]);
    expect(r.code, show(r)).toBe(1);
    const row = r.stdout.split("\n").find((l) => l.includes(shortKey(KEYS.bot1.apiKey)));
    expect(row, show(r)).toMatch(/known key\s+okx\s+\S+\/\S+\s+bot-1\s/);
    expect(row).toContain(OKX_ACCOUNT);
    expect(row).toMatch(/active LIVE/);
    // WHERE is the last column: a long path goes to its own line under the row.
    expect(r.stdout).toContain(`${root}/deploy/bot.env:3:9`);
    expect(r.stdout).not.toContain(KEYS.bot1.apiKey);
    expect(r.stdout).toMatch(/Scanned 31 file\(s\) .* MB\/s\): 1 finding\(s\), 1 live\./);
    for (const line of r.stdout.split("\n")) expect(line.length).toBeLessThanOrEqual(120);
  });

  it("a file holding one key id 25 times: one finding, the summary says how many matches are not listed", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const lines = Array.from({ length: 25 }, () => `API_KEY=${KEYS.bot1.apiKey}`).join("\n");
    const root = tree({ "logs/flood.log": `${lines}\n` });
    const r = await home.run(["scan", root]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toMatch(/: 1 finding\(s\), 1 live\. 5 more match\(es\) not listed/);
  });

  it("--json: the report parses; a revoked key and its held secret are reported but not live (exit 0)", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    // Keyward holds bot-2's secret (tracked), then revokes the key and proves it dead.
    const track = await home.run(["key", "track", OKX_ACCOUNT, "--label", "bot-2", "--credentials-stdin"], {
      input: credentialsJson(KEYS.bot2),
    });
    expect(track.code, show(track)).toBe(0);
    const revoke = await home.run(["revoke", KEYS.bot2.apiKey, "--yes"]);
    expect(revoke.code, show(revoke)).toBe(0);
    expect(revokedKeys(await sim.state())).toContain(KEYS.bot2.apiKey);

    const root = tree({
      "old/config.json": JSON.stringify({ okx: { key: KEYS.bot2.apiKey, secret: KEYS.bot2.secretKey } }),
    });
    const r = await home.run(["scan", root, "--json"]);
    expect(r.code, show(r)).toBe(0);
    const report = ScanReportSchema.parse(parseJson(r));
    expect(report.findings.map((f) => [f.kind, f.state, f.live, f.keyShown])).toEqual([
      ["known-key", "retired", false, shortKey(KEYS.bot2.apiKey)],
      ["known-secret", "retired", false, shortKey(KEYS.bot2.apiKey)],
    ]);
    expect(report.auditSeq).toEqual(expect.any(Number));
    // The audit log holds the scan, and (runCli rejects any CANARY-… in any output) not the planted secret.
    const audit = auditEntries<Entry>(await home.run(["audit", "--json"]));
    expect(audit.find((e) => e.seq === report.auditSeq)?.action).toBe("scan.done");

    const table = await home.run(["scan", root]);
    expect(table.code, show(table)).toBe(0);
    expect(table.stdout).toMatch(/secret of key\s+okx\s.*bot-2\s.*retired\s/);
  });

  it("--revoke --yes kills the known keys with proof of death; scan.done, then revoke.requested naming it", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const root = tree({
      "srv/bot1.yaml": `exchange: okx\nkey: ${KEYS.bot1.apiKey}\n`,
      "srv/scalp.yaml": `exchange: bybit\nkey: ${KEYS.bybitScalp1.apiKey}\n`,
    });
    const r = await home.run(["scan", root, "--revoke", "--revoke-ids-alone", "--yes"], {
      timeoutMs: 60_000,
    });
    expect(r.code, show(r)).toBe(0);
    // Wrapped lines joined: a long reason continues on the next line.
    expect(r.stdout.replace(/\n\s+/g, " ")).toMatch(/key id found at .*bot1\.yaml:2, no secret with it/);
    const revoked = revokedKeys(await sim.state());
    expect(revoked).toEqual(expect.arrayContaining([KEYS.bot1.apiKey, KEYS.bybitScalp1.apiKey]));
    expect(r.stdout).toMatch(/Revoking the 2 live known key\(s\) the scan found/);

    const audit = auditEntries<Entry>(await home.run(["audit", "--json"]));
    const done = audit.find((e) => e.action === "scan.done");
    const requested = audit.find((e) => e.action === "revoke.requested");
    expect(done?.details).toMatchObject({ findings: 2, live: 2, verify: false });
    expect(requested?.seq).toBeGreaterThan(done?.seq ?? Number.POSITIVE_INFINITY);
    expect(requested?.details.cause).toEqual({ scan: done?.seq });
    expect(audit.filter((e) => e.action === "revoke.verified")).toHaveLength(2);

    // Scanned again: both are retired now, nothing live.
    const again = await home.run(["scan", root]);
    expect(again.code, show(again)).toBe(0);
  });

  it("--revoke: a key found by its id alone is not revoked without --revoke-ids-alone; one with its secret is, saying why", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    // Keyward holds bot-1's secret (tracked): the .env below holds it.
    const track = await home.run(["key", "track", OKX_ACCOUNT, "--label", "bot-1", "--credentials-stdin"], {
      input: credentialsJson(KEYS.bot1),
    });
    expect(track.code, show(track)).toBe(0);
    const root = tree({
      "notes.txt": `exchange: bybit\nkey: ${KEYS.bybitScalp1.apiKey}\n`,
      "bot/.env": `OKX_API_KEY=${KEYS.bot1.apiKey}\nOKX_SECRET_KEY=${KEYS.bot1.secretKey}\n`,
    });
    const r = await home.run(["scan", root, "--revoke", "--yes"], { timeoutMs: 60_000 });
    const revoked = revokedKeys(await sim.state());
    expect(revoked, show(r)).toContain(KEYS.bot1.apiKey);
    expect(revoked).not.toContain(KEYS.bybitScalp1.apiKey);
    expect(r.stdout).toMatch(/Not revoked: 1 key\(s\) found by their id alone/);
    const flat = r.stdout.replace(/\n\s+/g, " ");
    expect(flat).toMatch(/key id found at .*notes\.txt:2, no secret with it/);
    expect(flat).toMatch(/secret found at .*\.env:2/);
    // Each key as the report shows it (label, account, redacted), not its full id.
    expect(flat).toMatch(/bot-1 \(okx \S+\) \S{4}…\S{4}: secret found at/);
    expect(flat).not.toMatch(new RegExp(`:${KEYS.bot1.apiKey}: secret found`));
    expect(r.stdout).toMatch(/Revoking the 1 live known key\(s\) the scan found/);
    expect(r.stdout).not.toContain(KEYS.bot1.secretKey);
  });

  it("--verify: an unknown key made on the exchange behind Keyward's back is alive, a made-up pair dead", async ({
    onTestFinished,
  }) => {
    const { home, sim } = await desk({ onTestFinished });
    const passphrase = "Leaked-Pass-7f3a9c";
    const made = await sim.uiCreate<{ apiKey: string; secretKey: string }>({
      exchange: "okx",
      uid: "300000001",
      label: "forgotten-bot",
      perm: "read_only,trade",
      passphrase,
    });
    const fake = {
      apiKey: "3f6c2a1e-8b4d-4e7a-9c0f-5d2b8e1a7c64",
      secret: "9A4C1E7B2D8F3A6C5E0B9D4F7A2C8E1B",
    };
    const root = tree({
      "bot/.env": `OKX_API_KEY=${made.apiKey}\nOKX_SECRET_KEY=${made.secretKey}\nOKX_PASSPHRASE=${passphrase}\n`,
      "old/okx.json": JSON.stringify({
        okx: { apiKey: fake.apiKey, secretKey: fake.secret, passphrase: "Made-Up-Pass-01" },
      }),
    });
    const r = await home.run(["scan", root, "--verify", "--json"]);
    expect(r.code, show(r)).toBe(1);
    for (const secret of [
      made.secretKey,
      passphrase,
      fake.secret,
      "Made-Up-Pass-01",
      made.apiKey,
      fake.apiKey,
    ]) {
      expect(r.stdout + r.stderr).not.toContain(secret);
    }
    const report = ScanReportSchema.parse(parseJson(r));
    const alive = report.findings.find((f) => f.keyShown === shortKey(made.apiKey));
    const dead = report.findings.find((f) => f.keyShown === shortKey(fake.apiKey));
    expect(alive).toMatchObject({ kind: "unknown-key", exchange: "okx", secretFound: true, live: true });
    expect(alive?.verify).toMatchObject({
      status: "alive",
      permissions: expect.arrayContaining(["read", "trade"]),
    });
    expect(dead).toMatchObject({ kind: "unknown-key", live: false, verify: { status: "dead" } });

    const audit = await home.run(["audit", "--json"]);
    for (const secret of [made.secretKey, passphrase, fake.secret, made.apiKey, fake.apiKey]) {
      expect(audit.stdout).not.toContain(secret);
    }
    const done = auditEntries<Entry>(audit).find((e) => e.action === "scan.done");
    expect(done?.details).toMatchObject({ verify: true });
  });

  it("--git: a key id only history holds (a deleted file) is found at its first commit", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = tree({ "deploy/bot.env": `EXCHANGE=okx\nAPI_KEY=${KEYS.bot3.apiKey}\n` });
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", root, ...args], {
        env: {
          ...process.env,
          GIT_AUTHOR_NAME: "t",
          GIT_AUTHOR_EMAIL: "t@example.com",
          GIT_COMMITTER_NAME: "t",
          GIT_COMMITTER_EMAIL: "t@example.com",
        },
      })
        .toString()
        .trim();
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "first");
    const first = git("rev-parse", "HEAD");
    git("rm", "-q", "deploy/bot.env");
    git("commit", "-q", "-m", "remove the key");
    const files = await home.run(["scan", root]);
    expect(files.code, show(files)).toBe(0);
    const r = await home.run(["scan", root, "--git"]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).toContain(`deploy/bot.env@${first.slice(0, 8)}`);
    expect(r.stdout).toMatch(/known key\s+okx\s.*bot-3\s/);
    expect(r.stdout).toMatch(/blob\(s\) in 2 commit\(s\)/);
  });

  it("without the vault passphrase: exit 2 naming --no-vault; with --no-vault the last inventory's keys are found, the summary says what was not used", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const keys = await home.run(["keys"]);
    expect(keys.code, show(keys)).toBe(0);
    const root = tree({ "ops/reader.env": `OKX_KEY=${KEYS.opsReader.apiKey}\n` });
    const r = await home.run(["scan", root], { env: { KEYWARD_PASSPHRASE: undefined } });
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /keyward: the vault could not be opened \(.*no terminal to ask on\): nothing was scanned/,
    );
    expect(r.stderr).toMatch(/hint: .*`keyward scan … --no-vault`/s);

    const without = await home.run(["scan", root, "--no-vault"], { env: { KEYWARD_PASSPHRASE: undefined } });
    expect(without.code, show(without)).toBe(1);
    expect(without.stdout).toMatch(/known key\s+okx\s.*ops-reader\s/);
    expect(without.stdout).toMatch(
      /Not used, as asked: the vault \(--no-vault\): no held secret searched for/,
    );
    expect(without.stdout).toMatch(/WARNING: the vault was not opened \(as asked\)/);
  });

  it("a wrong vault passphrase: exit 2 with SCAN_VAULT_LOCKED's message (VAULT_PASSPHRASE), nothing scanned or audited", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const root = tree({ "ops/reader.env": `OKX_KEY=${KEYS.opsReader.apiKey}\n` });
    const r = await home.run(["scan", root], { env: { KEYWARD_PASSPHRASE: "not-the-passphrase" } });
    expect(r.code, show(r)).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /keyward: the vault could not be opened \(VAULT_PASSPHRASE: .*\): nothing was scanned/,
    );
    expect(r.stderr).toContain("--no-vault");
    const audit = auditEntries<Entry>(await home.run(["audit", "--json"]));
    expect(audit.filter((e) => e.action === "scan.done")).toEqual([]);
  });

  it("--sarif: SARIF 2.1.0 that validates against the official schema, one result per finding, no secret", async ({
    onTestFinished,
  }) => {
    const { home } = await desk({ onTestFinished });
    const unknown = { key: "Qm7RtX2vLp9KzN4wYc", secret: "Zt8Hq2Lm5Nv9Px3Rb6Sd1Fg4Jk7Wy0Ce2Ua5" };
    const root = tree({
      "srv/.env": `OKX_API_KEY=${KEYS.bot1.apiKey}\n\n# bybit hedge\nBYBIT_API_KEY=${unknown.key}\nBYBIT_API_SECRET=${unknown.secret}\n`,
    });
    const r = await home.run(["scan", root, "--sarif"]);
    expect(r.code, show(r)).toBe(1);
    expect(r.stdout).not.toContain(unknown.secret);
    expect(r.stdout).not.toContain(unknown.key);
    const log = parseJson<{ version: string; runs: { results: { level: string }[] }[] }>(r);
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.version).toBe("2.1.0");
    expect(log.runs[0]?.results).toHaveLength(2);
  });

  it("a path that does not exist: exit 2 naming it", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const missing = join(tempDir("tree-"), "no-such-dir");
    const r = await home.run(["scan", missing]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain(`keyward: ${missing} does not exist`);
  });

  it("--revoke with --json: exit 2, nothing read", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["scan", tempDir("tree-"), "--revoke", "--json"]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toMatch(/--revoke is not for --json/);
  });

  it("revoke options without --revoke: exit 2 naming them, nothing read", async ({ onTestFinished }) => {
    const { home } = await desk({ onTestFinished });
    const r = await home.run(["scan", tempDir("tree-"), "--dry-run", "--no-wait"]);
    expect(r.code, show(r)).toBe(2);
    expect(r.stderr).toContain("keyward: --dry-run, --no-wait are for --revoke, which was not given");
    expect(r.stdout).toBe("");
  });
});
