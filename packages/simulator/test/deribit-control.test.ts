/**
 * Deribit in the simulator's shared surfaces: scenario validation, the control API (`/state` without
 * secrets, the authenticator's `GET /deribit/totp`, the request log, faults), the "API" stand-in page with
 * its simulator-only authenticator, and the state file.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totpCode } from "../src/deribit/totp.js";
import {
  parseScenario,
  type RequestLogEntry,
  ScenarioError,
  startSimulator,
  UI_PATHS,
} from "../src/index.js";
import {
  DESK_ACCOUNTS,
  DESK_CANARIES,
  DESK_KEYS,
  DESK_TOTP_SEED,
  deskDeribitAccount,
  keyStatuses,
  startTestDesk,
  type TestDesk,
} from "../src/testing/index.js";
import {
  DR_ADMIN,
  DR_READER,
  DR_TRADER,
  deribitCall,
  deribitScenario,
  errorCode,
  type KeyObject,
  MAIN_SEED,
  MAIN_USER,
  resultOf,
  SUB_SEED,
  tokenFor,
  withCode,
} from "./deribit-helpers.js";
import { control, httpCall, useSimulator } from "./helpers.js";

const SUMMARY = "private/get_account_summary";
const LIST = "private/list_api_keys";

describe("the scenario's deribit section", () => {
  type Mutable = { deribit: { accounts: Record<string, unknown>[] } };
  const broken = (change: (s: Mutable) => void) => {
    const s = deribitScenario() as unknown as Mutable;
    change(s);
    return s;
  };
  const key0 = (s: Mutable) =>
    ((s.deribit.accounts[0]?.keys ?? []) as Record<string, unknown>[])[0] as Record<string, unknown>;

  it.each([
    [
      "a missing totpSeed",
      (s: Mutable) => delete s.deribit.accounts[0]?.totpSeed,
      /deribit\.accounts\[0\]\.totpSeed/,
    ],
    [
      "a seed that is not base32",
      (s: Mutable) => ((s.deribit.accounts[0] as Record<string, unknown>).totpSeed = "JBSWY3DPEHPK3PX1"),
      /deribit\.accounts\[0\]\.totpSeed: expected base32/,
    ],
    [
      "a short seed",
      (s: Mutable) => ((s.deribit.accounts[0] as Record<string, unknown>).totpSeed = "JBSWY3DP"),
      /totpSeed: expected a base32 seed of at least 16/,
    ],
    [
      "an unknown scope",
      (s: Mutable) => (key0(s).max_scope = "account:write"),
      /deribit\.accounts\[0\]\.keys\[0\]\.max_scope: unknown level/,
    ],
    ["a bad key name", (s: Mutable) => (key0(s).name = "has-dash"), /keys\[0\]\.name: expected at most 16/],
    [
      "a bad whitelist entry",
      (s: Mutable) => (key0(s).ip_whitelist = ["10.0.0.300"]),
      /keys\[0\]\.ip_whitelist\[0\]/,
    ],
    ["a bad timestamp", (s: Mutable) => (key0(s).timestamp = "yesterday"), /keys\[0\]\.timestamp/],
    ["an unknown field", (s: Mutable) => (key0(s).secret = "x"), /keys\[0\]/],
    [
      "a wrong account type",
      (s: Mutable) => ((s.deribit.accounts[0] as Record<string, unknown>).type = "master"),
      /accounts\[0\]\.type/,
    ],
    [
      "a duplicate key id",
      (s: Mutable) => (key0(s).id = 2),
      /deribit\.accounts\[0\]\.keys\[1\]\.id: duplicate key id "2"/,
    ],
    [
      "a duplicate client_id",
      (s: Mutable) => (key0(s).client_id = "DRREAD02"),
      /keys\[1\]\.client_id: duplicate apiKey "DRREAD02"/,
    ],
    [
      "a duplicate username",
      (s: Mutable) => ((s.deribit.accounts[1] as Record<string, unknown>).username = MAIN_USER),
      /accounts\[1\]\.username: duplicate username/,
    ],
    [
      "more than 8 keys",
      (s: Mutable) => {
        const keys = s.deribit.accounts[0]?.keys as Record<string, unknown>[];
        for (let i = 10; i < 14; i++) keys.push({ ...keys[1], id: i, client_id: `DRMORE${i}` });
      },
      /deribit\.accounts\[0\]\.keys: at most 8 keys per account \(9 given\)/,
    ],
  ])("refuses %s, naming the field", (_name, change, message) => {
    const s = broken(change);
    expect(() => parseScenario(s)).toThrow(ScenarioError);
    expect(() => parseScenario(s)).toThrow(message);
  });

  it("takes ms, ISO and now-<days>d timestamps; the account type is main by default", () => {
    const parsed = parseScenario(deribitScenario());
    const [main, sub] = parsed.deribit?.accounts ?? [];
    expect(main?.type).toBe("main");
    expect(sub?.type).toBe("subaccount");
    const [admin, reader, trader] = main?.keys ?? [];
    expect(Math.abs((admin?.timestamp ?? 0) - (Date.now() - 400 * 86_400_000))).toBeLessThan(60_000);
    expect(reader?.timestamp).toBe(1_760_000_000_000);
    expect(trader?.timestamp).toBe(Date.parse("2026-06-01T09:00:00Z"));
  });
});

describe("Deribit's control API and stand-in page", () => {
  const sim = useSimulator({ scenario: deribitScenario() });

  it("GET /deribit/totp gives an account's current code (by username or id), the one the challenge takes", async () => {
    const r = await httpCall(`${sim().control}/deribit/totp?username=${MAIN_USER}`);
    expect(r.status).toBe(200);
    const answer = r.json as { code: string; username: string; accountId: number; validForMs: number };
    expect(answer).toMatchObject({ username: MAIN_USER, accountId: 501 });
    // It may have just turned over: the code of now or of the step before.
    expect([totpCode(MAIN_SEED, Date.now()), totpCode(MAIN_SEED, Date.now() - 30_000)]).toContain(
      answer.code,
    );
    expect(answer.validForMs).toBeGreaterThan(0);
    expect(answer.validForMs).toBeLessThanOrEqual(30_000);
    const byId = await httpCall(`${sim().control}/deribit/totp?id=502`);
    expect([totpCode(SUB_SEED, Date.now()), totpCode(SUB_SEED, Date.now() - 30_000)]).toContain(
      (byId.json as { code: string }).code,
    );
    expect(JSON.stringify(r.json)).not.toContain(MAIN_SEED);
    expect((await httpCall(`${sim().control}/deribit/totp?username=nobody`)).status).toBe(404);
    const routes = (await httpCall(`${sim().control}/`)).json as { routes: string[] };
    expect(routes.routes).toContain("GET /deribit/totp");
  });

  it("/state lists every account and key with scope, whitelist, enabled state and status; no secret, no seed", async () => {
    const state = (await httpCall(`${sim().control}/state`)).json as {
      deribit: { accounts: { username: string; keys: Record<string, unknown>[] }[] };
    };
    const keys = state.deribit.accounts[0]?.keys ?? [];
    expect(keys.map((k) => [k.apiKey, k.status])).toEqual([
      ["DRADMIN1", "active"],
      ["DRREAD02", "active"],
      ["DRTRADE3", "active"],
      ["DRFAR004", "active"],
      ["DROFF005", "disabled"],
    ]);
    expect(keys[0]).toMatchObject({
      id: 1,
      name: "keyward",
      max_scope: "account:read_write trade:read wallet:none block_trade:none",
      ip_whitelist: ["127.0.0.1", "::1"],
      enabled: true,
    });
    const text = JSON.stringify(state);
    for (const secret of [DR_ADMIN.secret, DR_READER.secret, MAIN_SEED, SUB_SEED])
      expect(text).not.toContain(secret);
  });

  it("the request log names the client id, never a secret, signature or token", async () => {
    const since = ((await httpCall(`${sim().control}/requests`)).json as RequestLogEntry[]).at(-1)?.seq ?? 0;
    const token = await tokenFor(sim().deribit, DR_READER);
    await deribitCall(sim().deribit, LIST, undefined, { auth: { token } });
    await deribitCall(sim().deribit, LIST, DR_TRADER);
    const made = resultOf<KeyObject>(
      await withCode(sim().deribit, sim().control, "private/create_api_key", DR_ADMIN, {
        max_scope: "account:read",
        name: "logged",
      }),
    );
    await withCode(sim().deribit, sim().control, "private/remove_api_key", DR_ADMIN, { id: made.id });
    const log = (await httpCall(`${sim().control}/requests?since=${since}`)).json as RequestLogEntry[];
    expect(log.map((e) => [e.path, e.apiKey, e.code])).toEqual([
      ["/api/v2/public/auth", "DRREAD02", "0"],
      ["/api/v2/private/list_api_keys", "DRREAD02", "0"],
      ["/api/v2/private/list_api_keys", "DRTRADE3", "13021"],
      ["/api/v2/private/create_api_key", "DRADMIN1", "challenge"],
      ["/api/v2/private/create_api_key", "DRADMIN1", "0"],
      ["/api/v2/private/remove_api_key", "DRADMIN1", "challenge"],
      ["/api/v2/private/remove_api_key", "DRADMIN1", "0"],
    ]);
    const text = JSON.stringify(log);
    for (const secret of [DR_ADMIN.secret, DR_READER.secret, token, made.client_secret])
      expect(text).not.toContain(secret);
  });

  it("the stand-in page lists keys with scope, whitelist and state, and shows the simulator-only authenticator", async () => {
    expect(UI_PATHS.deribit).toBe("/account/BTC/api");
    const page = await httpCall(`${sim().deribit}/account/BTC/api`);
    expect(page.status).toBe(200);
    expect(page.text).toContain("DRADMIN1");
    expect(page.text).toContain(
      "account:read_write trade:read wallet:none block_trade:none IPs 127.0.0.1,::1",
    );
    expect(page.text).toMatch(/DROFF005[\s\S]*\(disabled\)/);
    expect(page.text).toContain("Authenticator (simulator only");
    const code = /desk_delta \(id 501\)<\/th><td><code>(\d{6}) \(/.exec(page.text)?.[1];
    expect([totpCode(MAIN_SEED, Date.now()), totpCode(MAIN_SEED, Date.now() - 30_000)]).toContain(code);
    for (const secret of [DR_ADMIN.secret, MAIN_SEED]) expect(page.text).not.toContain(secret);
  });

  it("the page creates a key (shown once) and removes one after confirming; a cross-site post is refused", async () => {
    const url = `${sim().deribit}/account/BTC/api`;
    const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(fields).toString(),
    });
    const fields = {
      username: MAIN_USER,
      name: "from_page",
      max_scope: "account:read",
      ip_whitelist: "127.0.0.1",
      confirm: "yes",
    };
    const hostile = await httpCall(`${url}/create`, form(fields, { origin: "https://evil.example" }));
    expect(hostile.status).toBe(403);
    const created = await httpCall(`${url}/create`, form(fields));
    expect(created.status).toBe(200);
    const clientId = /<th>Client ID<\/th><td><code>([^<]+)<\/code>/.exec(created.text)?.[1] ?? "";
    const secret = /<th>Client Secret<\/th><td><code>([^<]+)<\/code>/.exec(created.text)?.[1] ?? "";
    const creds = { apiKey: clientId, secret };
    expect((await deribitCall(sim().deribit, SUMMARY, creds, { params: { currency: "BTC" } })).status).toBe(
      200,
    );

    const revoke = await httpCall(`${url}/revoke`, form({ apiKey: clientId, confirm: "yes" }));
    expect(revoke.status).toBe(303);
    expect(errorCode(await deribitCall(sim().deribit, SUMMARY, creds, { params: { currency: "BTC" } }))).toBe(
      13004,
    );
    const state = (await httpCall(`${sim().control}/state`)).json as {
      deribit: { accounts: { keys: { apiKey: string; status: string; removedBy?: string }[] }[] };
    };
    expect(state.deribit.accounts[0]?.keys.find((k) => k.apiKey === clientId)).toMatchObject({
      status: "revoked",
      removedBy: "ui",
    });
    // The control API's revoke does the same for a disabled key.
    const r = await control(sim().control, "POST", "/ui/revoke", { exchange: "deribit", apiKey: "DROFF005" });
    expect(r.json).toMatchObject({ status: "revoked", alreadyRevoked: false });
  });
});

describe("Deribit faults", () => {
  const sim = useSimulator({ scenario: deribitScenario() });
  const keysListed = async () =>
    resultOf<KeyObject[]>(await deribitCall(sim().deribit, LIST, DR_ADMIN)).map((k) => k.client_id);
  const create = async (name: string) =>
    resultOf<KeyObject>(
      await withCode(sim().deribit, sim().control, "private/create_api_key", DR_ADMIN, {
        max_scope: "account:read trade:read",
        name,
      }),
    );
  const remove = (id: number) =>
    withCode(sim().deribit, sim().control, "private/remove_api_key", DR_ADMIN, { id });
  const alive = async (k: KeyObject) =>
    errorCode(
      await deribitCall(
        sim().deribit,
        SUMMARY,
        { apiKey: k.client_id, secret: k.client_secret },
        { params: { currency: "BTC" } },
      ),
    );

  it("dropResponses cuts a write that took effect, not the challenge before it", async () => {
    await control(sim().control, "POST", "/faults", { exchange: "deribit", dropResponses: 1 });
    try {
      const challenge = await deribitCall(sim().deribit, "private/create_api_key", DR_ADMIN, {
        params: { max_scope: "account:read", name: "dropped" },
      });
      expect(challenge.status).toBe(200);
      const c = resultOf<{ challenge: string }>(challenge).challenge;
      const code = (
        (await httpCall(`${sim().control}/deribit/totp?username=${MAIN_USER}`)).json as { code: string }
      ).code;
      await expect(
        deribitCall(sim().deribit, "private/create_api_key", DR_ADMIN, {
          params: { max_scope: "account:read", name: "dropped", authorization_data: code, challenge: c },
        }),
      ).rejects.toThrow();
      const listed = resultOf<KeyObject[]>(await deribitCall(sim().deribit, LIST, DR_ADMIN));
      const dropped = listed.find((k) => k.name === "dropped");
      expect(dropped).toBeDefined();
      if (dropped) await remove(dropped.id);
    } finally {
      await control(sim().control, "DELETE", "/faults");
    }
  });

  it('hollow deletes: "ignored" keeps the key, "unlisted" hides it while it still authenticates', async () => {
    const a = await create("hollow_a");
    await control(sim().control, "POST", "/faults", { exchange: "deribit", hollowDeletes: 1 });
    expect(resultOf(await remove(a.id))).toBe("ok");
    expect(await keysListed()).toContain(a.client_id);
    expect(await alive(a)).toBeUndefined();
    const b = await create("hollow_b");
    await control(sim().control, "POST", "/faults", {
      exchange: "deribit",
      hollowDeletes: 1,
      hollowDeleteShape: "unlisted",
    });
    expect(resultOf(await remove(b.id))).toBe("ok");
    expect(await keysListed()).not.toContain(b.client_id);
    expect(await alive(b)).toBeUndefined();
    await control(sim().control, "DELETE", "/faults");
    await remove(a.id);
    expect(await alive(a)).toBe(13004);
  });

  it('flawed creates: "not-authenticating" is listed but refused; "other-permissions" differs from the answer', async () => {
    await control(sim().control, "POST", "/faults", { exchange: "deribit", flawedCreates: 1 });
    const broken = await create("flawed_a");
    expect(await keysListed()).toContain(broken.client_id);
    expect(await alive(broken)).toBe(13004);
    await control(sim().control, "POST", "/faults", {
      exchange: "deribit",
      flawedCreates: 1,
      flawedCreateShape: "other-permissions",
    });
    const other = await create("flawed_b");
    expect(other.max_scope).toBe("account:read trade:read wallet:none block_trade:none");
    const listed = resultOf<KeyObject[]>(await deribitCall(sim().deribit, LIST, DR_ADMIN)).find(
      (k) => k.id === other.id,
    );
    expect(listed?.max_scope).toBe("account:read trade:read_write wallet:none block_trade:none");
    await control(sim().control, "DELETE", "/faults");
    await remove(broken.id);
    await remove(other.id);
  });
});

describe("Deribit with a state file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "deribit-state-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a reset secret, a disabled key and a token survive a restart", async () => {
    const stateFile = join(dir, "state.json");
    const first = await startSimulator({ scenario: deribitScenario(), stateFile });
    let reset: KeyObject;
    let token: string;
    try {
      reset = resultOf<KeyObject>(
        await withCode(first.deribit, first.control, "private/reset_api_key", DR_ADMIN, { id: 2 }),
      );
      await deribitCall(first.deribit, "private/disable_api_key", DR_ADMIN, { params: { id: 3 } });
      token = await tokenFor(first.deribit, DR_ADMIN);
    } finally {
      await first.close();
    }
    expect(readFileSync(stateFile, "utf8")).toContain("deribitAccounts");
    const second = await startSimulator({ scenario: deribitScenario(), stateFile });
    try {
      const creds = { apiKey: reset.client_id, secret: reset.client_secret };
      expect(
        (await deribitCall(second.deribit, SUMMARY, creds, { params: { currency: "BTC" } })).status,
      ).toBe(200);
      // The old secret stays dead; the disabled key stays disabled.
      expect(
        errorCode(await deribitCall(second.deribit, SUMMARY, DR_READER, { params: { currency: "BTC" } })),
      ).toBe(13009);
      expect(errorCode(await deribitCall(second.deribit, LIST, DR_TRADER))).toBe(13004);
      expect(
        (
          await deribitCall(second.deribit, SUMMARY, undefined, {
            params: { currency: "BTC" },
            auth: { token },
          })
        ).status,
      ).toBe(200);
    } finally {
      await second.close();
    }
  });
});

describe("the test desk's Deribit account", () => {
  let desk: TestDesk;
  beforeAll(async () => {
    desk = await startTestDesk();
  });
  afterAll(async () => {
    await desk?.close();
  });

  it("deskDeribitAccount: desk-deribit, its key authenticates and lists the desk's keys; the seed is a canary and base32", async () => {
    const account = deskDeribitAccount(desk.running);
    expect(account).toMatchObject({
      name: DESK_ACCOUNTS.deribit,
      exchange: "deribit",
      endpoint: desk.running.deribit,
      credentials: { apiKey: DESK_KEYS.deribitAccount.apiKey, totpSeed: DESK_TOTP_SEED },
    });
    expect(deskDeribitAccount(desk.running, { totpSeed: false }).credentials).not.toHaveProperty("totpSeed");
    expect(DESK_TOTP_SEED).toMatch(/^CANARY[A-Z2-7]+$/);
    expect(DESK_CANARIES).toContain(DESK_KEYS.deribitAccount.secret);
    const creds = { apiKey: account.credentials.apiKey, secret: account.credentials.secret };
    const keys = resultOf<KeyObject[]>(await deribitCall(desk.running.deribit, LIST, creds));
    expect(keys.map((k) => k.name)).toEqual(["keyward", "bot_1", "treasury", "bot_old"]);
    // The client's authenticator code is the seed's.
    const code = await desk.client.totp("desk_deribit");
    expect([totpCode(DESK_TOTP_SEED, Date.now()), totpCode(DESK_TOTP_SEED, Date.now() - 30_000)]).toContain(
      code,
    );
    // Not in deskSeed: the suites' whole-desk expectations do not include it.
    expect(desk.seed.accounts.map((a) => a.exchange)).not.toContain("deribit");
  });

  it("keyStatuses reads a disabled Deribit key as disabled", async () => {
    const creds = { apiKey: DESK_KEYS.deribitAccount.apiKey, secret: DESK_KEYS.deribitAccount.secret };
    await deribitCall(desk.running.deribit, "private/disable_api_key", creds, {
      params: { id: DESK_KEYS.deribitBot.id },
    });
    expect(keyStatuses(await desk.client.state()).get(DESK_KEYS.deribitBot.apiKey)).toBe("disabled");
  });
});
