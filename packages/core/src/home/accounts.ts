/**
 * Changing what a home knows: adding and removing accounts, tracking and untracking keys. Both shells
 * (and the demo and test set-ups) go through these, so the rules are the same everywhere: credentials
 * are probed before they are stored, secrets go to the vault only, and every change is audited.
 */

import { ALIVE_FROM_HERE_META } from "../adapters/interface.js";
import type { ExchangeId } from "../adapters/registry.js";
import { exchangeProfile, loadAdapterFactory } from "../adapters/registry.js";
import type { Credentials } from "../domain/credentials.js";
import {
  type Account,
  AccountSchema,
  KeyLabelTextSchema,
  keyId,
  type ProbeResult,
} from "../domain/schemas.js";
import { Secret } from "../domain/secret.js";
import { normaliseTotpSeed, totpSeedProblem } from "../domain/totp-seed.js";
import { KeywardError } from "../errors.js";
import { type AccountHealth, accountHealth } from "../inventory/account-health.js";
import { accountRef, type KeywardHome, trackedRef } from "./home.js";

export interface NewAccount {
  name: string;
  exchange: ExchangeId;
  endpoint?: string;
  region?: "www" | "eea" | "us";
  /**
   * The name the account's key has on the exchange's page, for exchanges that do not list it: shown in
   * the inventory for that key (not a secret; checked by KeyLabelTextSchema).
   */
  label?: string;
}

/** A label checked by KeyLabelTextSchema, or CONFIG_INVALID naming what is wrong. */
function checkedLabel(label: string): string {
  const parsed = KeyLabelTextSchema.safeParse(label);
  if (parsed.success) return parsed.data;
  throw new KeywardError("CONFIG_INVALID", `label: ${parsed.error.issues[0]?.message ?? "invalid"}`, {
    hint: "Nothing was stored. Give the key's name as the exchange's page shows it, on one line.",
  });
}

/** Reasons a probe gives when the exchange could not be asked at all (a failure, not bad input). */
const UNREACHABLE = new Set(["network", "rate-limited", "exchange-error"]);

/** "API key, API secret and API passphrase": what a person types for a key of this exchange. */
const credentialNames = (exchange: ExchangeId): string => {
  // The probe signs with the key alone: the account's TOTP seed plays no part in a refused key.
  const names = exchangeProfile(exchange)
    .credentials.filter((f) => f.name !== "totpSeed")
    .map((f) => f.prompt);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)}` : names.join("");
};

/**
 * The account's TOTP seed checked (its exchange takes one, it looks like a seed) and normalised, or an
 * error naming the field (CONFIG_INVALID: nothing is stored). Credentials without a seed pass as they are.
 */
function withCheckedSeed(exchange: ExchangeId, credentials: Credentials): Credentials {
  const seed = credentials.totpSeed;
  if (seed === undefined) return credentials;
  const problem = totpSeedProblem(exchangeProfile(exchange), seed.reveal());
  if (problem) throw new KeywardError("CONFIG_INVALID", problem.message, { hint: problem.hint });
  return { ...credentials, totpSeed: new Secret(normaliseTotpSeed(seed.reveal())) };
}

/** Probes the credentials, then stores the account; nothing is stored if they do not work. */
export async function addAccount(
  home: KeywardHome,
  input: NewAccount,
  given: Credentials,
): Promise<{ account: Account; health: AccountHealth }> {
  const { label, ...fields } = input;
  const text = label === undefined ? undefined : checkedLabel(label);
  const parsed = AccountSchema.safeParse({ ...fields, credentialsRef: accountRef(input.name) });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KeywardError(
      "CONFIG_INVALID",
      `${String(issue?.path[0] ?? "account")}: ${issue?.message ?? "invalid"}`,
    );
  }
  const account: Account = parsed.data;
  // Before anything else: a seed the exchange has no use for, or one that is not a seed, stores nothing.
  const credentials = withCheckedSeed(account.exchange, given);
  if (home.config.accounts.some((a) => a.name.toLowerCase() === account.name.toLowerCase())) {
    throw new KeywardError("CONFIG_INVALID", `an account named "${account.name}" already exists`, {
      hint: `Pick another name, or remove it first: keyward account remove ${account.name}`,
    });
  }
  const vault = await home.vault();
  // One key under two names would be listed twice and revoked twice; the exchange knows it as one key.
  const accountKeys = await home.accountKeys();
  const twin = home.config.accounts.find(
    (a) => a.exchange === account.exchange && accountKeys.get(a.name) === credentials.apiKey,
  );
  if (twin) {
    throw new KeywardError("CONFIG_INVALID", `this API key is already the key of account "${twin.name}"`, {
      hint: `Nothing was stored. Use the account "${twin.name}", or remove it first: keyward account remove ${twin.name}`,
    });
  }
  const adapter = (await loadAdapterFactory(account.exchange))({ account, credentials, tracked: [] });
  const probe = await adapter.probe(credentials);
  const health = accountHealth(account.exchange, probe);
  if (probe.status !== "alive") {
    const unreachable = probe.status === "inconclusive" && UNREACHABLE.has(probe.reason);
    const detail = probe.status === "inconclusive" ? `${probe.reason}: ${probe.evidence}` : probe.evidence;
    throw new KeywardError(
      unreachable ? "EXCHANGE_UNAVAILABLE" : "CONFIG_INVALID",
      `the credentials did not work (${probe.status}; ${detail})`,
      {
        // The fields this exchange's keys have (its profile's), so no passphrase is named where there is none.
        hint: `Nothing was stored. Check the ${credentialNames(account.exchange)}, the region or endpoint, and the key's IP whitelist.`,
      },
    );
  }
  if (text !== undefined) {
    // The probe read the key as the exchange reports it: a label there is the key's own.
    if (probe.label) throw labelListed(account.name, probe.label);
    account.keyLabel = { text, apiKey: credentials.apiKey };
  }
  vault.set(account.credentialsRef, credentials);
  await vault.save();
  home.config.accounts.push(account);
  await home.saveConfig();
  await home.audit().append("account.added", account.name, {
    exchange: account.exchange,
    permissions: health.permissions,
    master: health.master,
    warnings: health.warnings,
    // Whether Keyward can answer the exchange's second-factor challenge itself (never the seed).
    ...(credentials.totpSeed === undefined ? {} : { totpSeed: "stored" }),
  });
  return { account, health };
}

