/**
 * The steps a person does with Keyward's guidance (keys the exchange's profile says a person creates and
 * revokes): create exactly the
 * key asked for and hand over its credentials, which Keyward refuses unless a probe shows exactly the old
 * key's permissions (and IPs, where the exchange reports them); later revoke the old key on the site,
 * which Keyward proves by probing the old key until it is dead or the wait ends.
 */
import { inBackground } from "../adapters/background-work.js";
import { needsPassphrase } from "../adapters/profile.js";
import { exchangeProfile } from "../adapters/registry.js";
import { type Credentials, CredentialsInputSchema, toCredentials } from "../domain/credentials.js";
import { keyId, shortKey } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { keyRef } from "../home/home.js";
import type { CreateRequest, SlotContext, StepResult } from "./context.js";
import type { SlotRow } from "./journal.js";
import { describeProbe, oldKeyDead, probeOptions, specMismatch } from "./verify.js";

/** Marker in the journal's evidence: the old key answered alive from this machine before the revoke. */
const ALIVE_MARK = "old key seen alive from here before the revoke";

/** The permissions as the exchange's create form names them (its profile says how). */
const permissionsText = (ctx: SlotContext): string =>
  exchangeProfile(ctx.plan.old.exchange).describePermissions(
    ctx.plan.new.permissions,
    ctx.plan.new.rawPermissions,
  );

export async function createRequest(ctx: SlotContext, row: SlotRow): Promise<CreateRequest> {
  const adapter = await ctx.adapter();
  const old = ctx.plan.old;
  const profile = exchangeProfile(old.exchange);
  // The create steps name the label to give the key, or the key being replaced where the exchange's form
  // has no label to insist on (the request's own `label` says the new one either way).
  const record = ctx.oldRecord();
  const steps = adapter.manualSteps(
    profile.createStepsLabel === "new" ? { ...record, label: row.newLabel } : record,
    "create",
  );
  return {
    slot: row.slot,
    exchange: old.exchange,
    account: old.account,
    steps,
    label: row.newLabel,
    permissions: ctx.plan.new.permissions,
    permissionsText: permissionsText(ctx),
    ip: ctx.plan.new.ip,
    replaces: { label: old.label, apiKeyStart: old.apiKey.slice(0, 4), apiKeyEnd: old.apiKey.slice(-4) },
    needsPassphrase: needsPassphrase(profile),
  };
}

/**
 * Step 1 of an assisted slot: a baseline probe of the old key first. Some exchanges answer an unknown key
 * and a key not whitelisted for this IP alike: only a key seen alive from this machine can later be called
 * dead (`ProbeOptions.knownAliveFromHere`), so this is recorded before the person is asked to do anything.
 */
export async function askForKey(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const evidence = await baseline(ctx);
  await ctx.advance(row, "awaiting-new-key", { evidence }, "rotation.awaiting-new-key", {
    label: row.newLabel,
  });
  return "next";
}

async function baseline(ctx: SlotContext): Promise<string> {
  const oldCredentials = await ctx.store.oldCredentials(ctx.plan.old);
  if (!oldCredentials) {
    throw new KeywardError(
      "VERIFICATION_FAILED",
      `Keyward no longer holds the secret of ${ctx.plan.old.id}`,
      {
        hint: "Without it the old key's death cannot be proven: revoke it on the exchange's site and check it is gone there.",
      },
    );
  }
  const adapter = await ctx.adapter();
  const probe = await adapter.probe(oldCredentials, probeOptions(ctx.plan, { knownAliveFromHere: false }));
  return probe.status === "alive" ? ALIVE_MARK : `old key before the rotation: ${describeProbe(probe)}`;
}

