/**
 * Bybit through the shared machinery: the state file keeps keys across a restart (a deleted key stays
 * dead, a created one keeps working), and an injected "drop the response" fault applies a delete and cuts
 * the connection, as a lost answer would.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startSimulator } from "../src/index.js";
import {
  BY_ADMIN,
  BY_SUB,
  type BybitCreds,
  bybitCall,
  bybitScenario,
  retCode,
  SUB_UID,
} from "./bybit-helpers.js";
import { control, useSimulator } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "keyward-sim-bybit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const call = (base: string, path: string, creds: BybitCreds, body?: unknown) =>
  bybitCall(base, path, creds, { now: Date.now(), ...(body === undefined ? {} : { body }) });

describe("bybit: persistence", () => {
  it("a restart from the state file keeps created keys working, deleted ones dead, and stores no secret in /state", async () => {
    const stateFile = join(dir, "state.json");
    const first = await startSimulator({ scenario: bybitScenario(), stateFile });
    let made: BybitCreds;
    try {
      const created = await call(first.bybit, "/v5/user/create-sub-api", BY_ADMIN, {
        subuid: SUB_UID,
        readOnly: 0,
        ips: "127.0.0.1",
        permissions: {},
      });
      made = (created.json as { result: BybitCreds }).result;
      expect(
        retCode(await call(first.bybit, "/v5/user/delete-sub-api", BY_ADMIN, { apikey: BY_SUB.apiKey })),
      ).toBe(0);
    } finally {
      await first.close();
    }
    expect(JSON.parse(readFileSync(stateFile, "utf8")).bybitMasters).toHaveLength(2);
    const second = await startSimulator({ stateFile });
    try {
      expect(retCode(await call(second.bybit, "/v5/user/query-api", made))).toBe(0);
      expect(retCode(await call(second.bybit, "/v5/user/query-api", BY_SUB))).toBe(10003);
    } finally {
      await second.close();
    }
  });
});

describe("bybit: injected faults", () => {
  const sim = useSimulator({ scenario: bybitScenario() });

  it("dropResponses applies the delete, cuts the connection, and the key is dead", async () => {
    const set = await control(sim().control, "POST", "/faults", { exchange: "bybit", dropResponses: 1 });
    expect(set.status).toBe(200);
    await expect(
      call(sim().bybit, "/v5/user/delete-sub-api", BY_ADMIN, { apikey: BY_SUB.apiKey }),
    ).rejects.toThrow();
    expect(retCode(await call(sim().bybit, "/v5/user/query-api", BY_SUB))).toBe(10003);
    const log = (await control(sim().control, "GET", "/requests")).json as {
      exchange: string;
      fault?: string;
    }[];
    expect(log.filter((e) => e.exchange === "bybit" && e.fault === "drop")).toHaveLength(1);
  });
});