/**
 * Stores (or, with undefined, removes) the TOTP seed of an account whose exchange takes one, keeping
 * its key as it is. The seed belongs to the account: a person may set it up after adding the account,
 * or take it out of the vault to have codes asked for instead. Audited without the seed.
 */
export async function setAccountSeed(
  home: KeywardHome,
  name: string,
  seed: Secret | undefined,
): Promise<{ account: Account; seed: "stored" | "removed" | "none" }> {
  const account = home.account(name);
  const vault = await home.vault();
  const current = vault.get(account.credentialsRef);
  if (!current) {
    throw new KeywardError("CONFIG_INVALID", `account "${account.name}" has no credentials in the vault`, {
      hint: `Remove the account and add it again: keyward account remove ${account.name}; keyward account add …`,
    });
  }
  const { totpSeed: held, ...key } = current;
  if (seed === undefined) {
    if (held === undefined) return { account, seed: "none" };
    await home.audit().append("account.seed-removed", account.name, { exchange: account.exchange });
    vault.set(account.credentialsRef, key);
    await vault.save();
    return { account, seed: "removed" };
  }
  const checked = withCheckedSeed(account.exchange, { ...key, totpSeed: seed });
  // Audited first, like every change: if the entry cannot be written, the vault is not changed.
  await home.audit().append("account.seed-set", account.name, {
    exchange: account.exchange,
    replaced: held !== undefined,
  });
  vault.set(account.credentialsRef, checked);
  await vault.save();
  return { account, seed: "stored" };
}

/** A label given for a key the exchange already reports with its own label (the inventory shows that one). */
const labelListed = (name: string, listed: string) =>
  new KeywardError(
    "CONFIG_INVALID",
    `the exchange lists the key of "${name}" with its own label "${listed}"`,
    {
      hint: "Nothing was stored: the inventory shows the exchange's label. A label is given only for a key the exchange lists without one.",
    },
  );

/**
 * The label the exchange reports for the account's own key: from the last listing of the account when it
 * holds the key, else from a probe of it; "" where it reports none, undefined when it cannot be told.
 */
async function listedLabelOf(
  home: KeywardHome,
  account: Account,
  apiKey: string,
): Promise<string | undefined> {
  const cached = (await home.inventoryCache().get(account.name))?.records.find((r) => r.apiKey === apiKey);
  if (cached) return cached.label;
  const credentials = (await home.vault()).get(account.credentialsRef);
  if (!credentials) return undefined;
  const adapter = (await loadAdapterFactory(account.exchange))({ account, credentials, tracked: [] });
  const probe = await adapter.probe(credentials);
  return probe.status === "alive" ? (probe.label ?? "") : undefined;
}

/**
 * Sets (or, with undefined, clears) the label of the account's own key, as the exchange's page names it.
 * It is tied to the key the vault holds for the account now: a rotation that switches the account to a
 * new key leaves it behind (it named the old key), and it is set again for the new one. Audited.
 */
