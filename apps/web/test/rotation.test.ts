/**
 * Rotation over the web API, driving core's engine: an OKX sub-account key rotated by API into a dotenv
 * file; a tracked Bitfinex key rotated with a person's help (the new key created on the simulator, its
 * credentials posted to the server, the old one revoked on the simulator's page); stop, resume and abort;
 * exec targets refused from the browser. The new keys' secrets (read back from the vault) never appear
 * in any response.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  applyPlan,
  DEFAULT_RUN_OPTIONS,
  type KeywardHome,
  keyRef,
  RotationJournal,
  type RotationPlan,
} from "@keyward/core";
import { sqliteHandleForTests } from "@keyward/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BFX_ACCOUNT,
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
  apiKey: string;
  label: string;
}
interface SlotRow {
  slot: number;
  step: string;
  newKeyId: string | null;
  newApiKey: string | null;
  error: { message: string } | null;
}
interface RunView {
  id: string;
  state: string;
  running: boolean;
  slots: SlotRow[];
  report: { summary: { finished: number; waiting: number; failed: number } };
  createRequests: { slot: number; label: string; needsPassphrase: boolean }[];
  revokeSteps: { slot: number; steps: { url: string } }[];
  grace: { slot: number; until: string }[];
}

let desk: Desk;
let client: Client;
let keys: Row[];
let dir: string;
const newSecrets: string[] = [];

beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
  keys = (await client.get("/api/inventory")).json<{ keys: Row[] }>().keys;
  dir = mkdtempSync(join(tmpdir(), "keyward-web-rotate-"));
});
afterAll(async () => {
  await desk?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const idOf = (apiKey: string) => keys.find((k) => k.apiKey === apiKey)?.id as string;
const view = async (id: string) => (await client.get(`/api/rotation/runs/${id}`)).json<RunView>();

const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000) =>
  waitFor(what, fn, timeoutMs, 150);

async function secretOf(home: KeywardHome, keyId: string): Promise<string> {
  const c = (await home.vault()).get(keyRef(keyId));
  if (!c) throw new Error(`no vault entry for ${keyId}`);
  return c.secret.reveal();
}

describe("rotation from the browser", () => {
  it("refuses exec targets and check commands' kin: a browser session cannot run programs", async () => {
    const res = await client.post("/api/rotation/plan", {
      selector: { ids: [idOf(KEYS.bot3.apiKey)] },
      deliver: ["exec:/usr/bin/touch /tmp/pwned"],
    });
    expect(res.status).toBe(400);
    expect(res.json<{ error: { code: string; hint: string } }>().error).toMatchObject({
      code: "TARGET_NOT_ALLOWED",
    });
    const unknown = await client.post("/api/rotation/plan", {
      selector: { ids: [idOf(KEYS.bot3.apiKey)] },
      deliver: ["ftp:x"],
    });
    expect(unknown.status).toBe(400);
    const none = await client.post("/api/rotation/plan", {
      selector: { ids: [idOf(KEYS.bot3.apiKey)] },
      deliver: [],
    });
    expect(none.status).toBe(400);
    expect(none.json<{ error: { message: string } }>().error.message).toMatch(/deliver/);
    for (const bad of [
      {},
      { selector: {}, deliver: [] },
      { selector: { all: true }, deliver: "x" },
      { selector: { all: true }, deliver: [], checkCmd: "x" },
    ]) {
      expect((await client.post("/api/rotation/plan", bad)).status, JSON.stringify(bad)).toBe(400);
    }
    for (const bad of [
      {},
      { planId: "rot-zzzzzz", confirm: "1" },
      { planId: "nope", confirm: "1", graceSeconds: 0 },
      { planId: "rot-zzzzzz", confirm: "1", graceSeconds: -1 },
    ]) {
      expect((await client.post("/api/rotation/apply", bad)).status, JSON.stringify(bad)).toBe(400);
    }
    expect(
      (await client.post("/api/rotation/apply", { planId: "rot-zzzzzz", confirm: "1", graceSeconds: 0 }))
        .status,
    ).toBe(409);
    expect((await client.get("/api/rotation/runs/rot-zzzzzz")).status).toBe(404);
    expect((await client.get("/api/rotation/runs/not-a-run")).status).toBe(400);
  });

  it("refuses relative paths and any target leading into Keyward's home, before anything is planned", async () => {
    const homeDir = desk.home.paths.dir;
    const before = Object.fromEntries(
      readdirSync(homeDir).map((f) => [
        f,
        f.startsWith("state.db") ? "" : readFileSync(join(homeDir, f), "latin1"),
      ]),
    );
    symlinkSync(join(homeDir, "vault.age"), join(dir, "vault-link.env"));
    const plan = (deliver: string) =>
      client.post("/api/rotation/plan", { selector: { ids: [idOf(KEYS.bot3.apiKey)] }, deliver: [deliver] });
    for (const [deliver, why] of [
      ["dotenv:vault.age", /relative path/], // would resolve against the server's directory: the home
      ["json:config.json#/x", /relative path/],
      ["age:drop", /relative path/],
      [`dotenv:${homeDir}/vault.age`, /Keyward's home/],
      [`json:${homeDir}/config.json#/exchange`, /Keyward's home/],
      [`dotenv:${dir}/vault-link.env`, /Keyward's home/],
    ] as const) {
      const res = await plan(deliver);
      expect(res.status, deliver).toBe(400);
      const error = res.json<{ error: { code: string; message: string } }>().error;
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.message).toMatch(why);
    }
    for (const [f, bytes] of Object.entries(before)) {
      if (bytes) expect(readFileSync(join(homeDir, f), "latin1"), f).toBe(bytes);
    }
  });

  it("rotates an OKX sub-account key by API: plan, confirm, live events, delivered, old key dead", async () => {
    const plan = await client.post("/api/rotation/plan", {
      selector: { ids: [idOf(KEYS.bot3.apiKey)] },
      deliver: [`dotenv:${dir}/{label}.env`],
    });
    expect(plan.status).toBe(200);
    const p = plan.json<{
      plan: { id: string; slots: { method: string; new: { label: string } }[] };
      targets: string[][];
      confirmWith: string;
    }>();
    expect(p.plan.slots).toHaveLength(1);
    expect(p.plan.slots[0]?.method).toBe("api");
    expect(p.targets[0]).toEqual([`dotenv:${dir}/bot-3.env`]);
    expect(p.confirmWith).toBe("1");

    expect(
      (await client.post("/api/rotation/apply", { planId: p.plan.id, confirm: "2", graceSeconds: 0 })).status,
    ).toBe(400);
    const started = await client.post("/api/rotation/apply", {
      planId: p.plan.id,
      confirm: "1",
      graceSeconds: 0,
    });
    expect(started.status).toBe(202);
    const runId = started.json<{ runId: string }>().runId;
    expect(runId).toBe(p.plan.id);

    const stream = await client.get(`/api/rotation/runs/${runId}/events`, { timeoutMs: 60_000 });
    const events = stream.body.split("\n\n").flatMap((b) => /^event: (.+)$/m.exec(b)?.[1] ?? []);
    expect(events[0]).toBe("started");
    expect(events).toContain("step");
    expect(events).toContain("report");
    expect(events.at(-1)).toBe("end");

    const run = await view(runId);
    expect(run.state).toBe("finished");
    expect(run.slots[0]?.step).toBe("finished");
    const newApiKey = run.slots[0]?.newApiKey as string;
    const world = statuses(await desk.state());
    expect(world.get(KEYS.bot3.apiKey)).toBe("revoked");
    expect(world.get(newApiKey)).toBe("active");
    const env = readFileSync(join(dir, "bot-3.env"), "utf8");
    expect(env).toContain(newApiKey);
    const secret = await secretOf(desk.home, run.slots[0]?.newKeyId as string);
    expect(env).toContain(secret);
    newSecrets.push(secret);
  });

  it("rotates a tracked Bitfinex key with a person: the page asks for the new key, then for the old one's revoke", async () => {
    const p = (
      await client.post("/api/rotation/plan", {
        selector: { ids: [idOf(KEYS.bfxMm.apiKey)] },
        deliver: [`json:${dir}/bfx.json#/keys/{label}`],
      })
    ).json<{ plan: { id: string; slots: { method: string }[] } }>();
    expect(p.plan.slots[0]?.method).toBe("assisted");
    const runId = (
      await client.post("/api/rotation/apply", { planId: p.plan.id, confirm: "1", graceSeconds: 0 })
    ).json<{ runId: string }>().runId;

    const asked = await until("the create request", async () => (await view(runId)).createRequests[0]);
    expect(asked.needsPassphrase).toBe(false);
    // Wrong credentials are refused with a reason, and it asks again.
    expect(
      (
        await client.post(`/api/rotation/runs/${runId}/credentials`, {
          slot: 1,
          apiKey: "x",
          secret: "y",
          passphrase: "z",
        })
      ).status,
    ).toBe(400);
    expect(
      (await client.post(`/api/rotation/runs/${runId}/credentials`, { slot: 9, apiKey: "x", secret: "y" }))
        .status,
    ).toBe(409);
    expect((await client.post(`/api/rotation/runs/${runId}/credentials`, { slot: 1 })).status).toBe(400);

    // The person creates the key on the exchange (here: the simulator's control API) and pastes it.
    const created = (await (
      await fetch(`${desk.sim.control}/ui/create`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          exchange: "bitfinex",
          userId: 8000001,
          label: asked.label,
          permissions: KEYS.bfxMm.permissions,
          ip: ["127.0.0.1"],
        }),
      })
    ).json()) as { apiKey: string; apiSecret: string };
    newSecrets.push(created.apiSecret);
    const given = await client.post(`/api/rotation/runs/${runId}/credentials`, {
      slot: 1,
      apiKey: created.apiKey,
      secret: created.apiSecret,
    });
    expect(given.status).toBe(200);

    const revoke = await until("the revoke steps", async () => (await view(runId)).revokeSteps[0]);
    expect(revoke.steps.url).toBe(`${desk.sim.bitfinex}/api`);
    const json = JSON.parse(readFileSync(join(dir, "bfx.json"), "utf8")) as {
      keys: Record<string, { apiKey: string }>;
    };
    expect(Object.values(json.keys)[0]?.apiKey).toBe(created.apiKey);

    await desk.uiRevoke("bitfinex", KEYS.bfxMm.apiKey);
    const done = await until("the rotation to finish", async () => {
      const v = await view(runId);
      return v.state === "finished" ? v : undefined;
    });
    expect(done.report.summary.finished).toBe(1);
    expect(statuses(await desk.state()).get(KEYS.bfxMm.apiKey)).toBe("revoked");
    const accounts = (await client.get("/api/accounts")).json<{
      accounts: { name: string; tracked: { label: string }[] }[];
    }>();
    expect(accounts.accounts.find((a) => a.name === BFX_ACCOUNT)).toBeDefined();
  });

  it("stops, resumes and aborts a run in its grace period; abort says what it undid", async () => {
    const p = (
      await client.post("/api/rotation/plan", {
        selector: { ids: [idOf(KEYS.opsReader.apiKey)] },
        deliver: [`dotenv:${dir}/ops.env#OPS`],
      })
    ).json<{ plan: { id: string } }>();
    const runId = (
      await client.post("/api/rotation/apply", { planId: p.plan.id, confirm: "1", graceSeconds: 600 })
    ).json<{ runId: string }>().runId;
    await until("the grace period", async () => (await view(runId)).grace[0]);

    // A key in an unfinished rotation cannot be planned again.
    const again = (
      await client.post("/api/rotation/plan", {
        selector: { ids: [idOf(KEYS.opsReader.apiKey)] },
        deliver: [`dotenv:${dir}/x.env`],
      })
    ).json<{ plan: { slots: unknown[]; refused: { reason: string }[] } }>();
    expect(again.plan.slots).toHaveLength(0);
    expect(again.plan.refused[0]?.reason).toMatch(new RegExp(runId));

    const stopped = (await client.post(`/api/rotation/runs/${runId}/stop`)).json<RunView>();
    expect(stopped).toMatchObject({ state: "active", running: false });
    expect((await client.post(`/api/rotation/runs/${runId}/resume`)).status).toBe(202);
    await until("the grace period again", async () => (await view(runId)).grace[0]);
    expect((await client.post(`/api/rotation/runs/${runId}/resume`)).status).toBe(409);

    expect((await client.post(`/api/rotation/runs/${runId}/abort`, { confirm: "yes" })).status).toBe(400);
    const aborted = await client.post(`/api/rotation/runs/${runId}/abort`, { confirm: "abort" });
    expect(aborted.status).toBe(200);
    const report = aborted.json<{ state: string; slots: { result: string; explanation: string }[] }>();
    expect(report.slots).toHaveLength(1);
    expect(["aborted", "not-undone"]).toContain(report.slots[0]?.result);
    expect(report.slots[0]?.explanation.length).toBeGreaterThan(5);
    // Before the revoke, the old key still works.
    expect(statuses(await desk.state()).get(KEYS.opsReader.apiKey)).toBe("active");
    const runs = (await client.get("/api/rotation/runs")).json<{ runs: RunView[] }>().runs;
    expect(runs.map((r) => r.id)).toContain(runId);
  });

  it("never resumes or aborts a run the CLI started with an exec: target or --check-cmd; names the CLI command", async () => {
    // A plan for bot-2 as the CLI would make it: delivered by a program, checked by another. Each
    // program leaves a marker file, so running it in the web server's process would show.
    const planned = (
      await client.post("/api/rotation/plan", {
        selector: { ids: [idOf(KEYS.bot2.apiKey)] },
        deliver: [`dotenv:${dir}/unused.env`],
      })
    ).json<{ plan: RotationPlan }>().plan;
    const delivered = join(dir, "exec-target-ran");
    const checked = join(dir, "check-cmd-ran");
    const plan: RotationPlan = {
      ...planned,
      slots: planned.slots.map((slot) => ({
        ...slot,
        deliver: [{ kind: "exec", command: `cat >/dev/null; touch ${delivered}` }],
      })),
    };
    // `keyward rotate apply` started it and was interrupted before the first step (a stopped signal):
    // the run is journaled, active, with every step still to do.
    const { home } = desk;
    const stopped = new AbortController();
    stopped.abort();
    await applyPlan(
      plan,
      { ...DEFAULT_RUN_OPTIONS, graceMs: 0, checkCmd: `touch ${checked}` },
      {
        home,
        journal: new RotationJournal(home.state(), home.audit()),
        audit: home.audit(),
        adapterFor: home.liveAdapterSource(),
        childEnv: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        signal: stopped.signal,
      },
    );
    const before = await view(plan.id);
    expect(before).toMatchObject({ state: "active", running: false });

    for (const [verb, body] of [
      ["resume", {}],
      ["abort", { confirm: "abort" }],
    ] as const) {
      const res = await client.post(`/api/rotation/runs/${plan.id}/${verb}`, body);
      expect(res.status, verb).toBe(409);
      const error = res.json<{ error: { code: string; message: string; hint: string } }>().error;
      expect(error.code).toBe("CLI_ONLY");
      expect(error.message).toMatch(/exec:.*--check-cmd/);
      expect(error.hint).toContain(`keyward rotate ${verb} ${plan.id}`);
    }
    // The page shows the commands instead of its resume and abort buttons.
    expect((before as RunView & { cliOnly: unknown }).cliOnly).toMatchObject({
      resume: `keyward rotate resume ${plan.id}`,
      abort: `keyward rotate abort ${plan.id}`,
    });
    // Nothing ran, nothing moved: give a wrongly started run time to reach its programs, then look.
    await new Promise((r) => setTimeout(r, 1500));
    expect(existsSync(delivered)).toBe(false);
    expect(existsSync(checked)).toBe(false);
    const after = await view(plan.id);
    expect(after).toMatchObject({ state: "active", running: false });
    expect(after.slots.map((s) => s.step)).toEqual(before.slots.map((s) => s.step));
    expect(statuses(await desk.state()).get(KEYS.bot2.apiKey)).toBe("active");
  });

  it("refuses to resume or abort a run whose journal was changed in state.db (409 JOURNAL_TAMPERED)", async () => {
    const plan = (
      await client.post("/api/rotation/plan", {
        selector: { ids: [idOf(KEYS.bot1.apiKey)] },
        deliver: [`dotenv:${dir}/bot1.env`],
      })
    ).json<{ plan: RotationPlan }>().plan;
    expect(plan.slots).toHaveLength(1);
    // Journaled and stopped before its first step, as an interrupted apply leaves it.
    const { home } = desk;
    const stopped = new AbortController();
    stopped.abort();
    await applyPlan(
      plan,
      { ...DEFAULT_RUN_OPTIONS, graceMs: 0 },
      {
        home,
        journal: new RotationJournal(home.state(), home.audit()),
        audit: home.audit(),
        adapterFor: home.liveAdapterSource(),
        childEnv: {},
        signal: stopped.signal,
      },
    );
    // Someone with state.db sends the new secret elsewhere.
    const elsewhere = join(dir, "elsewhere.env");
    sqliteHandleForTests(home.state())
      .prepare("UPDATE rotation_runs SET plan = json_set(plan, '$.slots[0].deliver[0].path', ?) WHERE id = ?")
      .run(elsewhere, plan.id);
    for (const [verb, body] of [
      ["resume", {}],
      ["abort", { confirm: "abort" }],
    ] as const) {
      const res = await client.post(`/api/rotation/runs/${plan.id}/${verb}`, body);
      expect(res.status, verb).toBe(409);
      const error = res.json<{ error: { code: string; message: string; hint: string } }>().error;
      expect(error.code).toBe("JOURNAL_TAMPERED");
      expect(error.message).toContain(`rotation ${plan.id} cannot be trusted`);
      expect(error.hint).toMatch(/keyward audit verify/);
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(elsewhere)).toBe(false);
    expect(statuses(await desk.state()).get(KEYS.bot1.apiKey)).toBe("active");
    expect((await view(plan.id)).slots.map((s) => s.step)).toEqual(["planned"]);
  });

  it("no response carried a canary or a new key's secret", () => {
    expect(newSecrets).toHaveLength(2);
    expect(leaks()).toEqual([]);
    for (const secret of newSecrets) {
      expect(received.filter((r) => r.body.includes(secret)).map((r) => r.what)).toEqual([]);
    }
  });
});
