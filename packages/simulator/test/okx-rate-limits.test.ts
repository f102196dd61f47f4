/**
 * Fidelity checklist 10 and acceptance 4: per-UID, per-endpoint OKX limits. The windows are scaled
 * down four times (rateScale 0.25) so the tests run fast; the counts are the documented ones.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { MASTER, MASTER_READ, SUB_READ, scenario } from "./fixtures.js";
import { type HttpResult, type OkxCreds, okxCall, okxCode, useSimulator } from "./helpers.js";

const SUB = "/api/v5/users/subaccount";
const limited = (r: HttpResult) => r.status === 429 && okxCode(r) === "50011";
const burst = (n: number, call: () => Promise<HttpResult>) => Promise.all(Array.from({ length: n }, call));

describe("OKX rate limits", () => {
  const sim = useSimulator({ scenario: scenario(), rateScale: 0.25 });
  const get = (creds: OkxCreds, path: string) => () => okxCall(sim().okx, creds, { path });
  const del = (creds: OkxCreds) => () =>
    okxCall(sim().okx, creds, {
      path: `${SUB}/delete-apikey`,
      body: { subAcct: "botsub01", apiKey: "none" },
    });
  // Every test starts with empty buckets: the longest scaled window is 500 ms.
  const fresh = () => sleep(550);

  it("reads: 20 per window per UID; the 21st gets 50011 with HTTP 429 in the normal envelope", async () => {
    await fresh();
    const results = await burst(25, get(MASTER, `${SUB}/list`));
    expect(results.filter(limited)).toHaveLength(5);
    expect(results.filter((r) => okxCode(r) === "0")).toHaveLength(20);
    const body = results.find(limited)?.json as Record<string, unknown>;
    expect(body).toEqual({ code: "50011", msg: "Too Many Requests", data: [] });
  });

  it("counts per UID: two keys of one master share the bucket", async () => {
    await fresh();
    const a = await burst(15, get(MASTER, `${SUB}/list`));
    const b = await burst(10, get(MASTER_READ, `${SUB}/list`));
    expect([...a, ...b].filter(limited)).toHaveLength(5);
    expect(b.filter(limited)).toHaveLength(5);
  });

  it("counts per endpoint: listing sub-accounts does not use up the key-query bucket", async () => {
    await fresh();
    await burst(20, get(MASTER, `${SUB}/list`));
    const queries = await burst(20, get(MASTER, `${SUB}/apikey?subAcct=botsub01`));
    expect(queries.filter(limited)).toHaveLength(0);
  });

  it("account/config: 5 per window per UID, each UID its own bucket", async () => {
    await fresh();
    const master = await burst(7, get(MASTER, "/api/v5/account/config"));
    expect(master.filter(limited)).toHaveLength(2);
    const sub = await burst(5, get(SUB_READ, "/api/v5/account/config"));
    expect(sub.filter(limited)).toHaveLength(0);
  });

  it("writes: 1 per window per UID", async () => {
    await fresh();
    const results = await burst(3, del(MASTER));
    expect(results.filter(limited)).toHaveLength(2);
    // The one that got through reached parameter validation.
    expect(results.filter((r) => okxCode(r) === "59506")).toHaveLength(1);
  });

  it("public/time: 10 per window per IP", async () => {
    await fresh();
    const results = await burst(12, () => okxCall(sim().okx, MASTER, { path: "/api/v5/public/time" }));
    expect(results.filter(limited)).toHaveLength(2);
  });

  it("never rejects requests that stay within the limits", async () => {
    await fresh();
    const windowMs = sim().rateLimits.okx.read.windowMs;
    const reads: HttpResult[] = [];
    for (let round = 0; round < 3; round++) {
      reads.push(...(await burst(20, get(MASTER, `${SUB}/list`))));
      await sleep(windowMs + 15);
    }
    expect(reads.filter(limited)).toHaveLength(0);
    const writes: HttpResult[] = [];
    for (let i = 0; i < 5; i++) {
      writes.push(await del(MASTER)());
      await sleep(sim().rateLimits.okx.write.windowMs + 15);
    }
    expect(writes.filter(limited)).toHaveLength(0);
  });

  it("checks limits after authentication: rejected requests do not use up the bucket", async () => {
    await fresh();
    const forged = await burst(30, () =>
      okxCall(sim().okx, MASTER, { path: `${SUB}/list`, signSecret: "wrong" }),
    );
    expect(forged.every((r) => okxCode(r) === "50113")).toBe(true);
    const real = await burst(20, get(MASTER, `${SUB}/list`));
    expect(real.filter(limited)).toHaveLength(0);
  });
});
