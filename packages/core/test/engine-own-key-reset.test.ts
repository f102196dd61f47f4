/**
 * Issue 13's two rotations, over real HTTP against the simulator's Deribit desk account (whose API
 * manages every key of the account, Keyward's own included, behind a TOTP challenge: answered here as a
 * person would, with the code the account's authenticator shows):
 *
 * - Keyward's OWN account key rotated by API in the same run as another key of the account: the new key
 *   is created in the account itself, verified, delivered, Keyward switches to it, and only once the
 *   other slot is done does the NEW key delete the old one; resumed after a crash at each write-ahead
 *   step; aborted before the delete (the old key is Keyward's again, the new one is gone).
 * - An in-place reset: the same key id, a new secret delivered, the old secret dead, no grace; Keyward's
 *   own key reset in place switches the vault at once; a crash between the exchange's answer and the
 *   vault save is recovered (another key: reset again; the account's own key: said plainly).
 *
 * Crashes are simulated through the engine's crash seam, as engine-rotation.test.ts does.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  DESK_ACCOUNTS,
  DESK_CANARIES,
  DESK_KEYS,
  DESK_TOTP_SEED,
  keyStatuses,
  startTestDesk,
  type TestDesk,
  urlOf,
} from "@keyward/simulator/testing";
import { parse } from "dotenv";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AdapterOptions } from "../src/adapters/interface.js";
import { exchangeProfile } from "../src/adapters/registry.js";
import { type Credentials, toCredentials } from "../src/domain/credentials.js";
import type { KeyRecord } from "../src/domain/schemas.js";
import { KeywardError } from "../src/errors.js";
import { addAccount } from "../src/home/accounts.js";
import type { KeywardHome } from "../src/home/home.js";
import { abortRotation } from "../src/rotation/abort.js";
import { applyPlan } from "../src/rotation/apply.js";
import type { RotationDeps, RotationEvent } from "../src/rotation/context.js";
import { runRotation } from "../src/rotation/engine.js";
import { buildRotationPlan, RESET_NOTE } from "../src/rotation/plan.js";
import { DEFAULT_RUN_OPTIONS, type RotationPlan, type RunOptions } from "../src/rotation/schemas.js";
import { RESET_STEPS } from "../src/rotation/steps.js";
import { crashAt, rotationActions } from "./engine-world.js";
import { makeTestHome, rotationDeps, type TestHome } from "./test-home.js";

const ACCOUNT = DESK_ACCOUNTS.deribit;
const USERNAME = "desk_deribit";
const OWN = DESK_KEYS.deribitAccount;
const BOT = DESK_KEYS.deribitBot;

let desk: TestDesk;
let t: TestHome;
let home: KeywardHome;
let seen: string[] = [];
/** Secrets a test learnt on the way (new keys' secrets), scanned for too. */
let madeSecrets: string[] = [];

beforeAll(async () => {
  desk = await startTestDesk();
});
afterAll(async () => {
  await desk?.close();
});
beforeEach(async () => {
  await desk.client.control("POST", "/scenario", (await import("@keyward/simulator/testing")).deskScenario());
  t = await makeTestHome("own-key-reset");
  home = t.home;
  await addAccount(
    home,
    { name: ACCOUNT, exchange: "deribit", endpoint: urlOf(desk.running, "deribit") },
    toCredentials({ apiKey: OWN.apiKey, secret: OWN.secret }),
  );
});
afterEach(async () => {
  const text = seen.join("\n");
  seen = [];
  const secrets = [...DESK_CANARIES, DESK_TOTP_SEED, ...madeSecrets, t.passphrase];
  madeSecrets = [];
  await t.remove();
  for (const canary of secrets) expect(text).not.toContain(canary);
});

/** A person at the prompt, reading the account's authenticator: the code the exchange expects now. */
const options = (): AdapterOptions => ({
  retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
  secondFactor: { code: () => desk.client.totp(USERNAME) },
});
const deps = (h: KeywardHome = home, extra: Partial<RotationDeps> = {}) => rotationDeps(h, options(), extra);
const RUN: RunOptions = { ...DEFAULT_RUN_OPTIONS, graceMs: 0 };

const keep = <T>(v: T): T => {
  seen.push(JSON.stringify(v));
  return v;
};

