/**
 * Shared by the control-API and web-page tests: a simulator on the fixture world that is reset before
 * each test, and readers of its state and request log over the control API.
 */
import { beforeEach, expect } from "vitest";
import type { RequestLogEntry, RunningSimulator, WorldView } from "../src/index.js";
import {
  BFX_IP,
  BFX_MAIN,
  BFX_MICRO,
  BFX_NOSCOPE,
  DEMO_KEY,
  EEA_MASTER,
  FROZEN_KEY,
  MASTER,
  MASTER_NO_IP,
  MASTER_READ,
  SUB_IDLE,
  SUB_OTHER_IP,
  SUB_READ,
  SUB_TRADE,
  scenario,
} from "./fixtures.js";
import { control, type HttpResult, okxCall, useSimulator } from "./helpers.js";

export const CONFIG = "/api/v5/account/config";
export const DELETE_KEY = "/api/v5/users/subaccount/delete-apikey";
export const CREATE_KEY = "/api/v5/users/subaccount/apikey";
export const PUBLIC_TIME = "/api/v5/public/time";

const OKX_CREDS = [
  MASTER,
  MASTER_READ,
  MASTER_NO_IP,
  SUB_TRADE,
  SUB_READ,
  SUB_OTHER_IP,
  SUB_IDLE,
  DEMO_KEY,
  FROZEN_KEY,
  EEA_MASTER,
];
const BFX_CREDS = [BFX_MAIN, BFX_NOSCOPE, BFX_IP, BFX_MICRO];
/** Every secret and passphrase the fixtures hold: none may ever leave the simulator outside a create answer. */
export const CANARIES = [
  ...OKX_CREDS.flatMap((c) => [c.secretKey, c.passphrase]),
  ...BFX_CREDS.map((c) => c.apiSecret),
];

/**
 * Starts a simulator on the fixture world (rate windows scaled by 0.01) and, before each test, loads
 * the fixture scenario again and clears the faults and, with `clearRequests`, the request log.
 */
export function useFixtureSimulator(opts: { clearRequests: boolean }): () => RunningSimulator {
  const sim = useSimulator({ scenario: scenario(), rateScale: 0.01 });

  beforeEach(async () => {
    expect((await control(sim().control, "POST", "/scenario", scenario())).status).toBe(200);
    expect((await control(sim().control, "DELETE", "/faults")).status).toBe(200);
    if (opts.clearRequests) expect((await control(sim().control, "DELETE", "/requests")).status).toBe(200);
  });

  return sim;
}

type OkxKeyView = WorldView["okx"]["accounts"][number]["keys"][number];
type BfxKeyView = WorldView["bitfinex"]["users"][number]["keys"][number];

export async function getState(base: string): Promise<WorldView> {
  const r = await control(base, "GET", "/state");
  expect(r.status).toBe(200);
  return r.json as WorldView;
}

export const okxKeys = (view: WorldView): OkxKeyView[] =>
  view.okx.accounts.flatMap((a) => [...a.keys, ...a.subAccounts.flatMap((s) => s.keys)]);
export const bfxKeys = (view: WorldView): BfxKeyView[] => view.bitfinex.users.flatMap((u) => u.keys);

export async function okxStatus(base: string, apiKey: string): Promise<string | undefined> {
  return okxKeys(await getState(base)).find((k) => k.apiKey === apiKey)?.status;
}

export async function bfxStatus(base: string, apiKey: string): Promise<string | undefined> {
  return bfxKeys(await getState(base)).find((k) => k.apiKey === apiKey)?.status;
}

export const deleteSubKey = (okx: string, apiKey: string, signal?: AbortSignal) =>
  okxCall(okx, MASTER, {
    path: DELETE_KEY,
    body: { subAcct: "botsub01", apiKey },
    ...(signal ? { signal } : {}),
  });

export async function requestLog(
  base: string,
  since?: number,
): Promise<{ entries: RequestLogEntry[]; text: string }> {
  const r = await control(base, "GET", since === undefined ? "/requests" : `/requests?since=${since}`);
  expect(r.status).toBe(200);
  return { entries: r.json as RequestLogEntry[], text: r.text };
}

export const errorOf = (r: HttpResult) => (r.json as { error?: string } | undefined)?.error ?? "";
