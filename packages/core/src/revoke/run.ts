/**
 * Bulk revoke: every selected key dies, in parallel across accounts at the exchanges' rate limits, and
 * each death is proven (gone from the exchange's list where one exists; a probe with the key's own
 * secret answers dead where Keyward holds it). Keys only a person can revoke get exact steps, then
 * Keyward probes until they are dead or a deadline passes. An inconclusive probe is never success.
 *
 * Fail closed: the "requested" audit entry is written before any exchange is touched; if the audit
 * log cannot be written, nothing happens.
 *
 * Disable first (plan items with `disableFirst`): every such key of an account is switched off by the
 * exchange's kill switch before any key of that account is removed, then they are removed as usual. A
 * key switched off whose removal then fails is reported "disabled": not revoked (enabling it brings it
 * back) and not lost (still listed as disabled, so the next run plans and removes it). A disabled key is
 * never counted as revoked nor proven dead: only its removal, seen in the listing and its probe, is.
 * The switching itself lives in kill-switch.ts; the report's types and result helpers in report.ts.
 */
import { inBackground } from "../adapters/background-work.js";
import type { ExchangeAdapter } from "../adapters/interface.js";
import { accountProbeOptions } from "../adapters/registry.js";
import type { Credentials } from "../domain/credentials.js";
import type { KeyRecord, ManualSteps, ProbeResult } from "../domain/schemas.js";
import { killSwitchPass } from "./kill-switch.js";
import type { RevokePlan, RevokePlanItem } from "./plan.js";
import {
  describeProbe,
  errorOf,
  NO_PROBE,
  type RevokeEvent,
  type RevokeKeyResult,
  type RevokeReport,
  summarise,
  unfinishedResult,
} from "./report.js";

// The report's types and helpers, still importable from here.
export {
  NO_PROBE,
  type RevokeEvent,
  type RevokeKeyResult,
  type RevokeOutcome,
  type RevokeReport,
  type RevokeSummary,
  summarise,
  unfinishedResult,
} from "./report.js";

export interface AuditWriter {
  append(action: string, subject: string, details?: Record<string, unknown>): Promise<void>;
}

export interface RevokeDeps {
  adapterFor(account: string): ExchangeAdapter;
  /** The key's own credentials, when Keyward holds them (for probing). */
  credentialsFor(key: KeyRecord): Credentials | undefined;
  audit: AuditWriter;
  onEvent?(event: RevokeEvent): void;
  manual: { wait: boolean; timeoutMs: number; pollMs: number };
  /** What led to the revoke (StartRevokeInput.cause), recorded in `revoke.requested`. */
  cause?: { scan: number };
  signal?: AbortSignal;
  now?(): number;
}

