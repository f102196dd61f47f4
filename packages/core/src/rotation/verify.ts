/**
 * Verification, the revoke engine's way: a key is what it must be when a probe with its own secret says
 * so (permissions compared as the exchange's profile says, IPs where it reports them), and
 * an old key is dead when the exchange no longer lists it (where it lists keys) and a probe with its
 * secret (where Keyward holds it) answers dead. An inconclusive probe is retried until a deadline and is
 * never taken for success.
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import { accountProbeOptions, exchangeProfile } from "../adapters/registry.js";
import type { Credentials } from "../domain/credentials.js";
import type { KeyRecord, ProbeResult } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { describeProbe } from "../revoke/report.js";
import { NO_PROBE } from "../revoke/run.js";
import type { SlotContext } from "./context.js";
import type { PlanSlot } from "./schemas.js";
import { VERIFIED_BY_LISTING } from "./steps.js";

type Alive = Extract<ProbeResult, { status: "alive" }>;

// One wording of a probe's answer for revoke and rotation evidence (revoke/report.ts).
export { describeProbe };

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

/**
 * Why an alive key is not the one the plan asks for, or undefined when it is. First where it sits: a key
 * with the right grants in another account or sub-account (a person signed in to the wrong one) would be
 * delivered to the bots, become Keyward's key for this account, and see the old key revoked. The profile's
 * `accountMeta` names what locates a key; the probe reports it (the conformance suite checks that).
 */
export function specMismatch(
  plan: PlanSlot,
  probe: Alive & { meta?: Record<string, string> },
): string | undefined {
  const spec = plan.new;
  const { comparePermissions, accountMeta } = exchangeProfile(plan.old.exchange);
  for (const name of accountMeta) {
    const want = plan.old.meta[name];
    if (!want) continue;
    // Every adapter's live probe reports it (the conformance suite checks); a key found in the old key's
    // own sub-account listing (an IP-bound key this machine cannot probe) is there by construction.
    const got = probe.meta?.[name];
    if (got !== undefined && got !== want) {
      return `it belongs to another account (${name} ${got}; the key it replaces is in ${name} ${want}): create it where the old key is`;
    }
  }
  // A key create asks for permissions, not an exact raw form (it copies no old key's): those are compared.
  const exact = !(
    spec.rawPermissions === "" ||
    (Array.isArray(spec.rawPermissions) && !spec.rawPermissions.length)
  );
  if (comparePermissions && exact) {
    const diff = comparePermissions(spec.rawPermissions, probe.rawPermissions);
    if (diff) return `its permissions differ: ${diff}`;
  } else if (!sameSet(spec.permissions, probe.permissions)) {
    return `its permissions are ${probe.permissions.join(",") || "none"}, must be ${spec.permissions.join(",")}`;
  }
  if (spec.ip !== null && probe.ip !== null && !sameSet(spec.ip, probe.ip)) {
    return `its IP whitelist is ${probe.ip.join(",") || "empty (no binding)"}, must be ${spec.ip.join(",") || "empty (no binding)"}`;
  }
  return undefined;
}

/**
 * The label the slot's new key carries on the exchange (the profile's `storedLabel`, e.g. Deribit's
 * 16-character names): how a crash's orphan is recognised in a listing.
 */
export const listedNewLabel = (ctx: SlotContext, label: string): string =>
  exchangeProfile(ctx.plan.old.exchange).storedLabel?.(label) ?? label;

/** The keys of the slot's sub-account (one query where the adapter can); null: the account's own keys. */
export async function subAccountKeys(
  adapter: ExchangeAdapter,
  subAccount: string | null,
): Promise<KeyRecord[]> {
  if (subAccount !== null && adapter.listSubAccountKeys) return adapter.listSubAccountKeys(subAccount);
  return (await adapter.listKeys()).filter((k) => k.subAccount === subAccount);
}

/**
 * For the new key, the meta that locates it (the profile's `accountMeta` of the key it replaces, e.g. the
 * account whose rate bucket it counts against); for the old key all its remembered facts (opaque adapter
 * meta, e.g. a nonce scheme) and whether it answered from here before.
 */
export const probeOptions = (plan: PlanSlot, old?: { knownAliveFromHere: boolean }) =>
  old ? { meta: plan.old.meta, knownAliveFromHere: old.knownAliveFromHere } : accountProbeOptions(plan.old);

/** Whether the exchange lists keys where the slot's key sits by API, so its listing can vouch for a new key. */
const listedByApi = (plan: PlanSlot): boolean =>
  exchangeProfile(plan.old.exchange).keys[plan.old.location]?.list === "api";

