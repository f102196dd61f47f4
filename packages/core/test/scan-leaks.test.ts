/**
 * The scan use case (scanLeaks, revocableKeyIds) over real HTTP against the in-process simulator: a
 * temporary tree of ordinary files with key ids and secrets planted in it, the desk's home (an OKX
 * account with a sub-account, a Bitfinex account with tracked keys). Every secret of the desk is a canary
 * that must not appear in the report, its JSON or the audit log.
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { trackKey } from "../src/home/accounts.js";
import { SelectorSchema } from "../src/inventory/selectors.js";
import { sarifMessage, toSarif } from "../src/scan/sarif.js";
import { type ScanFinding, ScanReportSchema } from "../src/scan/scan-types.js";
import { generateLeakCorpus } from "../src/testing/index.js";
import {
  createKey,
  planLiveRevoke,
  revocableKeyIds,
  scanLeaks,
  startRevoke,
} from "../src/use-cases/index.js";
import { redactUnknownKey } from "../src/use-cases/scan-leaks.js";
import { putFile, removeDir, tempDir } from "./helpers/scan-fs.js";
import { creds as okxCreds } from "./okx-fixtures.js";
import { auditEntries, BFX, canariesOf, type Desk, OKX, openDesk, SUB } from "./use-cases-fixtures.js";

let desk: Desk;
let tree: string;

beforeEach(async () => {
  desk = await openDesk();
  tree = tempDir("scan-tree");
});
afterEach(async () => {
  const audit = JSON.stringify(await auditEntries(desk.home));
  await desk.close();
  removeDir(tree);
  for (const canary of canariesOf(desk.keys)) expect(audit).not.toContain(canary);
});

/** An ordinary source file with `planted` on line 3. */
function plant(path: string, planted: string): void {
  putFile(
    tree,
    path,
    `// settings for the market-making bot\nexport const retries = 3;\nexport const config = { ${planted} };\nexport default config;\n`,
  );
}

/** Ordinary files with nothing to find. */
function ordinary(): void {
  for (let i = 0; i < 20; i++) {
    putFile(
      tree,
      `src/module-${i}.ts`,
      `export function f${i}(x: number): number {\n  return x * ${i} + 0x${(i * 7919).toString(16)};\n}\n`,
    );
  }
}

const scan = (extra: Record<string, unknown> = {}) =>
  scanLeaks(
    desk.home,
    { roots: [tree], ...extra },
    { adapters: desk.adapters, verifyAdapterOptions: desk.options },
  );

/** The report as JSON, checked against the schema and every canary. */
function printable(report: unknown): string {
  const text = JSON.stringify(ScanReportSchema.parse(report));
  for (const canary of canariesOf(desk.keys)) expect(text).not.toContain(canary);
  return text;
}

