/**
 * The JSON API over real HTTP: inventory with counts and per-account errors, account health, a bulk
 * revoke (plan, type-to-confirm, live events over SSE, per-key results, a manual step done on the
 * simulator, "verify now", a delete the exchange only pretends to do), the audit log and its chain; malformed requests answer 4xx with a message,
 * never 500; and no response carries a canary secret.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
  BYBIT_ACCOUNT,
  type Client,
  type Desk,
  http,
  KEYS,
  leaks,
  login,
  OKX_ACCOUNT,
  received,
  seed,
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
  management: string;
  risks: string[];
  state: string;
  location: string;
  subAccount: string | null;
  stale: { fetchedAt: string; ageMs: number } | null;
}
interface Inventory {
  keys: Row[];
  accounts: {
    account: string;
    exchange: string;
    keys: number;
    error?: { message: string; hint?: string };
    stale?: { fetchedAt: string; ageMs: number };
    unlisted?: string;
  }[];
  counts: {
    total: number;
    risky: number;
    byExchange: Record<string, number>;
    byRisk: Record<string, number>;
    byManagement: { api: number; manual: number };
  };
}
interface Result {
  id: string;
  outcome: string;
  verified: boolean;
  method: string;
  pending: boolean;
  evidence: string[];
}
interface Job {
  id: string;
  status: string;
  results: Result[];
  checklist: { keyId: string; steps: { url: string; steps: string[] } }[];
  summary: { verified: number; unverified: number; awaitingManual: number; failed: number };
}

let desk: Desk;
let client: Client;
let inventory: Inventory;
const idOf = (apiKey: string) => {
  const row = inventory.keys.find((k) => k.apiKey === apiKey);
  if (!row) throw new Error(`no row for ${apiKey}`);
  return row.id;
};

beforeAll(async () => {
  // Few, quick retries: one test makes an exchange fail on purpose.
  desk = await startDesk({ adapterOptions: { retry: { retries: 1, minTimeoutMs: 20, maxTimeoutMs: 50 } } });
  client = await login(desk.server);
  inventory = (await client.get("/api/inventory")).json<Inventory>();
});
afterAll(async () => {
  await desk?.close();
});

const job = async (id: string) => (await client.get(`/api/revoke/jobs/${id}`)).json<Job>();

/** The events of an SSE body: [{id, event, data}]. */
function parseSse(body: string) {
  return body
    .split("\n\n")
    .filter((block) => block.trim() && !block.startsWith(":"))
    .map((block) => {
      const field = (name: string) =>
        block
          .split("\n")
          .filter((l) => l.startsWith(`${name}:`))
          .map((l) => l.slice(name.length + 1).trim())
          .join("\n");
      return {
        id: field("id"),
        event: field("event"),
        data: JSON.parse(field("data") || "{}") as Record<string, unknown>,
      };
    });
}

