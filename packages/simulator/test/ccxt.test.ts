/**
 * Acceptance 2: ccxt's own clients, pointed at the simulator, do the key-management round trip.
 * ccxt signs independently of the simulator, so a signing mismatch on either side fails here.
 */
import ccxt from "ccxt";
import { describe, expect, it } from "vitest";
import { BFX_MAIN, BFX_MICRO, MASTER, scenario } from "./fixtures.js";
import { RELAXED_LIMITS, useSimulator } from "./helpers.js";

type OkxReply<T> = { code: string; data: T[] };

describe("ccxt against the simulator", () => {
  const sim = useSimulator({ scenario: scenario(), rateLimits: RELAXED_LIMITS });
  const okxClient = (creds = MASTER) =>
    new ccxt.okx({
      apiKey: creds.apiKey,
      secret: creds.secretKey,
      password: creds.passphrase,
      urls: { api: { rest: sim().okx } },
      enableRateLimit: false,
    });
  const bitfinexClient = (creds: { apiKey: string; apiSecret: string }) =>
    new ccxt.bitfinex({
      apiKey: creds.apiKey,
      secret: creds.apiSecret,
      urls: { api: { public: sim().bitfinex, private: sim().bitfinex } },
      enableRateLimit: false,
    });

  it("okx: lists sub-accounts and their keys, creates, modifies and deletes a sub-account key", async () => {
    const okx = okxClient();
    const subs = (await okx.privateGetUsersSubaccountList()) as OkxReply<{ subAcct: string }>;
    expect(subs.data.map((s) => s.subAcct)).toContain("botsub01");
    const keys = (await okx.privateGetUsersSubaccountApikey({ subAcct: "botsub01" })) as OkxReply<{
      label: string;
    }>;
    expect(keys.data.map((k) => k.label)).toContain("bot-1");

    const created = (await okx.privatePostUsersSubaccountApikey({
      subAcct: "botsub01",
      label: "ccxt-made",
      passphrase: "Ccxt-Pass-1!",
      perm: "read_only,trade",
      ip: "127.0.0.1",
    })) as OkxReply<{ apiKey: string; secretKey: string; passphrase: string }>;
    const made = created.data[0];
    expect(made?.secretKey).toBeTruthy();

    const modified = (await okx.privatePostUsersSubaccountModifyApikey({
      subAcct: "botsub01",
      apiKey: made?.apiKey,
      label: "ccxt-renamed",
      perm: "read_only",
    })) as OkxReply<{ label: string; perm: string }>;
    expect(modified.data[0]).toMatchObject({ label: "ccxt-renamed", perm: "read_only" });

    // The new key itself authenticates through ccxt too.
    const own = okxClient({
      apiKey: made?.apiKey ?? "",
      secretKey: made?.secretKey ?? "",
      passphrase: "Ccxt-Pass-1!",
    });
    const config = (await own.privateGetAccountConfig()) as OkxReply<{ label: string; uid: string }>;
    expect(config.data[0]).toMatchObject({ label: "ccxt-renamed", uid: "1101" });

    const deleted = (await okx.privatePostUsersSubaccountDeleteApikey({
      subAcct: "botsub01",
      apiKey: made?.apiKey,
    })) as OkxReply<{
      subAcct: string;
    }>;
    expect(deleted.data).toEqual([{ subAcct: "botsub01" }]);
    await expect(own.privateGetAccountConfig()).rejects.toBeInstanceOf(ccxt.AuthenticationError);
    await expect(own.privateGetAccountConfig()).rejects.toThrow(/50111/);
  });

  it("okx: public time answers and a wrong passphrase is an AuthenticationError carrying 50105", async () => {
    const okx = okxClient({ ...MASTER, passphrase: "Wrong-Pass-1!" });
    const time = (await okx.publicGetPublicTime()) as OkxReply<{ ts: string }>;
    expect(Number(time.data[0]?.ts)).toBeGreaterThan(0);
    await expect(okx.privateGetAccountConfig()).rejects.toThrow(/50105/);
  });

  it("bitfinex: reads a seeded key's permissions and user info", async () => {
    const bfx = bitfinexClient(BFX_MAIN);
    const permissions = (await bfx.privatePostAuthRPermissions()) as [string, number, number][];
    expect(permissions).toContainEqual(["orders", 1, 1]);
    expect(permissions).toContainEqual(["withdraw", 0, 0]);
    const info = (await bfx.privatePostAuthRInfoUser()) as unknown[];
    expect(info.slice(0, 2)).toEqual([501, "ops@example.com"]);
    const [token] = (await bfx.privatePostAuthWToken({ scope: "api", ttl: 60 })) as string[];
    expect(await bfx.request("auth/w/token/del", "private", "POST", { token })).toEqual([1]);
  });

  it("bitfinex: ccxt's millisecond nonce fails forever on a key once used with microseconds", async () => {
    const bfx = bitfinexClient(BFX_MICRO);
    await expect(bfx.privatePostAuthRPermissions()).rejects.toBeInstanceOf(ccxt.InvalidNonce);
    let last = Date.now() * 1000;
    bfx.nonce = () => {
      last = Math.max(last + 1, Date.now() * 1000);
      return last;
    };
    expect(await bfx.privatePostAuthRPermissions()).toContainEqual(["account", 1, 0]);
  });
});
