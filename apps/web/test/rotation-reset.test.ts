/**
 * The in-place reset option in the web app, over HTTP against the desk's simulator: the plan form's
 * `resetInPlace` plans a Deribit key as a reset (same key id) whose notes say the old secret dies at once
 * with no grace period; the confirm step refuses it unless `acceptReset` is sent (nothing reaches the
 * exchange); OKX keys are refused, naming why. The reset itself, end to end, is core's
 * (packages/core/test/engine-own-key-reset.test.ts). No response may carry a canary.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DESK_ACCOUNTS, deskCredentials, urlOf } from "@keyward/simulator/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Client, type Desk, KEYS, leaks, login, seed, startDesk, statuses } from "./helpers.js";

const DERIBIT = DESK_ACCOUNTS.deribit;
const BOT_ID = `deribit:${DERIBIT}:-:${KEYS.deribitBot.apiKey}`;

let desk: Desk;
let dir: string;
let client: Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "keyward-web-reset-"));
  desk = await startDesk({}, (sim) => {
    const s = seed(sim);
    return {
      ...s,
      accounts: [
        ...s.accounts,
        {
          name: DERIBIT,
          exchange: "deribit",
          endpoint: urlOf(sim, "deribit"),
          credentials: deskCredentials(KEYS.deribitAccount),
        },
      ],
    };
  });
  client = await login(desk.server);
});
afterAll(async () => {
  await desk?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface PlanView {
  plan: {
    id: string;
    slots: { reset?: boolean; notes: string[]; old: { id: string } }[];
    refused: { reason: string }[];
  };
}

describe("in-place reset in the web app", () => {
  it("plans a reset that says the old secret dies at once; the confirm step refuses it without acceptReset", async () => {
    const planned = await client.post("/api/rotation/plan", {
      selector: { ids: [BOT_ID] },
      deliver: [`dotenv:${dir}/{label}.env`],
      resetInPlace: true,
    });
    expect(planned.status, planned.body).toBe(200);
    const view = planned.json<PlanView>();
    expect(view.plan.slots).toHaveLength(1);
    expect(view.plan.slots[0]).toMatchObject({ reset: true, old: { id: BOT_ID } });
    expect(view.plan.slots[0]?.notes.join(" ")).toMatch(
      /OLD SECRET DIES THE MOMENT THE NEW ONE EXISTS: there is no grace period/,
    );

    const before = await desk.state();
    const refused = await client.post("/api/rotation/apply", {
      planId: view.plan.id,
      confirm: "1",
      graceSeconds: 0,
    });
    expect(refused.status, refused.body).toBe(400);
    expect(refused.json<{ error: { code: string; message: string } }>().error).toMatchObject({
      code: "CONFIG_INVALID",
      message: expect.stringContaining("old secret dies the moment the new one exists"),
    });
    expect(statuses(await desk.state()).get(KEYS.deribitBot.apiKey)).toBe("active");
    expect(JSON.stringify(await desk.state())).toBe(JSON.stringify(before));
    expect(leaks()).toEqual([]);
  });

  it("refuses OKX keys for an in-place reset, naming why", async () => {
    const planned = await client.post("/api/rotation/plan", {
      selector: { ids: [`okx:${DESK_ACCOUNTS.okx}:deskBots01:${KEYS.bot1.apiKey}`] },
      deliver: [`dotenv:${dir}/{label}.env`],
      resetInPlace: true,
    });
    expect(planned.status, planned.body).toBe(200);
    const view = planned.json<PlanView>();
    expect(view.plan.slots).toEqual([]);
    expect(view.plan.refused[0]?.reason).toMatch(/OKX cannot give sub-account keys a new secret in place/);
  });
});
