/**
 * "Start a revoke": run a reviewed plan (core's runRevoke: audit first, API revokes at the rate
 * limits, proof of death, manual steps in plan order, then probing until the people are done) as a
 * session both shells drive. The CLI follows it from its terminal (Ctrl-C stops waiting); the web
 * follows it from HTTP (any number of tabs, "verify now", "stop waiting"). The session holds the
 * workflow's state: where each key stands, the checklist, whether it waits for a person.
 */

import type { ExchangeAdapter, SecondFactorPrompt } from "../adapters/interface.js";
import { accountProbeOptions } from "../adapters/registry.js";
import { accountsUsing } from "../domain/account-keys.js";
import type { Credentials } from "../domain/credentials.js";
import type { KeyRecord, ManualSteps, ProbeResult } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { forgetRevoked } from "../inventory/inventory.js";
import type { RevokePlan } from "../revoke/plan.js";
import {
  type RevokeEvent,
  type RevokeKeyResult,
  type RevokeReport,
  type RevokeSummary,
  runRevoke,
  summarise,
  unfinishedResult,
} from "../revoke/run.js";
import type { AdapterSource } from "./check-accounts.js";
import { REVOKE_UNAUDITABLE_HINT, requireAuditable } from "./require-auditable.js";

export type RevokeSessionStatus = "running" | "waiting" | "finished" | "error";

/** A key's result as the session knows it; `pending`: no event about the key yet (its outcome is not known). */
export type RevokeSessionResult = RevokeKeyResult & { pending: boolean };

export type VerifyNowResult =
  | { outcome: "probed"; status: ProbeResult["status"]; evidence: string; recorded: boolean }
  /** The key is not part of this revoke. */
  | { outcome: "unknown-key" }
  /** The key does not wait for a person (any more). */
  | { outcome: "not-pending"; result: RevokeKeyResult }
  /** Keyward holds no secret for the key, so no probe can prove it revoked. */
  | { outcome: "not-provable"; result: RevokeKeyResult };

/**
 * runRevoke's events (their results are copies the session keeps), and the session's own: a person
 * stopped the wait, a "verify now" probe, the end (`finished` with the report, or `error`: the revoke
 * could not start, e.g. the audit log refused its first entry).
 */
export type RevokeSessionEvent =
  | RevokeEvent
  | { type: "stopping" }
  | ({ type: "verify-now"; keyId: string } & Extract<VerifyNowResult, { outcome: "probed" }>)
  | { type: "finished"; report: RevokeReport }
  | { type: "error"; error: unknown };

export interface StartRevokeInput {
  /** The adapters of the plan's accounts; the default is `home.adapterFor(account)`. */
  adapterFor?: AdapterSource;
  /** Whether to probe the manual keys until they are dead, how long, how often. */
  manual: { wait: boolean; timeoutMs: number; pollMs: number };
  /** Called with every event, after the session's state reflects it. */
  onEvent?(event: RevokeSessionEvent): void;
  /**
   * How a person answers an exchange's second-factor challenge (the CLI's hidden prompt, the web's code
   * field) when the account has no seed in the vault. Without it such a call fails with
   * SECOND_FACTOR_REQUIRED. Every answered challenge is audited (home.adapterFor).
   */
  secondFactor?: SecondFactorPrompt;
  /**
   * What led to this revoke, recorded in its `revoke.requested` entry (e.g. `{ scan: 12 }`: the seq of the
   * `scan.done` entry whose findings `keyward scan --revoke` hands over), so the log ties the two together.
   */
  cause?: { scan: number };
}

/**
 * Starts the plan and returns its session at once (nothing has touched an exchange yet). Throws
 * AUDIT_UNAVAILABLE, before the session starts, when the audit log cannot be written: nothing is started.
 */
export async function startRevoke(
  home: KeywardHome,
  plan: RevokePlan,
  input: StartRevokeInput,
): Promise<RevokeSession> {
  await requireAuditable(home, REVOKE_UNAUDITABLE_HINT);
  // The plan and the adapters must agree with the vault on each account's own key: a plan made, or an
  // adapter built, before a rotation switched that key would not know the old key for the account's own
  // (it would neither hold it back nor put it last, and revoking it early cuts off every other key of the
  // account), and an adapter still holding the old key fails once that key deletes itself.
  // "Own" is any Keyward account's key (revoke/plan.ts), as the plan counts it.
  const current = await home.accountKeyUses();
  for (const item of plan.items) {
    const own = accountsUsing(item.key, current).length > 0;
    if (own !== (item.accountKey === true)) throw accountKeyChanged(item.key.account, "the plan was made");
  }
  const source = input.adapterFor ?? defaultSource(home, input);
  const adapters = new Map<string, ExchangeAdapter>();
  for (const account of plan.accounts) {
    const adapter = await source(account);
    const built = home.adapterKey(adapter);
    if (built !== undefined && built !== current.get(account)?.apiKey) {
      throw accountKeyChanged(account, "its adapter was built");
    }
    adapters.set(account, adapter);
  }
  return new RevokeSession(home, plan, input, adapters);
}

