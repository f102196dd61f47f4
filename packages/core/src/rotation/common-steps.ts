/**
 * The steps both methods share once the new key exists: verify it (3), deliver it to every target (4),
 * run the consumer check and wait out the grace period (5), and finish (8): the old key's record stays in
 * the journal as "previous", its secret leaves the vault, tracked keys and Keyward's own account key
 * point at the new key.
 */
import type { Credentials } from "../domain/credentials.js";
import { shortKey } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { keyRef } from "../home/home.js";
import type { SlotContext, StepResult } from "./context.js";
import type { SlotRow } from "./journal.js";
import { describeShellFailure, runShell } from "./targets/exec.js";
import { deliver, describeTarget, targetOptionsOf } from "./targets/index.js";
import type { DeliveryPayload } from "./targets/payload.js";
import { verifyNewKey } from "./verify.js";

/** The new key's credentials from the vault; their absence is a broken invariant, said plainly. */
export async function newCredentials(ctx: SlotContext, row: SlotRow): Promise<Credentials> {
  const creds = row.newRef ? await ctx.store.get(row.newRef) : undefined;
  if (!creds || creds.apiKey !== row.newApiKey) {
    throw new KeywardError(
      "VAULT_CORRUPT",
      `rotation ${row.runId}/${row.slot}: the new key's secret is not in the vault`,
      {
        hint: "The vault was replaced by an older copy since the key was created. Abort this rotation (`keyward rotate abort`) and rotate again.",
      },
    );
  }
  return creds;
}

export function payloadFor(
  ctx: SlotContext,
  row: SlotRow,
  credentials: Credentials,
  // A key create replaces no key (its `old` is only where the key goes).
  replaces = ctx.plan.create ? "" : ctx.plan.old.id,
): DeliveryPayload {
  return {
    credentials,
    keyId: row.newKeyId ?? "",
    exchange: ctx.plan.old.exchange,
    account: ctx.plan.old.account,
    subAccount: ctx.plan.old.subAccount,
    label: row.newLabel,
    rotationId: row.runId,
    slot: row.slot,
    replacesKeyId: replaces,
  };
}

export async function verifyStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const evidence = await verifyNewKey(ctx, await newCredentials(ctx, row));
  await ctx.advance(row, "verified", { evidence }, "rotation.new-key-verified", {
    newKey: row.newKeyId,
    evidence,
  });
  return "next";
}

export async function startDelivery(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  await ctx.advance(row, "delivering", { delivered: [] }, "rotation.delivering", {
    newKey: row.newKeyId,
    targets: ctx.plan.deliver.map(describeTarget),
  });
  return "next";
}

/** Each target not yet done, each journaled as done; Keyward's own account key is switched first. */
export async function deliverStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const creds = await newCredentials(ctx, row);
  let current = row;
  if (ctx.plan.old.accountKey) await switchAccountKey(ctx, creds);
  for (const target of ctx.plan.deliver) {
    const name = describeTarget(target);
    if (current.delivered.includes(name)) continue;
    const evidence = await deliver(target, payloadFor(ctx, current, creds), {
      home: ctx.deps.home.paths.dir,
      ...targetOptionsOf(ctx.run.plan),
      env: ctx.deps.childEnv,
      timeoutMs: ctx.timing.commandTimeoutMs,
    });
    current = await ctx.advance(
      current,
      "delivering",
      { delivered: [...current.delivered, name], evidence },
      "rotation.target-written",
      {
        newKey: row.newKeyId,
        target: name,
      },
    );
  }
  await ctx.advance(current, "delivered", {}, "rotation.delivered", {
    newKey: row.newKeyId,
    targets: current.delivered,
  });
  return "next";
}

/**
 * Keyward is a consumer of its own account key: from delivery on it uses the new one. The old one is
 * kept under its key id until it is proven dead (abort puts it back).
 */
async function switchAccountKey(ctx: SlotContext, creds: Credentials): Promise<void> {
  const account = ctx.deps.home.account(ctx.plan.old.account);
  const vault = await ctx.deps.home.vault();
  const current = vault.get(account.credentialsRef);
  if (current?.apiKey === creds.apiKey) return;
  if (current && current.apiKey !== ctx.plan.old.apiKey) {
    // Keyward manages the account with a third key (another rotation, an edited or stale plan): replacing
    // it would drop a working key Keyward may hold nowhere else.
    throw new KeywardError(
      "ROTATION_CONFLICT",
      `refusing to switch account ${account.name} to the new key: Keyward manages it with ${shortKey(current.apiKey)}, not with ${ctx.plan.old.id}`,
      {
        hint: "The plan is stale or was edited: `keyward rotate abort` this run, then plan again from `keyward keys`.",
      },
    );
  }
  // The TOTP seed belongs to the account, not to the key: it follows the account to its new key. Only
  // the account's vault entry gets it; the new key's credentials (delivered to targets) never carry it.
  const seed = current?.totpSeed;
  await ctx.store.put({
    ...(current && current.apiKey === ctx.plan.old.apiKey ? { [keyRef(ctx.plan.old.id)]: current } : {}),
    [account.credentialsRef]: seed === undefined ? creds : { ...creds, totpSeed: seed },
  });
}

