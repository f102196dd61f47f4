/**
 * Bybit beside OKX and Bitfinex in the web app, over HTTP against the shared test desk's simulator: the
 * inventory lists the Bybit master's own key and its sub-accounts' keys with their risks; a revoke of
 * Bybit sub-account keys goes by API and is proven dead in the simulator's /state; a rotation of one
 * makes its replacement by API with the same grants and IPs, delivers it and retires the old key.
 * Nothing here mocks Keyward; no response may carry a canary secret (the Bybit secrets are canaries too).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyRef } from "@keyward/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  subAccount: string | null;
  apiKey: string;
  label: string;
  permissions: string[];
  ip: string[] | null;
  location: string;
  management: string;
  risks: string[];
  accountKey?: true;
  createdAt: string | null;
  expiresAt: string | null;
}
interface Inventory {
  keys: Row[];
  accounts: { account: string; exchange: string; keys: number; error?: unknown }[];
  counts: { byExchange: Record<string, number>; byRisk: Record<string, number> };
  risks?: unknown;
}
interface Job {
  status: string;
  results: { id: string; outcome: string; verified: boolean; method: string; evidence: string[] }[];
  summary: { verified: number; unverified: number; awaitingManual: number; failed: number };
}

let desk: Desk;
let dir: string;
let client: Client;
let inventory: Inventory;
const row = (apiKey: string): Row => {
  const r = inventory.keys.find((k) => k.apiKey === apiKey);
  if (!r) throw new Error(`no inventory row for ${apiKey}`);
  return r;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "keyward-web-bybit-"));
  desk = await startDesk();
  client = await login(desk.server);
  inventory = (await client.get("/api/inventory")).json<Inventory>();
});
afterAll(async () => {
  await desk?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Bybit in the web app", () => {
  it("/api/inventory lists the Bybit master key and every sub-account key, with their risks", () => {
    const account = inventory.accounts.find((a) => a.account === BYBIT_ACCOUNT);
    expect(account).toMatchObject({ exchange: "bybit", keys: 4 });
    expect(account?.error).toBeUndefined();
    const bybit = inventory.keys.filter((k) => k.exchange === "bybit");
    expect(bybit.map((k) => k.apiKey).sort()).toEqual(
      [KEYS.bybitMaster, KEYS.bybitScalp1, KEYS.bybitScalp2, KEYS.bybitReader].map((k) => k.apiKey).sort(),
    );
    expect(inventory.counts.byExchange.bybit).toBe(4);
    // Keyward's own key: the master's, listed by query-api, revoked by API; Account Transfer is a risk.
    const master = row(KEYS.bybitMaster.apiKey);
    expect(master).toMatchObject({ location: "master", subAccount: null, management: "api" });
    expect(master.permissions).toEqual(expect.arrayContaining(["trade", "transfer"]));
    expect(master.risks).toContain("transfer");
    expect(master.ip).toEqual(["127.0.0.1"]);
    // Flagged as the account's own key (revoked by API): the page's bulk select leaves it out.
    expect(master.accountKey).toBe(true);
    for (const k of [KEYS.bybitScalp1, KEYS.bybitScalp2, KEYS.bybitReader])
      expect(row(k.apiKey).accountKey).toBeUndefined();
    // No IP binding, made 80 days ago: Bybit stops it in 10 days.
    const scalp2 = row(KEYS.bybitScalp2.apiKey);
    expect(scalp2).toMatchObject({ location: "sub-account", subAccount: "deskScalp01", management: "api" });
    expect(scalp2.risks).toEqual(expect.arrayContaining(["no-ip", "bybit-expires-soon"]));
    expect(inventory.counts.byRisk["bybit-expires-soon"]).toBe(1);
    expect(row(KEYS.bybitScalp1.apiKey).risks).toEqual([]);
    expect(row(KEYS.bybitReader.apiKey).permissions).toEqual(["read"]);
  });

  it("/api/inventory gives each row its expiry: Bybit's date for a key without an IP binding, null otherwise", () => {
    // scalp-2: no IP binding, made 80 days ago; Bybit expires it 90 days after it was made.
    const scalp2 = row(KEYS.bybitScalp2.apiKey);
    expect(scalp2.createdAt).toBeTruthy();
    expect(scalp2.expiresAt).toBe(
      new Date(Date.parse(scalp2.createdAt ?? "") + 90 * 86_400_000).toISOString(),
    );
    // Bound Bybit keys and every other exchange's keys: none.
    for (const k of inventory.keys)
      if (k.apiKey !== KEYS.bybitScalp2.apiKey) expect(k.expiresAt, k.label).toBeNull();
  });

  it("revokes Bybit sub-account keys by API, proven dead; the master key is untouched", async () => {
    const ids = [KEYS.bybitScalp2, KEYS.bybitReader].map((k) => row(k.apiKey).id);
    const plan = (await client.post("/api/revoke/plan", { ids })).json<{
      planId: string;
      byApi: number;
      byPerson: number;
      confirmWith: string;
      items: { method: string; key: Row }[];
    }>();
    expect(plan).toMatchObject({ byApi: 2, byPerson: 0, confirmWith: "2" });
    expect(plan.items.every((i) => i.method === "api")).toBe(true);
    // Trade before read.
    expect(plan.items.map((i) => i.key.label)).toEqual(["scalp-2", "by-reader"]);

    const started = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "2" });
    expect(started.status).toBe(202);
    const jobId = started.json<{ jobId: string }>().jobId;
    const done = await waitFor("the revoke to finish", async () => {
      const j = (await client.get(`/api/revoke/jobs/${jobId}`)).json<Job>();
      return j.status === "finished" ? j : undefined;
    });
    expect(done.summary).toMatchObject({ verified: 2, unverified: 0, awaitingManual: 0, failed: 0 });
    for (const r of done.results)
      expect(r).toMatchObject({ outcome: "revoked", verified: true, method: "api" });

    const state = statuses(await desk.state());
    expect(state.get(KEYS.bybitScalp2.apiKey)).toBe("revoked");
    expect(state.get(KEYS.bybitReader.apiKey)).toBe("revoked");
    expect(state.get(KEYS.bybitScalp1.apiKey)).toBe("active");
    expect(state.get(KEYS.bybitMaster.apiKey)).toBe("active");

    // The inventory no longer shows them; Keyward still reaches the account.
    const after = (await client.get("/api/inventory?refresh=1")).json<Inventory>();
    const left = after.keys.filter((k) => k.exchange === "bybit").map((k) => k.label);
    expect(left.sort()).toEqual(["bybit-master", "scalp-1"]);
  });

  it("rotates a Bybit sub-account key by API: the new key has the old one's grants and IPs, is delivered, and the old key is dead", async () => {
    const plan = await client.post("/api/rotation/plan", {
      selector: { ids: [row(KEYS.bybitScalp1.apiKey).id] },
      deliver: [`dotenv:${dir}/{label}.env`],
    });
    expect(plan.status).toBe(200);
    const p = plan.json<{ plan: { id: string; slots: { method: string; new: { label: string } }[] } }>();
    expect(p.plan.slots.map((sl) => sl.method)).toEqual(["api"]);
    const newLabel = p.plan.slots[0]?.new.label ?? "";
    expect(newLabel).toMatch(/^scalp-1-rot-/);
    const started = await client.post("/api/rotation/apply", {
      planId: p.plan.id,
      confirm: "1",
      graceSeconds: 0,
    });
    expect(started.status).toBe(202);
    const runId = started.json<{ runId: string }>().runId;
    const run = await waitFor(
      "the rotation to finish",
      async () => {
        const v = (await client.get(`/api/rotation/runs/${runId}`)).json<{
          state: string;
          slots: { step: string; newApiKey: string | null; newKeyId: string | null }[];
        }>();
        return v.state === "finished" || v.state === "failed" ? v : undefined;
      },
      45_000,
    );
    expect(run.state).toBe("finished");
    expect(run.slots[0]?.step).toBe("finished");
    const newApiKey = run.slots[0]?.newApiKey ?? "";

    const state = await desk.state();
    expect(statuses(state).get(KEYS.bybitScalp1.apiKey)).toBe("revoked");
    expect(statuses(state).get(newApiKey)).toBe("active");
    // The new key, as Bybit shows it: same sub-account, grants, IPs and read-write flag; labelled with the run.
    const sub = state.bybit?.masters[0]?.subMembers.find((m) => m.username === "deskScalp01");
    const fresh = sub?.keys.find((k) => k.apiKey === newApiKey);
    const old = sub?.keys.find((k) => k.apiKey === KEYS.bybitScalp1.apiKey);
    expect(fresh).toMatchObject({ note: newLabel, readOnly: 0, ips: ["10.0.5.1"] });
    expect(fresh?.permissions).toEqual(old?.permissions);

    const env = readFileSync(join(dir, `${KEYS.bybitScalp1.note}.env`), "utf8");
    expect(env).toContain(newApiKey);
    const creds = (await desk.home.vault()).get(keyRef(run.slots[0]?.newKeyId ?? ""));
    expect(creds && env.includes(creds.secret.reveal())).toBe(true);
  });

  it("no response carried a canary secret", () => {
    expect(received.length).toBeGreaterThan(3);
    expect(leaks()).toEqual([]);
  });
});
