/**
 * Deribit's key-management methods through HTTP: scopes, the two-factor challenge, create / edit / rename /
 * change scope / disable / enable / reset / remove, the 8-key limit, and what the listing shows.
 */
import { describe, expect, it } from "vitest";
import { totpCode } from "../src/deribit/totp.js";
import {
  type Challenge,
  codeFor,
  type DeribitCreds,
  DR_ADMIN,
  DR_READER,
  DR_SUB,
  DR_TRADER,
  deribitCall,
  deribitScenario,
  errorCode,
  type KeyObject,
  MAIN_SEED,
  resultOf,
  rpc,
  SUB_USER,
  tokenFor,
  withCode,
} from "./deribit-helpers.js";
import { httpCall, useSimulator } from "./helpers.js";

const LIST = "private/list_api_keys";
const SUMMARY = "private/get_account_summary";

describe("Deribit key management", () => {
  const sim = useSimulator({ scenario: deribitScenario() });
  const call = (method: string, creds: DeribitCreds, params: Record<string, unknown> = {}) =>
    deribitCall(sim().deribit, method, creds, { params });
  const protectedCall = (
    method: string,
    creds: DeribitCreds,
    params: Record<string, unknown>,
    user?: string,
  ) => withCode(sim().deribit, sim().control, method, creds, params, user);
  const list = async (creds: DeribitCreds = DR_ADMIN) => resultOf<KeyObject[]>(await call(LIST, creds));
  const alive = async (creds: DeribitCreds) =>
    (await call(SUMMARY, creds, { currency: "BTC" })).status === 200;

  it("list_api_keys gives every key of the caller's account, secrets included (the documented worst case)", async () => {
    const keys = await list();
    expect(keys.map((k) => k.client_id)).toEqual([
      "DRADMIN1",
      "DRREAD02",
      "DRTRADE3",
      "DRFAR004",
      "DROFF005",
    ]);
    expect(keys[0]).toMatchObject({
      id: 1,
      client_secret: DR_ADMIN.secret,
      name: "keyward",
      max_scope: "account:read_write trade:read wallet:none block_trade:none",
      enabled: true,
      default: false,
      ip_whitelist: ["127.0.0.1", "::1"],
      enabled_features: [],
    });
    expect(keys[4]?.enabled).toBe(false);
    // account:read may list; the sub-account sees only its own keys.
    expect((await list(DR_READER)).length).toBe(5);
    expect((await list(DR_SUB)).map((k) => k.client_id)).toEqual(["DRSUB006"]);
  });

  it("scopes: no account scope is 13021 for reads; account:read is 13021 for management", async () => {
    expect(rpc(await call(LIST, DR_TRADER)).error).toMatchObject({ code: 13021, message: "forbidden" });
    expect(errorCode(await call(SUMMARY, DR_TRADER, { currency: "BTC" }))).toBe(13021);
    for (const method of [
      "private/create_api_key",
      "private/remove_api_key",
      "private/disable_api_key",
      "private/enable_api_key",
      "private/reset_api_key",
      "private/edit_api_key",
      "private/change_scope_in_api_key",
      "private/change_api_key_name",
    ]) {
      expect(
        errorCode(await call(method, DR_READER, { id: 3, max_scope: "account:read", name: "x" })),
        method,
      ).toBe(13021);
    }
  });

  describe("the two-factor challenge", () => {
    it("a protected call without a code is not done: it answers a challenge (HTTP 200, no error)", async () => {
      const before = await list();
      const r = await call("private/create_api_key", DR_ADMIN, { max_scope: "account:read", name: "nocode" });
      expect(r.status).toBe(200);
      const challenge = resultOf<Challenge>(r);
      expect(challenge).toMatchObject({
        security_key_authorization_required: true,
        security_keys: [{ type: "tfa", name: "tfa" }],
      });
      expect(challenge.challenge).toMatch(/^[A-Za-z0-9+/=]{16,}$/);
      expect(challenge.rp_id).toBeTruthy();
      expect(await list()).toEqual(before);
    });

    it("the same call with the right code and the challenge is done", async () => {
      const params = { max_scope: "account:read trade:read_write", name: "with_code" };
      const first = resultOf<Challenge>(await call("private/create_api_key", DR_ADMIN, params));
      const code = totpCode(MAIN_SEED, Date.now());
      const r = await call("private/create_api_key", DR_ADMIN, {
        ...params,
        authorization_data: code,
        challenge: first.challenge,
      });
      expect(r.status).toBe(200);
      const made = resultOf<KeyObject>(r);
      expect(made).toMatchObject({
        name: "with_code",
        max_scope: "account:read trade:read_write wallet:none block_trade:none",
        enabled: true,
        ip_whitelist: [],
      });
      expect(made.client_secret.length).toBeGreaterThan(20);
      expect(await alive({ apiKey: made.client_id, secret: made.client_secret })).toBe(true);
      // Tidy up for the other tests.
      expect(resultOf(await protectedCall("private/remove_api_key", DR_ADMIN, { id: made.id }))).toBe("ok");
    });

    it("a wrong code, a stale code, a used, unknown, expired or other method's challenge are 13003; the call is not done", async () => {
      const params = { max_scope: "account:read", name: "refused" };
      const challenge = async (method = "private/create_api_key", p: Record<string, unknown> = params) =>
        resultOf<Challenge>(await call(method, DR_ADMIN, p)).challenge;
      const answer = (c: string, code: string) =>
        call("private/create_api_key", DR_ADMIN, { ...params, authorization_data: code, challenge: c });
      const now = Date.now();
      const good = totpCode(MAIN_SEED, now);
      const wrong = good === "000000" ? "000001" : "000000";
      const reasons: (string | undefined)[] = [];
      const refused = async (r: Awaited<ReturnType<typeof answer>>) => {
        expect(r.status).toBe(400);
        expect(rpc(r).error?.code).toBe(13003);
        expect(rpc(r).error?.message).toBe("tfa_required");
        reasons.push(rpc(r).error?.data?.reason);
      };
      await refused(await answer(await challenge(), wrong));
      await refused(await answer(await challenge(), totpCode(MAIN_SEED, now - 90_000)));
      // Another account's code.
      await refused(await answer(await challenge(), await codeFor(sim().control, SUB_USER)));
      const used = await challenge();
      await refused(await answer(used, wrong));
      await refused(await answer(used, good));
      await refused(await answer("bm8gc3VjaCBjaGFsbGVuZ2U=", good));
      // A challenge for remove_api_key does not answer for create_api_key.
      await refused(await answer(await challenge("private/remove_api_key", { id: 3 }), good));
      // A code without a challenge, a challenge without a code.
      await refused(await call("private/create_api_key", DR_ADMIN, { ...params, authorization_data: good }));
      await refused(
        await call("private/create_api_key", DR_ADMIN, { ...params, challenge: await challenge() }),
      );
      expect(reasons).toContain("invalid_code");
      expect(reasons).toContain("challenge_not_found");
      expect((await list()).some((k) => k.name === "refused")).toBe(false);
    });

    it("a challenge answered after its minute is 13003 challenge_expired", async () => {
      const params = { max_scope: "account:read", name: "late" };
      const c = resultOf<Challenge>(await call("private/create_api_key", DR_ADMIN, params)).challenge;
      await httpCall(`${sim().control}/clock`, {
        method: "POST",
        body: JSON.stringify({ advanceMs: 61_000 }),
      });
      try {
        // The code of the simulator's (advanced) clock: only the challenge's age is wrong.
        const code = await codeFor(sim().control, "desk_delta");
        const r = await deribitCall(sim().deribit, "private/create_api_key", DR_ADMIN, {
          params: { ...params, authorization_data: code, challenge: c },
          ts: Date.now() + 61_000,
        });
        expect(rpc(r).error).toMatchObject({ code: 13003, data: { reason: "challenge_expired" } });
      } finally {
        await httpCall(`${sim().control}/clock`, {
          method: "POST",
          body: JSON.stringify({ advanceMs: -61_000 }),
        });
      }
    });

    it("the kill switch and renaming need no code; list and the summary neither", async () => {
      const off = await call("private/disable_api_key", DR_ADMIN, { id: 3 });
      expect(resultOf(off)).toMatchObject({ id: 3, enabled: false });
      const on = await call("private/enable_api_key", DR_ADMIN, { id: 3 });
      expect(resultOf(on)).toMatchObject({ id: 3, enabled: true });
      const renamed = await call("private/change_api_key_name", DR_ADMIN, { id: 3, name: "trader_2" });
      expect(resultOf(renamed)).toMatchObject({ id: 3, name: "trader_2" });
    });
  });

  it("disable_api_key: the key fails at once (signed 13004, its tokens 13009, public/auth 13004) until enabled", async () => {
    const token = await tokenFor(sim().deribit, DR_READER);
    expect(await alive(DR_READER)).toBe(true);
    await call("private/disable_api_key", DR_ADMIN, { id: 2 });
    expect(errorCode(await call(SUMMARY, DR_READER, { currency: "BTC" }))).toBe(13004);
    const withToken = await deribitCall(sim().deribit, SUMMARY, undefined, {
      params: { currency: "BTC" },
      auth: { token },
    });
    expect(errorCode(withToken)).toBe(13009);
    await expect(tokenFor(sim().deribit, DR_READER)).rejects.toThrow(/13004/);
    expect((await list()).find((k) => k.id === 2)?.enabled).toBe(false);
    await call("private/enable_api_key", DR_ADMIN, { id: 2 });
    expect(await alive(DR_READER)).toBe(true);
    // The old token stays dead: enabling does not bring back what disabling killed.
    const again = await deribitCall(sim().deribit, SUMMARY, undefined, {
      params: { currency: "BTC" },
      auth: { token },
    });
    expect(errorCode(again)).toBe(13009);
  });

  it("reset_api_key keeps the id and client id, gives a new secret; the old secret and its tokens fail at once", async () => {
    const made = resultOf<KeyObject>(
      await protectedCall("private/create_api_key", DR_ADMIN, {
        max_scope: "account:read",
        name: "to_reset",
      }),
    );
    const old = { apiKey: made.client_id, secret: made.client_secret };
    const token = await tokenFor(sim().deribit, old);
    const reset = resultOf<KeyObject>(
      await protectedCall("private/reset_api_key", DR_ADMIN, { id: made.id }),
    );
    expect(reset).toMatchObject({ id: made.id, client_id: made.client_id, name: "to_reset" });
    expect(reset.client_secret).not.toBe(made.client_secret);
    expect(errorCode(await call(SUMMARY, old, { currency: "BTC" }))).toBe(13009);
    await expect(tokenFor(sim().deribit, old)).rejects.toThrow(/13004/);
    const withToken = await deribitCall(sim().deribit, SUMMARY, undefined, {
      params: { currency: "BTC" },
      auth: { token },
    });
    expect(errorCode(withToken)).toBe(13009);
    expect(await alive({ apiKey: reset.client_id, secret: reset.client_secret })).toBe(true);
    expect(resultOf(await protectedCall("private/remove_api_key", DR_ADMIN, { id: made.id }))).toBe("ok");
  });

  it("edit_api_key sets scope, name and IP whitelist (a JSON array in the query); change_scope_in_api_key the scope", async () => {
    const edited = await protectedCall("private/edit_api_key", DR_ADMIN, {
      id: 3,
      max_scope: "trade:read",
      name: "edited",
      ip_whitelist: ["10.1.2.3", "10.9.0.0/16"],
    });
    expect(resultOf(edited)).toMatchObject({
      id: 3,
      name: "edited",
      max_scope: "account:none trade:read wallet:none block_trade:none",
      ip_whitelist: ["10.1.2.3", "10.9.0.0/16"],
    });
    // The whitelist now shuts the trader out of here.
    expect(rpc(await call(SUMMARY, DR_TRADER, { currency: "BTC" })).error).toMatchObject({
      code: 13009,
      data: { reason: "ip_not_allowed" },
    });
    const cleared = await protectedCall("private/edit_api_key", DR_ADMIN, {
      id: 3,
      max_scope: "account:read trade:read_write",
      ip_whitelist: [],
    });
    expect(resultOf(cleared)).toMatchObject({ ip_whitelist: [] });
    const scoped = await protectedCall("private/change_scope_in_api_key", DR_ADMIN, {
      id: 3,
      max_scope: "trade:read_write wallet:read_write",
    });
    expect(resultOf<KeyObject>(scoped).max_scope).toBe(
      "account:none trade:read_write wallet:read_write block_trade:none",
    );
    const bad = await protectedCall("private/edit_api_key", DR_ADMIN, {
      id: 3,
      max_scope: "trade:read",
      ip_whitelist: ["not-an-ip"],
    });
    expect(errorCode(bad)).toBe(11029);
  });

  it("invalid arguments are refused before any challenge: scope 11029, name 11029, unknown id 13020, bad id -32602", async () => {
    expect(
      rpc(await call("private/create_api_key", DR_ADMIN, { max_scope: "account:write" })).error,
    ).toMatchObject({ code: 11029, message: "invalid_arguments" });
    expect(errorCode(await call("private/create_api_key", DR_ADMIN, { max_scope: "nosuch:read" }))).toBe(
      11029,
    );
    expect(
      errorCode(
        await call("private/create_api_key", DR_ADMIN, { max_scope: "account:read", name: "has-dash" }),
      ),
    ).toBe(11029);
    expect(
      errorCode(
        await call("private/create_api_key", DR_ADMIN, { max_scope: "account:read", name: "a".repeat(17) }),
      ),
    ).toBe(11029);
    expect(rpc(await call("private/remove_api_key", DR_ADMIN, { id: 99 })).error).toMatchObject({
      code: 13020,
      message: "not_found",
    });
    expect(errorCode(await call("private/disable_api_key", DR_ADMIN, { id: 99 }))).toBe(13020);
    expect(errorCode(await call("private/remove_api_key", DR_ADMIN, { id: "one" }))).toBe(-32602);
    expect(errorCode(await call("private/create_api_key", DR_ADMIN, {}))).toBe(-32602);
    // Another account's key id is not found from here.
    expect(errorCode(await call("private/disable_api_key", DR_SUB, { id: 2 }))).toBe(13020);
  });

  it("at most 8 keys per account: the 9th create is 11029 max_api_keys_reached", async () => {
    const start = (await list()).length;
    const made: number[] = [];
    for (let i = start; i < 8; i++) {
      const r = await protectedCall("private/create_api_key", DR_ADMIN, {
        max_scope: "account:read",
        name: `fill_${i}`,
      });
      made.push(resultOf<KeyObject>(r).id);
    }
    expect(await list()).toHaveLength(8);
    const ninth = await call("private/create_api_key", DR_ADMIN, {
      max_scope: "account:read",
      name: "ninth",
    });
    expect(rpc(ninth).error).toMatchObject({ code: 11029, data: { reason: "max_api_keys_reached" } });
    // A removed key frees its place.
    expect(resultOf(await protectedCall("private/remove_api_key", DR_ADMIN, { id: made[0] }))).toBe("ok");
    const now = await protectedCall("private/create_api_key", DR_ADMIN, {
      max_scope: "account:read",
      name: "ninth",
    });
    made[0] = resultOf<KeyObject>(now).id;
    for (const id of made) await protectedCall("private/remove_api_key", DR_ADMIN, { id });
    expect(await list()).toHaveLength(start);
  });

  it("remove_api_key (protected): the key fails at once and leaves the listing; a key may remove itself", async () => {
    const made = resultOf<KeyObject>(
      await protectedCall("private/create_api_key", DR_ADMIN, {
        max_scope: "account:read_write",
        name: "self_remover",
      }),
    );
    const self = { apiKey: made.client_id, secret: made.client_secret };
    const token = await tokenFor(sim().deribit, self);
    const removed = await protectedCall("private/remove_api_key", self, { id: made.id });
    expect(resultOf(removed)).toBe("ok");
    expect(errorCode(await call(SUMMARY, self, { currency: "BTC" }))).toBe(13004);
    const withToken = await deribitCall(sim().deribit, SUMMARY, undefined, {
      params: { currency: "BTC" },
      auth: { token },
    });
    expect(errorCode(withToken)).toBe(13009);
    expect((await list()).some((k) => k.id === made.id)).toBe(false);
    // Removing it again: not found.
    expect(errorCode(await call("private/remove_api_key", DR_ADMIN, { id: made.id }))).toBe(13020);
  });

  it("works the same over JSON-RPC POST, including the challenge", async () => {
    const post = (params: Record<string, unknown>) =>
      deribitCall(sim().deribit, "private/create_api_key", DR_ADMIN, { method: "POST", params, rpcId: 9 });
    const first = await post({ max_scope: "account:read", name: "via_post" });
    expect(rpc(first).id).toBe(9);
    const c = resultOf<Challenge>(first).challenge;
    const done = await post({
      max_scope: "account:read",
      name: "via_post",
      authorization_data: totpCode(MAIN_SEED, Date.now()),
      challenge: c,
    });
    const made = resultOf<KeyObject>(done);
    expect(made.name).toBe("via_post");
    expect(resultOf(await protectedCall("private/remove_api_key", DR_ADMIN, { id: made.id }))).toBe("ok");
  });

  it("the sub-account answers its own challenge with its own seed", async () => {
    const r = await protectedCall(
      "private/create_api_key",
      DR_SUB,
      { max_scope: "account:read", name: "sub_made" },
      SUB_USER,
    );
    const made = resultOf<KeyObject>(r);
    expect(made.name).toBe("sub_made");
    const token = await deribitCall(sim().deribit, "public/auth", undefined, {
      params: {
        grant_type: "client_credentials",
        client_id: made.client_id,
        client_secret: made.client_secret,
      },
    });
    // A sub-account's key: no "mainaccount" in the scope.
    expect(resultOf<{ scope: string }>(token).scope).toBe(
      "account:read trade:none wallet:none block_trade:none",
    );
  });
});
