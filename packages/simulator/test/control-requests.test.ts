/** The control API's request log (GET /requests), over real HTTP against a running simulator. */
import { describe, expect, it } from "vitest";
import { CANARIES, CONFIG, CREATE_KEY, requestLog, useFixtureSimulator } from "./control-helpers.js";
import { BFX_MAIN, BFX_NOSCOPE, MASTER, MASTER_READ, SUB_READ } from "./fixtures.js";
import { bfxCall, okxCall, okxCode, okxData } from "./helpers.js";

describe("control API", () => {
  const sim = useFixtureSimulator({ clearRequests: true });

  describe("GET /requests", () => {
    it("records method, path, apiKey, code and status of each exchange request", async () => {
      await okxCall(sim().okx, MASTER, { path: CONFIG });
      await okxCall(sim().okx, MASTER_READ, { path: CONFIG, signSecret: "forged" });
      await okxCall(sim().okx, MASTER, { path: "/api/v5/users/subaccount/apikey?subAcct=botsub01" });
      await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      await bfxCall(sim().bitfinex, BFX_NOSCOPE, "auth/r/permissions", {}, { signSecret: "forged" });

      const { entries } = await requestLog(sim().control);
      expect(
        entries.map(({ exchange, method, path, apiKey, code, status }) => ({
          exchange,
          method,
          path,
          apiKey,
          code,
          status,
        })),
      ).toEqual([
        { exchange: "okx", method: "GET", path: CONFIG, apiKey: MASTER.apiKey, code: "0", status: 200 },
        {
          exchange: "okx",
          method: "GET",
          path: CONFIG,
          apiKey: MASTER_READ.apiKey,
          code: "50113",
          status: 401,
        },
        {
          exchange: "okx",
          method: "GET",
          path: "/api/v5/users/subaccount/apikey",
          apiKey: MASTER.apiKey,
          code: "0",
          status: 200,
        },
        {
          exchange: "bitfinex",
          method: "POST",
          path: "/v2/auth/r/permissions",
          apiKey: BFX_MAIN.apiKey,
          code: "0",
          status: 200,
        },
        {
          exchange: "bitfinex",
          method: "POST",
          path: "/v2/auth/r/permissions",
          apiKey: BFX_NOSCOPE.apiKey,
          code: "10100",
          status: 500,
        },
      ]);
      for (const e of entries) {
        expect(new Date(e.time).toISOString()).toBe(e.time);
        expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);
      }
      const seqs = entries.map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length);
    });

    it("never records a secret, passphrase or signature, not even of a freshly created key", async () => {
      const created = await okxCall(sim().okx, MASTER, {
        path: CREATE_KEY,
        body: {
          subAcct: "emptysub02",
          label: "log-canary",
          passphrase: "Log-Canary-Pass-1!",
          perm: "read_only",
        },
      });
      expect(okxCode(created)).toBe("0");
      const fresh = okxData<{ apiKey: string; secretKey: string }>(created)[0];
      await okxCall(sim().okx, SUB_READ, { path: CONFIG });
      await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");

      const { entries, text } = await requestLog(sim().control);
      expect(entries.map((e) => [e.method, e.path, e.code])).toEqual([
        ["POST", CREATE_KEY, "0"],
        ["GET", CONFIG, "0"],
        ["POST", "/v2/auth/r/permissions", "0"],
      ]);
      for (const canary of [...CANARIES, fresh?.secretKey ?? "missing", "Log-Canary-Pass-1!"]) {
        expect(text).not.toContain(canary);
      }
      for (const e of entries) {
        expect(Object.keys(e).sort()).toEqual([
          "apiKey",
          "code",
          "exchange",
          "method",
          "path",
          "seq",
          "status",
          "time",
        ]);
      }
    });

    it("?since=SEQ returns only the later entries", async () => {
      await okxCall(sim().okx, MASTER, { path: CONFIG });
      await bfxCall(sim().bitfinex, BFX_MAIN, "auth/r/permissions");
      const { entries: first } = await requestLog(sim().control);
      expect(first).toHaveLength(2);
      const last = first.at(-1)?.seq ?? 0;

      expect((await requestLog(sim().control, last)).entries).toEqual([]);
      await okxCall(sim().okx, MASTER_READ, { path: CONFIG });
      const { entries: later } = await requestLog(sim().control, last);
      expect(later.map((e) => [e.apiKey, e.code])).toEqual([[MASTER_READ.apiKey, "0"]]);
      expect(later[0]?.seq).toBeGreaterThan(last);
      expect((await requestLog(sim().control, first[0]?.seq)).entries.map((e) => e.seq)).toEqual([
        first[1]?.seq,
        later[0]?.seq,
      ]);
    });
  });
});
