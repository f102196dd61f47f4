/**
 * After the web app rotates the key Keyward itself uses for an account (the shared desk's Bybit master:
 * an assisted rotation, since Bybit lists no other master key; the vault switches to the new key at
 * delivery, then the old key deletes itself), every later listing and revoke must use the new key: the
 * inventory lists the account (no 10003 from an adapter kept with the old key), and a broad revoke plan
 * knows the NEW key for the account's own, holds it back, and revokes the sub-account keys with it. Once
 * in the grace period (the old key still alive) and once after the rotation finished. A plan made before
 * the switch (naming the old key as the account's own) is refused when run: nothing is revoked. Nothing here mocks Keyward; no response carries a canary secret.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  BYBIT_ACCOUNT,
  type Client,
  type Desk,
  KEYS,
  leaks,
  login,
  received,
  startDesk,
  statuses,
  waitFor,
} from "./helpers.js";

interface Row {
  id: string;
  exchange: string;
  account: string;
  apiKey: string;
  label: string;
  accountKey?: true;
}
interface Inventory {
  keys: Row[];
  accounts: { account: string; keys: number; error?: unknown; stale?: unknown }[];
}
interface RunView {
  state: string;
  slots: { step: string; newApiKey: string | null; error: { message: string } | null }[];
  createRequests: { slot: number; label: string }[];
  grace: { slot: number }[];
}
interface PlanAnswer {
  planId: string;
  confirmWith: string;
  items: { accountKey: boolean; method: string; key: Row }[];
  heldBack: { key: Row; reason: string }[];
}
interface Job {
  status: string;
  results: {
    id: string;
    outcome: string;
    verified: boolean;
    method: string;
    evidence: string[];
    pending?: boolean;
  }[];
}

const SUBS = [KEYS.bybitScalp1, KEYS.bybitScalp2, KEYS.bybitReader].map((k) => k.apiKey);
const newSecrets: string[] = [];
let desk: Desk | undefined;
let dir: string | undefined;
afterEach(async () => {
  await desk?.close();
  desk = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterAll(() => {
  expect(leaks()).toEqual([]);
  for (const secret of newSecrets) expect(received.filter((r) => r.body.includes(secret))).toEqual([]);
});

const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000) =>
  waitFor(what, fn, timeoutMs, 150);

/** Rotates the desk's Bybit master key through the web (a person makes the new key on the simulator). */
async function rotateMaster(client: Client, graceSeconds: number): Promise<string> {
  if (!desk || !dir) throw new Error("no desk");
  const inventory = (await client.get("/api/inventory")).json<Inventory>();
  const master = inventory.keys.find((k) => k.apiKey === KEYS.bybitMaster.apiKey);
  const planned = await client.post("/api/rotation/plan", {
    selector: { ids: [master?.id] },
    deliver: [`dotenv:${dir}/master.env`],
  });
  expect(planned.status, planned.body).toBe(200);
  const plan = planned.json<{ plan: { id: string; slots: { method: string }[] } }>().plan;
  expect(plan.slots.map((s) => s.method)).toEqual(["assisted"]);
  const applied = await client.post("/api/rotation/apply", { planId: plan.id, confirm: "1", graceSeconds });
  expect(applied.status, applied.body).toBe(202);
  const runId = applied.json<{ runId: string }>().runId;
  const view = async () => (await client.get(`/api/rotation/runs/${runId}`)).json<RunView>();
  const asked = await until("the create request", async () => (await view()).createRequests[0]);
  const made = (await (
    await fetch(`${desk.sim.control}/ui/create`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        exchange: "bybit",
        uid: "390000001",
        note: asked.label,
        readOnly: 0,
        ips: ["127.0.0.1"],
        permissions: { ContractTrade: ["Order", "Position"], Wallet: ["AccountTransfer"] },
      }),
    })
  ).json()) as { apiKey: string; secret: string };
  newSecrets.push(made.secret);
  const given = await client.post(`/api/rotation/runs/${runId}/credentials`, {
    slot: asked.slot,
    apiKey: made.apiKey,
    secret: made.secret,
  });
  expect(given.status, given.body).toBe(200);
  if (graceSeconds > 0) {
    await until("the grace period", async () => (await view()).grace[0]);
  } else {
    const done = await until("the rotation to finish", async () => {
      const v = await view();
      return v.state === "finished" || v.state === "failed" ? v : undefined;
    });
    expect(done.state, JSON.stringify(done.slots)).toBe("finished");
    expect(statuses(await desk.state()).get(KEYS.bybitMaster.apiKey)).toBe("revoked");
  }
  expect(statuses(await desk.state()).get(made.apiKey)).toBe("active");
  return made.apiKey;
}