async function listedNow(h: KeywardHome, apiKeys: readonly string[]): Promise<KeyRecord[]> {
  const keys = await (await h.adapterFor(ACCOUNT, options())).listKeys();
  return apiKeys.map((apiKey) => {
    const key = keys.find((k) => k.apiKey === apiKey);
    if (!key) throw new Error(`${apiKey} is not listed`);
    return key;
  });
}

async function planOf(apiKeys: string[], resetInPlace = false): Promise<{ plan: RotationPlan; env: string }> {
  const env = join(t.dir, "bots.env");
  writeFileSync(env, "VENUE=deribit\n", { mode: 0o600 });
  const keys = await listedNow(home, apiKeys);
  const accountKeys = await home.accountKeys();
  const held = new Set<string>();
  for (const k of keys) if (await home.credentialsForKey(k)) held.add(k.id);
  const plan = await buildRotationPlan({
    keys,
    deliver: [`dotenv:${env}#{label}`],
    cwd: t.dir,
    home: home.paths.dir,
    isAccountKey: (k) => accountKeys.get(k.account) === k.apiKey,
    holdsSecret: (k) => held.has(k.id),
    resetInPlace,
  });
  expect(plan.refused).toEqual([]);
  return { plan, env };
}

/** What the dotenv file holds for a prefix (KEYWARD, BOT_1). */
function delivered(
  env: string,
  prefix: string,
): { apiKey: string; secret: string; credentials: Credentials } {
  const vars = parse(readFileSync(env, "utf8"));
  const apiKey = vars[`${prefix}_API_KEY`] ?? "";
  const secret = vars[`${prefix}_API_SECRET`] ?? "";
  if (secret) madeSecrets.push(secret);
  return { apiKey, secret, credentials: toCredentials({ apiKey, secret }) };
}

const statuses = async () => keyStatuses(await desk.client.state());

/** A probe of a key that answered from here before (a wrong secret for it then means dead). */
async function probe(h: KeywardHome, credentials: Credentials) {
  return (await h.adapterFor(ACCOUNT, options())).probe(credentials, { knownAliveFromHere: true });
}

async function vaultAccountKey(h: KeywardHome): Promise<Credentials | undefined> {
  return (await h.vault()).get(h.account(ACCOUNT).credentialsRef);
}

