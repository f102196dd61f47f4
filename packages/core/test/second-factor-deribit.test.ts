/**
 * Deribit's two-factor challenge outside the adapter (issue 13), over real HTTP against the simulator's
 * Deribit module (which checks codes with its own RFC 6238 implementation): the account's seed stored
 * in the vault and answering challenges (audited `answeredBy: "seed"`), a person's prompt when there is
 * none (a test's own prompt computing codes with a TOTP library), a refused code asked again, no one to
 * ask (SECOND_FACTOR_REQUIRED), and the seed never in an audit entry or an error.
 */
import { type RunningSimulator, startSimulator } from "@keyward/simulator";
import {
  DESK_CANARIES,
  DESK_KEYS,
  DESK_TOTP_SEED,
  deskCredentials,
  deskScenario,
  urlOf,
} from "@keyward/simulator/testing";
import { Secret as OtpSecret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SecondFactorPrompt, SecondFactorRequest } from "../src/adapters/interface.js";
import { toCredentials } from "../src/domain/credentials.js";
import { Secret } from "../src/domain/secret.js";
import { isKeywardError } from "../src/errors.js";
import { addAccount, setAccountSeed } from "../src/home/accounts.js";
import { listAccounts } from "../src/use-cases/index.js";
import { makeTestHome, type TestHome } from "./test-home.js";

const ACCOUNT = "desk-deribit";
const totp = new TOTP({
  secret: OtpSecret.fromBase32(DESK_TOTP_SEED),
  digits: 6,
  period: 30,
  algorithm: "SHA1",
});

let sim: RunningSimulator;
let t: TestHome;
const seen: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ scenario: { deribit: deskScenario().deribit } });
  t = await makeTestHome("sf-deribit");
  // Given grouped and in lower case, as authenticator apps show it: stored normalised.
  const grouped = DESK_TOTP_SEED.toLowerCase().replace(/(.{4})/g, "$1 ");
  await addAccount(
    t.home,
    { name: ACCOUNT, exchange: "deribit", endpoint: urlOf(sim, "deribit") },
    toCredentials({ ...deskCredentials(DESK_KEYS.deribitAccount), totpSeed: grouped }),
  );
});
afterAll(async () => {
  const entries = await t?.home.auditLog().list();
  const text = [...seen, JSON.stringify(entries)].join("\n");
  for (const canary of [...DESK_CANARIES, DESK_TOTP_SEED]) expect(text).not.toContain(canary);
  await t?.remove();
  await sim?.close();
});

const keyOf = async (prompt: SecondFactorPrompt | undefined, apiKey: string) => {
  const adapter = await t.home.adapterFor(ACCOUNT, prompt ? { secondFactor: prompt } : {});
  const key = (await adapter.listKeys()).find((k) => k.apiKey === apiKey);
  if (!key) throw new Error(`no key ${apiKey}`);
  return { adapter, key };
};

const answers = async () =>
  (await t.home.auditLog().list())
    .filter((e) => e.action === "twofactor.answered")
    .map((e) => ({ subject: e.subject, ...(e.details as Record<string, unknown>) }));

