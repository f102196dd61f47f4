/**
 * The control API's fault injection (POST /faults: latency, errors, timeouts, dropped answers, deletes
 * and creates that answer "done" without it being true), over real HTTP against a running simulator.
 */
import { describe, expect, it } from "vitest";
import {
  CONFIG,
  CREATE_KEY,
  DELETE_KEY,
  deleteSubKey,
  errorOf,
  getState,
  okxKeys,
  okxStatus,
  PUBLIC_TIME,
  requestLog,
  useFixtureSimulator,
} from "./control-helpers.js";
import { BFX_MAIN, MASTER, SUB_IDLE, SUB_READ, SUB_TRADE } from "./fixtures.js";
import { bfxCall, control, okxCall, okxCode, okxData } from "./helpers.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** OKX writes are limited to 1 per window per UID; with rateScale 0.01 the window is 10 ms. */
const WRITE_GAP_MS = 25;

/** The API keys OKX lists for the fixture's sub-account botsub01. */
async function listedKeys(okx: string): Promise<string[]> {
  const r = await okxCall(okx, MASTER, { path: "/api/v5/users/subaccount/apikey?subAcct=botsub01" });
  expect(okxCode(r)).toBe("0");
  return okxData<{ apiKey: string }>(r).map((k) => k.apiKey);
}

/** What OKX answers a call made with the key itself: "0" while it authenticates. */
const ownCall = async (okx: string, creds: typeof SUB_READ) =>
  okxCode(await okxCall(okx, creds, { path: CONFIG }));

/** Creates a key in botsub01 as asked; the answer's data row (it carries the new secret). */
async function createSubKey(okx: string, label: string, perm: string) {
  const r = await okxCall(okx, MASTER, {
    path: CREATE_KEY,
    body: { subAcct: "botsub01", label, passphrase: "New-Pass-99!", perm },
  });
  expect(okxCode(r)).toBe("0");
  const [row] = okxData<{ apiKey: string; secretKey: string; perm: string }>(r);
  if (!row) throw new Error("create answered without a key");
  return { apiKey: row.apiKey, secretKey: row.secretKey, passphrase: "New-Pass-99!", perm: row.perm };
}

