/**
 * A running web app sees the vault as it is on disk, not as it was when the server started (the
 * security finding: after `keyward account set-seed desk-deribit --clear` in another terminal, the web
 * kept answering Deribit's challenge from the removed seed). Another process is a second KeywardHome
 * opened on the same directory, as the CLI opens it, changing the vault through core: the seed cleared
 * with `setAccountSeed` (the CLI's use case), then the account switched to another key as a rotation's
 * switch does. Over HTTP against the test desk's simulator: the web's next revoke of a Deribit key asks
 * for a code (the job's `second-factor` event) instead of answering from the seed, and the next listing
 * authenticates with the new account key. Nothing here mocks Keyward; no response carries a canary.
 */
import { KeywardHome, Secret, setAccountSeed } from "@keyward/core";
import { deskDeribitAccount, SimulatorClient } from "@keyward/simulator/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Client,
  type Desk,
  followEvents,
  KEYS,
  leaks,
  login,
  PASSPHRASE,
  seed,
  startDesk,
  statuses,
  waitFor,
} from "./helpers.js";

const ACCOUNT = "desk-deribit";

let desk: Desk;
let client: Client;
let sim: SimulatorClient;

beforeAll(async () => {
  desk = await startDesk({}, (running) => {
    const s = seed(running);
    // The Deribit desk account WITH its seed: the web answers challenges itself, until the seed is cleared.
    s.accounts.push(deskDeribitAccount(running));
    return s;
  });
  client = await login(desk.server);
  sim = new SimulatorClient(desk.sim.control);
});
afterAll(async () => {
  await desk?.close();
  expect(leaks()).toEqual([]);
});

/** Another process's view of the same home: opened as the CLI opens it, used once, closed. */
async function inAnotherProcess<T>(fn: (home: KeywardHome) => Promise<T>): Promise<T> {
  const home = KeywardHome.open(desk.dir, {
    passphrase: async () => new Secret(PASSPHRASE),
    actor: "cli:test",
  });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

interface Row {
  id: string;
  apiKey: string;
  account: string;
  accountKey?: true;
}
interface Job {
  status: string;
  results: { apiKey: string; outcome: string; verified: boolean }[];
}

/** Follows a job's event stream (helpers.ts), with this file's logged-in client. */
const follow = (path: string) => followEvents(client, path);

async function startRevoke(apiKey: string): Promise<string> {
  const inventory = (await client.get("/api/inventory?refresh=1")).json<{ keys: Row[] }>();
  const id = inventory.keys.find((k) => k.apiKey === apiKey)?.id;
  expect(id).toBeDefined();
  const plan = (await client.post("/api/revoke/plan", { ids: [id] })).json<{ planId: string }>();
  const started = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "1" });
  expect(started.status, started.body).toBe(202);
  return started.json<{ jobId: string }>().jobId;
}

describe("the web app follows the vault another process changed", () => {
  it("a seed cleared by another process is not used: the next Deribit revoke asks for a code", async () => {
    // The web holds the seed now (its accounts answer says so, and its adapter was built with it).
    const before = (await client.get("/api/accounts")).json<{
      accounts: { name: string; secondFactor?: string | null }[];
    }>().accounts;
    expect(before.find((a) => a.name === ACCOUNT)?.secondFactor).toBe("seed");

    const cleared = await inAnotherProcess((home) => setAccountSeed(home, ACCOUNT, undefined));
    expect(cleared.seed).toBe("removed");

    const jobId = await startRevoke(KEYS.deribitOld.apiKey);
    const stream = follow(`/api/revoke/jobs/${jobId}/events`);
    const challenge = await waitFor("the code field", async () =>
      stream.events.find((e) => e.event === "second-factor"),
    );
    expect(challenge.data).toMatchObject({ account: ACCOUNT, retry: false });
    const sent = await client.post(`/api/revoke/jobs/${jobId}/second-factor`, {
      challengeId: challenge.data.challengeId,
      code: await sim.totp("desk_deribit"),
    });
    expect(sent.status, sent.body).toBe(200);
    const job = await waitFor("the revoke to finish", async () => {
      const j = (await client.get(`/api/revoke/jobs/${jobId}`)).json<Job>();
      return j.status === "finished" ? j : undefined;
    });
    stream.stop();
    expect(job.results).toEqual([expect.objectContaining({ outcome: "revoked", verified: true })]);
    expect(statuses(await desk.state()).get(KEYS.deribitOld.apiKey)).toBe("revoked");

    // The audit log: the seed's removal (by the other process), then a person answered; never the seed.
    const audit = await desk.home.auditLog().list();
    const removed = audit.findIndex((e) => e.action === "account.seed-removed");
    expect(removed).toBeGreaterThanOrEqual(0);
    const answered = audit.filter((e) => e.action === "twofactor.answered");
    expect(answered.map((e) => [e.actor, e.details.answeredBy, e.details.accepted])).toEqual([
      ["web:test", "person", true],
    ]);
    const after = (await client.get("/api/accounts")).json<{
      accounts: { name: string; secondFactor?: string | null }[];
    }>().accounts;
    expect(after.find((a) => a.name === ACCOUNT)?.secondFactor).toBe("prompt");
  });

  it("an account key switched by another process (a rotation) is the one the web uses next", async () => {
    // What a rotation's switch does: the account's vault entry now holds the new key (here the desk's
    // bot key, which can list keys and is bound to no IP).
    await inAnotherProcess(async (home) => {
      const vault = await home.vault();
      vault.set(home.account(ACCOUNT).credentialsRef, {
        apiKey: KEYS.deribitBot.apiKey,
        secret: new Secret(KEYS.deribitBot.secret),
      });
      await vault.save();
    });
    const since = (await sim.requests()).at(-1)?.seq ?? 0;
    const inventory = (await client.get("/api/inventory?refresh=1")).json<{
      keys: Row[];
      accounts: { account: string; error?: unknown; stale?: unknown }[];
    }>();
    const listed = inventory.accounts.find((a) => a.account === ACCOUNT);
    expect(listed).toBeDefined();
    expect(listed?.error).toBeUndefined();
    // The page marks the new key as the account's own.
    const own = inventory.keys.filter((k) => k.account === ACCOUNT && k.accountKey);
    expect(own.map((k) => k.apiKey)).toEqual([KEYS.deribitBot.apiKey]);
    // Every Deribit call of that listing was made with the new key, none with the old.
    const used = new Set(
      (await sim.requests(since)).filter((r) => r.exchange === "deribit" && r.apiKey).map((r) => r.apiKey),
    );
    expect([...used]).toEqual([KEYS.deribitBot.apiKey]);
  });
});