/** The adapters revoke uses when the shell gives none: the home's, with the shell's second-factor prompt. */
const defaultSource =
  (home: KeywardHome, input: Pick<StartRevokeInput, "secondFactor">): AdapterSource =>
  (name: string) =>
    home.adapterFor(name, input.secondFactor ? { secondFactor: input.secondFactor } : {});

const accountKeyChanged = (account: string, since: string): KeywardError =>
  new KeywardError(
    "ACCOUNT_KEY_CHANGED",
    `the key Keyward uses for ${account} changed (a rotation switched it) since ${since}: nothing was revoked`,
    {
      hint: "Review the revoke plan again: the new plan knows the account's current key (held back or revoked last).",
    },
  );

export class RevokeSession {
  status: RevokeSessionStatus = "running";
  readonly startedAt = new Date().toISOString();
  finishedAt: string | null = null;
  /** When the wait for people ends (ms since the epoch), once it has begun. */
  manualDeadline: number | null = null;
  /** Why the revoke could not run (status "error"). */
  error: unknown = undefined;
  /** Settles (never rejects) when the session ends. */
  readonly settled: Promise<void>;
  readonly #results = new Map<string, RevokeKeyResult>();
  readonly #pending = new Set<string>();
  readonly #checklist = new Map<string, ManualSteps>();
  readonly #keys: Map<string, KeyRecord>;
  readonly #abort = new AbortController();
  readonly #adapters = new Map<string, ExchangeAdapter>();
  #report: RevokeReport | undefined;

  /** Use `startRevoke`, which refuses first when the audit log cannot be written. */
  constructor(
    private readonly home: KeywardHome,
    readonly plan: RevokePlan,
    private readonly input: StartRevokeInput,
    /** The plan's adapters, already checked against the vault (startRevoke); others are built on use. */
    adapters: ReadonlyMap<string, ExchangeAdapter> = new Map(),
  ) {
    for (const [account, adapter] of adapters) this.#adapters.set(account, adapter);
    this.#keys = new Map(plan.items.map((i) => [i.key.id, i.key]));
    for (const item of plan.items) {
      this.#pending.add(item.key.id);
      this.#results.set(item.key.id, unfinishedResult(item));
    }
    this.settled = this.#run();
  }

  /** Running, or waiting for a person. */
  get active(): boolean {
    return this.status === "running" || this.status === "waiting";
  }

