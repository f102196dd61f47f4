/**
 * Fidelity checklist 7-9 and 11-17 (docs/exchanges/okx.md#simulator-fidelity-checklist): OKX key management,
 * over raw HTTP.
 */
import { describe, expect, it } from "vitest";
import {
  FROZEN_KEY,
  MASTER,
  MASTER_NO_IP,
  MASTER_READ,
  SUB_IDLE,
  SUB_READ,
  SUB_TRADE,
  scenario,
} from "./fixtures.js";
import {
  control,
  type OkxCreds,
  okxCall,
  okxCode,
  okxData,
  RELAXED_LIMITS,
  useSimulator,
} from "./helpers.js";

const SUB = "/api/v5/users/subaccount";
const DAY = 24 * 60 * 60 * 1000;

type KeyItem = { label: string; apiKey: string; perm: string; ip: string; ts: string };
type Created = KeyItem & { subAcct: string; secretKey: string; passphrase: string };

describe("OKX key-management endpoints", () => {
  const sim = useSimulator({ scenario: scenario(), rateLimits: RELAXED_LIMITS });
  const okx = (creds: OkxCreds, path: string, body?: unknown) =>
    okxCall(sim().okx, creds, body === undefined ? { path } : { path, body });
  let labelSeq = 0;
  const create = (body: Record<string, unknown>) =>
    okx(MASTER, `${SUB}/apikey`, {
      subAcct: "botsub01",
      label: `new-${++labelSeq}`,
      passphrase: "Aa1!aaaa",
      ...body,
    });

  describe("7. master-only endpoints", () => {
    it.each([
      ["GET", `${SUB}/list`],
      ["GET", `${SUB}/apikey?subAcct=botsub01`],
      ["POST", `${SUB}/apikey`],
      ["POST", `${SUB}/modify-apikey`],
      ["POST", `${SUB}/delete-apikey`],
    ])("a sub-account key gets 59500 on %s %s", async (method, path) => {
      const r = await okx(SUB_TRADE, path, method === "POST" ? { subAcct: "botsub01" } : undefined);
      expect([r.status, okxCode(r)]).toEqual([200, "59500"]);
    });
  });

  describe("8. writes need an IP-bound master key", () => {
    it("answers 50035 with HTTP 403 to a master key without IPs", async () => {
      for (const path of ["apikey", "modify-apikey", "delete-apikey"]) {
        const r = await okx(MASTER_NO_IP, `${SUB}/${path}`, {
          subAcct: "botsub01",
          label: "x",
          passphrase: "Aa1!aaaa",
        });
        expect([r.status, okxCode(r)]).toEqual([403, "50035"]);
      }
    });

    it("still lets that key read", async () => {
      expect(okxCode(await okx(MASTER_NO_IP, `${SUB}/list`))).toBe("0");
    });
  });

  describe("9. permissions", () => {
    it("answers 50120 when a read-only key calls a Trade endpoint", async () => {
      const r = await okx(MASTER_READ, `${SUB}/apikey`, {
        subAcct: "botsub01",
        label: "x",
        passphrase: "Aa1!aaaa",
      });
      expect([r.status, okxCode(r)]).toEqual([200, "50120"]);
    });
  });

  describe("11. envelope", () => {
    it("uses a string code, an array data and a msg, errors included", async () => {
      for (const r of [
        await okx(MASTER, `${SUB}/list`),
        await okx(MASTER, `${SUB}/apikey?subAcct=nosuchsub`),
      ]) {
        const body = r.json as Record<string, unknown>;
        expect(typeof body.code).toBe("string");
        expect(typeof body.msg).toBe("string");
        expect(Array.isArray(body.data)).toBe(true);
      }
    });

    it("lists sub-accounts newest first with the documented fields, and pages with after/before/limit", async () => {
      const all = okxData<{ subAcct: string; ts: string; uid: string; enable: boolean }>(
        await okx(MASTER, `${SUB}/list`),
      );
      expect(all.map((s) => s.subAcct)).toEqual(["thirdsub03", "emptysub02", "botsub01"]);
      expect(all[0]).toMatchObject({ uid: "1103", enable: true, type: "1", ts: "1700000120000" });
      const page1 = okxData<{ subAcct: string; ts: string }>(await okx(MASTER, `${SUB}/list?limit=2`));
      expect(page1.map((s) => s.subAcct)).toEqual(["thirdsub03", "emptysub02"]);
      const page2 = okxData<{ subAcct: string }>(
        await okx(MASTER, `${SUB}/list?limit=2&after=${page1[1]?.ts}`),
      );
      expect(page2.map((s) => s.subAcct)).toEqual(["botsub01"]);
      const newer = okxData<{ subAcct: string }>(await okx(MASTER, `${SUB}/list?before=1700000000000`));
      expect(newer.map((s) => s.subAcct)).toEqual(["thirdsub03", "emptysub02"]);
      expect(okxCode(await okx(MASTER, `${SUB}/list?limit=101`))).toBe("51000");
    });

    it("queries a sub-account's keys without secrets, and filters by apiKey", async () => {
      const r = await okx(MASTER, `${SUB}/apikey?subAcct=botsub01`);
      const keys = okxData<KeyItem>(r);
      expect(keys.map((k) => k.label)).toEqual(
        expect.arrayContaining(["bot-1", "viewer", "elsewhere", "idle"]),
      );
      expect(keys.find((k) => k.label === "bot-1")).toEqual({
        label: "bot-1",
        apiKey: SUB_TRADE.apiKey,
        perm: "read_only,trade",
        ip: "127.0.0.1",
        ts: expect.stringMatching(/^\d+$/),
      });
      expect(r.text).not.toContain(SUB_TRADE.secretKey);
      expect(r.text).not.toContain(SUB_TRADE.passphrase);
      const one = okxData<KeyItem>(
        await okx(MASTER, `${SUB}/apikey?subAcct=botsub01&apiKey=${SUB_READ.apiKey}`),
      );
      expect(one.map((k) => k.apiKey)).toEqual([SUB_READ.apiKey]);
    });

    it("names the missing parameter and answers 59510 for an unknown sub-account", async () => {
      const missing = await okx(MASTER, `${SUB}/apikey`);
      expect([missing.status, okxCode(missing)]).toEqual([400, "50014"]);
      expect((missing.json as { msg: string }).msg).toContain("subAcct");
      expect(okxCode(await okx(MASTER, `${SUB}/apikey?subAcct=nosuchsub`))).toBe("59510");
    });
  });

  describe("12. create", () => {
    it("returns the secret and passphrase once; the query never does", async () => {
      const r = await create({ perm: "trade", ip: "127.0.0.1,10.0.0.0/8" });
      expect(okxCode(r)).toBe("0");
      const [created] = okxData<Created>(r);
      expect(created).toMatchObject({
        subAcct: "botsub01",
        perm: "read_only,trade",
        ip: "127.0.0.1,10.0.0.0/8",
        passphrase: "Aa1!aaaa",
      });
      expect(created?.secretKey).toMatch(/^[0-9A-F]{32}$/);
      const listed = await okx(MASTER, `${SUB}/apikey?subAcct=botsub01&apiKey=${created?.apiKey}`);
      expect(okxData<KeyItem>(listed)).toHaveLength(1);
      expect(listed.text).not.toContain(created?.secretKey);
      // The new key works at once, with the passphrase chosen at creation.
      const creds = {
        apiKey: created?.apiKey ?? "",
        secretKey: created?.secretKey ?? "",
        passphrase: "Aa1!aaaa",
      };
      const config = okxData<{ perm: string; ip: string; uid: string; mainUid: string }>(
        await okx(creds, "/api/v5/account/config"),
      );
      expect(config[0]).toMatchObject({
        perm: "read_only,trade",
        ip: "127.0.0.1,10.0.0.0/8",
        uid: "1101",
        mainUid: "1001",
      });
    });

    it("defaults to read-only without perm", async () => {
      const [created] = okxData<Created>(await create({}));
      expect(created?.perm).toBe("read_only");
    });

    it.each([
      ["an unknown sub-account", { subAcct: "nosuchsub" }, "59510"],
      ["a duplicate label", { label: "bot-1" }, "59502"],
      ["a passphrase without a special character", { passphrase: "Aa1aaaaa" }, "59505"],
      ["a passphrase too short", { passphrase: "Aa1!" }, "59505"],
      [
        "more than 20 IPs",
        { ip: Array.from({ length: 21 }, (_, i) => `10.0.0.${i + 1}`).join(",") },
        "59503",
      ],
      ["withdraw permission", { perm: "read_only,withdraw" }, "59504"],
      ["an invalid IP", { ip: "300.1.1.1" }, "51000"],
    ])("refuses %s", async (_what, body, code) => {
      const r = await create(body);
      expect(okxCode(r)).toBe(code);
    });

    it("caps a sub-account at 50 live keys (59501)", async () => {
      const live = okxData<KeyItem>(await okx(MASTER, `${SUB}/apikey?subAcct=emptysub02`)).length;
      for (let i = live; i < 50; i++) {
        const r = await create({ subAcct: "emptysub02" });
        expect(okxCode(r)).toBe("0");
      }
      expect(okxCode(await create({ subAcct: "emptysub02" }))).toBe("59501");
      // Another sub-account is not affected (Sim choice: the cap is per sub-account).
      expect(okxCode(await create({ subAcct: "thirdsub03" }))).toBe("0");
    });
  });

  describe("13. modify", () => {
    it("replaces the fields sent, keeps the secret, and ip '' clears the binding", async () => {
      const [created] = okxData<Created>(await create({ perm: "trade", ip: "127.0.0.1" }));
      const apiKey = created?.apiKey ?? "";
      const r = await okx(MASTER, `${SUB}/modify-apikey`, {
        subAcct: "botsub01",
        apiKey,
        label: "renamed",
        perm: "read_only",
        ip: "",
      });
      expect(okxData(r)[0]).toMatchObject({
        subAcct: "botsub01",
        apiKey,
        label: "renamed",
        perm: "read_only",
        ip: "",
      });
      expect(r.text).not.toContain(created?.secretKey);
      const creds = { apiKey, secretKey: created?.secretKey ?? "", passphrase: "Aa1!aaaa" };
      const config = okxData<{ perm: string; ip: string; label: string }>(
        await okx(creds, "/api/v5/account/config"),
      );
      expect(config[0]).toMatchObject({ perm: "read_only", ip: "", label: "renamed" });
      // Fields not sent stay as they were.
      const onlyIp = await okx(MASTER, `${SUB}/modify-apikey`, {
        subAcct: "botsub01",
        apiKey,
        ip: "10.1.1.1",
      });
      expect(okxData(onlyIp)[0]).toMatchObject({ label: "renamed", perm: "read_only", ip: "10.1.1.1" });
    });

    it("answers 59506 for an unknown key and 59502 for a label taken by another key", async () => {
      expect(
        okxCode(
          await okx(MASTER, `${SUB}/modify-apikey`, { subAcct: "botsub01", apiKey: "nope", label: "x" }),
        ),
      ).toBe("59506");
      const taken = await okx(MASTER, `${SUB}/modify-apikey`, {
        subAcct: "botsub01",
        apiKey: SUB_READ.apiKey,
        label: "bot-1",
      });
      expect(okxCode(taken)).toBe("59502");
    });
  });

  describe("14. delete", () => {
    it("returns [{subAcct}], kills the key at once, removes it from the query; a second delete is 59506", async () => {
      const [created] = okxData<Created>(await create({}));
      const apiKey = created?.apiKey ?? "";
      const creds = { apiKey, secretKey: created?.secretKey ?? "", passphrase: "Aa1!aaaa" };
      expect(okxCode(await okx(creds, "/api/v5/account/config"))).toBe("0");
      const r = await okx(MASTER, `${SUB}/delete-apikey`, { subAcct: "botsub01", apiKey });
      expect(okxData(r)).toEqual([{ subAcct: "botsub01" }]);
      const probe = await okx(creds, "/api/v5/account/config");
      expect([probe.status, okxCode(probe)]).toEqual([401, "50111"]);
      const filtered = await okx(MASTER, `${SUB}/apikey?subAcct=botsub01&apiKey=${apiKey}`);
      expect([okxCode(filtered), okxData(filtered)]).toEqual(["0", []]);
      expect(okxCode(await okx(MASTER, `${SUB}/delete-apikey`, { subAcct: "botsub01", apiKey }))).toBe(
        "59506",
      );
    });
  });

  describe("15. account/config", () => {
    it("describes the calling key: master", async () => {
      const [config] = okxData(await okx(MASTER, "/api/v5/account/config"));
      expect(config).toMatchObject({
        uid: "1001",
        mainUid: "1001",
        type: "0",
        label: "admin",
        perm: "read_only,trade",
        ip: "127.0.0.1,::1",
      });
    });

    it("describes the calling key: sub-account", async () => {
      const [config] = okxData(await okx(SUB_READ, "/api/v5/account/config"));
      expect(config).toMatchObject({
        uid: "1101",
        mainUid: "1001",
        type: "1",
        label: "viewer",
        perm: "read_only",
        ip: "",
      });
    });
  });

  describe("16. 14-day idle expiry of IP-less trade keys", () => {
    it("expires a trade key without IPs after 14 idle days, and keeps read-only and IP-bound keys", async () => {
      // SUB_IDLE was last used 13 days ago; read-only SUB_READ and IP-bound SUB_TRADE are exempt.
      await control(sim().control, "POST", "/clock", { advanceMs: 2 * DAY });
      try {
        const ts = (await control(sim().control, "GET", "/clock")).json as { now: number };
        const at = { timestamp: new Date(ts.now).toISOString() };
        const idle = await okxCall(sim().okx, SUB_IDLE, { path: "/api/v5/account/config", ...at });
        expect([idle.status, okxCode(idle)]).toEqual([401, "50111"]);
        expect(okxCode(await okxCall(sim().okx, SUB_READ, { path: "/api/v5/account/config", ...at }))).toBe(
          "0",
        );
        expect(okxCode(await okxCall(sim().okx, SUB_TRADE, { path: "/api/v5/account/config", ...at }))).toBe(
          "0",
        );
        const state = (await control(sim().control, "GET", "/state")).json as {
          okx: { accounts: { subAccounts: { keys: { apiKey: string; status: string }[] }[] }[] };
        };
        const keys = state.okx.accounts[0]?.subAccounts[0]?.keys ?? [];
        expect(keys.find((k) => k.apiKey === SUB_IDLE.apiKey)?.status).toBe("revoked");
      } finally {
        await control(sim().control, "POST", "/clock", { advanceMs: -2 * DAY });
      }
    });
  });

  describe("17. master keys are not managed by the API", () => {
    it("never lists master keys among sub-account keys and cannot delete one", async () => {
      const subs = okxData<{ subAcct: string }>(await okx(MASTER, `${SUB}/list`));
      for (const { subAcct } of subs) {
        const keys = okxData<KeyItem>(await okx(MASTER, `${SUB}/apikey?subAcct=${subAcct}`));
        expect(keys.map((k) => k.apiKey)).not.toContain(MASTER_READ.apiKey);
      }
      const del = await okx(MASTER, `${SUB}/delete-apikey`, {
        subAcct: "botsub01",
        apiKey: MASTER_READ.apiKey,
      });
      expect(okxCode(del)).toBe("59506");
      expect(okxCode(await okx(MASTER_READ, "/api/v5/account/config"))).toBe("0");
    });

    it("has no endpoint for master keys: unknown paths are 404", async () => {
      const r = await okx(MASTER, "/api/v5/users/apikey", { label: "x" });
      expect(r.status).toBe(404);
    });

    it("leaves a frozen key frozen (no API unfreezes it)", async () => {
      expect(okxCode(await okx(FROZEN_KEY, "/api/v5/account/config"))).toBe("50100");
    });
  });
});