/** The consumer check (never given a secret: only ids in its environment), then the grace period starts. */
export async function checkStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const cmd = ctx.run.options.checkCmd;
  let check = "none";
  if (cmd) {
    const result = await runShell(cmd, {
      timeoutMs: ctx.timing.commandTimeoutMs,
      env: {
        ...ctx.deps.childEnv,
        KEYWARD_KEY_ID: row.newKeyId ?? "",
        KEYWARD_API_KEY: row.newApiKey ?? "",
        KEYWARD_OLD_KEY_ID: ctx.plan.old.id,
        KEYWARD_ROTATION_ID: row.runId,
        KEYWARD_SLOT: String(row.slot),
        KEYWARD_EXCHANGE: ctx.plan.old.exchange,
        KEYWARD_ACCOUNT: ctx.plan.old.account,
        KEYWARD_SUB_ACCOUNT: ctx.plan.old.subAccount ?? "",
        KEYWARD_LABEL: row.newLabel,
      },
    });
    if (result.code !== 0) {
      throw new KeywardError(
        "VERIFICATION_FAILED",
        `the check command ${describeShellFailure(result)} for ${row.newKeyId}${result.stderrTail ? `: ${result.stderrTail.split("\n").slice(-3).join(" | ")}` : ""}`,
        {
          hint: "The old key was not touched and still works. Fix what the check found, then `keyward rotate resume` (it runs the check again), or `keyward rotate abort`.",
        },
      );
    }
    check = `\`${cmd}\` exited 0`;
  }
  // An in-place reset has no grace: the old secret died at the reset.
  const graceMs = ctx.plan.reset ? 0 : ctx.run.options.graceMs;
  const graceUntil = new Date(ctx.now() + graceMs).toISOString();
  const next = await ctx.advance(
    row,
    "checked",
    { graceUntil, evidence: `check: ${check}` },
    "rotation.checked",
    {
      newKey: row.newKeyId,
      check,
      graceUntil,
    },
  );
  if (graceMs > 0) ctx.deps.onEvent?.({ type: "grace", slot: next, until: graceUntil });
  return "next";
}

/** Waits until the grace period ends (again after a resume: the end time is journaled); false if stopped. */
export async function waitGrace(ctx: SlotContext, row: SlotRow): Promise<boolean> {
  const until = row.graceUntil ? Date.parse(row.graceUntil) : 0;
  const left = until - ctx.now();
  if (left > 0) await ctx.sleep(left);
  // Stopped (Ctrl-C) during the grace period: the slot stays at `checked` for `rotate resume`.
  return !ctx.deps.signal?.aborted;
}

/** Step 8: bookkeeping, then `finished`; the old key's record stays in the journal as "previous". */
export async function finishStep(ctx: SlotContext, row: SlotRow): Promise<StepResult> {
  const { home } = ctx.deps;
  const old = ctx.plan.old;
  const tracked = home.tracked();
  const oldRow = await tracked.get(old.account, old.apiKey);
  const changes: Record<string, null> = { [keyRef(old.id)]: null };
  if (oldRow) {
    if (oldRow.credentialsRef) changes[oldRow.credentialsRef] = null;
    if (row.newApiKey && !(await tracked.get(old.account, row.newApiKey))) {
      await tracked.add({
        account: old.account,
        apiKey: row.newApiKey,
        label: row.newLabel,
        credentialsRef: row.newRef,
      });
    }
    await tracked.remove(old.account, old.apiKey);
  }
  const account = home.config.accounts.find((a) => a.name === old.account);
  if (account && changes[account.credentialsRef] !== undefined) delete changes[account.credentialsRef];
  const vault = await home.vault();
  if (Object.keys(changes).some((ref) => vault.has(ref))) await ctx.store.put(changes);
  await ctx.advance(row, "finished", {}, "rotation.finished", { previous: old.id, current: row.newKeyId });
  return "next";
}
