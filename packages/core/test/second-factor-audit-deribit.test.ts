/**
 * The audit of a Deribit two-factor answer around the protected call (security review, finding 1), over
 * real HTTP against the simulator: a code is audited (`twofactor.answering`) before it is sent, so an
 * audit that cannot be written stops the call with nothing done; and once Deribit has accepted a code, a
 * failed audit of the outcome never discards Deribit's answer: a reset of Keyward's own key (its old
 * secret dead at once) still hands back the new secret, which works. The audit fails because another
 * process holds state.db's write lock (the append waits out the busy timeout).
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
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreatedKey, ExchangeAdapter, SecondFactorEvent } from "../src/adapters/interface.js";
import { toCredentials } from "../src/domain/credentials.js";
import { isKeywardError } from "../src/errors.js";
import { addAccount } from "../src/home/accounts.js";
import type { LogEntry } from "../src/log.js";
import { makeTestHome, type TestHome } from "./test-home.js";

const ACCOUNT = "desk-deribit";
const OWN = DESK_KEYS.deribitAccount;

let sim: RunningSimulator;
let t: TestHome;
const seen: string[] = [];

beforeAll(async () => {
  sim = await startSimulator({ scenario: { deribit: deskScenario().deribit } });
  t = await makeTestHome("sf-audit-deribit");
  await addAccount(
    t.home,
    { name: ACCOUNT, exchange: "deribit", endpoint: urlOf(sim, "deribit") },
    toCredentials({ ...deskCredentials(OWN), totpSeed: DESK_TOTP_SEED }),
  );
});
afterAll(async () => {
  const entries = await t?.home.auditLog().list();
  const text = [...seen, JSON.stringify(entries)].join("\n");
  for (const canary of [...DESK_CANARIES, DESK_TOTP_SEED]) expect(text).not.toContain(canary);
  await t?.remove();
  await sim?.close();
});

const resetOf = (adapter: ExchangeAdapter) => {
  if (!adapter.resetKey) throw new Error("the Deribit adapter resets keys");
  return adapter.resetKey.bind(adapter);
};

const twofactor = async () =>
  (await t.home.auditLog().list())
    .filter((e) => e.action.startsWith("twofactor."))
    .map((e) => [e.action, (e.details as { accepted?: boolean }).accepted]);

describe("a Deribit two-factor answer and its audit (fail closed before sending, never discard after)", () => {
  it("an answer that cannot be audited before it is sent is not sent: the reset does not happen", async () => {
    const lock = new Database(t.home.paths.state);
    const adapter = await t.home.adapterFor(ACCOUNT);
    const own = (await adapter.listKeys()).find((k) => k.apiKey === OWN.apiKey);
    if (!own) throw new Error("own key not listed");
    let error: unknown;
    try {
      lock.exec("BEGIN EXCLUSIVE");
      error = await resetOf(adapter)(own).catch((e: unknown) => e);
    } finally {
      if (lock.inTransaction) lock.exec("ROLLBACK");
      lock.close();
    }
    seen.push(JSON.stringify(error), String(error));
    expect(isKeywardError(error) && ["AUDIT_UNAVAILABLE", "STATE_UNAVAILABLE"].includes(error.code)).toBe(
      true,
    );
    // The old secret still works: the code was never sent.
    const probe = await adapter.probe(toCredentials(deskCredentials(OWN)), { knownAliveFromHere: true });
    expect(probe.status).toBe("alive");
    expect(await twofactor()).toEqual([]);
  }, 30_000);

  it("a reset of Keyward's own key whose accepted answer cannot be audited returns the new secret, which works", async () => {
    const lock = new Database(t.home.paths.state);
    const logs: LogEntry[] = [];
    const events: SecondFactorEvent[] = [];
    const adapter = await t.home.adapterFor(ACCOUNT, {
      log: (e) => logs.push(e),
      // Runs after core's own audit of the event: the lock is taken once the answer is audited as coming,
      // so the audit of Deribit's verdict is the one that fails.
      onSecondFactor: (e) => {
        events.push(e);
        if (e.phase === "answering") lock.exec("BEGIN EXCLUSIVE");
      },
    });
    const own = (await adapter.listKeys()).find((k) => k.apiKey === OWN.apiKey);
    if (!own) throw new Error("own key not listed");
    let reset: CreatedKey;
    try {
      reset = await resetOf(adapter)(own);
    } finally {
      if (lock.inTransaction) lock.exec("ROLLBACK");
      lock.close();
    }
    seen.push(JSON.stringify(reset), JSON.stringify(logs));
    expect(reset.credentials.apiKey).toBe(OWN.apiKey);
    expect(reset.credentials.secret.reveal()).not.toBe(OWN.secret);
    // Deribit's answer was kept: the new secret authenticates, the old one is dead.
    expect((await adapter.probe(reset.credentials)).status).toBe("alive");
    const old = await adapter.probe(toCredentials(deskCredentials(OWN)), { knownAliveFromHere: true });
    expect(old.status).not.toBe("alive");
    // Audited before sending; the verdict's audit failed, and the adapter said so in its log (no secret).
    expect(await twofactor()).toEqual([["twofactor.answering", undefined]]);
    expect(events.map((e) => e.phase)).toEqual(["answering"]);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: "warn", event: "second-factor.unaudited", account: ACCOUNT }),
    );
    expect(JSON.stringify(logs)).not.toContain(reset.credentials.secret.reveal());
  }, 30_000);
});
