/**
 * Verification, the revoke engine's way: a key is what it must be when a probe with its own secret says
 * so (OKX account/config reports permissions and IPs; Bitfinex auth/r/permissions the scope matrix), and
 * an old key is dead when the exchange no longer lists it (where it lists keys) and a probe with its
 * secret (where Keyward holds it) answers dead. An inconclusive probe is retried until a deadline and is
 * never taken for success.
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import type { Credentials } from "../domain/credentials.js";
import type { KeyRecord, ProbeResult, RawPermissions } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { NO_PROBE } from "../revoke/run.js";
import type { SlotContext } from "./context.js";
import type { PlanSlot } from "./schemas.js";

type Alive = Extract<ProbeResult, { status: "alive" }>;

export const describeProbe = (p: ProbeResult): string =>
  p.status === "alive"
    ? `probe: alive (${p.evidence})`
    : p.status === "dead"
      ? `probe: dead (${p.evidence})`
      : `probe: inconclusive, ${p.reason} (${p.evidence})`;

const sameSet = (a: readonly string[], b: readonly string[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

/** Bitfinex triples as scope → "read/write" with absent scopes as no access, for exact comparison. */
function scopeMatrix(raw: RawPermissions): Map<string, string> {
  const out = new Map<string, string>();
  if (Array.isArray(raw)) for (const [scope, r, w] of raw) if (r || w) out.set(scope, `${r}${w}`);
  return out;
}

/** Why an alive key is not the one the plan asks for, or undefined when it is. */
export function specMismatch(plan: PlanSlot, probe: Alive): string | undefined {
  const spec = plan.new;
  if (Array.isArray(spec.rawPermissions)) {
    const want = scopeMatrix(spec.rawPermissions);
    const got = scopeMatrix(probe.rawPermissions);
    const scopes = [...new Set([...want.keys(), ...got.keys()])].sort();
    const diff = scopes.filter((s) => want.get(s) !== got.get(s));
    if (diff.length > 0) {
      const show = (m: Map<string, string>, s: string) => {
        const v = m.get(s) ?? "00";
        return v === "11" ? "read+write" : v === "10" ? "read" : v === "01" ? "write" : "none";
      };
      return `its permissions differ: ${diff.map((s) => `${s} is ${show(got, s)}, must be ${show(want, s)}`).join("; ")}`;
    }
  } else if (!sameSet(spec.permissions, probe.permissions)) {
    return `its permissions are ${probe.permissions.join(",") || "none"}, must be ${spec.permissions.join(",")}`;
  }
  if (spec.ip !== null && probe.ip !== null && !sameSet(spec.ip, probe.ip)) {
    return `its IP whitelist is ${probe.ip.join(",") || "empty (no binding)"}, must be ${spec.ip.join(",") || "empty (no binding)"}`;
  }
  return undefined;
}

/** The keys of the slot's sub-account (one query where the adapter can). */
export async function subAccountKeys(adapter: ExchangeAdapter, subAccount: string): Promise<KeyRecord[]> {
  if (adapter.listSubAccountKeys) return adapter.listSubAccountKeys(subAccount);
  return (await adapter.listKeys()).filter((k) => k.subAccount === subAccount);
}

/** The sub-account UID (OKX rate buckets); for the old key also its remembered facts (Bitfinex nonces). */
export const probeOptions = (plan: PlanSlot, old?: { knownAliveFromHere: boolean }) => ({
  ...(plan.old.meta.uid ? { uid: plan.old.meta.uid } : {}),
  ...(old ? { knownAliveFromHere: old.knownAliveFromHere, meta: plan.old.meta } : {}),
});

/**
 * Probes the new key until it answers: alive and as specified → evidence; alive but different, or dead →
 * VERIFICATION_FAILED. For an OKX key bound to IPs that exclude this machine, OKX answers 50110 after
 * checking key, passphrase and signature (the simulator's documented order); the master's listing of the
 * key then has to show the specified permissions and IPs.
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
    if (probe.reason === "ip-not-whitelisted" && ctx.plan.old.subAccount !== null) {
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
        });
        if (wrong)
          throw notAsSpecified(ctx, `the new key ${credentials.apiKey} is not as specified: ${wrong}`);
        return `new key verified: ${last}; OKX lists it with permissions ${listed.permissions.join(",")} and IPs ${listed.ip.join(",")}`;
      }
    }
    if (ctx.now() >= deadline) {
      throw new KeywardError("VERIFICATION_FAILED", `the new key could not be verified in time: ${last}`, {
        hint: "The exchange kept answering inconclusively; run `keyward rotate resume` to try again. The old key was not touched.",
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
  if (sub !== null && adapter.capabilities.list === "api") {
    const still = (await subAccountKeys(adapter, sub)).some((k) => k.apiKey === ctx.plan.old.apiKey);
    evidence.push(still ? "list: STILL LISTED by the exchange" : "list: no longer listed by the exchange");
    dead = !still;
  }
  if (oldCredentials) {
    const probe = await adapter.probe(oldCredentials, probeOptions(ctx.plan, { knownAliveFromHere }));
    evidence.push(describeProbe(probe));
    dead = dead && probe.status === "dead";
  } else if (sub === null) {
    evidence.push("Keyward holds no secret for the old key: it cannot be probed");
    dead = false;
  } else {
    evidence.push(NO_PROBE);
  }
  return { dead, evidence };
}
