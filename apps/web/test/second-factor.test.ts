/**
 * The web app's code field for an exchange's two-factor challenge (issue 13), over HTTP against the
 * test desk's simulator (its Deribit module checks codes itself). The Deribit account has no seed in
 * the vault, so a revoke that removes one of its keys meets the challenge: the job's event stream
 * says so (`second-factor`), the code is POSTed for that job, a refused code is asked for again
 * (`retry`), and the job goes on. A code of the wrong shape is a 400 that does not echo it; a closed
 * challenge is a 409; a cancelled one fails that key's step cleanly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DESK_ACCOUNTS, deskCredentials, SimulatorClient, urlOf } from "@keyward/simulator/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  type Desk,
  followEvents,
  KEYS,
  leaks,
  login,
  received,
  type StreamEvent,
  seed,
  startDesk,
  statuses,
  waitFor,
} from "./helpers.js";

const ACCOUNT = DESK_ACCOUNTS.deribit;

let desk: Desk;
let client: Client;
let sim: SimulatorClient;

beforeAll(async () => {
  desk = await startDesk({}, (running) => {
    const s = seed(running);
    // The Deribit account without its TOTP seed: a person types each code.
    s.accounts.push({
      name: ACCOUNT,
      exchange: "deribit",
      endpoint: urlOf(running, "deribit"),
      credentials: deskCredentials(KEYS.deribitAccount),
    });
    return s;
  });
  client = await login(desk.server);
  sim = new SimulatorClient(desk.sim.control);
});
afterAll(async () => {
  await desk?.close();
  expect(leaks()).toEqual([]);
});

interface Row {
  id: string;
  apiKey: string;
}
interface Challenge {
  challengeId: string;
  account: string;
  exchange: string;
  action: string;
  expiresAt: number;
  retry: boolean;
}
interface Job {
  status: string;
  results: { apiKey: string; outcome: string; verified: boolean; error?: { code: string } }[];
}

/** Follows a job's event stream (helpers.ts), with this file's logged-in client. */
const follow = (path: string) => followEvents(client, path);

const challenges = (events: StreamEvent[]) =>
  events.filter((e) => e.event === "second-factor").map((e) => e.data as unknown as Challenge);

async function startRevoke(apiKey: string): Promise<string> {
  const inventory = (await client.get("/api/inventory?refresh=1")).json<{ keys: Row[] }>();
  const id = inventory.keys.find((k) => k.apiKey === apiKey)?.id;
  expect(id).toBeDefined();
  const plan = (await client.post("/api/revoke/plan", { ids: [id] })).json<{ planId: string }>();
  const started = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "1" });
  expect(started.status, started.body).toBe(202);
  return started.json<{ jobId: string }>().jobId;
}

