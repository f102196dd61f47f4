/**
 * `keyward scan --sarif` (scan/sarif.ts): the log validates against the official SARIF 2.1.0 JSON schema
 * (the copy `@microsoft/jest-sarif` ships, a draft-04 schema), a log broken on purpose does not, and the
 * log never holds a secret or an unknown key in full: for a report with every kind of finding and
 * location, and for a real scan (scanLeaks over the simulator's desk) of files and git history.
 */
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { exchangeProfile } from "../src/adapters/registry.js";
import { SARIF_FINGERPRINT_KEY, sarifLevel, toSarif } from "../src/index.js";
import { type ScanFinding, type ScanReport, ScanReportSchema } from "../src/scan/scan-types.js";
import { fakeCredentials, seededRng } from "../src/testing/index.js";
import { scanLeaks } from "../src/use-cases/index.js";
import { commitAll, initRepo, putFile, removeDir, tempDir } from "./helpers/scan-fs.js";
import { canariesOf, openDesk } from "./use-cases-fixtures.js";

const require = createRequire(import.meta.url);
// CommonJS packages: their default export is module.exports (as NodeNext types see it, `.default`).
const Ajv = (require("ajv-draft-04") as typeof import("ajv-draft-04")).default;
const addFormats = (require("ajv-formats") as typeof import("ajv-formats")).default;
const schema = require("@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json") as Record<string, unknown>;