describe("Keyward's own Deribit key rotated by API", () => {
  it("with another key of the account in the same run: new key created in the account, delivered, Keyward switched to it, the old one deleted by the new one after the other slot, proven dead", async () => {
    const { plan, env } = await planOf([OWN.apiKey, BOT.apiKey]);
    const own = plan.slots.find((s) => s.old.apiKey === OWN.apiKey);
    expect(own).toMatchObject({ method: "api", old: { accountKey: true }, new: { subAccount: null } });
    expect(own?.selfRevoke).toBeUndefined();
    expect(own?.notes.join(" ")).toMatch(/deletes the old key with the new one/);

    const events: RotationEvent[] = [];
    const report = keep(
      await applyPlan(plan, RUN, deps(home, { onEvent: (e) => events.push(structuredClone(e)) })),
    );
    keep(events);
    expect(report).toMatchObject({ state: "finished", summary: { total: 2, finished: 2, failed: 0 } });

    // The new account key: Keyward's now, alive, in the target; the old one removed on the exchange.
    const newOwn = delivered(env, "KEYWARD");
    expect(newOwn.apiKey).not.toBe(OWN.apiKey);
    expect((await vaultAccountKey(home))?.apiKey).toBe(newOwn.apiKey);
    expect((await probe(home, newOwn.credentials)).status).toBe("alive");
    const newBot = delivered(env, "BOT_1");
    expect((await probe(home, newBot.credentials)).status).toBe("alive");
    const s = await statuses();
    expect(s.get(OWN.apiKey)).toBe("revoked");
    expect(s.get(BOT.apiKey)).toBe("revoked");
    expect(s.get(newOwn.apiKey)).toBe("active");
    expect(s.get(newBot.apiKey)).toBe("active");
    expect((await probe(home, toCredentials({ apiKey: OWN.apiKey, secret: OWN.secret }))).status).toBe(
      "dead",
    );
    // The plan named each new key as Deribit stores it (16 characters at most), the label's start kept,
    // and said so.
    const names = new Map(
      (await listedNow(home, [newOwn.apiKey, newBot.apiKey])).map((k) => [k.apiKey, k.label]),
    );
    const bot = plan.slots.find((s) => s.old.apiKey === BOT.apiKey);
    expect(names.get(newOwn.apiKey)).toBe(own?.new.label);
    expect(names.get(newBot.apiKey)).toBe(bot?.new.label);
    expect(own?.new.label).toMatch(/^keyward_[0-9a-f]{8}$/);
    expect(own?.notes.join(" ")).toContain(`Deribit stores the new key as "${own?.new.label}"`);
    // Same scope and IP whitelist as the key it replaces (as the exchange lists it now).
    const [after] = await listedNow(home, [newOwn.apiKey]);
    const [before] = [plan.slots.find((x) => x.old.apiKey === OWN.apiKey)?.old];
    expect(after?.rawPermissions).toEqual(before?.rawPermissions);
    expect(after?.ip).toEqual(OWN.ip_whitelist);

    // The account key's old key was deleted only after the other slot of the account had finished.
    const entries = (await home.auditLog().list()).filter((e) => e.action.startsWith("rotation."));
    const ownId = own?.old.id ?? "";
    const botId = plan.slots.find((x) => x.old.apiKey === BOT.apiKey)?.old.id ?? "";
    const at = (action: string, subject: string) =>
      entries.findIndex((e) => e.action === action && e.subject === subject);
    expect(at("rotation.finished", botId)).toBeGreaterThanOrEqual(0);
    expect(at("rotation.revoking", ownId)).toBeGreaterThan(at("rotation.finished", botId));
    expect(at("rotation.old-key-dead", ownId)).toBeGreaterThan(at("rotation.revoking", ownId));
    expect(await home.auditLog().verify()).toMatchObject({ ok: true });
  });

  it("resumes after a crash at each write-ahead step (creating, after the switch at delivering, revoking) and after the exchange answered the delete", async () => {
    const { plan, env } = await planOf([OWN.apiKey]);
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "creating")))).rejects.toThrow();
    let h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("creating");

    // Between the create and the switch: the exchange made a key whose secret nobody saved (an orphan
    // resume must delete), then, created again, the key is journaled but Keyward has not switched yet.
    await expect(runRotation(plan.id, deps(h, crashAt(h, "create-answered")))).rejects.toThrow();
    h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("creating");
    await expect(runRotation(plan.id, deps(h, crashAt(h, "created")))).rejects.toThrow();
    h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("created");
    expect((await vaultAccountKey(h))?.apiKey).toBe(OWN.apiKey);

    // The second `delivering` record is written after Keyward switched and wrote the first target.
    await expect(runRotation(plan.id, deps(h, crashAt(h, "delivering", 2)))).rejects.toThrow();
    h = await t.reopen();
    const newOwn = delivered(env, "KEYWARD");
    expect((await vaultAccountKey(h))?.apiKey).toBe(newOwn.apiKey);
    expect((await statuses()).get(OWN.apiKey)).toBe("active");

    await expect(runRotation(plan.id, deps(h, crashAt(h, "revoking")))).rejects.toThrow();
    h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("revoking");
    expect((await statuses()).get(OWN.apiKey)).toBe("active");

    await expect(runRotation(plan.id, deps(h, crashAt(h, "revoke-answered")))).rejects.toThrow();
    h = await t.reopen();
    expect((await statuses()).get(OWN.apiKey)).toBe("revoked");

    const report = keep(await runRotation(plan.id, deps(h)));
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    // One new key with the rotation's label, the one Keyward uses; no orphan from the crash at `creating`.
    const live = [...(await statuses())].filter(([, st]) => st === "active").map(([k]) => k);
    expect(live).toContain(newOwn.apiKey);
    const listedKeys = await (await h.adapterFor(ACCOUNT, options())).listKeys();
    const name = exchangeProfile("deribit").storedLabel?.(plan.slots[0]?.new.label ?? "");
    expect(listedKeys.filter((k) => k.label === name).map((k) => k.apiKey)).toEqual([newOwn.apiKey]);
    expect(await h.auditLog().verify()).toMatchObject({ ok: true });
  });

  it("abort before the delete: the old key is Keyward's account key again and works, the new key is deleted", async () => {
    const { plan, env } = await planOf([OWN.apiKey]);
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "checked")))).rejects.toThrow();
    const h = await t.reopen();
    const newOwn = delivered(env, "KEYWARD");
    expect((await vaultAccountKey(h))?.apiKey).toBe(newOwn.apiKey);

    const result = keep(await abortRotation(plan.id, deps(h)));
    expect(result.slots[0]).toMatchObject({ result: "aborted" });
    expect((await vaultAccountKey(h))?.apiKey).toBe(OWN.apiKey);
    expect(delivered(env, "KEYWARD").apiKey).toBe(OWN.apiKey);
    const s = await statuses();
    expect(s.get(OWN.apiKey)).toBe("active");
    expect(s.get(newOwn.apiKey)).toBe("revoked");
    // Keyward manages the account with the old key again.
    expect((await listedNow(h, [OWN.apiKey, BOT.apiKey])).length).toBe(2);
  });

  it("abort whose delete gets no second-factor code leaves the new key Keyward's (vault and journal agree); with the code it finishes", async () => {
    const { plan, env } = await planOf([OWN.apiKey]);
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "checked")))).rejects.toThrow();
    const h = await t.reopen();
    const newOwn = delivered(env, "KEYWARD");
    // No one types the code (the account has no seed in the vault): the exchange refuses the delete.
    const nobody: AdapterOptions = {
      retry: { minTimeoutMs: 20, maxTimeoutMs: 200 },
      secondFactor: {
        code: async () => {
          throw new KeywardError("SECOND_FACTOR_REQUIRED", "no one can type a code here");
        },
      },
    };
    const refused = keep(await abortRotation(plan.id, rotationDeps(h, nobody)));
    expect(refused).toMatchObject({ state: "active", slots: [{ result: "not-undone" }] });
    // Nothing half-done: the journal still says "checked", and the vault still reaches the account with
    // the new key (which is alive), not the old one.
    expect((await vaultAccountKey(h))?.apiKey).toBe(newOwn.apiKey);
    expect((await statuses()).get(newOwn.apiKey)).toBe("active");
    expect((await listedNow(h, [OWN.apiKey, newOwn.apiKey])).length).toBe(2);

    // Again, with the code given: the new key deletes itself, then the old key is Keyward's again.
    const done = keep(await abortRotation(plan.id, deps(h)));
    expect(done).toMatchObject({ state: "aborted", slots: [{ result: "aborted" }] });
    expect((await vaultAccountKey(h))?.apiKey).toBe(OWN.apiKey);
    expect(delivered(env, "KEYWARD").apiKey).toBe(OWN.apiKey);
    const s = await statuses();
    expect(s.get(newOwn.apiKey)).toBe("revoked");
    expect(s.get(OWN.apiKey)).toBe("active");
    expect((await listedNow(h, [OWN.apiKey, BOT.apiKey])).length).toBe(2);
  });
});