describe("inventory", () => {
  it("lists every key of every account, with risks and counts per exchange, risk and method", () => {
    const labels = inventory.keys.map((k) => k.label);
    expect(labels).toEqual(expect.arrayContaining(["bot-1", "bot-2", "bot-3", "ops-reader", "bfx-mm"]));
    expect(inventory.accounts.map((a) => a.account).sort()).toEqual([
      BFX_ACCOUNT,
      BYBIT_ACCOUNT,
      OKX_ACCOUNT,
    ]);
    expect(inventory.accounts.every((a) => !a.error)).toBe(true);
    const { counts } = inventory;
    expect(counts.total).toBe(inventory.keys.length);
    expect(Object.values(counts.byExchange).reduce((a, b) => a + b, 0)).toBe(counts.total);
    expect(counts.byExchange.okx).toBe(inventory.keys.filter((k) => k.exchange === "okx").length);
    expect(counts.byManagement.api + counts.byManagement.manual).toBe(counts.total);
    expect(counts.risky).toBe(inventory.keys.filter((k) => k.risks.length > 0).length);
    for (const [risk, n] of Object.entries(counts.byRisk)) {
      expect(n, risk).toBe(inventory.keys.filter((k) => k.risks.includes(risk)).length);
    }
    const bot2 = inventory.keys.find((k) => k.label === "bot-2");
    expect(bot2?.risks).toContain("no-ip");
    expect(inventory.keys.find((k) => k.label === "bot-3")?.risks).toContain("old");
    expect(inventory.keys.find((k) => k.label === "bfx-mm")?.risks).toContain("withdraw");
    expect(inventory.keys.find((k) => k.label === "bot-1")?.management).toBe("api");
    expect(inventory.keys.find((k) => k.label === "bfx-mm")?.management).toBe("manual");
  });

  it("rows carry identifiers and facts only: no field a secret could live in", () => {
    const allowed = [
      "id",
      "exchange",
      "account",
      "subAccount",
      "apiKey",
      "apiKeyShort",
      "label",
      "permissions",
      "ip",
      "createdAt",
      "expiresAt",
      "location",
      "management",
      "state",
      "risks",
      "stale",
    ];
    // Plus `accountKey`, on an account's own key only, and only ever `true` (a flag, no room for a secret).
    for (const row of inventory.keys) {
      expect(
        Object.keys(row)
          .filter((k) => k !== "accountKey")
          .sort(),
      ).toEqual([...allowed].sort());
      if ("accountKey" in row) expect(row.accountKey).toBe(true);
    }
  });

  it("refresh=1 fetches live; an account that cannot be listed is reported with what to do, the others still show", async () => {
    await fetch(`${desk.sim.control}/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ exchange: "okx", errorRate: 1, errorStatus: 503 }),
    });
    try {
      const res = await client.get("/api/inventory?refresh=1");
      expect(res.status).toBe(200);
      const inv = res.json<Inventory>();
      const okx = inv.accounts.find((a) => a.account === OKX_ACCOUNT);
      expect(okx?.error?.message).toBeTruthy();
      expect(inv.keys.some((k) => k.exchange === "bitfinex")).toBe(true);
      // The account's keys are still shown, from the last successful listing, each marked stale.
      const okxKeys = inv.keys.filter((k) => k.exchange === "okx");
      expect(okxKeys.map((k) => k.id).sort()).toEqual(
        inventory.keys
          .filter((k) => k.exchange === "okx")
          .map((k) => k.id)
          .sort(),
      );
      expect(okx?.stale?.fetchedAt).toBeTruthy();
      for (const k of okxKeys) {
        expect(k.stale?.fetchedAt, k.label).toBe(okx?.stale?.fetchedAt);
        expect(k.management, k.label).toBe("manual");
      }
    } finally {
      await fetch(`${desk.sim.control}/faults`, { method: "DELETE" });
    }
    const again = (await client.get("/api/inventory?refresh=true")).json<Inventory>();
    expect(again.accounts.every((a) => !a.error)).toBe(true);
    expect(again.counts.total).toBe(inventory.counts.total);
  }, 60_000);
});

describe("accounts", () => {
  it("lists accounts with their tracked keys, and probes their health, permissions and warnings", async () => {
    const list = (await client.get("/api/accounts")).json<{
      accounts: { name: string; tracked: { label: string; provable: boolean }[] }[];
    }>();
    expect(list.accounts.map((a) => a.name)).toEqual([OKX_ACCOUNT, BFX_ACCOUNT, BYBIT_ACCOUNT]);
    expect(list.accounts[1]?.tracked).toEqual([expect.objectContaining({ label: "bfx-mm", provable: true })]);
    const health = (await client.get("/api/accounts/health")).json<{
      accounts: {
        account: string;
        health: { status: string; master: boolean | null; permissions: string[]; warnings: string[] };
      }[];
    }>();
    const okx = health.accounts.find((a) => a.account === OKX_ACCOUNT)?.health;
    expect(okx?.status).toBe("alive");
    expect(okx?.master).toBe(true);
    expect(okx?.permissions).toContain("trade");
    const one = (await client.get(`/api/accounts/health?account=${BFX_ACCOUNT}`)).json<{
      accounts: unknown[];
    }>();
    expect(one.accounts).toHaveLength(1);
  });
});

describe("bulk revoke", () => {
  let jobId: string;

  it("plans a selection: what goes by API and what needs a person, and what to type", async () => {
    const res = await client.post("/api/revoke/plan", {
      ids: [idOf(KEYS.bot1.apiKey), idOf(KEYS.bfxMm.apiKey)],
    });
    expect(res.status).toBe(200);
    const plan = res.json<{
      planId: string;
      byApi: number;
      byPerson: number;
      confirmWith: string;
      items: { method: string; key: Row }[];
    }>();
    expect(plan.byApi).toBe(1);
    expect(plan.byPerson).toBe(1);
    expect(plan.confirmWith).toBe("2");
    // Keys that can withdraw go first.
    expect(plan.items.map((i) => i.key.label)).toEqual(["bfx-mm", "bot-1"]);

    const wrong = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "3" });
    expect(wrong.status).toBe(400);
    expect(wrong.json<{ error: { message: string } }>().error.message).toMatch(/type 2/);
    expect(statuses(await desk.state()).get(KEYS.bot1.apiKey)).toBe("active");

    const started = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: " 2 " });
    expect(started.status).toBe(202);
    jobId = started.json<{ jobId: string }>().jobId;

    // A plan runs once.
    const reused = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "2" });
    expect(reused.status).toBe(409);
  });

  it("streams live progress; the API key is revoked and proven dead; the manual key waits for a person, then is proven dead", async () => {
    const stream = client.get(`/api/revoke/jobs/${jobId}/events`, { timeoutMs: 30_000 });
    const waiting = await waitFor("the manual step", async () => {
      const j = await job(jobId);
      return j.status === "waiting" ? j : undefined;
    });
    const bot1 = waiting.results.find((r) => r.id === idOf(KEYS.bot1.apiKey));
    expect(bot1).toMatchObject({ outcome: "revoked", verified: true, method: "api" });
    expect(waiting.checklist).toHaveLength(1);
    expect(waiting.checklist[0]?.steps.url).toBe(`${desk.sim.bitfinex}/api`);
    expect(statuses(await desk.state()).get(KEYS.bot1.apiKey)).toBe("revoked");

    // "Verify now" while the key still works: alive, nothing recorded.
    const early = await client.post(`/api/revoke/jobs/${jobId}/verify`, { keyId: idOf(KEYS.bfxMm.apiKey) });
    expect(early.json()).toMatchObject({ status: "alive", recorded: false });

    // A person revokes it on the exchange's page; Keyward's probe proves it.
    await desk.uiRevoke("bitfinex", KEYS.bfxMm.apiKey);
    const res = await stream;
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    const events = parseSse(res.body);
    const types = events.map((e) => e.event);
    for (const t of [
      "started",
      "revoked",
      "verified",
      "manual-steps",
      "manual-waiting",
      "verify-now",
      "manual-done",
      "finished",
      "end",
    ]) {
      expect(types, t).toContain(t);
    }
    expect(types.indexOf("started")).toBe(0);
    expect(types.at(-1)).toBe("end");
    const ids = events.filter((e) => e.id).map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    const done = await job(jobId);
    expect(done.status).toBe("finished");
    expect(done.summary).toMatchObject({ verified: 2, awaitingManual: 0, failed: 0 });
    expect(done.results.every((r) => r.verified && !r.pending)).toBe(true);

    // Reconnecting with Last-Event-ID replays only what came after it.
    const replay = parseSse(
      (await client.get(`/api/revoke/jobs/${jobId}/events`, { headers: { "last-event-id": "3" } })).body,
    );
    expect(replay[0]?.id).toBe("4");
    expect(replay.at(-1)?.event).toBe("end");
  });

  it("after it stops waiting, 'verify now' proves a manual key dead and records it in the audit log", async () => {
    const plan = (await client.post("/api/revoke/plan", { ids: [idOf(KEYS.bfxAccount.apiKey)] })).json<{
      planId: string;
    }>();
    const id = (await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "1" })).json<{
      jobId: string;
    }>().jobId;
    const keyId = idOf(KEYS.bfxAccount.apiKey);
    await waitFor("the manual step", async () => ((await job(id)).status === "waiting" ? true : undefined));

    // One revoke at a time.
    const plan2 = (await client.post("/api/revoke/plan", { ids: [idOf(KEYS.bot2.apiKey)] })).json<{
      planId: string;
    }>();
    expect((await client.post("/api/revoke/execute", { planId: plan2.planId, confirm: "1" })).status).toBe(
      409,
    );

    const stopped = (await client.post(`/api/revoke/jobs/${id}/stop`)).json<Job>();
    expect(stopped.id).toBe(id);
    const finished = await waitFor("the job to stop", async () => {
      const j = await job(id);
      return j.status === "finished" ? j : undefined;
    });
    expect(finished.results[0]).toMatchObject({ outcome: "awaiting-manual", verified: false });

    expect((await client.post(`/api/revoke/jobs/${id}/verify`, { keyId })).json()).toMatchObject({
      status: "alive",
      recorded: false,
    });
    await desk.uiRevoke("bitfinex", KEYS.bfxAccount.apiKey);
    const verified = (await client.post(`/api/revoke/jobs/${id}/verify`, { keyId })).json<{
      status: string;
      recorded: boolean;
    }>();
    expect(verified).toEqual(expect.objectContaining({ status: "dead", recorded: true }));
    const after = await job(id);
    expect(after.results[0]).toMatchObject({ outcome: "revoked", verified: true });
    expect(after.summary.verified).toBe(1);

    // Not pending any more.
    expect((await client.post(`/api/revoke/jobs/${id}/verify`, { keyId })).status).toBe(409);
    const audit = (await client.get("/api/audit")).json<{
      entries: { action: string; subject: string; actor: string }[];
    }>();
    expect(audit.entries.find((e) => e.action === "manual.confirmed" && e.subject === keyId)?.actor).toBe(
      "web:test",
    );
  });

  it("lists jobs, newest first", async () => {
    const { jobs } = (await client.get("/api/revoke/jobs")).json<{ jobs: Job[] }>();
    expect(jobs[1]?.id).toBe(jobId);
  });

  it("a delete the exchange answers 0 while the key lives on: the job result says not proven dead", async () => {
    const faults = async (method: string, body?: unknown) => {
      const res = await fetch(`${desk.sim.control}/faults`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect(res.status).toBe(200);
    };
    await faults("POST", { exchange: "okx", hollowDeletes: 1 });
    try {
      const keyId = idOf(KEYS.bot2.apiKey);
      const plan = (await client.post("/api/revoke/plan", { ids: [keyId] })).json<{ planId: string }>();
      const started = await client.post("/api/revoke/execute", { planId: plan.planId, confirm: "1" });
      expect(started.status).toBe(202);
      const id = started.json<{ jobId: string }>().jobId;
      const done = await waitFor("the job to finish", async () => {
        const j = await job(id);
        return j.status === "finished" ? j : undefined;
      });
      expect(done.results[0]).toMatchObject({
        id: keyId,
        outcome: "revoked",
        verified: false,
        pending: false,
      });
      expect(done.results[0]?.evidence).toContain("list: STILL LISTED by the exchange");
      expect(done.summary).toMatchObject({ verified: 0, unverified: 1, failed: 0 });
      expect(statuses(await desk.state()).get(KEYS.bot2.apiKey)).toBe("active");
      const audit = (await client.get("/api/audit")).json<{
        entries: { action: string; subject: string }[];
      }>();
      const actions = audit.entries.filter((e) => e.subject === keyId).map((e) => e.action);
      expect(actions).toContain("revoke.unverified");
      expect(actions).not.toContain("revoke.verified");
    } finally {
      await faults("DELETE");
    }
  });
});

describe("audit log", () => {
  it("shows entries newest first, pages back, and the chain's status", async () => {
    const res = (await client.get("/api/audit?limit=5")).json<{
      entries: { seq: number; action: string }[];
      total: number;
      more: boolean;
      chain: { ok: boolean; entries: number };
    }>();
    expect(res.chain).toMatchObject({ ok: true, entries: res.total });
    expect(res.entries).toHaveLength(5);
    expect(res.more).toBe(true);
    const seqs = res.entries.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const older = (await client.get(`/api/audit?limit=5&beforeSeq=${seqs.at(-1)}`)).json<{
      entries: { seq: number }[];
    }>();
    expect(older.entries[0]?.seq).toBe((seqs.at(-1) ?? 0) - 1);
    const all = (await client.get("/api/audit?limit=5000")).json<{ entries: { action: string }[] }>();
    const actions = all.entries.map((e) => e.action);
    for (const a of [
      "account.added",
      "key.tracked",
      "revoke.requested",
      "revoke.done",
      "revoke.verified",
      "revoke.finished",
    ]) {
      expect(actions, a).toContain(a);
    }
  });
});

describe("malformed requests", () => {
  it("answer 4xx with a message that says what is wrong, never 500", async () => {
    const uuid = randomUUID();
    const cases: [string, string, unknown, number][] = [
      ["POST", "/api/revoke/plan", "not json", 400],
      ["POST", "/api/revoke/plan", "[]", 400],
      ["POST", "/api/revoke/plan", "null", 400],
      ["POST", "/api/revoke/plan", '"all"', 400],
      ["POST", "/api/revoke/plan", '{"ids": [', 400],
      ["POST", "/api/revoke/plan", {}, 400],
      ["POST", "/api/revoke/plan", { ids: "bot-1" }, 400],
      ["POST", "/api/revoke/plan", { ids: [1, 2] }, 400],
      ["POST", "/api/revoke/plan", { ids: [""] }, 400],
      ["POST", "/api/revoke/plan", { exchange: "kraken" }, 400],
      ["POST", "/api/revoke/plan", { all: "yes" }, 400],
      ["POST", "/api/revoke/plan", { all: true, extra: 1 }, 400],
      ["POST", "/api/revoke/plan", { __proto__: { all: true } }, 400],
      ["POST", "/api/revoke/plan", { ids: ["okx:nope:-:nope"] }, 404],
      [
        "POST",
        "/api/revoke/plan",
        { ids: Array.from({ length: 5000 }, (_, i) => `key-${i}-${"x".repeat(20)}`) },
        413,
      ],
      ["POST", "/api/revoke/execute", {}, 400],
      ["POST", "/api/revoke/execute", { planId: "x", confirm: "1" }, 400],
      ["POST", "/api/revoke/execute", { planId: uuid, confirm: 1 }, 400],
      ["POST", "/api/revoke/execute", { planId: uuid, confirm: "1" }, 409],
      ["POST", `/api/revoke/jobs/${uuid}/verify`, { keyId: "x" }, 404],
      ["POST", "/api/revoke/jobs/not-a-job/verify", { keyId: "x" }, 400],
      ["POST", `/api/revoke/jobs/${uuid}/verify`, { keyId: 5 }, 400],
      ["POST", `/api/revoke/jobs/${uuid}/stop`, { now: true }, 400],
      ["POST", "/api/session/logout", { everywhere: true }, 400],
      ["POST", "/api/session/login", { token: 5 }, 400],
      ["GET", "/api/audit?limit=abc", undefined, 400],
      ["GET", "/api/audit?limit=0", undefined, 400],
      ["GET", "/api/audit?limit=999999", undefined, 400],
      ["GET", "/api/audit?beforeSeq=-1", undefined, 400],
      ["GET", "/api/audit?verbose=1", undefined, 400],
      ["GET", "/api/inventory?refresh=maybe", undefined, 400],
      ["GET", "/api/accounts/health?account=nope", undefined, 404],
      ["GET", "/api/accounts/health?account=", undefined, 400],
      ["GET", "/api/revoke/jobs/not-a-job", undefined, 400],
      ["GET", `/api/revoke/jobs/${uuid}`, undefined, 404],
      ["GET", `/api/revoke/jobs/${uuid}/events`, undefined, 404],
      ["DELETE", "/api/inventory", undefined, 404],
    ];
    for (const [method, path, body, status] of cases) {
      const res =
        method === "GET"
          ? await client.get(path)
          : await http(client.origin, method, path, {
              ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
              headers: {
                cookie: client.cookie,
                origin: client.origin,
                "x-keyward-session": client.secret,
                "content-type": "application/json",
              },
            });
      const what = `${method} ${path} ${typeof body === "string" ? body : JSON.stringify(body)?.slice(0, 60)}`;
      expect(res.status, what).toBe(status);
      const error = res.json<{ error: { code: string; message: string; hint?: string } }>().error;
      expect(error.message.length, what).toBeGreaterThan(5);
    }
    const text = await client.post("/api/revoke/plan", "all", { headers: { "content-type": "text/plain" } });
    expect(text.status).toBe(415);
    const form = await client.post("/api/revoke/plan", "all=true", {
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(415);
    const badEventId = await client.get(
      `/api/revoke/jobs/${(await client.get("/api/revoke/jobs")).json<{ jobs: Job[] }>().jobs[0]?.id}/events`,
      {
        headers: { "last-event-id": "abc" },
      },
    );
    expect(badEventId.status).toBe(400);
  });

  it("name the bad field as the person knows it (not where it sits in the request), with a hint", async () => {
    type Answer = { error: { code: string; message: string; hint?: string } };
    const body = (await client.post("/api/revoke/plan", { exchange: "kraken" })).json<Answer>().error;
    expect(body.code).toBe("BAD_REQUEST");
    expect(body.message).toMatch(/^exchange: /);
    expect(body.hint).toBe("Fix the request; the fields are listed in the message.");
    const nested = (await client.post("/api/revoke/plan", { ids: ["ok", 5] })).json<Answer>().error;
    expect(nested.message).toMatch(/^ids\.1: /);
    // The query's parameters and the path's id likewise; what is about the input as a whole says where.
    expect((await client.get("/api/audit?limit=0")).json<Answer>().error.message).toMatch(/^limit: /);
    expect((await client.get("/api/revoke/jobs/not-a-job")).json<Answer>().error.message).toBe(
      "id: is not a job id",
    );
    const extra = (await client.post("/api/revoke/plan", { all: true, colour: "red" })).json<Answer>().error;
    expect(extra.message).toMatch(/^body: .*colour/);
    const notObject = (await client.post("/api/revoke/plan", [1])).json<Answer>().error;
    expect(notObject.message).toMatch(/^body: /);
  });
});

describe("the worst five minutes (issue 10)", () => {
  let other: Desk;
  let c: Client;
  beforeAll(async () => {
    // The same desk, plus a second OKX master key (made on okx.com) tracked with its secret.
    other = await startDesk({}, (sim) => {
      const s = seed(sim);
      const { apiKey, secretKey: secret, passphrase } = KEYS.okxLegacy;
      return {
        ...s,
        tracked: [
          ...(s.tracked ?? []),
          { account: OKX_ACCOUNT, label: "legacy", credentials: { apiKey, secret, passphrase } },
        ],
      };
    });
    c = await login(other.server);
  });
  afterAll(async () => {
    await other?.close();
  });
  const inv = async (refresh = false) =>
    (await c.get(`/api/inventory${refresh ? "?refresh=1" : ""}`)).json<Inventory>();

  it("a tracked OKX master key is in the inventory; each account says what its exchange cannot list", async () => {
    const first = await inv();
    expect(first.keys.find((k) => k.apiKey === KEYS.okxLegacy.apiKey)).toMatchObject({
      label: "legacy",
      location: "master",
      management: "manual",
      stale: null,
    });
    const notes = Object.fromEntries(first.accounts.map((a) => [a.account, a.unlisted]));
    expect(notes[OKX_ACCOUNT]).toMatch(
      /master account .* not visible by API: track them with `keyward key track desk-okx/,
    );
    expect(notes[BFX_ACCOUNT]).toMatch(/^Bitfinex has no API that lists keys/);
  });

  it("a plan with Keyward's own key revokes it last and says Keyward loses access", async () => {
    const first = await inv();
    const id = (apiKey: string) => first.keys.find((k) => k.apiKey === apiKey)?.id;
    const res = await c.post("/api/revoke/plan", {
      ids: [id(KEYS.bfxAccount.apiKey), id(KEYS.bfxMm.apiKey)],
    });
    expect(res.status).toBe(200);
    const plan = res.json<{ items: { accountKey: boolean; key: Row }[]; warnings: string[] }>();
    expect(plan.items.map((i) => [i.key.apiKey, i.accountKey])).toEqual([
      [KEYS.bfxMm.apiKey, false],
      [KEYS.bfxAccount.apiKey, true],
    ]);
    expect(plan.warnings).toEqual([expect.stringMatching(/^Keyward loses access to desk-bfx after this/)]);
  });

  it("the OKX account's own key revoked: its sub-account keys show stale with their age, the tracked master key live; a plan for them is all by hand", async () => {
    await other.uiRevoke("okx", KEYS.okxMaster.apiKey);
    const after = await inv(true);
    const okx = after.accounts.find((a) => a.account === OKX_ACCOUNT);
    expect(okx?.error?.message).toBeTruthy();
    expect(okx?.stale?.ageMs).toBeGreaterThanOrEqual(0);
    const subs = after.keys.filter((k) => k.account === OKX_ACCOUNT && k.subAccount !== null);
    expect(subs.map((k) => k.label).sort()).toEqual(["bot-1", "bot-2", "bot-3", "ops-reader"]);
    for (const k of subs) expect(k.stale?.fetchedAt, k.label).toBe(okx?.stale?.fetchedAt);
    expect(after.keys.find((k) => k.apiKey === KEYS.okxLegacy.apiKey)).toMatchObject({
      state: "active",
      stale: null,
    });
    expect(after.keys.find((k) => k.apiKey === KEYS.okxMaster.apiKey)).toMatchObject({ state: "dead" });

    const res = await c.post("/api/revoke/plan", { account: OKX_ACCOUNT, label: "bot-*" });
    expect(res.status).toBe(200);
    const plan = res.json<{
      byApi: number;
      byPerson: number;
      items: { method: string; key: Row }[];
      accountErrors: unknown[];
    }>();
    expect(plan).toMatchObject({ byApi: 0, byPerson: 3 });
    for (const i of plan.items) expect(i.key.stale, i.key.label).not.toBeNull();
    expect(plan.accountErrors).toHaveLength(1);
  }, 60_000);
});

describe("secrets", () => {
  it("no response (JSON, page or event stream) carried a canary secret", () => {
    expect(received.length).toBeGreaterThan(60);
    expect(leaks()).toEqual([]);
  });
});