function validator() {
  // The schema names draft-04 and uses the formats uri, uri-reference and date-time: all checked. Its
  // `language` pattern ("…{2}]?$") is valid only without the u flag, as draft-04's ECMA 262 regexes were.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

// What the report was made from: the raw key text and secrets. A report holds none of it in full.
const CANARY = {
  knownKey: "40c4a1e2-7f6b-4c1d-9e8a-3b2d1c0efc04",
  knownSecret: "CANARY5ECRET0123456789ABCDEF0123",
  unknownKey: "9b1f0c2e-1111-4a2b-8c3d-44e5f6a7b8c9",
  unknownSecret: "0A1B2C3D4E5F60718293A4B5C6D7E8F9",
  passphrase: "canary-passphrase-Zq8",
  lowKey: "AbCdEfGhIjKlMnOpQr",
};

const shown = (key: string) => `${key.slice(0, 4)}…${key.slice(-4)}`;

const base = {
  secretFound: false,
  passphraseFound: false,
  fingerprint: "0123456789abcdef0123456789abcdef",
} satisfies Partial<ScanFinding>;

const FINDINGS: ScanFinding[] = [
  {
    ...base,
    kind: "known-key",
    confidence: "certain",
    exchange: "okx",
    keyShown: shown(CANARY.knownKey),
    keyId: `okx:main:-:${CANARY.knownKey}`,
    account: "main",
    subAccount: null,
    label: "mm-bot\u202E1",
    permissions: ["read", "trade"],
    risks: ["no-ip-whitelist"],
    state: "active",
    source: "inventory",
    secretFound: true,
    live: true,
    locations: [
      { path: "/srv/bot server/.env", line: 3, column: 13 },
      {
        path: "config/keys.json",
        line: 1,
        column: 120,
        commit: "a".repeat(40),
        commitDate: "2026-11-30T10:00:00Z",
        repository: "/srv/bot server",
      },
    ],
  },
  {
    ...base,
    kind: "known-secret",
    confidence: "certain",
    exchange: "bitfinex",
    keyShown: "Xy12…9zZz",
    account: "treasury",
    subAccount: "desk-2",
    label: "withdrawals",
    state: "retired",
    source: "journal",
    secretFound: true,
    live: false,
    fingerprint: "fedcba9876543210fedcba9876543210",
    locations: [
      {
        path: "old/secrets.txt",
        line: 7,
        column: 1,
        commit: "b".repeat(40),
        commitDate: "2026-01-02T03:04:05Z",
        repository: "/srv/bot server",
      },
    ],
  },
  {
    ...base,
    kind: "unknown-key",
    confidence: "high",
    exchange: "okx",
    keyShown: shown(CANARY.unknownKey),
    secretFound: true,
    passphraseFound: true,
    verify: { status: "alive", permissions: ["read"] },
    live: true,
    fingerprint: "11111111111111111111111111111111",
    locations: [{ path: "/srv/bot server/app/settings.min.json", line: 1, column: 4021 }],
  },
  {
    ...base,
    kind: "unknown-key",
    confidence: "medium",
    exchange: "bybit",
    keyShown: "QWER…TYUI",
    secretFound: true,
    verify: { status: "dead" },
    live: false,
    fingerprint: "22222222222222222222222222222222",
    locations: [{ path: "notes.txt", line: 2, column: 5 }],
  },
  {
    ...base,
    kind: "unknown-key",
    confidence: "low",
    exchange: "bybit",
    keyShown: shown(CANARY.lowKey),
    live: true,
    fingerprint: "33333333333333333333333333333333",
    locations: [{ path: "rel/dir/a b#c.txt", line: 10, column: 2 }],
  },
];

const REPORT: ScanReport = ScanReportSchema.parse({
  roots: ["/srv/bot server", "notes.txt", "rel/dir/"],
  git: true,
  startedAt: "2026-12-02T05:00:00.000Z",
  findings: FINDINGS,
  stats: {
    files: 12,
    bytes: 34567,
    commits: 3,
    blobs: 9,
    skipped: { tooLarge: 0, binary: 1, unreadable: 0, notRegular: 0, excluded: 0 },
    skippedSources: [],
    hitsDropped: 0,
    elapsedMs: 12.5,
  },
  searched: { keyIds: 5, secrets: 2, exchanges: ["okx", "bitfinex", "bybit"] },
  warnings: ["The vault was not unlocked: its secrets were not searched for."],
  auditSeq: 42,
});

describe("SARIF 2.1.0 from a scan report", () => {
  const log = toSarif(REPORT, { version: "0.1.0" });
  const text = JSON.stringify(log);
  const run = log.runs[0];

  it("validates against the official SARIF 2.1.0 schema, with every kind of finding and location", () => {
    const validate = validator();
    const ok = validate(log);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    expect(log.version).toBe("2.1.0");
    expect(run?.results).toHaveLength(FINDINGS.length);
  });

  it("a log broken on purpose fails the same validation (the check can fail)", () => {
    const validate = validator();
    const broken = JSON.parse(text) as { runs: { results: { level: string; locations: unknown }[] }[] };
    const first = broken.runs[0]?.results[0];
    if (!first) throw new Error("no result");
    first.level = "fatal";
    expect(validate(broken)).toBe(false);
    const noVersion = JSON.parse(text) as Record<string, unknown>;
    delete noVersion.version;
    expect(validate(noVersion)).toBe(false);
    const badLine = JSON.parse(text) as typeof broken;
    const loc = badLine.runs[0]?.results[0]?.locations as {
      physicalLocation: { region: { startLine: number } };
    }[];
    if (!loc[0]) throw new Error("no location");
    loc[0].physicalLocation.region.startLine = 0;
    expect(validate(badLine)).toBe(false);
  });

  it("one rule per finding kind, with help that says to revoke with Keyward and rotate", () => {
    const rules = run?.tool.driver.rules ?? [];
    expect(rules.map((r) => r.id)).toEqual([
      "keyward/known-key",
      "keyward/known-secret",
      "keyward/unknown-key",
    ]);
    for (const rule of rules) {
      expect(rule.name).toBeTruthy();
      expect(rule.shortDescription?.text).toBeTruthy();
      expect(rule.fullDescription?.text).toBeTruthy();
      // Filed as security alerts with a severity by code-scanning tools (GitHub reads these properties).
      expect(rule.properties?.tags).toContain("security");
      expect(Number(rule.properties?.["security-severity"])).toBeGreaterThanOrEqual(7);
    }
    expect(rules[0]?.help?.text).toMatch(/keyward scan <path> --revoke/);
    expect(rules[0]?.help?.text).toMatch(/rotate/);
    expect(run?.tool.driver.name).toBe("keyward");
    expect(run?.tool.driver.version).toBe("0.1.0");
    const results = run?.results ?? [];
    expect(results.map((r) => [r.ruleId, rules[r.ruleIndex ?? -1]?.id])).toEqual(
      results.map((r) => [r.ruleId, r.ruleId]),
    );
  });

  it("levels: live is an error, not live a warning, low confidence a note", () => {
    expect(run?.results?.map((r) => r.level)).toEqual(["error", "warning", "error", "warning", "note"]);
    expect(sarifLevel({ live: true, confidence: "low" })).toBe("note");
  });

  it("messages name the exchange, the known key's account and label, the redacted key and the commit", () => {
    const [known, secret, unknown] = run?.results ?? [];
    expect(known?.message.text).toContain("OKX API key 40c4…fc04");
    expect(known?.message.text).toContain('"mm-bot\\u{202e}1" of account main');
    expect(known?.message.text).toContain("(active)");
    expect(known?.message.text).toContain(`commit ${"a".repeat(12)}`);
    expect(secret?.message.text).toMatch(
      /^The secret of Bitfinex API key Xy12…9zZz "withdrawals" of account treasury \/ desk-2/,
    );
    expect(unknown?.message.text).toContain("not known to Keyward (high confidence)");
    expect(unknown?.message.text).toContain("The exchange says: alive (read)");
    // The label's direction override is written out wherever the label goes.
    expect(text).not.toContain("\u202E");
  });

  it("locations are relative to the scanned root under a uriBaseId, with line and column; history says its commit", () => {
    const [known, secret, unknown, medium, low] = run?.results ?? [];
    const phys = (r: typeof known, i = 0) => r?.locations?.[i]?.physicalLocation;
    expect(phys(known)?.artifactLocation).toEqual({ uri: ".env", uriBaseId: "ROOT1" });
    expect(phys(known)?.region).toEqual({ startLine: 3, startColumn: 13 });
    // History: a path from the repository's top, under the repository's own base (always absolute).
    expect(phys(known, 1)?.artifactLocation).toEqual({ uri: "config/keys.json", uriBaseId: "REPO1" });
    expect(run?.originalUriBaseIds?.REPO1?.uri).toBe("file:///srv/bot%20server/");
    expect(known?.locations?.[1]?.properties).toMatchObject({
      commit: "a".repeat(40),
      repository: "/srv/bot server",
    });
    expect(known?.locations?.[1]?.message?.text).toContain(`commit ${"a".repeat(12)}`);
    expect(phys(secret)?.artifactLocation).toEqual({ uri: "old/secrets.txt", uriBaseId: "REPO1" });
    expect(phys(unknown)?.artifactLocation).toEqual({ uri: "app/settings.min.json", uriBaseId: "ROOT1" });
    // A root that is a file: its folder is the base, the file name the URI.
    expect(phys(medium)?.artifactLocation).toEqual({ uri: "notes.txt", uriBaseId: "ROOT2" });
    // Segments are percent-encoded; a root given relative has no absolute base URI.
    expect(phys(low)?.artifactLocation).toEqual({ uri: "a%20b%23c.txt", uriBaseId: "ROOT3" });
    expect(run?.originalUriBaseIds?.ROOT1?.uri).toBe("file:///srv/bot%20server/");
    expect(run?.originalUriBaseIds?.ROOT3?.uri).toBeUndefined();
  });

  it("fingerprints and properties: confidence, exchange, kind", () => {
    const [known] = run?.results ?? [];
    expect(known?.partialFingerprints).toEqual({ [SARIF_FINGERPRINT_KEY]: FINDINGS[0]?.fingerprint });
    expect(known?.properties).toMatchObject({
      confidence: "certain",
      exchange: "okx",
      kind: "known-key",
      live: true,
    });
  });

  it("holds no secret, passphrase or key in full (canaries), and is the same log for the same report", () => {
    for (const canary of Object.values(CANARY)) expect(text).not.toContain(canary);
    expect(JSON.stringify(toSarif(REPORT, { version: "0.1.0" }))).toBe(text);
  });
});

describe("SARIF of a real scan", () => {
  it("files and git history, known keys, a held secret and an unknown pair: valid 2.1.0, no secret, no unknown key in full", async () => {
    const desk = await openDesk();
    const repo = tempDir("sarif-repo");
    try {
      const unknown = fakeCredentials(exchangeProfile("okx"), seededRng(2101));
      const git = initRepo(repo);
      putFile(repo, "old.env", `BOT_KEY=${desk.keys.bot.apiKey}\n`);
      commitAll(git, "bot");
      git("rm", "-q", "old.env");
      putFile(repo, "ops.env", `OKX_SECRET="${desk.keys.admin.secretKey}"\n`);
      putFile(
        repo,
        "leak.json",
        JSON.stringify({
          okx: { apiKey: unknown.key, secretKey: unknown.secret, passphrase: unknown.passphrase },
        }),
      );
      commitAll(git, "ops");
      const report = await scanLeaks(
        desk.home,
        { roots: [repo], git: true },
        { adapters: desk.adapters, verifyAdapterOptions: desk.options },
      );
      expect(new Set(report.findings.map((f) => f.kind))).toEqual(
        new Set(["known-key", "known-secret", "unknown-key"]),
      );
      const log = toSarif(report, { version: "0.1.0" });
      const validate = validator();
      expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
      const text = JSON.stringify(log);
      const history = log.runs[0]?.results?.find((r) => r.locations?.some((l) => l.properties?.commit));
      expect(history?.locations?.[0]?.physicalLocation?.artifactLocation).toEqual({
        uri: "old.env",
        uriBaseId: "REPO1",
      });
      for (const canary of [
        ...canariesOf(desk.keys),
        unknown.key,
        unknown.secret,
        unknown.passphrase ?? "?",
      ]) {
        expect(text).not.toContain(canary);
      }
    } finally {
      await desk.close();
      removeDir(repo);
    }
  });
});

describe("SARIF: hostile paths and relative roots", () => {
  const hostile = "x\n\nAll clear\u202Etxt.exe";
  const report = ScanReportSchema.parse({
    ...REPORT,
    roots: [`app/${hostile}`],
    findings: [
      {
        ...FINDINGS[0],
        locations: [
          {
            path: `deploy/${hostile}.env`,
            line: 1,
            column: 1,
            commit: "c".repeat(40),
            repository: `app/${hostile}/..`.replace(/\/[^/]*\/\.\.$/, ""),
          },
        ],
      },
    ],
    stats: {
      ...REPORT.stats,
      skippedSources: [{ path: `app/${hostile}/big.bin`, reason: "binary" }],
    },
  });
  const log = toSarif(report, { version: "0.1.0" });
  const run = log.runs[0];

  it("valid 2.1.0; messages and base descriptions escape newlines and U+202E; URIs stay percent-encoded", () => {
    const validate = validator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    const texts = [
      ...(run?.results ?? []).flatMap((r) => (r.locations ?? []).map((l) => l.message?.text ?? "")),
      ...(run?.invocations?.[0]?.toolExecutionNotifications ?? []).map((n) => n.message.text ?? ""),
      ...Object.values(run?.originalUriBaseIds ?? {}).map((b) => b.description?.text ?? ""),
    ];
    expect(texts.filter((t) => t.includes("All clear"))).toHaveLength(3);
    for (const t of texts) expect(t).not.toMatch(/[\n\u202E]/);
    expect(texts.join()).toContain("\\u{a}\\u{a}All clear\\u{202e}txt.exe");
    const where = run?.results?.[0]?.locations?.[0]?.physicalLocation?.artifactLocation;
    expect(where?.uri).toContain("%0A%0AAll%20clear%E2%80%AEtxt.exe.env");
  });

  it("a repository found from a relative root is relative to that root's base: no absolute path in the log", () => {
    expect(run?.originalUriBaseIds?.REPO1).toMatchObject({ uri: "../", uriBaseId: "ROOT1" });
    expect(run?.originalUriBaseIds?.ROOT1?.uri).toBeUndefined();
    expect(JSON.stringify(log)).not.toContain("file://");
    expect(JSON.stringify(log)).not.toContain(process.cwd());
  });
});