describe("an in-place reset (Deribit reset_api_key)", () => {
  it("same key id, new secret delivered, old secret dead, no grace; the plan says so", async () => {
    const { plan, env } = await planOf([BOT.apiKey], true);
    const [slot] = plan.slots;
    expect(slot).toMatchObject({ method: "api", reset: true, new: { label: BOT.name } });
    expect(slot?.notes).toContain(RESET_NOTE);
    expect(RESET_NOTE).toMatch(/OLD SECRET DIES THE MOMENT THE NEW ONE EXISTS: there is no grace period/);

    const events: RotationEvent[] = [];
    const run = { ...RUN, graceMs: 60_000 }; // no grace applies to a reset: the test would time out
    const report = keep(
      await applyPlan(plan, run, deps(home, { onEvent: (e) => events.push(structuredClone(e)) })),
    );
    keep(events);
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    expect(report.slots[0]).toMatchObject({ reset: true, newKeyId: slot?.old.id });
    const steps = events.flatMap((e) => (e.type === "step" ? [e.slot.step] : []));
    expect(["planned", ...steps.filter((x, i) => x !== steps[i - 1])]).toEqual([...RESET_STEPS]);

    const now = delivered(env, "BOT_1");
    expect(now.apiKey).toBe(BOT.apiKey);
    expect(now.secret).not.toBe(BOT.secret);
    expect((await probe(home, now.credentials)).status).toBe("alive");
    // The key lives on (same id); its old secret is refused.
    expect(await probe(home, toCredentials({ apiKey: BOT.apiKey, secret: BOT.secret }))).toMatchObject({
      status: "inconclusive",
      reason: "wrong-secret",
    });
    expect((await statuses()).get(BOT.apiKey)).toBe("active");
    expect(await rotationActions(home)).toContain("rotation.key-reset");
    expect(await rotationActions(home)).not.toContain("rotation.revoking");
  });

  it("a key bound to IPs that exclude this machine: the new secret is vouched for by the account's listing (its probe may only say ip-not-whitelisted) and delivered", async () => {
    const OLD = DESK_KEYS.deribitOld; // whitelisted to 10.0.7.2 only
    const { plan, env } = await planOf([OLD.apiKey], true);
    const report = keep(await applyPlan(plan, RUN, deps()));
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    expect(report.slots[0]?.evidence.join(" ")).toMatch(
      /ip-not-whitelisted.*Deribit lists it with permissions/,
    );
    const now = delivered(env, "BOT_OLD");
    expect(now.apiKey).toBe(OLD.apiKey);
    expect(now.secret).not.toBe(OLD.secret);
    expect((await probe(home, now.credentials)).status).toBe("inconclusive");
    expect((await statuses()).get(OLD.apiKey)).toBe("active");
  });

  it("Keyward's own key reset in place: the vault holds the new secret at once, the old one is proven dead by a probe", async () => {
    const { plan, env } = await planOf([OWN.apiKey], true);
    const report = keep(await applyPlan(plan, RUN, deps()));
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    const creds = await vaultAccountKey(home);
    expect(creds?.apiKey).toBe(OWN.apiKey);
    expect(creds?.secret.reveal()).not.toBe(OWN.secret);
    expect(delivered(env, "KEYWARD").secret).toBe(creds?.secret.reveal());
    expect(report.slots[0]?.evidence.join(" ")).toMatch(/old secret: probe: dead/);
    // Keyward still manages the account, with the new secret.
    expect((await listedNow(home, [OWN.apiKey])).length).toBe(1);
  });

  it("a crash after the exchange reset a key but before its secret was saved: resume resets it again and delivers a working secret", async () => {
    const { plan, env } = await planOf([BOT.apiKey], true);
    // Killed at the write-ahead record: nothing was reset yet.
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "resetting")))).rejects.toThrow();
    let h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("resetting");
    expect(await probe(h, toCredentials({ apiKey: BOT.apiKey, secret: BOT.secret }))).toMatchObject({
      status: "alive",
    });
    // Killed between the exchange's answer and the vault save: the new secret is lost.
    await expect(runRotation(plan.id, deps(h, crashAt(h, "reset-answered")))).rejects.toThrow();
    h = await t.reopen();
    expect((await deps(h).journal.slot(plan.id, 1)).step).toBe("resetting");
    expect(await probe(h, toCredentials({ apiKey: BOT.apiKey, secret: BOT.secret }))).toMatchObject({
      reason: "wrong-secret",
    });
    const report = keep(await runRotation(plan.id, deps(h)));
    expect(report).toMatchObject({ state: "finished", summary: { finished: 1 } });
    expect((await probe(h, delivered(env, "BOT_1").credentials)).status).toBe("alive");
  });

  it("the same crash for Keyward's own key stops with what a person must do (Keyward's key is the dead one)", async () => {
    const { plan } = await planOf([OWN.apiKey], true);
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "reset-answered")))).rejects.toThrow();
    const h = await t.reopen();
    const report = keep(await runRotation(plan.id, deps(h)));
    expect(report.slots[0]).toMatchObject({ outcome: "failed", step: "resetting" });
    expect(report.slots[0]?.error?.message).toMatch(/new secret was lost/);
    expect(report.slots[0]?.error?.hint).toMatch(/Reset the key on the exchange's site/);
  });

  it("cannot be aborted once the reset may have happened", async () => {
    const { plan } = await planOf([BOT.apiKey], true);
    await expect(applyPlan(plan, RUN, deps(home, crashAt(home, "created")))).rejects.toThrow();
    const h = await t.reopen();
    const result = keep(await abortRotation(plan.id, deps(h)));
    expect(result.slots[0]).toMatchObject({ result: "not-undone" });
    expect(result.slots[0]?.explanation).toMatch(/reset in place: its old secret is dead/);
  });
});
