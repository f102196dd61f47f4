/**
 * The conformance cases of the optional key capabilities: the kill switch (disableKey/enableKey) and the
 * reset in place (resetKey). They run for every adapter whose profile declares the capability, and only
 * then; `testAdapter` (conformance.ts) registers them in its order, so victims are taken as before.
 */
import { expect } from "vitest";
import type { ExchangeAdapter } from "../adapters/interface.js";
import { exchangeProfile } from "../adapters/registry.js";
import { KeyRecordSchema } from "../domain/schemas.js";
import type { ConformanceCase, ConformanceEnv, Victim } from "./conformance.js";

/** What the capability cases borrow from the suite. */
export interface CapabilityCaseContext {
  /** The harness's environment, once the suite's beforeAll has set it up. */
  env(): ConformanceEnv;
  /** An adapter with the suite's log sink and rate limits. */
  adapter(): ExchangeAdapter;
  nextVictim(): Victim;
  /** Keeps a value the suite checks for secrets at the end. */
  record(value: unknown): void;
  /** Secrets the suite itself obtained (a reset's new secret): checked like the harness's canaries. */
  obtained: string[];
  /** Registers a case, or skips it (the harness's skips, or a capability the profile lacks). */
  caseFn(name: ConformanceCase, fn: () => Promise<void>, timeout?: number): void;
}

/** The capability cases this exchange's profile does not declare, with why they are skipped. */
export function lackedCapabilities(exchange: string): Partial<Record<ConformanceCase, string>> {
  // Cases of an optional capability run for every adapter whose profile declares it, and only then.
  const declared = Object.values(exchangeProfile(exchange).keys);
  return {
    ...(declared.some((k) => k?.disable === "api")
      ? {}
      : { "kill switch: a disabled key fails its probe until enabled again": "no kill switch by API" }),
    ...(declared.some((k) => k?.resetInPlace === "api")
      ? {}
      : { "reset in place: the old secret dies at once, the new one works": "no reset in place by API" }),
  };
}

/** Registers the kill-switch and reset-in-place cases. */
export function capabilityCases(ctx: CapabilityCaseContext): void {
  ctx.caseFn("kill switch: a disabled key fails its probe until enabled again", async () => {
    const a = ctx.adapter();
    const victim = ctx.nextVictim();
    const key = (await a.listKeys()).find((k) => k.apiKey === victim.apiKey);
    if (!key || !a.disableKey || !a.enableKey) throw new Error("victim not listed, or no kill switch");
    expect((await a.probe(victim.credentials)).status).toBe("alive");
    const disabled = await a.disableKey(key);
    ctx.record(disabled);
    expect(disabled.outcome).toBe("disabled");
    // Switched off, not gone: it must not pass for alive, and must not be called dead either.
    const off = await a.probe(victim.credentials, { knownAliveFromHere: true });
    ctx.record(off);
    expect(off.status).toBe("inconclusive");
    const listed = (await a.listKeys()).find((k) => k.apiKey === victim.apiKey);
    expect(listed?.state).toBe("disabled");
    expect(await ctx.env().control.keyStatus(victim.apiKey)).not.toBe("revoked");
    const again = await a.disableKey(key);
    ctx.record(again);
    expect(again.outcome).toBe("already-disabled");
    await a.enableKey(key);
    const on = await a.probe(victim.credentials);
    ctx.record(on);
    expect(on.status).toBe("alive");
    expect((await a.listKeys()).find((k) => k.apiKey === victim.apiKey)?.state).toBe("active");
  });

  ctx.caseFn("reset in place: the old secret dies at once, the new one works", async () => {
    const a = ctx.adapter();
    const victim = ctx.nextVictim();
    const key = (await a.listKeys()).find((k) => k.apiKey === victim.apiKey);
    if (!key || !a.resetKey) throw new Error("victim not listed, or no reset in place");
    expect((await a.probe(victim.credentials)).status).toBe("alive");
    const reset = await a.resetKey(key);
    ctx.obtained.push(reset.credentials.secret.reveal());
    ctx.record(reset.record);
    // The same key: same API key and record id, a new secret.
    expect(reset.credentials.apiKey).toBe(victim.apiKey);
    expect(reset.record.id).toBe(key.id);
    expect(KeyRecordSchema.safeParse(reset.record).success).toBe(true);
    expect(reset.credentials.secret.reveal()).not.toBe(victim.credentials.secret.reveal());
    const old = await a.probe(victim.credentials, { knownAliveFromHere: true });
    ctx.record(old);
    expect(old.status).not.toBe("alive");
    const fresh = await a.probe(reset.credentials);
    ctx.record(fresh);
    expect(fresh.status).toBe("alive");
  });
}