/**
 * Probes the new key until it answers: alive and as specified → evidence; alive but different, or dead →
 * VERIFICATION_FAILED. For a key bound to IPs that exclude this machine the probe answers
 * ip-not-whitelisted only after the key and its signature checked out (the adapter says so only then); where
 * the exchange lists keys of that kind by API (the profile's `keys[location].list`: a sub-account's keys, or
 * an account's own where its API manages them), the listing then has to show the specified permissions and IPs.
 */
export async function verifyNewKey(ctx: SlotContext, credentials: Credentials): Promise<string> {
  const deadline = ctx.now() + ctx.timing.verifyDeadlineMs;
  let last = "no probe yet";
  for (;;) {
    const adapter = await ctx.adapter();
    const probe = await adapter.probe(credentials, probeOptions(ctx.plan));
    last = describeProbe(probe);
    if (probe.status === "alive") {
      const wrong = specMismatch(ctx.plan, probe);
      if (wrong) throw notAsSpecified(ctx, `the new key ${credentials.apiKey} is not as specified: ${wrong}`);
      return `new key verified: ${last}`;
    }
    if (probe.status === "dead") throw notAsSpecified(ctx, `the new key does not authenticate (${last})`);
    if (probe.reason === "ip-not-whitelisted" && listedByApi(ctx.plan)) {
      const listed = (await subAccountKeys(adapter, ctx.plan.old.subAccount)).find(
        (k) => k.apiKey === credentials.apiKey,
      );
      if (listed) {
        const wrong = specMismatch(ctx.plan, {
          status: "alive",
          permissions: listed.permissions,
          rawPermissions: listed.rawPermissions,
          ip: listed.ip,
          evidence: "",
          meta: listed.meta,
        });
        if (wrong)
          throw notAsSpecified(ctx, `the new key ${credentials.apiKey} is not as specified: ${wrong}`);
        return `new key ${VERIFIED_BY_LISTING}: ${last}; ${exchangeProfile(ctx.plan.old.exchange).name} lists it with permissions ${listed.permissions.join(",")} and IPs ${listed.ip.join(",")}`;
      }
    }
    if (ctx.now() >= deadline) {
      throw new KeywardError("VERIFICATION_FAILED", `the new key could not be verified in time: ${last}`, {
        hint: ctx.plan.reset
          ? "The exchange kept answering inconclusively. The old secret is already dead (reset in place): run `keyward rotate resume` soon to verify and deliver the new one."
          : "The exchange kept answering inconclusively; run `keyward rotate resume` to try again. The old key was not touched.",
      });
    }
    await ctx.sleep(ctx.timing.pollMs);
  }
}

const notAsSpecified = (ctx: SlotContext, message: string) =>
  new KeywardError("VERIFICATION_FAILED", message, {
    hint:
      ctx.plan.method === "api"
        ? "The old key was not touched. Abort the rotation (`keyward rotate abort`) and report this answer."
        : "The old key was not touched. Revoke the key you made, then create it again exactly as asked and run `keyward rotate resume`.",
  });

/**
 * Whether the old key is proven dead now: not listed (sub-account keys) and, where Keyward holds its
 * secret, a probe answers dead. Returns the evidence, or undefined while it is not (yet) proven.
 */
export async function oldKeyDead(
  ctx: SlotContext,
  oldCredentials: Credentials | undefined,
  knownAliveFromHere: boolean,
): Promise<{ dead: boolean; evidence: string[] }> {
  const adapter = await ctx.adapter();
  const evidence: string[] = [];
  let dead = true;
  const sub = ctx.plan.old.subAccount;
  const profile = exchangeProfile(ctx.plan.old.exchange);
  // An account-level key the exchange lists by API (e.g. every Deribit key of the account): where Keyward
  // never held its secret, the listing is the proof there is.
  const listedInAccount = sub === null && profile.keys[ctx.plan.old.location]?.list === "api";
  if ((sub !== null && profile.list === "api") || (listedInAccount && !oldCredentials)) {
    const still = (await subAccountKeys(adapter, sub)).some((k) => k.apiKey === ctx.plan.old.apiKey);
    evidence.push(still ? "list: STILL LISTED by the exchange" : "list: no longer listed by the exchange");
    dead = !still;
  }
  if (oldCredentials) {
    const probe = await adapter.probe(oldCredentials, probeOptions(ctx.plan, { knownAliveFromHere }));
    evidence.push(describeProbe(probe));
    dead = dead && probe.status === "dead";
  } else if (sub === null && !listedInAccount) {
    evidence.push("Keyward holds no secret for the old key: it cannot be probed");
    dead = false;
  } else {
    evidence.push(NO_PROBE);
  }
  return { dead, evidence };
}