/** The inventory lists the account with its new key; `{all:true}` holds the new key back, revokes the subs. */
async function checkAfterRotation(client: Client, newKey: string): Promise<void> {
  if (!desk) throw new Error("no desk");
  const inventory = (await client.get("/api/inventory?refresh=1")).json<Inventory>();
  const account = inventory.accounts.find((a) => a.account === BYBIT_ACCOUNT);
  expect(account?.error, JSON.stringify(account)).toBeUndefined();
  expect(account?.stale).toBeUndefined();
  const bybit = inventory.keys.filter((k) => k.account === BYBIT_ACCOUNT).map((k) => k.apiKey);
  expect(bybit).toContain(newKey);
  // The new key, not the old one, is flagged as the account's own.
  expect(inventory.keys.filter((k) => k.accountKey).map((k) => k.apiKey)).not.toContain(
    KEYS.bybitMaster.apiKey,
  );
  expect(inventory.keys.find((k) => k.apiKey === newKey)?.accountKey).toBe(true);
  expect(bybit).toEqual(expect.arrayContaining(SUBS));

  const answer = await client.post("/api/revoke/plan", { all: true });
  expect(answer.status, answer.body).toBe(200);
  const plan = answer.json<PlanAnswer>();
  expect(plan.heldBack.map((h) => h.key.apiKey)).toEqual([newKey]);
  expect(plan.items.filter((i) => i.key.apiKey === newKey)).toEqual([]);
  const bybitItems = plan.items.filter((i) => i.key.account === BYBIT_ACCOUNT);
  expect(bybitItems.map((i) => i.key.apiKey)).toEqual(expect.arrayContaining(SUBS));

  const started = await client.post("/api/revoke/execute", {
    planId: plan.planId,
    confirm: plan.confirmWith,
  });
  expect(started.status, started.body).toBe(202);
  const jobId = started.json<{ jobId: string }>().jobId;
  // The API revokes end before the wait for the manual ones (other exchanges' master keys); stop it then.
  const bybitIds = new Set(bybitItems.map((i) => i.key.id));
  await until(
    "the Bybit revokes",
    async () => {
      const job = (await client.get(`/api/revoke/jobs/${jobId}`)).json<Job>();
      const done = job.results.filter(
        // `pending`: no event about the key yet (its outcome field is a placeholder until one arrives).
        (r) => bybitIds.has(r.id) && !r.pending && r.outcome !== "pending" && r.outcome !== "planned",
      );
      return job.status !== "running" || done.length === bybitIds.size ? job : undefined;
    },
    45_000,
  );
  await client.post(`/api/revoke/jobs/${jobId}/stop`, {});
  const job = await until("the revoke to end", async () => {
    const j = (await client.get(`/api/revoke/jobs/${jobId}`)).json<Job>();
    return j.status === "finished" ? j : undefined;
  });
  for (const r of job.results.filter((x) => bybitIds.has(x.id))) {
    expect(r, JSON.stringify(r)).toMatchObject({ outcome: "revoked", verified: true, method: "api" });
  }
  const world = statuses(await desk.state());
  for (const sub of SUBS) expect(world.get(sub)).toBe("revoked");
  expect(world.get(newKey)).toBe("active");
}

describe("the web app after Keyward's own Bybit key was rotated", () => {
  it("in the grace period: lists the account with the new key; {all:true} holds the new key back and revokes the subs", async () => {
    desk = await startDesk();
    dir = mkdtempSync(join(tmpdir(), "keyward-web-ownrot-"));
    const client = await login(desk.server);
    // The adapters are built (and, before the fix, kept) before the rotation.
    expect((await client.get("/api/accounts/health")).status).toBe(200);
    const newKey = await rotateMaster(client, 600);
    await checkAfterRotation(client, newKey);
  }, 120_000);

  it("after the rotation finished: the same; a plan made before the switch is refused when run", async () => {
    desk = await startDesk();
    dir = mkdtempSync(join(tmpdir(), "keyward-web-ownrot-"));
    const client = await login(desk.server);
    // Named, so the old key is planned as the account's own (last); run after the switch it is not.
    const listed = (await client.get("/api/inventory")).json<Inventory>().keys;
    const ids = [KEYS.bybitMaster, KEYS.bybitScalp1].map(
      (k) => listed.find((r) => r.apiKey === k.apiKey)?.id,
    );
    const before = (await client.post("/api/revoke/plan", { ids })).json<PlanAnswer>();
    expect(before.items.map((i) => [i.key.apiKey, i.accountKey])).toEqual([
      [KEYS.bybitScalp1.apiKey, false],
      [KEYS.bybitMaster.apiKey, true],
    ]);
    const newKey = await rotateMaster(client, 0);
    const stale = await client.post("/api/revoke/execute", {
      planId: before.planId,
      confirm: before.confirmWith,
    });
    expect(stale.status, stale.body).toBe(409);
    expect(stale.json<{ error: { code: string } }>().error.code).toBe("ACCOUNT_KEY_CHANGED");
    expect(statuses(await desk.state()).get(KEYS.bybitScalp1.apiKey)).toBe("active");
    await checkAfterRotation(client, newKey);
  }, 120_000);
});