describe("the code field of a running revoke", () => {
  it("the accounts answer says how each account's challenges are answered (no seed here: a person)", async () => {
    const accounts = (await client.get("/api/accounts")).json<{
      accounts: { name: string; secondFactor?: string | null }[];
    }>().accounts;
    expect(accounts.find((a) => a.name === ACCOUNT)?.secondFactor).toBe("prompt");
    expect(accounts.find((a) => a.name === DESK_ACCOUNTS.okx)?.secondFactor).toBeNull();
  });

  it("the revoke plan warns, in one line, that each removal will ask for a code (no seed in the vault)", async () => {
    const inventory = (await client.get("/api/inventory?refresh=1")).json<{ keys: Row[] }>();
    const id = inventory.keys.find((k) => k.apiKey === KEYS.deribitOld.apiKey)?.id;
    const plan = (await client.post("/api/revoke/plan", { ids: [id] })).json<{ warnings: string[] }>();
    expect(plan.warnings.filter((w) => w.includes("holds no TOTP seed"))).toEqual([
      `${ACCOUNT} holds no TOTP seed: each removal asks for a two-factor code (1 key(s)); with no one to type them (no terminal, a script) they end DISABLED, not removed`,
    ]);
  });

  it("shows the challenge, takes a code over HTTP, asks again after a refused one, and the revoke goes on", async () => {
    const jobId = await startRevoke(KEYS.deribitOld.apiKey);
    const stream = follow(`/api/revoke/jobs/${jobId}/events`);
    const first = await waitFor("the challenge", async () => challenges(stream.events)[0]);
    expect(first).toMatchObject({ account: ACCOUNT, exchange: "Deribit", retry: false });
    expect(first.action).toMatch(/remove key/);
    expect(first.expiresAt).toBeGreaterThan(Date.now());

    // A code of the wrong shape: refused by the server, not echoed, the challenge still open.
    const shape = await client.post(`/api/revoke/jobs/${jobId}/second-factor`, {
      challengeId: first.challengeId,
      code: "12ab56",
    });
    expect(shape.status).toBe(400);
    expect(shape.body).not.toContain("12ab56");

    // A wrong code: accepted by the server, refused by Deribit, asked for again.
    const right = await sim.totp("desk_deribit");
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, "0");
    const sent = await client.post(`/api/revoke/jobs/${jobId}/second-factor`, {
      challengeId: first.challengeId,
      code: wrong,
    });
    expect(sent.status, sent.body).toBe(200);
    const again = await waitFor("the challenge again", async () => challenges(stream.events)[1]);
    expect(again).toMatchObject({ account: ACCOUNT, retry: true });
    expect(again.challengeId).not.toBe(first.challengeId);
    // The first challenge is closed: a code for it is refused.
    const closed = await client.post(`/api/revoke/jobs/${jobId}/second-factor`, {
      challengeId: first.challengeId,
      code: right,
    });
    expect(closed.status).toBe(409);

    const ok = await client.post(`/api/revoke/jobs/${jobId}/second-factor`, {
      challengeId: again.challengeId,
      code: await sim.totp("desk_deribit"),
    });
    expect(ok.status, ok.body).toBe(200);
    const job = await waitFor("the revoke to finish", async () => {
      const j = (await client.get(`/api/revoke/jobs/${jobId}`)).json<Job>();
      return j.status === "finished" ? j : undefined;
    });
    stream.stop();
    expect(job.results).toEqual([expect.objectContaining({ outcome: "revoked", verified: true })]);
    expect(statuses(await desk.state()).get(KEYS.deribitOld.apiKey)).toBe("revoked");
    expect(
      stream.events.filter((e) => e.event === "second-factor-closed").map((e) => e.data.outcome),
    ).toEqual(["answered", "answered"]);
    // Audited: a person answered, refused once, then accepted; no code anywhere in the log.
    const audit = (await desk.home.auditLog().list()).filter((e) => e.action === "twofactor.answered");
    expect(audit.map((e) => [e.subject, e.details.answeredBy, e.details.accepted])).toEqual([
      [ACCOUNT, "person", false],
      [ACCOUNT, "person", true],
    ]);
    const bodies = received.map((r) => r.body).join("\n");
    expect(JSON.stringify(audit)).not.toContain(wrong);
    expect(bodies.includes(`"${wrong}"`)).toBe(false);
  });

  it("a cancelled challenge fails that key's removal cleanly (SECOND_FACTOR_REQUIRED); the key stays, switched off by disable first", async () => {
    const jobId = await startRevoke(KEYS.deribitBot.apiKey);
    const stream = follow(`/api/revoke/jobs/${jobId}/events`);
    const challenge = await waitFor("the challenge", async () => challenges(stream.events)[0]);
    const cancelled = await client.post(`/api/revoke/jobs/${jobId}/second-factor/cancel`, {
      challengeId: challenge.challengeId,
    });
    expect(cancelled.status, cancelled.body).toBe(200);
    const job = await waitFor("the revoke to finish", async () => {
      const j = (await client.get(`/api/revoke/jobs/${jobId}`)).json<Job>();
      return j.status === "finished" ? j : undefined;
    });
    stream.stop();
    // Disable first (the default) switched the key off before the removal met the challenge: it is reported
    // "disabled" (not revoked, not lost) and a later run removes it.
    expect(job.results).toEqual([
      expect.objectContaining({
        outcome: "disabled",
        disabledFirst: true,
        verified: false,
        error: expect.objectContaining({ code: "SECOND_FACTOR_REQUIRED" }),
      }),
    ]);
    expect(
      stream.events.some((e) => e.event === "second-factor-closed" && e.data.outcome === "cancelled"),
    ).toBe(true);
    expect(statuses(await desk.state()).get(KEYS.deribitBot.apiKey)).toBe("disabled");
  });
});