  /** Every key in plan order, as far as known. */
  results(): RevokeSessionResult[] {
    return this.plan.items.flatMap(({ key }) => {
      const r = this.#results.get(key.id);
      return r ? [{ ...r, pending: this.#pending.has(key.id) }] : [];
    });
  }

  /** The manual steps given so far, in the order they were given. */
  checklist(): { keyId: string; steps: ManualSteps }[] {
    return [...this.#checklist].map(([keyId, steps]) => ({ keyId, steps }));
  }

  /** Counts over the keys whose outcome is known (while running, `total` is less than the plan's). */
  summary(): RevokeSummary {
    return summarise([...this.#results.values()].filter((r) => !this.#pending.has(r.id)));
  }

  /** The report once the session ends; rejects with the error when the revoke could not run. */
  async finished(): Promise<RevokeReport> {
    await this.settled;
    if (this.#report) return this.#report;
    throw this.error;
  }

  /**
   * Stops waiting for manual steps (and revokes no API key not yet started); what is done stays done.
   * Returns whether there was anything to stop.
   */
  stopWaiting(): boolean {
    if (!this.active) return false;
    this.#abort.abort();
    this.#emit({ type: "stopping" });
    return true;
  }

  /**
   * "Verify now": a person says a manual step is done; probe the key with its own secret. While the
   * session still waits, runRevoke's poll records the death (within its poll interval) and this only
   * reports what the probe says; once it has stopped waiting, a "dead" answer is recorded here, as
   * runRevoke would (audit `manual.confirmed` and `revoke.verified`).
   */
  async verifyNow(keyId: string): Promise<VerifyNowResult> {
    const key = this.#keys.get(keyId);
    const result = this.#results.get(keyId);
    if (!key || !result) return { outcome: "unknown-key" };
    if (result.outcome !== "awaiting-manual")
      return { outcome: "not-pending", result: structuredClone(result) };
    const credentials = await this.home.credentialsForKey(key);
    if (!credentials) return { outcome: "not-provable", result: structuredClone(result) };
    const adapter = await this.#adapterFor(key.account);
    const probe = await adapter.probe(credentials, accountProbeOptions(key));
    const evidence = probe.status === "inconclusive" ? `${probe.reason}: ${probe.evidence}` : probe.evidence;
    let recorded = false;
    if (probe.status === "dead" && !this.active && result.outcome === "awaiting-manual") {
      const audit = this.home.audit();
      result.outcome = "revoked";
      result.verified = true;
      result.evidence.push(`after the manual step (verify now): probe: dead (${probe.evidence})`);
      await audit.append("manual.confirmed", key.id, { evidence: probe.evidence });
      await audit.append("revoke.verified", key.id, { evidence: result.evidence });
      recorded = true;
      this.#emit({ type: "manual-done", result: structuredClone(result) });
    }
    const answer = { outcome: "probed" as const, status: probe.status, evidence, recorded };
    this.#emit({ type: "verify-now", keyId, ...answer });
    return answer;
  }

  #emit(event: RevokeSessionEvent): void {
    this.input.onEvent?.(event);
  }

  async #adapterFor(account: string): Promise<ExchangeAdapter> {
    let adapter = this.#adapters.get(account);
    if (!adapter) {
      adapter = await (this.input.adapterFor ?? defaultSource(this.home, this.input))(account);
      this.#adapters.set(account, adapter);
    }
    return adapter;
  }

  /** Keeps a copy of one of runRevoke's events (runRevoke keeps mutating its result objects). */
  #record(event: RevokeEvent): void {
    switch (event.type) {
      case "started":
        break;
      case "manual-waiting":
        this.status = "waiting";
        this.manualDeadline = event.deadline;
        break;
      case "manual-steps": {
        const result = structuredClone(event.result);
        this.#keep(result);
        this.#checklist.set(result.id, event.steps);
        this.#emit({ ...event, result });
        return;
      }
      default: {
        const result = structuredClone(event.result);
        this.#keep(result);
        this.#emit({ ...event, result });
        return;
      }
    }
    this.#emit(event);
  }

  #keep(result: RevokeKeyResult): void {
    this.#results.set(result.id, result);
    this.#pending.delete(result.id);
  }

  async #run(): Promise<void> {
    const { home, plan } = this;
    // Nothing is emitted before startRevoke has returned the session to its caller.
    await null;
    try {
      // Each key's own credentials, where Keyward holds them: probes prove the deaths.
      const credentials = new Map<string, Credentials>();
      for (const { key } of plan.items) {
        const c = await home.credentialsForKey(key);
        if (c) credentials.set(key.id, c);
      }
      for (const account of plan.accounts) await this.#adapterFor(account);
      const report = await runRevoke(plan, {
        adapterFor: (name) => {
          const adapter = this.#adapters.get(name);
          if (!adapter) throw new KeywardError("ACCOUNT_NOT_FOUND", `no adapter for account ${name}`);
          return adapter;
        },
        credentialsFor: (key) => credentials.get(key.id),
        audit: home.audit(),
        manual: this.input.manual,
        ...(this.input.cause ? { cause: this.input.cause } : {}),
        signal: this.#abort.signal,
        onEvent: (e) => this.#record(e),
      });
      for (const r of report.results) this.#keep(structuredClone(r));
      // Keys proven dead must not come back from the last listing if their account dies next.
      await forgetRevoked(home.inventoryCache(), report.results);
      this.#report = report;
      this.status = "finished";
      this.finishedAt = report.finishedAt;
      this.#emit({ type: "finished", report });
    } catch (error) {
      // Thrown only when the revoke cannot start (e.g. the audit log refused the "requested" entry).
      this.error = error;
      this.status = "error";
      this.finishedAt = new Date().toISOString();
      this.#emit({ type: "error", error });
    }
  }
}