export async function runRevoke(plan: RevokePlan, deps: RevokeDeps): Promise<RevokeReport> {
  const now = deps.now ?? Date.now;
  const startedAt = new Date(now()).toISOString();
  const emit = (e: RevokeEvent) => deps.onEvent?.(e);
  // The fail-closed point: if this throws, no exchange has been touched.
  const disableFirst = plan.items.filter((i) => i.disableFirst).map((i) => i.key.id);
  await deps.audit.append("revoke.requested", "revoke", {
    keys: plan.items.map((i) => i.key.id),
    // So the audit views can name a key by its label after it is gone from every listing.
    labels: Object.fromEntries(plan.items.filter((i) => i.key.label).map((i) => [i.key.id, i.key.label])),
    byApi: plan.byApi,
    byPerson: plan.byPerson,
    ...(disableFirst.length > 0 ? { disableFirst } : {}),
    ...(deps.cause ? { cause: deps.cause } : {}),
  });
  emit({ type: "started", total: plan.items.length, byApi: plan.byApi, byPerson: plan.byPerson });

  const results = new Map<string, RevokeKeyResult>();
  for (const item of plan.items) results.set(item.key.id, unfinishedResult(item));
  const resultOf = (key: KeyRecord) => results.get(key.id) as RevokeKeyResult;
  /** Manual keys whose death a probe can prove, with whether they were seen alive from here. */
  const pendingManual: {
    item: RevokePlanItem;
    credentials: Credentials;
    aliveFromHere: boolean;
    /** What the latest probe said, for the report when the deadline passes. */
    last?: ProbeResult;
  }[] = [];

  // The checklist follows the plan's order (most dangerous first), whichever account is ready first:
  // each manual key's steps are released in turn, once every manual key before it is settled.
  const checklist = plan.items.filter((i) => i.method === "manual").map((i) => i.key.id);
  const settled = new Map<string, (() => void) | null>();
  let nextStep = 0;
  const release = (id: string, emitSteps?: () => void): void => {
    if (!checklist.includes(id)) {
      emitSteps?.();
      return;
    }
    settled.set(id, emitSteps ?? null);
    while (nextStep < checklist.length && settled.has(checklist[nextStep] as string)) {
      settled.get(checklist[nextStep] as string)?.();
      nextStep++;
    }
  };

  const byAccount = new Map<string, RevokePlanItem[]>();
  for (const item of plan.items)
    byAccount.set(item.key.account, [...(byAccount.get(item.key.account) ?? []), item]);

  await Promise.all(
    [...byAccount].map(async ([account, items]) => {
      let adapter: ExchangeAdapter;
      try {
        adapter = deps.adapterFor(account);
      } catch (error) {
        for (const { key } of items) await failKey(key, error);
        return;
      }
      // The account's own key goes last: revoking it ends Keyward's access to the account, so every
      // other key is revoked (and, by API, verified by listing) first. Manual steps are prepared
      // meanwhile, so a person can start on them while the API part runs. Whatever those keys' outcomes
      // (revoked, failed, unverified, waiting for a person: nothing here waits for the person), an own
      // key revoked by API is then the last request made with the account's key; after it come only
      // probes with keys' OWN secrets (its proof of death, and the manual keys' wait), which need no
      // access to the account (test/bybit-ownkey.test.ts holds this).
      //
      // Keys with a kill switch are all switched off before any key of the account is removed: a switch
      // takes effect at once and needs no second factor, whereas each removal may wait for one. The
      // account's own key is never among them (plan.ts): switched off, it could remove nothing.
      const rest = items.filter((i) => !i.accountKey);
      const api = rest.filter((i) => i.method === "api");
      await Promise.all([
        (async () => {
          const gone = await killSwitchPass(adapter, api, {
            audit: deps.audit,
            signal: deps.signal,
            emit,
            resultOf,
          });
          await Promise.all(api.filter((i) => !gone.has(i.key.id)).map((item) => revokeByApi(adapter, item)));
          await verifyApiRevokes(adapter, api);
        })(),
        ...rest.filter((i) => i.method === "manual").map((item) => prepareManual(adapter, item)),
      ]);
      for (const item of items.filter((i) => i.accountKey)) {
        if (item.method === "manual") await prepareManual(adapter, item);
        else {
          await revokeByApi(adapter, item);
          // Listing needs the key just revoked: its own probe is the only proof left. Unless the key is
          // another Keyward account's (plan.ts): the listing account's key still lists.
          const listable = item.accountKeyOf !== undefined && !item.accountKeyOf.includes(item.key.account);
          await verifyApiRevokes(adapter, [item], listable);
        }
      }
    }),
  );
  for (const id of checklist) if (!settled.has(id)) release(id);

  if (pendingManual.length > 0 && deps.manual.wait) await waitForPeople();

  const ordered = plan.items.map((i) => resultOf(i.key));
  const report: RevokeReport = {
    results: ordered,
    summary: summarise(ordered),
    startedAt,
    finishedAt: new Date(now()).toISOString(),
  };
  await deps.audit.append("revoke.finished", "revoke", { ...report.summary });
  return report;

  async function failKey(key: KeyRecord, error: unknown): Promise<void> {
    const result = resultOf(key);
    // Switched off (by this run, or already when listed) but not removed: it says so (not "failed": it
    // fails authentication now; not revoked: enabling it brings it back). The exchange still lists it, as
    // disabled, for the next run to remove.
    const off = result.disabledFirst === true || key.state === "disabled";
    result.outcome = off ? "disabled" : "failed";
    result.error = errorOf(error);
    await deps.audit.append("revoke.failed", key.id, {
      code: result.error.code,
      message: result.error.message,
      ...(off ? { disabled: true } : {}),
    });
    emit({ type: "failed", result });
    release(key.id);
  }

  async function revokeByApi(adapter: ExchangeAdapter, { key }: RevokePlanItem): Promise<void> {
    if (deps.signal?.aborted) return failKey(key, new Error("cancelled before this key was revoked"));
    const result = resultOf(key);
    try {
      const r = await adapter.revokeKey(key);
      if (r.outcome === "manual") {
        // The adapter knows better than the record (e.g. a master key): treat it as a manual key.
        result.method = "manual";
        await prepareManual(adapter, { key, method: "manual" }, r.steps);
        return;
      }
      result.outcome = r.outcome;
      result.evidence.push(r.evidence);
      await deps.audit.append("revoke.done", key.id, { outcome: r.outcome, evidence: r.evidence });
      emit({ type: "revoked", result });
    } catch (error) {
      await failKey(key, error);
    }
  }

  async function verifyApiRevokes(
    adapter: ExchangeAdapter,
    items: RevokePlanItem[],
    listable = true,
  ): Promise<void> {
    const done = items.filter((i) => ["revoked", "already-revoked"].includes(resultOf(i.key).outcome));
    if (done.length === 0) return;
    let listed: KeyRecord[] | undefined;
    try {
      if (listable) listed = await adapter.listKeys();
    } catch (error) {
      for (const { key } of done)
        resultOf(key).evidence.push(`list: could not list to confirm (${errorOf(error).message})`);
    }
    await Promise.all(
      done.map(async ({ key }) => {
        const result = resultOf(key);
        let proven = listed !== undefined;
        if (listed) {
          // A key listed as disabled is still there: enabling it would bring it back.
          const still = listed.find((k) => k.apiKey === key.apiKey && k.state !== "dead");
          result.evidence.push(
            still
              ? `list: STILL LISTED by the exchange${still.state === "disabled" ? " (disabled, not removed)" : ""}`
              : "list: no longer listed by the exchange",
          );
          proven = !still;
        }
        const credentials = deps.credentialsFor(key);
        if (credentials) {
          const probe = await adapter.probe(credentials, {
            knownAliveFromHere: true,
            ...accountProbeOptions(key),
          });
          result.evidence.push(describeProbe(probe));
          proven = (proven || !listable) && probe.status === "dead";
        } else {
          // Said plainly: an exchange that drops a key from its list while it still works fools this.
          result.evidence.push(NO_PROBE);
        }
        result.verified = proven;
        await deps.audit.append(proven ? "revoke.verified" : "revoke.unverified", key.id, {
          evidence: result.evidence,
        });
        emit({ type: "verified", result });
      }),
    );
  }

  async function prepareManual(
    adapter: ExchangeAdapter,
    item: RevokePlanItem,
    given?: ManualSteps,
  ): Promise<void> {
    const { key } = item;
    const result = resultOf(key);
    const credentials = deps.credentialsFor(key);
    let aliveFromHere = false;
    if (credentials) {
      // A baseline probe: "dead" later only counts as proof if the key answered from here before.
      // The key's meta says what an earlier run knew (e.g. that it authenticated from here when tracked).
      const baseline = await adapter.probe(credentials, { meta: key.meta });
      result.evidence.push(`before: ${describeProbe(baseline)}`);
      if (baseline.status === "dead") {
        result.outcome = "already-revoked";
        result.verified = true;
        await deps.audit.append("revoke.verified", key.id, { evidence: result.evidence });
        emit({ type: "verified", result });
        release(key.id);
        return;
      }
      aliveFromHere = baseline.status === "alive";
    }
    let steps: ManualSteps;
    try {
      steps = given ?? adapter.manualSteps(key, "revoke");
    } catch (error) {
      return failKey(key, error);
    }
    result.steps = steps;
    result.outcome = "awaiting-manual";
    if (key.stale) {
      result.evidence.push(
        `not listed by the exchange now: known from the inventory of ${key.stale.fetchedAt}, so only a person can revoke it`,
      );
    }
    if (!credentials)
      result.evidence.push("Keyward holds no secret for this key, so it cannot prove the revocation");
    await deps.audit.append("revoke.manual-steps", key.id, { url: steps.url });
    release(key.id, () => emit({ type: "manual-steps", result, steps }));
    if (credentials) pendingManual.push({ item, credentials, aliveFromHere });
  }

  async function waitForPeople(): Promise<void> {
    const deadline = now() + deps.manual.timeoutMs;
    let pending = [...pendingManual];
    emit({ type: "manual-waiting", pending: pending.length, deadline });
    while (pending.length > 0 && now() < deadline && !deps.signal?.aborted) {
      const roundStarted = now();
      const still: typeof pending = [];
      await Promise.all(
        pending.map(async (p) => {
          const { key } = p.item;
          const adapter = deps.adapterFor(key.account);
          // Background work: a wait for people may last many minutes, and must not spend the budget the
          // account's other work shares (adapters/background-work.ts).
          const probe = await inBackground(() =>
            adapter.probe(p.credentials, {
              knownAliveFromHere: p.aliveFromHere,
              ...accountProbeOptions(key),
            }),
          );
          if (probe.status === "dead") {
            const result = resultOf(key);
            result.outcome = "revoked";
            result.verified = true;
            result.evidence.push(`after the manual step: ${describeProbe(probe)}`);
            await deps.audit.append("manual.confirmed", key.id, { evidence: probe.evidence });
            await deps.audit.append("revoke.verified", key.id, { evidence: result.evidence });
            emit({ type: "manual-done", result });
          } else {
            still.push({ ...p, last: probe });
          }
        }),
      );
      pending = still;
      // Rest at least as long as the round took: a round slowed by the exchange's rate limit then uses at
      // most half of it, leaving the rest to the operator's other commands and bots on the same IP.
      const rest = Math.max(deps.manual.pollMs, now() - roundStarted);
      if (pending.length > 0) await sleep(Math.min(rest, Math.max(0, deadline - now())), deps.signal);
    }
    for (const p of pending) {
      resultOf(p.item.key).evidence.push(
        `deadline passed: the key still answers or cannot be proven dead${p.last ? ` (last ${describeProbe(p.last)})` : ""}`,
      );
    }
  }
}

/**
 * Rests between poll rounds, cut short by the run's signal. The abort listener is removed when the rest
 * ends: one left behind per round piled up on the one signal of a long wait for a person (Node warned of
 * a leak after 11 rounds).
 */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