export async function setAccountKeyLabel(
  home: KeywardHome,
  name: string,
  label: string | undefined,
): Promise<{ account: Account; label: string | undefined }> {
  const account = home.account(name);
  const text = label === undefined ? undefined : checkedLabel(label);
  const apiKey = (await home.accountKeyUses()).get(account.name)?.apiKey;
  if (!apiKey) {
    throw new KeywardError("CONFIG_INVALID", `account "${account.name}" has no credentials in the vault`, {
      hint: `Remove the account and add it again: keyward account remove ${account.name}; keyward account add …`,
    });
  }
  if (text !== undefined) {
    const listed = await listedLabelOf(home, account, apiKey);
    if (listed) throw labelListed(account.name, listed);
  }
  await home.audit().append("account.label-set", account.name, {
    exchange: account.exchange,
    ...(text === undefined ? { cleared: true } : { label: text }),
  });
  if (text === undefined) delete account.keyLabel;
  else account.keyLabel = { text, apiKey };
  await home.saveConfig();
  return { account, label: text };
}

/** Forgets an account, its credentials and its tracked keys (the exchange is not touched). */
export async function removeAccount(
  home: KeywardHome,
  name: string,
): Promise<{ account: Account; trackedKeys: number }> {
  const account = home.account(name);
  const vault = await home.vault();
  const tracked = await home.tracked().list({ account: account.name });
  vault.delete(account.credentialsRef);
  for (const t of tracked) if (t.credentialsRef) vault.delete(t.credentialsRef);
  await vault.save();
  for (const t of tracked) await home.tracked().remove(account.name, t.apiKey);
  // A later account of the same name must not be shown this one's keys as stale.
  await home.inventoryCache().delete(account.name);
  home.config.accounts = home.config.accounts.filter((a) => a !== account);
  await home.saveConfig();
  await home
    .audit()
    .append("account.removed", account.name, { exchange: account.exchange, trackedKeys: tracked.length });
  return { account, trackedKeys: tracked.length };
}

/**
 * Registers a key the exchange cannot list. It is probed first: a key the exchange says does not
 * exist is refused; what the probe learned (e.g. the nonce scheme it accepts) is remembered.
 */
export async function trackKey(
  home: KeywardHome,
  accountName: string,
  label: string,
  credentials: Credentials,
): Promise<{ id: string; probe: ProbeResult }> {
  const account = home.account(accountName);
  if (!label.trim()) throw new KeywardError("CONFIG_INVALID", "label: must not be empty");
  if (credentials.totpSeed !== undefined) {
    throw new KeywardError("CONFIG_INVALID", "totpSeed: belongs to the account, not to a tracked key", {
      hint: `Leave the field out: nothing was stored. Store the account's seed with \`keyward account set-seed ${account.name}\`.`,
    });
  }
  if (await home.tracked().get(account.name, credentials.apiKey)) {
    throw new KeywardError("CONFIG_INVALID", `that key is already tracked for "${account.name}"`, {
      hint: "Untrack it first to replace its credentials.",
    });
  }
  const vault = await home.vault();
  const probe = await (await home.adapterFor(account.name)).probe(credentials);
  if (probe.status === "dead") {
    throw new KeywardError(
      "CONFIG_INVALID",
      `the exchange says this key does not exist (${probe.evidence})`,
      {
        hint: "Nothing was stored. Check the API key and secret; the key may already be revoked.",
      },
    );
  }
  const ref = trackedRef(account.name, credentials.apiKey);
  vault.set(ref, credentials);
  await vault.save();
  const meta: Record<string, string> = { ...(probe.meta ?? {}) };
  if (probe.status === "alive") meta[ALIVE_FROM_HERE_META] = "1";
  await home
    .tracked()
    .add({ account: account.name, apiKey: credentials.apiKey, label, credentialsRef: ref, meta });
  const id = keyId(account.exchange, account.name, null, credentials.apiKey);
  await home.audit().append("key.tracked", id, { label, probe: probe.status });
  return { id, probe };
}

/** Forgets a tracked key by id (`exchange:account:-:apiKey`) or bare API key. */
export async function untrackKey(home: KeywardHome, id: string): Promise<{ account: string; label: string }> {
  const apiKey = id.split(":").at(-1) ?? id;
  const row = (await home.tracked().list()).find(
    (r) => r.apiKey === apiKey && (id === apiKey || id.includes(`:${r.account}:`)),
  );
  if (!row) {
    throw new KeywardError("KEY_NOT_FOUND", `no tracked key "${id}"`, {
      hint: "Run `keyward keys` to see tracked keys and their ids.",
    });
  }
  // Opened even when no secret is held for the key: the audit key is in the vault.
  const vault = await home.vault();
  if (row.credentialsRef) {
    vault.delete(row.credentialsRef);
    await vault.save();
  }
  await home.tracked().remove(row.account, row.apiKey);
  await home.audit().append("key.untracked", `${row.account}:${row.apiKey}`, { label: row.label });
  return { account: row.account, label: row.label };
}
