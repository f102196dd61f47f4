/**
 * Deribit authentication against a client written from the docs: the deri-hmac-sha256 header verified
 * from the raw request, public/auth's grants and bearer tokens, disabled keys and IP whitelists.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  DR_ADMIN,
  DR_FAR,
  DR_OFF,
  DR_READER,
  deribitCall,
  deribitScenario,
  errorCode,
  resultOf,
  rpc,
  tokenFor,
} from "./deribit-helpers.js";
import { httpCall, useSimulator } from "./helpers.js";

const SUMMARY = "private/get_account_summary";

describe("Deribit per-request signatures (deri-hmac-sha256)", () => {
  const sim = useSimulator({ scenario: deribitScenario() });

  it("a signed GET and a signed JSON-RPC POST are accepted; the envelope is JSON-RPC with µs timings", async () => {
    const get = await deribitCall(sim().deribit, SUMMARY, DR_ADMIN, { params: { currency: "BTC" } });
    expect(get.status).toBe(200);
    expect(rpc(get)).toMatchObject({ jsonrpc: "2.0", testnet: false });
    expect(rpc(get).usIn).toBeGreaterThan(Date.now() * 1000 - 60_000_000);
    expect(resultOf(get)).toMatchObject({ id: 501, username: "desk_delta", type: "main", currency: "BTC" });
    const post = await deribitCall(sim().deribit, SUMMARY, DR_ADMIN, {
      method: "POST",
      params: { currency: "ETH" },
      rpcId: 42,
    });
    expect(post.status).toBe(200);
    expect(rpc(post)).toMatchObject({ id: 42, result: { currency: "ETH" } });
  });

  it("a wrong signature, a signature made with another secret, a stale or future ts are 13009", async () => {
    const base = sim().deribit;
    const params = { currency: "BTC" };
    const cases = [
      await deribitCall(base, SUMMARY, DR_ADMIN, { params, sig: "0".repeat(64) }),
      await deribitCall(base, SUMMARY, DR_ADMIN, { params, signSecret: DR_READER.secret }),
      await deribitCall(base, SUMMARY, DR_ADMIN, { params, ts: Date.now() - 61_000 }),
      await deribitCall(base, SUMMARY, DR_ADMIN, { params, ts: Date.now() + 61_000 }),
    ];
    for (const r of cases) {
      expect(r.status).toBe(400);
      expect(rpc(r).error).toMatchObject({ code: 13009, message: "unauthorized" });
    }
    // Within the minute either way is fine.
    expect((await deribitCall(base, SUMMARY, DR_ADMIN, { params, ts: Date.now() - 50_000 })).status).toBe(
      200,
    );
  });

  it("the signature covers the query exactly as sent: the same params encoded otherwise do not verify", async () => {
    const ts = String(Date.now());
    const nonce = "abc";
    const signedUri = "/api/v2/private/get_account_summary?currency=BTC";
    const sig = createHmac("sha256", DR_ADMIN.secret)
      .update(`${ts}\n${nonce}\nGET\n${signedUri}\n\n`)
      .digest("hex");
    const authorization = `deri-hmac-sha256 id=${DR_ADMIN.apiKey},ts=${ts},sig=${sig},nonce=${nonce}`;
    const same = await httpCall(`${sim().deribit}${signedUri}`, { headers: { authorization } });
    expect(same.status).toBe(200);
    const reencoded = await httpCall(`${sim().deribit}/api/v2/private/get_account_summary?currency=%42TC`, {
      headers: { authorization },
    });
    expect(errorCode(reencoded)).toBe(13009);
  });

  it("the POST body is signed: a body changed after signing does not verify", async () => {
    const ts = String(Date.now());
    const uri = "/api/v2/private/get_account_summary";
    const signed = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "private/get_account_summary",
      params: { currency: "BTC" },
    });
    const sent = signed.replace("BTC", "ETH");
    const sig = createHmac("sha256", DR_ADMIN.secret)
      .update(`${ts}\nn1\nPOST\n${uri}\n${signed}\n`)
      .digest("hex");
    const r = await httpCall(`${sim().deribit}${uri}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `deri-hmac-sha256 id=${DR_ADMIN.apiKey},ts=${ts},sig=${sig},nonce=n1`,
      },
      body: sent,
    });
    expect(errorCode(r)).toBe(13009);
  });

  it("an unknown client id and a disabled key are 13004; no Authorization is 13009", async () => {
    const unknown = await deribitCall(
      sim().deribit,
      SUMMARY,
      { apiKey: "NOSUCH00", secret: "x" },
      { params: { currency: "BTC" } },
    );
    expect(rpc(unknown).error).toMatchObject({ code: 13004, message: "invalid_credentials" });
    const off = await deribitCall(sim().deribit, SUMMARY, DR_OFF, { params: { currency: "BTC" } });
    expect(errorCode(off)).toBe(13004);
    const none = await deribitCall(sim().deribit, SUMMARY, DR_ADMIN, {
      params: { currency: "BTC" },
      auth: "none",
    });
    expect(errorCode(none)).toBe(13009);
  });

  it("a caller outside a key's IP whitelist is 13009 ip_not_allowed, signed or with a token", async () => {
    const r = await deribitCall(sim().deribit, SUMMARY, DR_FAR, { params: { currency: "BTC" } });
    expect(rpc(r).error).toMatchObject({ code: 13009, data: { reason: "ip_not_allowed" } });
    const auth = await deribitCall(sim().deribit, "public/auth", undefined, {
      params: { grant_type: "client_credentials", client_id: DR_FAR.apiKey, client_secret: DR_FAR.secret },
    });
    expect(rpc(auth).error).toMatchObject({ code: 13009, data: { reason: "ip_not_allowed" } });
  });
});

describe("Deribit public/auth and bearer tokens", () => {
  const sim = useSimulator({ scenario: deribitScenario() });
  const auth = (params: Record<string, unknown>, method: "GET" | "POST" = "GET") =>
    deribitCall(sim().deribit, "public/auth", undefined, { params, method });

  it("client_credentials (GET and POST) gives a bearer token with the key's scope and mainaccount", async () => {
    for (const method of ["GET", "POST"] as const) {
      const r = await auth(
        { grant_type: "client_credentials", client_id: DR_ADMIN.apiKey, client_secret: DR_ADMIN.secret },
        method,
      );
      expect(r.status).toBe(200);
      expect(resultOf(r)).toMatchObject({
        token_type: "bearer",
        expires_in: 900,
        scope: "account:read_write trade:read wallet:none block_trade:none mainaccount",
        enabled_features: [],
      });
      const token = resultOf<{ access_token: string }>(r).access_token;
      const summary = await deribitCall(sim().deribit, SUMMARY, undefined, {
        params: { currency: "BTC" },
        auth: { token },
      });
      expect(resultOf(summary)).toMatchObject({ username: "desk_delta" });
    }
  });

  it("client_signature: HMAC of timestamp, nonce and data; a wrong one is 13004, a stale one 13009", async () => {
    const sign = (timestamp: number, nonce: string, data: string, secret = DR_ADMIN.secret) =>
      createHmac("sha256", secret).update(`${timestamp}\n${nonce}\n${data}`).digest("hex");
    const ts = Date.now();
    const good = await auth({
      grant_type: "client_signature",
      client_id: DR_ADMIN.apiKey,
      timestamp: ts,
      nonce: "n0nce",
      data: "",
      signature: sign(ts, "n0nce", ""),
    });
    expect(resultOf(good)).toHaveProperty("access_token");
    const bad = await auth({
      grant_type: "client_signature",
      client_id: DR_ADMIN.apiKey,
      timestamp: ts,
      nonce: "n0nce",
      data: "",
      signature: sign(ts, "n0nce", "", DR_READER.secret),
    });
    expect(errorCode(bad)).toBe(13004);
    const stale = await auth({
      grant_type: "client_signature",
      client_id: DR_ADMIN.apiKey,
      timestamp: ts - 120_000,
      nonce: "n",
      data: "",
      signature: sign(ts - 120_000, "n", ""),
    });
    expect(errorCode(stale)).toBe(13009);
  });

  it("a wrong secret, an unknown client id and a disabled key are 13004 invalid_credentials", async () => {
    for (const params of [
      { grant_type: "client_credentials", client_id: DR_ADMIN.apiKey, client_secret: DR_READER.secret },
      { grant_type: "client_credentials", client_id: "NOSUCH00", client_secret: "x" },
      { grant_type: "client_credentials", client_id: DR_OFF.apiKey, client_secret: DR_OFF.secret },
    ]) {
      const r = await auth(params);
      expect(r.status).toBe(400);
      expect(rpc(r).error).toMatchObject({ code: 13004, message: "invalid_credentials" });
    }
  });

  it("refresh_token gives a new pair once; unknown tokens are 13009", async () => {
    const first = resultOf<{ access_token: string; refresh_token: string }>(
      await auth({
        grant_type: "client_credentials",
        client_id: DR_READER.apiKey,
        client_secret: DR_READER.secret,
      }),
    );
    const refreshed = await auth({ grant_type: "refresh_token", refresh_token: first.refresh_token });
    expect(resultOf(refreshed)).toHaveProperty("access_token");
    expect(errorCode(await auth({ grant_type: "refresh_token", refresh_token: first.refresh_token }))).toBe(
      13009,
    );
    const old = await deribitCall(sim().deribit, SUMMARY, undefined, {
      params: { currency: "BTC" },
      auth: { token: first.access_token },
    });
    expect(errorCode(old)).toBe(13009);
    const bogus = await deribitCall(sim().deribit, SUMMARY, undefined, {
      params: { currency: "BTC" },
      auth: { token: "1.nope" },
    });
    expect(rpc(bogus).error).toMatchObject({ code: 13009, message: "unauthorized" });
  });

  it("a token expires after 900 s (the simulator's clock)", async () => {
    const token = await tokenFor(sim().deribit, DR_READER);
    const call = () =>
      deribitCall(sim().deribit, SUMMARY, undefined, { params: { currency: "BTC" }, auth: { token } });
    expect((await call()).status).toBe(200);
    await httpCall(`${sim().control}/clock`, {
      method: "POST",
      body: JSON.stringify({ advanceMs: 901_000 }),
    });
    try {
      expect(errorCode(await call())).toBe(13009);
    } finally {
      await httpCall(`${sim().control}/clock`, {
        method: "POST",
        body: JSON.stringify({ advanceMs: -901_000 }),
      });
    }
  });

  it("unknown methods are -32601; a body whose method differs from the path is -32600; bad JSON -32700", async () => {
    const unknown = await deribitCall(sim().deribit, "private/no_such_method", DR_ADMIN);
    expect(errorCode(unknown)).toBe(-32601);
    const r = await httpCall(`${sim().deribit}/api/v2/public/auth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "public/get_time", params: {} }),
    });
    expect(errorCode(r)).toBe(-32600);
    const bad = await httpCall(`${sim().deribit}/api/v2/public/auth`, { method: "POST", body: "{" });
    expect(errorCode(bad)).toBe(-32700);
  });
});
