/**
 * Two requests for one run at once (a double submit, two tabs): the server starts one run and answers
 * the other 409, so the run it shows is the one that runs, and stop and abort reach it. (With the check
 * and the registration of a run in separate steps, both requests were once answered 202, and the run
 * the page could not stop revoked the old key after an abort had put it back.)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyRef, toCredentials } from "@keyward/core";
import { deskCredentials } from "@keyward/simulator/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, type Desk, KEYS, login, startDesk, statuses, waitFor } from "./helpers.js";

interface RunView {
  id: string;
  state: string;
  running: boolean;
  grace: { slot: number; until: string }[];
}

let desk: Desk;
let client: Client;
let keys: { id: string; apiKey: string }[];
let dir: string;

beforeAll(async () => {
  desk = await startDesk();
  client = await login(desk.server);
  keys = (await client.get("/api/inventory")).json<{ keys: { id: string; apiKey: string }[] }>().keys;
  dir = mkdtempSync(join(tmpdir(), "keyward-web-race-"));
});
afterAll(async () => {
  await desk?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const idOf = (apiKey: string) => keys.find((k) => k.apiKey === apiKey)?.id as string;
const view = async (id: string) => (await client.get(`/api/rotation/runs/${id}`)).json<RunView>();
const until = <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000) =>
  waitFor(what, fn, timeoutMs, 150);

describe("rotation requests that race", () => {
  it("a resume racing an abort of the same run leaves no engine running", async () => {
    // Keyward holds the old key's secret (as after an earlier rotation made it), so abort can undo.
    const vault = await desk.home.vault();
    vault.set(keyRef(idOf(KEYS.opsReader.apiKey)), toCredentials(deskCredentials(KEYS.opsReader)));
    await vault.save();
    const p = (
      await client.post("/api/rotation/plan", {
        selector: { ids: [idOf(KEYS.opsReader.apiKey)] },
        deliver: [`dotenv:${dir}/race.env#OPS`],
      })
    ).json<{ plan: { id: string } }>();
    const runId = p.plan.id;
    expect(
      (await client.post("/api/rotation/apply", { planId: runId, confirm: "1", graceSeconds: 600 })).status,
    ).toBe(202);
    await until("the grace period", async () => (await view(runId)).grace[0]);
    await client.post(`/api/rotation/runs/${runId}/stop`);
    const [aborted, resumed] = await Promise.all([
      client.post(`/api/rotation/runs/${runId}/abort`, { confirm: "abort" }),
      client.post(`/api/rotation/runs/${runId}/resume`),
    ]);
    // Whichever starts first, the other waits its turn or is refused; the abort stops a run the resume
    // started before it undoes anything, so no engine is left running to revoke the old key later.
    expect(aborted.status, aborted.body).toBe(200);
    expect([202, 409], resumed.body).toContain(resumed.status);
    expect((await view(runId)).running, `${aborted.body}\n${resumed.body}`).toBe(false);
    expect(statuses(await desk.state()).get(KEYS.opsReader.apiKey)).toBe("active");
  });
  it("one plan applied twice at once (a double submit, two tabs): one run, the other request 409, and stop reaches the run", async () => {
    const p = (
      await client.post("/api/rotation/plan", {
        selector: { ids: [idOf(KEYS.bot2.apiKey)] },
        deliver: [`dotenv:${dir}/twice.env#BOT`],
      })
    ).json<{ plan: { id: string } }>();
    const apply = () =>
      client.post("/api/rotation/apply", { planId: p.plan.id, confirm: "1", graceSeconds: 600 });
    const answers = await Promise.all([apply(), apply()]);
    expect(answers.map((a) => a.status).sort(), answers.map((a) => a.body).join(" | ")).toEqual([202, 409]);
    const runId = p.plan.id;
    await until("the grace period", async () => (await view(runId)).grace[0]);
    // The run the server shows is the one that runs: stop reaches it.
    expect((await view(runId)).running).toBe(true);
    const stopped = (await client.post(`/api/rotation/runs/${runId}/stop`)).json<RunView>();
    expect(stopped).toMatchObject({ state: "active", running: false });
    expect(statuses(await desk.state()).get(KEYS.bot2.apiKey)).toBe("active");
  });
});
