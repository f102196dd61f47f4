/**
 * ccxt's own `bybit` client, pointed at the simulator, does the sub-account key round trip (list, create,
 * delete). ccxt signs independently of the simulator, so a signing mismatch on either side fails here.
 */
import ccxt from "ccxt";
import { describe, expect, it } from "vitest";
import { BY_ADMIN, type BybitCreds, bybitScenario, SUB_UID } from "./bybit-helpers.js";
import { useSimulator } from "./helpers.js";

type Reply<T> = { retCode: number; result: T };
type KeyList = { result: { apiKey: string; note: string }[]; nextPageCursor: string };

describe("ccxt bybit against the simulator", () => {
  const sim = useSimulator({ scenario: bybitScenario() });
  const client = (creds: BybitCreds) =>
    new ccxt.bybit({
      apiKey: creds.apiKey,
      secret: creds.secret,
      urls: {
        api: {
          spot: sim().bybit,
          futures: sim().bybit,
          v2: sim().bybit,
          public: sim().bybit,
          private: sim().bybit,
        },
      },
      enableRateLimit: false,
    });

  it("lists a sub-member's keys, creates one (secret once), the new key authenticates, deletes it", async () => {
    const bybit = client(BY_ADMIN);
    const before = (await bybit.privateGetV5UserSubApikeys({ subMemberId: SUB_UID })) as Reply<KeyList>;
    expect(before.result.result.map((k) => k.note)).toEqual(["bot-1"]);

    const created = (await bybit.privatePostV5UserCreateSubApi({
      subuid: Number(SUB_UID),
      note: "ccxt-made",
      readOnly: 0,
      ips: "127.0.0.1",
      permissions: { Spot: ["SpotTrade"] },
    })) as Reply<{ apiKey: string; secret: string }>;
    expect(created.retCode).toBe(0);
    const made = created.result;
    expect(made.secret).toBeTruthy();

    const own = (await client(made).privateGetV5UserQueryApi()) as Reply<{ apiKey: string; secret: string }>;
    expect(own.result).toMatchObject({ apiKey: made.apiKey, secret: "" });

    const listed = (await bybit.privateGetV5UserSubApikeys({
      subMemberId: SUB_UID,
      limit: 20,
    })) as Reply<KeyList>;
    expect(listed.result.result.map((k) => k.note)).toEqual(["bot-1", "ccxt-made"]);

    const deleted = (await bybit.privatePostV5UserDeleteSubApi({ apikey: made.apiKey })) as Reply<object>;
    expect(deleted.retCode).toBe(0);
    // ccxt maps Bybit's 10003 ("API key is invalid") to its AuthenticationError.
    await expect(client(made).privateGetV5UserQueryApi()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    const after = (await bybit.privateGetV5UserSubApikeys({ subMemberId: SUB_UID })) as Reply<KeyList>;
    expect(after.result.result.map((k) => k.note)).toEqual(["bot-1"]);
  });

  it("a wrong secret is an AuthenticationError carrying 10004", async () => {
    const wrong = client({ apiKey: BY_ADMIN.apiKey, secret: "not-the-secret" });
    const error = await wrong.privateGetV5UserQueryApi().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ccxt.AuthenticationError);
    expect(String(error)).toMatch(/10004/);
  });
});