describe("the code field of a rotation's abort", () => {
  const OWN_ID = `deribit:${ACCOUNT}:-:${KEYS.deribitAccount.apiKey}`;

  /** Answers every challenge the stream shows (with the code the account's authenticator shows now). */
  async function answerAll(runId: string, events: StreamEvent[], done: Set<string>) {
    for (const c of challenges(events)) {
      if (done.has(c.challengeId)) continue;
      done.add(c.challengeId);
      const ok = await client.post(`/api/rotation/runs/${runId}/second-factor`, {
        challengeId: c.challengeId,
        code: await sim.totp("desk_deribit"),
      });
      expect(ok.status, ok.body).toBe(200);
    }
  }

  it("an abort of Deribit's own-key rotation shows the code field; with the code posted it deletes the new key and the old key is Keyward's again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "keyward-web-abort-"));
    try {
      const before = new Set(statuses(await desk.state()).keys());
      const planned = await client.post("/api/rotation/plan", {
        selector: { ids: [OWN_ID] },
        deliver: [`dotenv:${dir}/{label}.env`],
      });
      expect(planned.status, planned.body).toBe(200);
      const planId = planned.json<{ plan: { id: string; slots: unknown[] } }>().plan.id;
      const applied = await client.post("/api/rotation/apply", { planId, confirm: "1", graceSeconds: 600 });
      expect(applied.status, applied.body).toBe(202);
      const runId = applied.json<{ runId: string }>().runId;

      // The run makes the new key and switches Keyward to it, then waits out the grace period.
      const run = follow(`/api/rotation/runs/${runId}/events`);
      const answered = new Set<string>();
      await waitFor("the grace period", async () => {
        await answerAll(runId, run.events, answered);
        return run.events.find((e) => e.event === "grace");
      });
      run.stop();
      const made = [...statuses(await desk.state())].filter(([k, st]) => !before.has(k) && st === "active");
      expect(made).toHaveLength(1);
      const newKey = made[0]?.[0] as string;
      expect((await desk.home.accountKeys()).get(ACCOUNT)).toBe(newKey);

      // Abort: the new key's delete meets the challenge, shown on the run's page.
      const aborting = client.post(`/api/rotation/runs/${runId}/abort`, { confirm: "abort" });
      const stream = follow(`/api/rotation/runs/${runId}/events?after=0`);
      const challenge = await waitFor("the abort's challenge", async () =>
        challenges(stream.events).find((c) => !answered.has(c.challengeId)),
      );
      expect(challenge).toMatchObject({ account: ACCOUNT, exchange: "Deribit" });
      expect(challenge.action).toMatch(/remove key/);
      // Not yet done: Keyward still reaches the account with the new key, as the journal says.
      expect((await desk.home.accountKeys()).get(ACCOUNT)).toBe(newKey);
      const ok = await client.post(`/api/rotation/runs/${runId}/second-factor`, {
        challengeId: challenge.challengeId,
        code: await sim.totp("desk_deribit"),
      });
      expect(ok.status, ok.body).toBe(200);
      const report = await aborting;
      stream.stop();
      expect(report.status, report.body).toBe(200);
      expect(report.json<{ state: string; slots: { result: string }[] }>()).toMatchObject({
        state: "aborted",
        slots: [{ result: "aborted" }],
      });
      const after = statuses(await desk.state());
      expect(after.get(newKey)).toBe("revoked");
      expect(after.get(KEYS.deribitAccount.apiKey)).toBe("active");
      expect((await desk.home.accountKeys()).get(ACCOUNT)).toBe(KEYS.deribitAccount.apiKey);
      // The old key works: the account lists again.
      const inventory = (await client.get("/api/inventory?refresh=1")).json<{
        keys: { apiKey: string }[];
        accounts: { name: string; ok?: boolean; error?: unknown }[];
      }>();
      expect(inventory.keys.some((k) => k.apiKey === KEYS.deribitAccount.apiKey)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