describe("Deribit's two-factor challenge, answered around the adapter", () => {
  it("stores the seed normalised in the vault, and says so in the account list (never the seed)", async () => {
    expect((await t.home.vault()).get(`account:${ACCOUNT}`)?.totpSeed?.reveal()).toBe(DESK_TOTP_SEED);
    const accounts = await listAccounts(t.home, { secondFactor: true });
    seen.push(JSON.stringify(accounts));
    expect(accounts.map((a) => [a.name, a.secondFactor])).toEqual([[ACCOUNT, "seed"]]);
  });

  it("with the seed, Keyward answers the challenge itself: the key is removed and the answer audited (answeredBy seed)", async () => {
    const asked: SecondFactorRequest[] = [];
    const { adapter, key } = await keyOf(
      {
        async code(r) {
          asked.push(r);
          return "000000";
        },
      },
      DESK_KEYS.deribitOld.apiKey,
    );
    const result = await adapter.revokeKey(key);
    seen.push(JSON.stringify(result));
    expect(result.outcome).toBe("revoked");
    expect(asked).toEqual([]); // the person was never asked
    expect(await answers()).toEqual([
      { subject: ACCOUNT, action: expect.stringContaining("remove key"), answeredBy: "seed", accepted: true },
    ]);
  });

  it("without a seed, a person's code (here a prompt computing it from the seed) answers; a refused code asks again", async () => {
    expect((await setAccountSeed(t.home, ACCOUNT, undefined)).seed).toBe("removed");
    expect((await t.home.vault()).get(`account:${ACCOUNT}`)?.totpSeed).toBeUndefined();
    const before = (await answers()).length;
    const asked: SecondFactorRequest[] = [];
    const prompt: SecondFactorPrompt = {
      async code(request) {
        asked.push(request);
        // The first code is wrong: the exchange refuses it, and the adapter asks again with `retry`.
        return asked.length === 1
          ? String((Number(totp.generate()) + 1) % 1_000_000).padStart(6, "0")
          : totp.generate();
      },
    };
    const { adapter, key } = await keyOf(prompt, DESK_KEYS.deribitTreasury.apiKey);
    const result = await adapter.revokeKey(key);
    seen.push(JSON.stringify(result));
    expect(result.outcome).toBe("revoked");
    expect(asked.map((r) => [r.account, r.retry === true])).toEqual([
      [ACCOUNT, false],
      [ACCOUNT, true],
    ]);
    expect(asked[0]?.expiresAt).toBeGreaterThan(Date.now());
    expect((await answers()).slice(before)).toEqual([
      expect.objectContaining({ answeredBy: "person", accepted: false }),
      expect.objectContaining({ answeredBy: "person", accepted: true }),
    ]);
    const accounts = await listAccounts(t.home, { secondFactor: true });
    expect(accounts[0]?.secondFactor).toBe("prompt");
  });

  it("without a seed and with no one to ask, the protected call fails with SECOND_FACTOR_REQUIRED and nothing is removed", async () => {
    const { adapter, key } = await keyOf(undefined, DESK_KEYS.deribitBot.apiKey);
    const error = await adapter.revokeKey(key).catch((e: unknown) => e);
    seen.push(JSON.stringify(error), String(error));
    expect(isKeywardError(error, "SECOND_FACTOR_REQUIRED")).toBe(true);
    const again = await keyOf(undefined, DESK_KEYS.deribitBot.apiKey);
    expect(again.key.state).toBe("active");
  });

  it("a person who cannot answer (the prompt rejects) fails the call with the prompt's error; nothing is removed", async () => {
    const { KeywardError } = await import("../src/errors.js");
    const cancelled = new KeywardError("SECOND_FACTOR_REQUIRED", "the prompt was cancelled");
    const { adapter, key } = await keyOf(
      { code: () => Promise.reject(cancelled) },
      DESK_KEYS.deribitBot.apiKey,
    );
    await expect(adapter.revokeKey(key)).rejects.toBe(cancelled);
    expect((await keyOf(undefined, DESK_KEYS.deribitBot.apiKey)).key.state).toBe("active");
  });

  it("fails closed: an answer that cannot be audited ends the call (no second code is asked for); the key stays", async () => {
    // Another process holds state.db's write lock: the audit append waits out the busy timeout and fails.
    const { default: Database } = await import("better-sqlite3");
    const lock = new Database(t.home.paths.state);
    const asked: SecondFactorRequest[] = [];
    try {
      lock.exec("BEGIN EXCLUSIVE");
      const prompt: SecondFactorPrompt = {
        async code(request) {
          asked.push(request);
          return String((Number(totp.generate()) + 1) % 1_000_000).padStart(6, "0"); // refused by Deribit
        },
      };
      const { adapter, key } = await keyOf(prompt, DESK_KEYS.deribitBot.apiKey);
      const error = await adapter.revokeKey(key).catch((e: unknown) => e);
      seen.push(JSON.stringify(error), String(error));
      expect(isKeywardError(error) && ["AUDIT_UNAVAILABLE", "STATE_UNAVAILABLE"].includes(error.code)).toBe(
        true,
      );
      expect(asked).toHaveLength(1);
    } finally {
      if (lock.inTransaction) lock.exec("ROLLBACK");
      lock.close();
    }
    expect((await keyOf(undefined, DESK_KEYS.deribitBot.apiKey)).key.state).toBe("active");
  }, 30_000);

  it("a seed set again on the existing account is used from then on; a bad seed is refused and changes nothing", async () => {
    const bad = await setAccountSeed(t.home, ACCOUNT, new Secret("123456")).catch((e: unknown) => e);
    seen.push(JSON.stringify(bad), String(bad));
    expect(isKeywardError(bad, "CONFIG_INVALID") && (bad as Error).message).toMatch(/^totpSeed: /);
    expect((await t.home.vault()).get(`account:${ACCOUNT}`)?.totpSeed).toBeUndefined();
    expect((await setAccountSeed(t.home, ACCOUNT, new Secret(DESK_TOTP_SEED))).seed).toBe("stored");
    const audit = (await t.home.auditLog().list()).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(["account.seed-removed", "account.seed-set"]));
    const { adapter, key } = await keyOf(undefined, DESK_KEYS.deribitBot.apiKey);
    expect((await adapter.revokeKey(key)).outcome).toBe("revoked");
    expect((await answers()).at(-1)).toMatchObject({ answeredBy: "seed", accepted: true });
  });
});