describe("scanLeaks", () => {
  it("finds a live known key id with its account, sub-account and label, redacted; audits scan.done with its seq", async () => {
    ordinary();
    const bot = desk.keys.bot;
    plant("deploy/bot.ts", `apiKey: "${bot.apiKey}"`);
    const report = await scan();
    const text = printable(report);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "known-key",
        confidence: "certain",
        exchange: "okx",
        account: OKX,
        subAccount: SUB,
        label: bot.label,
        keyShown: `${bot.apiKey.slice(0, 4)}…${bot.apiKey.slice(-4)}`,
        state: "active",
        source: "inventory",
        live: true,
        locations: [expect.objectContaining({ path: join(tree, "deploy/bot.ts"), line: 3 })],
      }),
    ]);
    // A known key's id is Keyward's own (the inventory prints it); the key column shows its ends only.
    expect(text).not.toMatch(/"keyShown":"okx-ucbot/);
    expect(report.stats.files).toBe(21);
    expect(report.searched.keyIds).toBeGreaterThanOrEqual(6);
    const keyId = report.findings[0]?.keyId ?? "";
    expect(revocableKeyIds(report)).toEqual([keyId]);
    const entries = await desk.home.auditLog().list();
    const done = entries.find((e) => e.action === "scan.done");
    expect(done?.seq).toBe(report.auditSeq);
    expect(done?.details).toMatchObject({
      roots: [tree],
      findings: 1,
      live: 1,
      knownKeys: [keyId],
      verify: false,
    });
  });

  it("reports a held secret as the secret of its key, never its characters", async () => {
    const admin = desk.keys.admin;
    plant("ops/.env", `OKX_SECRET="${admin.secretKey}"`);
    const report = await scan();
    const text = printable(report);
    expect(text).not.toContain(admin.secretKey);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "known-secret",
        exchange: "okx",
        account: OKX,
        keyShown: `${admin.apiKey.slice(0, 4)}…${admin.apiKey.slice(-4)}`,
        secretFound: true,
        live: true,
      }),
    ]);
    expect(revocableKeyIds(report)).toEqual([report.findings[0]?.keyId]);
    expect(report.searched.secrets).toBeGreaterThan(0);
  });

  it("a revoked key and its held secret are reported as retired, not live, and not revocable", async () => {
    const bot = desk.keys.bot;
    // Keyward holds the bot key's secret (tracked), then revokes it and proves it dead.
    await trackKey(desk.home, OKX, "bot-tracked", okxCreds(bot));
    const ids = (
      await planLiveRevoke(desk.home, {
        selector: SelectorSchema.parse({ all: true }),
        adapters: desk.adapters,
      })
    ).inventory.keys
      .filter((k) => k.apiKey === bot.apiKey)
      .map((k) => k.id);
    const { plan } = await planLiveRevoke(desk.home, {
      selector: SelectorSchema.parse({ ids }),
      adapters: desk.adapters,
    });
    const session = await startRevoke(desk.home, plan, {
      adapterFor: desk.adapterFor,
      manual: { wait: false, timeoutMs: 1000, pollMs: 50 },
    });
    expect((await session.finished()).results[0]).toMatchObject({ outcome: "revoked", verified: true });

    plant("old/bot.json", `"key": "${bot.apiKey}", "secret": "${bot.secretKey}"`);
    const report = await scan();
    printable(report);
    expect(report.findings.map((f) => [f.kind, f.state, f.live])).toEqual([
      ["known-key", "retired", false],
      ["known-secret", "retired", false],
    ]);
    // The secret is named as the bot key's (the inventory lists it as the tracked key it also is).
    expect(report.findings[1]).toMatchObject({
      account: OKX,
      keyId: expect.stringMatching(`:${bot.apiKey}$`),
    });
    expect(revocableKeyIds(report)).toEqual([]);
  });

  it("--offline before any listing: an account's own key and a tracked key are known from the vault", async () => {
    plant("admin.ts", `key: "${desk.keys.admin.apiKey}"`);
    plant("mm.ts", `key: "${desk.keys.mm.apiKey}"`);
    const report = await scan({ offline: true });
    printable(report);
    expect(report.findings.map((f) => [f.kind, f.source, f.exchange, f.account, f.label])).toEqual([
      ["known-key", "tracked", "bitfinex", BFX, desk.keys.mm.label],
      ["known-key", "vault", "okx", OKX, ""],
    ]);
  });

  it("--offline: no exchange is asked; keys come from the last inventory", async () => {
    // One live listing fills the last inventory.
    await scan();
    const before = await desk.control.lastSeq();
    plant("bot.ts", `key: "${desk.keys.reader.apiKey}"`);
    const report = await scan({ offline: true });
    expect(await desk.control.requests(before)).toEqual([]);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "known-key",
        source: "last-inventory",
        label: desk.keys.reader.label,
        live: true,
      }),
    ]);
  });

  it("--no-secrets: held secrets are not searched for, and the warnings say so", async () => {
    plant("ops/.env", `OKX_SECRET="${desk.keys.admin.secretKey}"`);
    const report = await scan({ secrets: false });
    expect(report.findings).toEqual([]);
    expect(report.searched.secrets).toBe(0);
    expect(report.warnings.join("\n")).toMatch(/not searched for/);
  });

  it('a passphrase (person-chosen) is no oracle: alone in a wordlist it is no finding; next to its key id it is "passphrase of"', async () => {
    const real = desk.keys.admin.passphrase;
    expect(real.length).toBeGreaterThanOrEqual(8);
    const guesses = Array.from({ length: 500 }, (_, i) => (i === 317 ? real : `Guess-${i}-pass!`));
    putFile(tree, "wordlist.txt", `${guesses.join("\n")}\n`);
    const alone = await scan();
    const aloneText = printable(alone);
    expect(alone.findings).toEqual([]);
    expect(aloneText).not.toContain("wordlist.txt");
    expect(JSON.stringify(toSarif(alone, { version: "0" }))).not.toContain("wordlist.txt");

    putFile(
      tree,
      "okx.env",
      `OKX_API_KEY=${desk.keys.admin.apiKey}\nOKX_NOTE=main desk\nOKX_PASSPHRASE=${real}\n`,
    );
    const near = await scan();
    const nearText = printable(near);
    const sarif = JSON.stringify(toSarif(near, { version: "0" }));
    expect(nearText).not.toContain("wordlist.txt");
    expect(sarif).not.toContain(real);
    expect(nearText).not.toContain(real);
    const secretFinding = near.findings.find((f) => f.kind === "known-secret");
    expect(secretFinding).toMatchObject({ passphraseFound: true, secretFound: false });
    expect(secretFinding?.locations).toEqual([
      expect.objectContaining({ path: expect.stringMatching(/okx\.env$/), line: 3 }),
    ]);
    expect(sarifMessage(secretFinding as ScanFinding)).toMatch(/^The passphrase of /);
    const messages = toSarif(near, { version: "0" }).runs.flatMap((r) =>
      (r.results ?? []).map((x) => x.message.text),
    );
    expect(messages.join("\n")).not.toMatch(/secret of/i);
  });

  it("an OKX key made behind Keyward's back: found by its pattern, --verify says alive; once tracked, it is a known key", async () => {
    const passphrase = "Forgotten-Pass-42";
    const response = await fetch(`${desk.sim.control}/ui/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        exchange: "okx",
        uid: "7001",
        label: "forgotten",
        perm: "read_only,trade",
        passphrase,
      }),
    });
    const made = (await response.json()) as { apiKey: string; secretKey: string };
    expect(made.apiKey).toMatch(/^[0-9a-f-]{36}$/);
    plant(
      "bot/.env",
      `OKX_API_KEY=${made.apiKey}\nOKX_SECRET_KEY=${made.secretKey}\nOKX_PASSPHRASE=${passphrase}`,
    );
    const secrets = [made.apiKey, made.secretKey, passphrase];

    const report = await scan({ verify: true });
    const text = printable(report);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "unknown-key",
        exchange: "okx",
        confidence: "high",
        keyShown: `${made.apiKey.slice(0, 4)}…${made.apiKey.slice(-4)}`,
        secretFound: true,
        passphraseFound: true,
        live: true,
        verify: { status: "alive", permissions: ["read", "trade"] },
      }),
    ]);
    const audit = JSON.stringify(await auditEntries(desk.home));
    for (const secret of secrets) expect(audit).not.toContain(secret);
    expect(audit).toContain(`"verify":"alive"`);

    await trackKey(
      desk.home,
      OKX,
      "forgotten",
      okxCreds({ apiKey: made.apiKey, secretKey: made.secretKey, passphrase }),
    );
    const again = await scan();
    expect(again.findings.map((f) => [f.kind, f.label, f.secretFound, f.live])).toEqual([
      ["known-key", "forgotten", true, true],
      ["known-secret", "forgotten", true, true],
    ]);
  });

  it("--verify on a made-up pair: dead, so not live", async () => {
    plant(
      "old/okx.json",
      `"okx": { "apiKey": "3f6c2a1e-8b4d-4e7a-9c0f-5d2b8e1a7c64", "secretKey": "9A4C1E7B2D8F3A6C5E0B9D4F7A2C8E1B", "passphrase": "Made-Up-Pass-01" }`,
    );
    const report = await scan({ verify: true });
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "unknown-key", live: false, verify: { status: "dead" } }),
    ]);
  });

  it("minConfidence: a key-shaped id next to the exchange's name alone is low, left out by default; --verify skips it", async () => {
    plant("logs/okx.ts", `// okx order ref\nconst ref = "0b7c9e2a-4f1d-4c3b-8a6e-2d9f0c1b7e53";`);
    expect((await scan()).findings).toEqual([]);
    const low = await scan({ minConfidence: "low", verify: true });
    expect(low.findings).toEqual([
      expect.objectContaining({ kind: "unknown-key", confidence: "low", secretFound: false, live: true }),
    ]);
    // Nothing to probe it with: --verify skips it, and says why.
    expect(low.findings[0]?.verify).toEqual({
      status: "skipped",
      detail: expect.stringMatching(/no secret/),
    });
  });

  it("a generated tree of ordinary code with planted keys: exactly the planted ones, known and unknown, no secret shown", async () => {
    const { admin, bot, mm } = desk.keys;
    const corpus = await generateLeakCorpus({
      root: join(tree, "corpus"),
      seed: 15,
      files: 60,
      totalBytes: 600_000,
      plant: {
        known: [
          { exchange: "okx", key: bot.apiKey },
          { exchange: "okx", key: admin.apiKey, secret: admin.secretKey },
          { exchange: "bitfinex", key: mm.apiKey, secret: mm.apiSecret },
        ],
        unknownPerExchange: 2,
      },
    });
    const report = await scan();
    const text = printable(report);
    const shown = (key: string) => `${key.slice(0, 4)}…${key.slice(-4)}`;
    const unknown = corpus.planted.filter((p) => !p.known && (p.detect === "high" || p.detect === "medium"));
    expect(unknown.length).toBeGreaterThan(0);
    const expected = [
      ...[bot, admin].map((k) => `known-key okx ${shown(k.apiKey)}`),
      `known-key bitfinex ${shown(mm.apiKey)}`,
      `known-secret okx ${shown(admin.apiKey)}`,
      `known-secret bitfinex ${shown(mm.apiKey)}`,
      ...unknown.map((p) => `unknown-key ${p.exchange} ${redactUnknownKey(p.key)}`),
    ];
    expect(report.findings.map((f) => `${f.kind} ${f.exchange} ${f.keyShown}`).sort()).toEqual(
      expected.sort(),
    );
    // Each unknown key where the manifest planted it.
    for (const p of unknown) {
      const finding = report.findings.find(
        (f) => f.kind === "unknown-key" && f.keyShown === redactUnknownKey(p.key),
      );
      expect(finding?.locations).toContainEqual(
        expect.objectContaining({ path: join(tree, "corpus", p.path), line: p.line }),
      );
    }
    for (const p of corpus.planted) {
      for (const secret of [p.secret, p.passphrase].filter((x): x is string => x !== undefined)) {
        expect(text).not.toContain(secret);
      }
      if (!p.known) expect(text).not.toContain(p.key);
    }
  });

  it("a key create's stand-in (new:<label>, in the journal) is no needle: text naming it is no known key", async () => {
    const delivered = tempDir("scan-created");
    try {
      const created = await createKey(
        desk.home,
        {
          account: OKX,
          subAccount: SUB,
          label: "mm-bot-9",
          permissions: ["read"],
          ip: ["10.0.0.1"],
          deliver: [`dotenv:${delivered}/{label}.env`],
        },
        { cwd: null, allowPrograms: false },
        { env: {} },
      );
      expect((await created.session?.done)?.slots.map((s) => s.step)).toEqual(["finished"]);
      plant("notes.ts", `note: "the create ran as new:mm-bot-9"`);
      const report = await scan({ offline: true });
      expect(report.findings.filter((f) => f.kind !== "unknown-key")).toEqual([]);
    } finally {
      removeDir(delivered);
    }
  });

  it("Keyward's own files (directly in its home) are left out with a warning; a folder below the home is scanned", async () => {
    const dir = desk.home.paths.dir;
    await scan(); // a live listing: state.db's inventory cache now holds every key id
    putFile(dir, "leaky/bot.env", `KEY=${desk.keys.bot.apiKey}\n`);
    const report = await scanLeaks(desk.home, { roots: [dir], binary: true }, { adapters: desk.adapters });
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "known-key",
        label: desk.keys.bot.label,
        locations: [expect.objectContaining({ path: join(dir, "leaky", "bot.env") })],
      }),
    ]);
    expect(report.warnings.join("\n")).toMatch(/match\(es\) in Keyward's own files .* were left out/);
  });

  it("a path that does not exist: SCAN_PATH_INVALID naming it, nothing read or audited", async () => {
    const missing = join(tree, "no-such-folder");
    await expect(scan({ roots: [missing] })).rejects.toMatchObject({
      code: "SCAN_PATH_INVALID",
      message: expect.stringContaining(missing),
    });
    expect((await desk.home.auditLog().list()).some((e) => e.action === "scan.done")).toBe(false);
  });
});