/** Takes credentials from the person until a set passes the probe, or there are no more (the slot waits). */
export async function receiveKey(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const request = await createRequest(ctx, row);
  ctx.deps.onEvent?.({ type: "create-steps", slot: row, request });
  let refused: string | undefined;
  for (let attempt = 1; ; attempt++) {
    const input = await ctx.deps.askCredentials?.(request, attempt, refused);
    if (!input)
      return {
        wait: refused
          ? `the credentials given were refused: ${refused}`
          : "waiting for the new key's credentials",
      };
    const parsed = CredentialsInputSchema.safeParse(input);
    const problem = !parsed.success
      ? "they are not {apiKey, secret[, passphrase]}"
      : request.needsPassphrase && !parsed.data.passphrase
        ? `${exchangeProfile(ctx.plan.old.exchange).name} keys need their passphrase`
        : parsed.data.apiKey === ctx.plan.old.apiKey
          ? "that is the old key, not a new one"
          : undefined;
    const credentials = parsed.success ? toCredentials(parsed.data) : undefined;
    refused = problem ?? (credentials ? await refusal(ctx, credentials) : "unreadable");
    if (refused || !credentials) {
      await ctx.deps.audit.append("rotation.new-key-refused", ctx.plan.old.id, {
        run: row.runId,
        slot: row.slot,
        ...(credentials ? { apiKey: credentials.apiKey } : {}),
        reason: refused,
      });
      ctx.deps.onEvent?.({ type: "refused", slot: row, reason: refused ?? "unreadable" });
      continue;
    }
    const id = keyId(
      ctx.plan.old.exchange,
      ctx.plan.old.account,
      ctx.plan.old.subAccount,
      credentials.apiKey,
    );
    await ctx.store.put({ [keyRef(id)]: credentials });
    await ctx.advance(
      row,
      "created",
      {
        newKeyId: id,
        newApiKey: credentials.apiKey,
        newRef: keyRef(id),
        evidence: `made by a person: ${shortKey(credentials.apiKey)}`,
      },
      "rotation.new-key-created",
      { newKey: id, label: row.newLabel, by: "person" },
    );
    return "next";
  }
}

/** Why these credentials are not the key asked for, or undefined when a probe shows they are. */
async function refusal(ctx: SlotContext, credentials: Credentials): Promise<string | undefined> {
  const adapter = await ctx.adapter();
  const probe = await adapter.probe(credentials, probeOptions(ctx.plan));
  if (probe.status !== "alive") return `a probe with them did not show a live key (${describeProbe(probe)})`;
  const wrong = specMismatch(ctx.plan, probe);
  // The refused key exists and works, and Keyward neither uses nor tracks it: left alone, it would be a
  // live key nobody knows about.
  return wrong
    ? `${wrong}. That key (${shortKey(credentials.apiKey)}) exists and works: delete it on the exchange's site, then create one as asked`
    : undefined;
}

/** After the grace period: the revoke steps for the person (and a baseline probe if none was made). */
export async function askForRevoke(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const adapter = await ctx.adapter();
  const evidence = row.evidence.includes(ALIVE_MARK) ? undefined : await baseline(ctx);
  const next = await ctx.advance(
    row,
    "awaiting-revoke",
    evidence ? { evidence } : {},
    "rotation.awaiting-revoke",
    {
      url: adapter.manualSteps(ctx.oldRecord(), "revoke").url,
    },
  );
  ctx.deps.onEvent?.({
    type: "revoke-steps",
    slot: next,
    steps: adapter.manualSteps(ctx.oldRecord(), "revoke"),
  });
  return "next";
}

/** Probes the old key until it is dead (the person revoked it) or the wait ends (the slot waits). */
export async function awaitRevoke(ctx: SlotContext, row: SlotRow, announce: boolean): Promise<StepResult> {
  const oldCredentials = await ctx.store.oldCredentials(ctx.plan.old);
  if (announce) {
    const adapter = await ctx.adapter();
    ctx.deps.onEvent?.({
      type: "revoke-steps",
      slot: row,
      steps: adapter.manualSteps(ctx.oldRecord(), "revoke"),
    });
  }
  const knownAlive = row.evidence.includes(ALIVE_MARK);
  const deadline = ctx.now() + ctx.run.options.manualTimeoutMs;
  for (;;) {
    // Background work: the person may take many minutes (adapters/background-work.ts).
    const { dead, evidence } = await inBackground(() => oldKeyDead(ctx, oldCredentials, knownAlive));
    if (dead) {
      await ctx.advance(row, "dead", { evidence: evidence.join("; ") }, "rotation.old-key-dead", {
        evidence,
      });
      return "next";
    }
    if (ctx.now() >= deadline || ctx.deps.signal?.aborted)
      return { wait: "waiting for a person to revoke the old key" };
    await ctx.sleep(Math.min(ctx.timing.pollMs, Math.max(0, deadline - ctx.now())));
  }
}
