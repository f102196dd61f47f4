/**
 * The Scan page's API (routes/scan.ts) over real HTTP, against the test desk's simulator: a folder on
 * this machine with a planted live key id, a secret the vault holds and an unknown key pair is scanned
 * by core's scanLeaks; the answers name the known keys' accounts and labels, say which keys "Revoke
 * these" selects (and the revoke plan takes exactly those), and never carry file content, a secret or
 * an unknown key in full (canaries). A bad path is a 400 naming the field.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  CANARIES,
  type Client,
  type Desk,
  followEvents,
  KEYS,
  leaks,
  login,
  OKX_ACCOUNT,
  received,
  startDesk,
  statuses,
  waitFor,
} from "./helpers.js";

/** An unknown key pair in Bybit's shape (18 and 36 letters and digits), in no account of the desk. */
const UNKNOWN_KEY = "Zx9QwE4rTy7UiO2pAs";
const UNKNOWN_SECRET = "Lm3Nb6Vc9Xz2Qa5Ws8Ed1Rf4Tg7Yh0UjIkOp";
/** A line of the planted files that no answer may carry (file content stays on the server). */
const FILE_CANARY = "CANARY-file-content-7d1e93";

interface ScanJob {
  id: string;
  status: string;
  revocable: string[];
  revocableKeys: { keyId: string; secretFound: boolean; reason: string }[];
  report: {
    findings: {
      kind: string;
      keyId?: string;
      account?: string;
      subAccount?: string | null;
      label?: string;
      keyShown: string;
      live: boolean;
      confidence: string;
      locations: { path: string; line: number; commit?: string }[];
      verify?: { status: string };
    }[];
    stats: { files: number };
  } | null;
}

let desk: Desk;
let client: Client;
let folder: string;
/** Every event the scans streamed (followEvents reads with fetch: not in `received`). */
const streamed: string[] = [];

beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
  folder = mkdtempSync(join(tmpdir(), "keyward-web-scan-"));
  mkdirSync(join(folder, "src", "config"), { recursive: true });
  writeFileSync(
    join(folder, ".env"),
    [
      `# ${FILE_CANARY}`,
      `OKX_API_KEY=${KEYS.bot1.apiKey}`,
      "",
      `BYBIT_API_KEY=${UNKNOWN_KEY}`,
      `BYBIT_API_SECRET=${UNKNOWN_SECRET}`,
      "",
    ].join("\n"),
  );
  // The tracked Bitfinex key's secret (the vault holds it): found as "the secret of bfx-mm", never shown.
  writeFileSync(join(folder, "src", "config", "bfx.json"), JSON.stringify({ secret: KEYS.bfxMm.apiSecret }));
  writeFileSync(join(folder, "src", "app.js"), `export const greeting = "hello"; // ${FILE_CANARY}\n`);
});
afterAll(async () => {
  await desk?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function scanToEnd(body: object): Promise<ScanJob> {
  const started = await client.post("/api/scan/start", body);
  expect(started.status, started.body).toBe(202);
  const { jobId } = started.json<{ jobId: string }>();
  const stream = followEvents(client, `/api/scan/jobs/${jobId}/events`);
  try {
    await waitFor("the scan's end", async () =>
      stream.events.some((e) => e.event === "finished") ? true : undefined,
    );
  } finally {
    stream.stop();
    streamed.push(...stream.events.map((e) => JSON.stringify(e)));
  }
  return (await client.get(`/api/scan/jobs/${jobId}`)).json<ScanJob>();
}

describe("the Scan page's API", () => {
  it("finds the planted live key with its account and label, the held secret, and the unknown key redacted", async () => {
    const job = await scanToEnd({ path: folder });
    expect(job.status).toBe("finished");
    const findings = job.report?.findings ?? [];
    const bot1 = findings.find((f) => f.kind === "known-key" && f.keyId?.endsWith(KEYS.bot1.apiKey));
    expect(bot1).toMatchObject({ account: OKX_ACCOUNT, label: "bot-1", live: true, confidence: "certain" });
    expect(bot1?.locations).toEqual([expect.objectContaining({ path: join(folder, ".env"), line: 2 })]);
    const secret = findings.find((f) => f.kind === "known-secret");
    expect(secret).toMatchObject({ account: BFX_ACCOUNT, label: "bfx-mm" });
    const unknown = findings.find((f) => f.kind === "unknown-key");
    expect(unknown?.keyShown).toBe(`${UNKNOWN_KEY.slice(0, 4)}…${UNKNOWN_KEY.slice(-4)}`);
    // "Revoke these": the live known keys, which the existing revoke plan takes as a selection.
    expect(job.revocable).toContain(bot1?.keyId);
    const plan = await client.post("/api/revoke/plan", { ids: job.revocable });
    expect(plan.status, plan.body).toBe(200);
    const items = plan.json<{ items: { key: { id: string } }[] }>().items.map((i) => i.key.id);
    expect(items.sort()).toEqual([...job.revocable].sort());
    // The list and the SARIF download say the same, as safely.
    const list = (await client.get("/api/scan")).json<{ jobs: ScanJob[] }>();
    expect(list.jobs[0]?.id).toBe(job.id);
    const sarif = await client.get(`/api/scan/jobs/${job.id}/sarif`);
    expect(sarif.status).toBe(200);
    expect(sarif.json<{ version: string; runs: { results: unknown[] }[] }>().runs[0]?.results).toHaveLength(
      findings.length,
    );
  });

  it("with git history: a key only a deleted file held is found with its commit; verify asks the exchange", async () => {
    const repo = mkdtempSync(join(tmpdir(), "keyward-web-scan-repo-"));
    try {
      const git = (...args: string[]) =>
        execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
          stdio: "ignore",
        });
      git("init", "-q");
      writeFileSync(join(repo, "bot.env"), `EXCHANGE_API_KEY=${KEYS.bot2.apiKey}\n`);
      writeFileSync(
        join(repo, "keys.env"),
        `BYBIT_API_KEY=${UNKNOWN_KEY}\nBYBIT_API_SECRET=${UNKNOWN_SECRET}\n`,
      );
      git("add", ".");
      git("commit", "-qm", "bot");
      git("rm", "-q", "bot.env");
      git("commit", "-qm", "remove the key");
      const plain = await scanToEnd({ path: repo });
      expect(plain.report?.findings.some((f) => f.keyId?.endsWith(KEYS.bot2.apiKey))).toBe(false);
      const job = await scanToEnd({ path: repo, git: true, verify: true });
      const bot2 = job.report?.findings.find((f) => f.keyId?.endsWith(KEYS.bot2.apiKey));
      expect(bot2).toMatchObject({ account: OKX_ACCOUNT, label: "bot-2", live: true });
      expect(bot2?.locations[0]).toMatchObject({
        path: "bot.env",
        line: 1,
        commit: expect.stringMatching(/^[0-9a-f]{40}$/),
      });
      expect(job.revocable).toContain(bot2?.keyId);
      // The made-up pair is no key of the simulated exchange: it says dead.
      const unknown = job.report?.findings.find((f) => f.kind === "unknown-key");
      expect(unknown?.verify?.status).toBe("dead");
      expect(unknown?.live).toBe(false);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it("a path that is not absolute, does not exist or is not a folder or file is a 400 naming the field", async () => {
    // The field as the page names it ("path: …", not "body: path: …"), and for the path what to type.
    const typeIt =
      /^Type the full path of a folder or file as the server's machine names it, starting with \//;
    const cases: [object, RegExp, RegExp][] = [
      [
        { path: "relative/dir" },
        /^path: must be an absolute path \(starting with \/\) on the machine the server runs on$/,
        typeIt,
      ],
      [{ path: "" }, /^path: is empty/, typeIt],
      [{ path: join(folder, "no-such-dir") }, /^path: does not exist/, typeIt],
      [{ path: "/dev/null" }, /^path: is neither a folder nor a regular file$/, typeIt],
      [{ path: folder, upload: "x" }, /^body: .*upload/, /^Fix the request/],
      [{ path: folder, git: "yes" }, /^git: /, /^Fix the request/],
      [{}, /^path: /, typeIt],
    ];
    for (const [body, message, hint] of cases) {
      const res = await client.post("/api/scan/start", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = res.json<{ error: { code: string; message: string; hint: string } }>().error;
      expect(error.code, JSON.stringify(body)).toBe("BAD_REQUEST");
      expect(error.message, JSON.stringify(body)).toMatch(message);
      expect(error.hint, JSON.stringify(body)).toMatch(hint);
    }
    // A symlink to a folder is the folder (the person typed it); the scan starts.
    const link = join(tmpdir(), `keyward-web-scan-link-${process.pid}`);
    symlinkSync(folder, link);
    try {
      const job = await scanToEnd({ path: link });
      expect(job.status).toBe("finished");
    } finally {
      rmSync(link, { force: true });
    }
  });

  it("an unknown scan is a 404 and a bad id a 400", async () => {
    expect((await client.get("/api/scan/jobs/00000000-0000-4000-8000-000000000000")).status).toBe(404);
    expect((await client.get("/api/scan/jobs/not-a-uuid")).status).toBe(400);
  });

  it("Revoke these: the revoke records the scan as its cause; a cause no scan of this server wrote is a 400", async () => {
    const job = await scanToEnd({ path: folder });
    const seq = (job.report as { auditSeq?: number | null } | null)?.auditSeq;
    expect(seq).toEqual(expect.any(Number));
    const bot1 = job.revocable.find((id) => id.endsWith(KEYS.bot1.apiKey));
    expect(bot1).toBeDefined();
    // Each key handed to "Revoke these" says why; one found by its id alone is not ticked by default.
    expect(job.revocableKeys.find((k) => k.keyId === bot1)).toMatchObject({
      secretFound: false,
      reason: expect.stringMatching(/^key id found at .+\.env:\d+, no secret with it$/),
    });
    expect(job.revocableKeys.find((k) => k.keyId.endsWith(KEYS.bfxMm.apiKey))).toMatchObject({
      secretFound: true,
      reason: expect.stringMatching(/^secret found at .+bfx\.json:1$/),
    });
    const forged = await client.post("/api/revoke/plan", { ids: [bot1], cause: { scan: 999_999 } });
    expect(forged.status, forged.body).toBe(400);
    expect(forged.json<{ error: { message: string } }>().error.message).toMatch(/^cause: /);
    // A real scan named as the cause of keys it did not find (another id, or a filter): 400 naming cause.
    const other = `okx:${OKX_ACCOUNT}:deskBots01:${KEYS.bot2.apiKey}`;
    expect(job.revocable).not.toContain(other);
    for (const body of [
      { ids: [bot1, other], cause: { scan: seq } },
      { ids: [bot1], account: OKX_ACCOUNT, cause: { scan: seq } },
    ]) {
      const stretched = await client.post("/api/revoke/plan", body);
      expect(stretched.status, stretched.body).toBe(400);
      expect(stretched.json<{ error: { message: string } }>().error.message).toMatch(/^cause: /);
    }
    const plan = await client.post("/api/revoke/plan", { ids: [bot1], cause: { scan: seq } });
    expect(plan.status, plan.body).toBe(200);
    const { planId, confirmWith } = plan.json<{ planId: string; confirmWith: string }>();
    const started = await client.post("/api/revoke/execute", { planId, confirm: confirmWith });
    expect(started.status, started.body).toBe(202);
    const { jobId } = started.json<{ jobId: string }>();
    const done = await waitFor("the revoke's end", async () => {
      const view = (await client.get(`/api/revoke/jobs/${jobId}`)).json<{ status: string }>();
      return view.status === "running" ? undefined : view;
    });
    expect(done.status).toBe("finished");
    const audit = (await client.get("/api/audit?action=revoke.requested&limit=1")).json<{
      entries: { details: { cause?: unknown } }[];
    }>();
    expect(audit.entries[0]?.details.cause).toEqual({ scan: seq });
    // The scan's view now carries the revoke's result for the key, and offers it to no new revoke; the
    // held secret's key, not revoked, is still offered.
    const after = (await client.get(`/api/scan/jobs/${job.id}`)).json<
      ScanJob & {
        revokes: { keyId: string; jobId: string; outcome: string; verified: boolean; gone: boolean }[];
        stillRevocable: string[];
      }
    >();
    expect(after.revokes).toEqual([
      expect.objectContaining({ keyId: bot1, jobId, outcome: "revoked", verified: true, gone: true }),
    ]);
    expect(after.stillRevocable).not.toContain(bot1);
    expect(after.stillRevocable).toEqual(job.revocable.filter((id) => id !== bot1));
  });

  it("a revoke the exchange acknowledged but that left the key working: still may work, still offered", async () => {
    const hollow = mkdtempSync(join(tmpdir(), "keyward-web-scan-hollow-"));
    try {
      writeFileSync(join(hollow, "bot2.env"), `OKX_API_KEY=${KEYS.bot2.apiKey}\n`);
      const job = await scanToEnd({ path: hollow });
      const seq = (job.report as { auditSeq?: number | null } | null)?.auditSeq;
      const bot2 = job.revocable.find((id) => id.endsWith(KEYS.bot2.apiKey));
      expect(bot2).toBeDefined();
      // The exchange answers the next delete with success and keeps the key.
      const fault = await fetch(`${desk.sim.control}/faults`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ exchange: "okx", hollowDeletes: 1 }),
      });
      expect(fault.status).toBe(200);
      const plan = await client.post("/api/revoke/plan", { ids: [bot2], cause: { scan: seq } });
      expect(plan.status, plan.body).toBe(200);
      const { planId, confirmWith } = plan.json<{ planId: string; confirmWith: string }>();
      const started = await client.post("/api/revoke/execute", { planId, confirm: confirmWith });
      expect(started.status, started.body).toBe(202);
      await waitFor("the revoke's end", async () => {
        const view = (await client.get(`/api/revoke/jobs/${started.json<{ jobId: string }>().jobId}`)).json<{
          status: string;
        }>();
        return view.status === "running" ? undefined : view;
      });
      expect(statuses(await desk.state()).get(KEYS.bot2.apiKey)).toBe("active");
      const after = (await client.get(`/api/scan/jobs/${job.id}`)).json<{
        revokes: { keyId: string; outcome: string; verified: boolean; gone: boolean }[];
        stillRevocable: string[];
      }>();
      expect(after.revokes).toEqual([
        expect.objectContaining({ keyId: bot2, outcome: "revoked", verified: false, gone: false }),
      ]);
      expect(after.stillRevocable).toContain(bot2);
    } finally {
      rmSync(hollow, { recursive: true, force: true });
    }
  });

  it("no answer carried file content, a secret, or the unknown key or its secret in full", () => {
    const scanBodies = received.filter((r) => r.what.includes("/api/scan"));
    expect(scanBodies.length).toBeGreaterThan(3);
    expect(leaks()).toEqual([]);
    expect(streamed.length).toBeGreaterThan(1);
    const bodies = [...received, ...streamed.map((body) => ({ what: "event stream", body }))];
    for (const canary of [FILE_CANARY, UNKNOWN_KEY, UNKNOWN_SECRET, KEYS.bfxMm.apiSecret, ...CANARIES]) {
      for (const { what, body } of bodies) expect(body.includes(canary), `${what}: ${canary}`).toBe(false);
    }
  });
});