/** Milliseconds a call takes. */
async function timed(call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

describe("control API", () => {
  const sim = useFixtureSimulator({ clearRequests: true });

  describe("POST /faults", () => {
    it("latencyMs delays every exchange answer until reset", async () => {
      const base = await timed(() => okxCall(sim().okx, MASTER, { path: PUBLIC_TIME }));
      expect(base).toBeLessThan(250);
      const set = await control(sim().control, "POST", "/faults", { latencyMs: 400 });
      expect(set.status).toBe(200);
      const slowOkx = await timed(async () => {
        expect(okxCode(await okxCall(sim().okx, MASTER, { path: PUBLIC_TIME }))).toBe("0");
      });
      const slowBfx = await timed(async () => {
        expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);
      });
      expect(slowOkx).toBeGreaterThanOrEqual(390);
      expect(slowBfx).toBeGreaterThanOrEqual(390);

      await control(sim().control, "DELETE", "/faults");
      expect(await timed(() => okxCall(sim().okx, MASTER, { path: PUBLIC_TIME }))).toBeLessThan(250);
    });

    it("errorRate 1 answers the configured 5xx and does not apply the write", async () => {
      await control(sim().control, "POST", "/faults", { errorRate: 1, errorStatus: 503 });
      const r = await deleteSubKey(sim().okx, SUB_READ.apiKey);
      expect(r.status).toBe(503);
      expect(r.json).toBeUndefined(); // a proxy's HTML page, not the exchange's envelope
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("active");

      const bfx = await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      expect(bfx.status).toBe(503);

      const { entries } = await requestLog(sim().control);
      expect(entries.at(-2)).toMatchObject({ path: DELETE_KEY, status: 503, fault: "error" });

      await control(sim().control, "DELETE", "/faults");
      const ok = await deleteSubKey(sim().okx, SUB_READ.apiKey);
      expect(okxCode(ok)).toBe("0");
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("revoked");
    });

    it("defaults the injected status to 502", async () => {
      const set = await control(sim().control, "POST", "/faults", { errorRate: 1 });
      expect((set.json as { okx: { errorStatus: number } }).okx.errorStatus).toBe(502);
      expect((await okxCall(sim().okx, MASTER, { path: CONFIG })).status).toBe(502);
    });

    it("timeoutRate 1 never answers and does not apply the write", async () => {
      await control(sim().control, "POST", "/faults", { timeoutRate: 1 });
      await expect(deleteSubKey(sim().okx, SUB_READ.apiKey, AbortSignal.timeout(300))).rejects.toThrow();
      await expect(
        bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions", {}, { signal: AbortSignal.timeout(300) }),
      ).rejects.toThrow();
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("active");
      const { entries } = await requestLog(sim().control);
      expect(entries.at(-2)).toMatchObject({ path: DELETE_KEY, fault: "timeout" });

      await control(sim().control, "DELETE", "/faults");
      expect(okxCode(await deleteSubKey(sim().okx, SUB_READ.apiKey))).toBe("0");
    });

    it("dropResponses N applies the next N writes but cuts their connection, then answers resume", async () => {
      const set = await control(sim().control, "POST", "/faults", { exchange: "okx", dropResponses: 2 });
      expect((set.json as { okx: { dropsLeft: number } }).okx.dropsLeft).toBe(2);

      await expect(deleteSubKey(sim().okx, SUB_READ.apiKey)).rejects.toThrow(/socket hang up|ECONNRESET/);
      // Reads are not writes: answered normally, no drop used up.
      expect(okxCode(await okxCall(sim().okx, MASTER, { path: CONFIG }))).toBe("0");
      await sleep(WRITE_GAP_MS);
      await expect(deleteSubKey(sim().okx, SUB_IDLE.apiKey)).rejects.toThrow(/socket hang up|ECONNRESET/);
      await sleep(WRITE_GAP_MS);
      const third = await deleteSubKey(sim().okx, SUB_TRADE.apiKey);
      expect([third.status, okxCode(third)]).toEqual([200, "0"]);

      // Both dropped writes took effect.
      const view = await getState(sim().control);
      expect(view.okx.accounts[0]?.subAccounts[0]?.keys.map((k) => [k.label, k.status])).toEqual([
        ["bot-1", "revoked"],
        ["viewer", "revoked"],
        ["elsewhere", "active"],
        ["idle", "revoked"],
      ]);
      const faults = await control(sim().control, "GET", "/faults");
      expect((faults.json as { okx: { dropsLeft: number } }).okx.dropsLeft).toBe(0);
      const { entries } = await requestLog(sim().control);
      expect(entries.filter((e) => e.fault === "drop").map((e) => [e.path, e.code, e.status])).toEqual([
        [DELETE_KEY, "0", 200],
        [DELETE_KEY, "0", 200],
      ]);
    });

    it("dropResponses counts Bitfinex writes, not reads", async () => {
      await control(sim().control, "POST", "/faults", { exchange: "bitfinex", dropResponses: 1 });
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);
      await expect(
        bfxCall(sim().bitfinex, BFX_MAIN, "auth/w/token", { scope: "api", ttl: 60 }),
      ).rejects.toThrow(/socket hang up|ECONNRESET/);
      const next = await bfxCall(sim().bitfinex, BFX_MAIN, "auth/w/token", { scope: "api", ttl: 60 });
      expect(next.status).toBe(200);
      const { entries } = await requestLog(sim().control);
      expect(entries.filter((e) => e.fault === "drop").map((e) => [e.path, e.code])).toEqual([
        ["/v2/auth/w/token", "0"],
      ]);
    });

    it("a spec limited to one exchange leaves the other alone", async () => {
      await control(sim().control, "POST", "/faults", { exchange: "okx", errorRate: 1 });
      expect((await okxCall(sim().okx, MASTER, { path: CONFIG })).status).toBe(502);
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);

      await control(sim().control, "POST", "/faults", {
        exchange: "bitfinex",
        errorRate: 1,
        errorStatus: 504,
      });
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(504);
      // Setting Bitfinex's faults does not clear OKX's.
      expect((await okxCall(sim().okx, MASTER, { path: CONFIG })).status).toBe(502);

      const view = (await control(sim().control, "GET", "/faults")).json as Record<
        string,
        { errorRate: number; errorStatus: number }
      >;
      expect([view.okx?.errorStatus, view.bitfinex?.errorStatus]).toEqual([502, 504]);
    });

    it("DELETE /faults resets every fault", async () => {
      await control(sim().control, "POST", "/faults", {
        latencyMs: 50,
        errorRate: 1,
        timeoutRate: 1,
        dropResponses: 3,
        hollowDeletes: 2,
        flawedCreates: 2,
      });
      const reset = await control(sim().control, "DELETE", "/faults");
      expect(reset.status).toBe(200);
      for (const exchange of ["okx", "bitfinex"] as const) {
        expect((reset.json as Record<string, unknown>)[exchange]).toMatchObject({
          latencyMs: 0,
          errorRate: 0,
          timeoutRate: 0,
          dropResponses: 0,
          dropsLeft: 0,
          hollowDeletesLeft: 0,
          flawedCreatesLeft: 0,
        });
      }
      expect(okxCode(await deleteSubKey(sim().okx, SUB_READ.apiKey))).toBe("0");
      expect((await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions")).status).toBe(200);
    });

    it('hollowDeletes "ignored": the delete answers 0, yet the key stays listed and keeps authenticating', async () => {
      const set = await control(sim().control, "POST", "/faults", { exchange: "okx", hollowDeletes: 1 });
      expect((set.json as { okx: { hollowDeletesLeft: number } }).okx.hollowDeletesLeft).toBe(1);
      const r = await deleteSubKey(sim().okx, SUB_READ.apiKey);
      expect([r.status, okxCode(r)]).toEqual([200, "0"]);
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("active");
      expect(await listedKeys(sim().okx)).toContain(SUB_READ.apiKey);
      expect(await ownCall(sim().okx, SUB_READ)).toBe("0");

      // Used up: the next delete is real.
      await sleep(WRITE_GAP_MS);
      expect(okxCode(await deleteSubKey(sim().okx, SUB_READ.apiKey))).toBe("0");
      expect(await okxStatus(sim().control, SUB_READ.apiKey)).toBe("revoked");
      expect(await ownCall(sim().okx, SUB_READ)).toBe("50111");
    });

    it('hollowDeletes "unlisted": the key leaves the list but keeps authenticating; a second delete finds nothing', async () => {
      await control(sim().control, "POST", "/faults", {
        exchange: "okx",
        hollowDeletes: 1,
        hollowDeleteShape: "unlisted",
      });
      expect(okxCode(await deleteSubKey(sim().okx, SUB_READ.apiKey))).toBe("0");
      expect(await listedKeys(sim().okx)).not.toContain(SUB_READ.apiKey);
      expect(await ownCall(sim().okx, SUB_READ)).toBe("0");
      const key = okxKeys(await getState(sim().control)).find((k) => k.apiKey === SUB_READ.apiKey);
      expect(key).toMatchObject({ status: "active", unlisted: true });
      // As far as the API can tell, the key is gone: only a probe with its own secret shows it is not.
      await sleep(WRITE_GAP_MS);
      expect(okxCode(await deleteSubKey(sim().okx, SUB_READ.apiKey))).toBe("59506");
      expect(await ownCall(sim().okx, SUB_READ)).toBe("0");
    });

    it('flawedCreates "not-authenticating": the create answers a key that is listed but refused as unknown', async () => {
      await control(sim().control, "POST", "/faults", { exchange: "okx", flawedCreates: 1 });
      const made = await createSubKey(sim().okx, "new-bot", "read_only,trade");
      expect(made.perm).toBe("read_only,trade");
      expect(await listedKeys(sim().okx)).toContain(made.apiKey);
      expect(await ownCall(sim().okx, made)).toBe("50111");
      // Used up: the next create makes a working key.
      await sleep(WRITE_GAP_MS);
      const good = await createSubKey(sim().okx, "new-bot-2", "read_only,trade");
      expect(await ownCall(sim().okx, good)).toBe("0");
      const faults = await control(sim().control, "GET", "/faults");
      expect((faults.json as { okx: { flawedCreatesLeft: number } }).okx.flawedCreatesLeft).toBe(0);
    });

    it('flawedCreates "other-permissions": the answer echoes the request, the listing and the key itself do not', async () => {
      await control(sim().control, "POST", "/faults", {
        exchange: "okx",
        flawedCreates: 2,
        flawedCreateShape: "other-permissions",
      });
      const trade = await createSubKey(sim().okx, "asked-trade", "read_only,trade");
      expect(trade.perm).toBe("read_only,trade");
      const own = await okxCall(sim().okx, trade, { path: CONFIG });
      expect(okxData<{ perm: string }>(own)[0]?.perm).toBe("read_only");
      await sleep(WRITE_GAP_MS);
      const read = await createSubKey(sim().okx, "asked-read", "read_only");
      expect(read.perm).toBe("read_only");
      const view = okxKeys(await getState(sim().control));
      expect(view.find((k) => k.apiKey === read.apiKey)?.perm).toBe("read_only,trade");
    });

    it("rejects a bad spec with 400 naming the field and keeps the current faults", async () => {
      await control(sim().control, "POST", "/faults", { exchange: "okx", latencyMs: 5 });
      for (const [body, field] of [
        [{ errorRate: 2 }, "errorRate"],
        [{ errorStatus: 404 }, "errorStatus"],
        [{ exchange: "kraken" }, "exchange"],
        [{ dropResponses: -1 }, "dropResponses"],
        [{ latency: 100 }, "latency"],
        [{ hollowDeletes: -1 }, "hollowDeletes"],
        [{ hollowDeleteShape: "maybe" }, "hollowDeleteShape"],
        [{ flawedCreateShape: "slow" }, "flawedCreateShape"],
      ] as const) {
        const r = await control(sim().control, "POST", "/faults", body);
        expect(r.status).toBe(400);
        expect(errorOf(r)).toContain(field);
      }
      const view = (await control(sim().control, "GET", "/faults")).json as { okx: { latencyMs: number } };
      expect(view.okx.latencyMs).toBe(5);
    });
  });
});
