/**
 * ccxt's own `deribit` client, pointed at the simulator: ccxt signs (deri-hmac-sha256) independently of
 * the simulator, so a signing mismatch on either side fails here. The challenge loop is done by hand, as
 * ccxt has none.
 */
import ccxt from "ccxt";
import { describe, expect, it } from "vitest";
import { totpCode } from "../src/deribit/totp.js";
import {
  type Challenge,
  type DeribitCreds,
  DR_ADMIN,
  deribitScenario,
  type KeyObject,
  MAIN_SEED,
} from "./deribit-helpers.js";
import { useSimulator } from "./helpers.js";

type Reply<T> = { jsonrpc: string; result: T };

describe("ccxt deribit against the simulator", () => {
  const sim = useSimulator({ scenario: deribitScenario() });
  const client = (creds: DeribitCreds) =>
    new ccxt.deribit({
      apiKey: creds.apiKey,
      secret: creds.secret,
      urls: { api: { rest: sim().deribit } },
      enableRateLimit: false,
    });

  it("lists keys, creates one through the challenge, the new key authenticates, edits its whitelist, removes it", async () => {
    const deribit = client(DR_ADMIN);
    const before = (await deribit.privateGetListApiKeys()) as Reply<KeyObject[]>;
    expect(before.result.map((k) => k.name)).toContain("keyward");

    const params = { max_scope: "account:read trade:read_write", name: "ccxt_made" };
    const first = (await deribit.privateGetCreateApiKey(params)) as Reply<Challenge>;
    expect(first.result.security_key_authorization_required).toBe(true);
    const created = (await deribit.privateGetCreateApiKey({
      ...params,
      authorization_data: totpCode(MAIN_SEED, Date.now()),
      challenge: first.result.challenge,
    })) as Reply<KeyObject>;
    const made = created.result;
    expect(made.name).toBe("ccxt_made");

    const own = (await client({
      apiKey: made.client_id,
      secret: made.client_secret,
    }).privateGetGetAccountSummary({
      currency: "BTC",
    })) as Reply<{ username: string }>;
    expect(own.result.username).toBe("desk_delta");

    // edit_api_key is not in ccxt's list: its generic request path still signs, the array travels as JSON.
    const edit = { id: made.id, max_scope: made.max_scope, ip_whitelist: JSON.stringify(["127.0.0.1"]) };
    const editChallenge = (await deribit.request("edit_api_key", "private", "GET", edit)) as Reply<Challenge>;
    const edited = (await deribit.request("edit_api_key", "private", "GET", {
      ...edit,
      authorization_data: totpCode(MAIN_SEED, Date.now()),
      challenge: editChallenge.result.challenge,
    })) as Reply<KeyObject>;
    expect(edited.result.ip_whitelist).toEqual(["127.0.0.1"]);

    const removeChallenge = (await deribit.privateGetRemoveApiKey({ id: made.id })) as Reply<Challenge>;
    const removed = (await deribit.privateGetRemoveApiKey({
      id: made.id,
      authorization_data: totpCode(MAIN_SEED, Date.now()),
      challenge: removeChallenge.result.challenge,
    })) as Reply<string>;
    expect(removed.result).toBe("ok");
    // ccxt maps 13004 (invalid_credentials) to its AuthenticationError.
    await expect(
      client({ apiKey: made.client_id, secret: made.client_secret }).privateGetGetAccountSummary({
        currency: "BTC",
      }),
    ).rejects.toBeInstanceOf(ccxt.AuthenticationError);
  });

  it("a wrong secret is an AuthenticationError carrying 13009", async () => {
    const wrong = client({ apiKey: DR_ADMIN.apiKey, secret: "not-the-secret" });
    const error = await wrong.privateGetListApiKeys().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ccxt.AuthenticationError);
    expect(String(error)).toMatch(/13009/);
  });
});
