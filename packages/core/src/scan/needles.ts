/**
 * `keyward scan`'s needles (task: scan use case): every API key Keyward knows, with what it knows of it,
 * and every secret the vault holds, as exact strings for the engine (scan-types.ts) to find.
 *
 * Where the keys come from, best first (a key named by several places keeps the best one's facts):
 *   1. the live inventory, as `keyward keys` lists it (accounts in parallel; an account that cannot be
 *      listed shows its keys from the last inventory, marked stale: list-inventory.ts);
 *   2. the last inventory (state.db's cache), read BEFORE the live listing replaces it, so a key that has
 *      since vanished from an account listed completely is still searched for (and is dead: an exchange
 *      that lists a kind of key by API lists all of them, the proof revoke/run.ts uses too);
 *   3. tracked keys;
 *   4. the rotation journal: each slot's old key (retired once the slot proved it dead) and new key;
 *   5. the audit log: keys a revoke proved dead (`revoke.verified`), long gone from every listing;
 *   6. the vault: keys whose credentials it holds (an account's own key before any listing).
 *
 * Secrets: every credential field the vault holds (secrets, passphrases, TOTP seeds) of accounts' own
 * keys, tracked keys and keys a rotation created. They are searched for and never leave core: a finding
 * says "the secret of <key>" (scan-leaks.ts; a passphrase, person-chosen, only next to its key id or
 * secret: findings.ts), and every one of them is a canary for the scan's audit entry.
 */
import { exchangeProfile } from "../adapters/registry.js";
import { type Credentials, secretsOf } from "../domain/credentials.js";
import { type KeyRecord, keyId as makeKeyId } from "../domain/schemas.js";
import type { Secret } from "../domain/secret.js";
import { isKeywardError, KeywardError } from "../errors.js";
import type { KeywardHome } from "../home/home.js";
import { risksOf } from "../inventory/risk.js";
import { isCreateStandIn } from "../rotation/create-stand-in.js";
import { type InventoryEvent, type ListInventoryInput, listInventory } from "../use-cases/list-inventory.js";
import { readOnlyJournal } from "../use-cases/rotation-common.js";
import type { Vault } from "../vault/vault.js";
import type { KnownSource, ScanNeedle } from "./scan-types.js";

/** "retired": rotated away or revoked, and proven dead then (the journal, the audit log). */
export type KnownKeyState = KeyRecord["state"] | "retired";

export interface KnownKey {
  keyId: string;
  exchange: string;
  account: string;
  subAccount: string | null;
  apiKey: string;
  label: string;
  permissions: string[];
  /** Risk flag names, as `keyward keys --risky` names them (none for a dead or retired key). */
  risks: string[];
  state: KnownKeyState;
  source: KnownSource;
  /** For a retired key, or one found dead another way: when, and why Keyward holds it dead. */
  retired?: { at: string; why: string };
}

/** One credential field the vault holds, of a known key (index into `keys`). Never printed. */
export interface HeldSecret {
  key: number;
  field: "secret" | "passphrase" | "totpSeed";
  value: Secret;
}

export interface KnownNeedles {
  keys: KnownKey[];
  secrets: HeldSecret[];
  /** Refs 0…keys.length-1 name `keys`; refs from keys.length name `secrets` (ref - keys.length). */
  needles: ScanNeedle[];
  /** What could not be searched for, and why. */
  warnings: string[];
  /** Whether the vault opened (the scan can then be audited; live listing needs it too). */
  vaultOpen: boolean;
  /** Every secret value the vault holds, searched or not: the audit entry's canaries. */
  canaries: Secret[];
}

export interface GatherNeedlesInput {
  /** No live listing: the last inventory only (a machine cut off from the exchanges). */
  offline?: boolean;
  /** Search for the vault's secrets too (default true). */
  secrets?: boolean;
  /**
   * Open the vault (default true): a vault that cannot be opened then fails the scan (SCAN_VAULT_LOCKED),
   * since without it no held secret is searched for, no account is listed live and the scan is not
   * audited. False: the person chose to scan without it (the last inventory only; a warning says so).
   */
  vault?: boolean;
  /** The adapters of the listed accounts (default `home.adapters(names)`), as listInventory takes them. */
  adapters?: ListInventoryInput["adapters"];
  onInventory?(event: InventoryEvent): void;
}

/**
 * Held secrets shorter than this are not searched for: a short passphrase a person chose ("trading1")
 * matches ordinary text, and a scan with false positives on it would be ignored. Exchange secrets are
 * far longer (docs/exchanges/*.md); what is left out is counted in a warning.
 */
export const MIN_SECRET_LENGTH = 8;

/** Source precedence when several places name one key: the earlier in this list wins. */
const RANK: Record<KnownSource, number> = {
  inventory: 0,
  "last-inventory": 1,
  tracked: 2,
  journal: 3,
  audit: 4,
  vault: 5,
};

const parseKeyId = (id: string) => {
  const [exchange, account, sub, ...rest] = id.split(":");
  const apiKey = rest.join(":");
  if (!exchange || !account || !sub || !apiKey) return undefined;
  return { exchange, account, subAccount: sub === "-" ? null : sub, apiKey };
};

export async function gatherNeedles(
  home: KeywardHome,
  input: GatherNeedlesInput = {},
): Promise<KnownNeedles> {
  const warnings: string[] = [];
  const byApiKey = new Map<string, KnownKey>();
  const maxKeyAgeDays = home.config.settings.maxKeyAgeDays;

  const fromRecord = (k: KeyRecord, source: KnownSource): KnownKey => ({
    keyId: k.id,
    exchange: k.exchange,
    account: k.account,
    subAccount: k.subAccount,
    apiKey: k.apiKey,
    label: k.label,
    permissions: [...k.permissions],
    risks: risksOf(k, { maxKeyAgeDays }),
    state: k.state,
    source,
  });
  /** Keeps the best-ranked record of each API key. */
  const offer = (key: KnownKey): void => {
    // A key create's stand-in (`new:<label>`) names no key: searched for, it finds the label in text.
    if (isCreateStandIn(key.apiKey)) return;
    const had = byApiKey.get(key.apiKey);
    if (!had || RANK[key.source] < RANK[had.source]) byApiKey.set(key.apiKey, key);
  };
  /** Marks a key Keyward proved dead, unless a live listing shows it alive now (the newer word). */
  const retire = (apiKey: string, at: string, why: string, otherwise: () => KnownKey): void => {
    if (isCreateStandIn(apiKey)) return;
    const had = byApiKey.get(apiKey);
    if (had?.source === "inventory" && had.state !== "dead") return;
    const key = had ?? otherwise();
    byApiKey.set(apiKey, { ...key, state: "retired", risks: [], retired: { at, why } });
  };

  // The vault: live listing, secrets and the audit entry need it. Without it a scan misses what only it
  // knows, so a vault that does not open fails the scan unless the person chose to go without (vault: false).
  let vault: Vault | undefined;
  if (input.vault === false) {
    warnings.push(
      "the vault was not opened (as asked): its secrets were not searched for, no account was listed live (the last inventory was used) and the scan is not audited",
    );
  } else {
    try {
      vault = await home.vault();
    } catch (error) {
      const code = isKeywardError(error) ? error.code : undefined;
      const why = error instanceof Error ? error.message : String(error);
      throw new KeywardError(
        "SCAN_VAULT_LOCKED",
        `the vault could not be opened (${code ? `${code}: ` : ""}${why}): nothing was scanned`,
        {
          hint:
            "Give the vault passphrase (KEYWARD_PASSPHRASE, or the prompt on a terminal), or scan without the vault " +
            "on purpose with `keyward scan … --no-vault` (no held secret searched for, the last inventory only, " +
            "the scan not audited).",
          cause: error,
        },
      );
    }
  }

  // The last inventory, before a live listing replaces it.
  const cache = home.inventoryCache();
  const previous = new Map<string, KeyRecord[]>();
  for (const account of home.config.accounts) {
    const cached = await cache.get(account.name);
    if (cached) previous.set(account.name, cached.records);
  }

  let listed = false;
  if (!input.offline && vault && home.config.accounts.length > 0) {
    try {
      const inventory = await listInventory(home, {
        ...(input.adapters ? { adapters: input.adapters } : {}),
        ...(input.onInventory ? { onEvent: input.onInventory } : {}),
      });
      listed = true;
      for (const a of inventory.accounts) {
        if (a.error) {
          warnings.push(
            `${a.account}: could not be listed (${a.error.message}); its keys are searched for from the last inventory`,
          );
        }
      }
      for (const k of inventory.keys) offer(fromRecord(k, k.stale ? "last-inventory" : "inventory"));
      const listedFully = new Set(inventory.accounts.filter((a) => !a.error).map((a) => a.account));
      for (const [account, records] of previous) {
        for (const k of records) {
          if (byApiKey.has(k.apiKey)) continue;
          // Gone from a complete listing of its kind of key: the exchange no longer has it.
          const gone =
            listedFully.has(account) && exchangeProfile(k.exchange).keys[k.location]?.list === "api";
          const key = fromRecord(k, "last-inventory");
          offer(
            gone
              ? {
                  ...key,
                  state: "dead",
                  risks: [],
                  retired: { at: new Date().toISOString(), why: "no longer listed by the exchange" },
                }
              : key,
          );
        }
      }
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      warnings.push(
        `the accounts could not be listed live (${why}); keys are searched for from the last inventory`,
      );
    }
  }
  if (!listed) {
    for (const records of previous.values()) for (const k of records) offer(fromRecord(k, "last-inventory"));
  }

  // Tracked keys.
  for (const row of await home.tracked().list()) {
    const account = home.config.accounts.find((a) => a.name === row.account);
    if (!account) continue;
    offer({
      keyId: makeKeyId(account.exchange, account.name, null, row.apiKey),
      exchange: account.exchange,
      account: account.name,
      subAccount: null,
      apiKey: row.apiKey,
      label: row.label,
      permissions: [],
      risks: [],
      state: "unknown",
      source: "tracked",
    });
  }

  // The rotation journal: old keys (retired once their slot proved them dead) and new keys.
  const journal = readOnlyJournal(home);
  for (const run of await journal.runs({ limit: 10_000 })) {
    for (const slot of await journal.slots(run.id)) {
      const base = { exchange: slot.exchange, account: slot.account, subAccount: slot.subAccount };
      const old: KnownKey = {
        ...base,
        keyId: slot.oldKeyId,
        apiKey: slot.oldApiKey,
        label: slot.oldLabel,
        permissions: [],
        risks: [],
        state: "unknown",
        source: "journal",
      };
      // An in-place reset keeps the key id (only its old secret died): that key is not retired.
      const provenDead =
        (slot.step === "dead" || slot.step === "finished") && slot.newApiKey !== slot.oldApiKey;
      if (provenDead) retire(old.apiKey, slot.updatedAt, `rotated away (${run.id})`, () => old);
      else offer(old);
      if (slot.newKeyId && slot.newApiKey && slot.newApiKey !== slot.oldApiKey) {
        offer({
          ...base,
          keyId: slot.newKeyId,
          apiKey: slot.newApiKey,
          label: slot.newLabel,
          permissions: [],
          risks: [],
          state: "unknown",
          source: "journal",
        });
      }
    }
  }

  // The audit log: keys a revoke proved dead, with the labels their revoke recorded.
  const state = home.state();
  const labels = new Map<string, string>();
  for (const row of await state.auditRows({ action: "revoke.requested" })) {
    try {
      const details = JSON.parse(row.details) as { labels?: Record<string, unknown> };
      for (const [id, label] of Object.entries(details.labels ?? {}))
        if (typeof label === "string") labels.set(id, label);
    } catch {
      // `keyward audit verify` reports an entry whose details do not parse.
    }
  }
  for (const row of await state.auditRows({ action: "revoke.verified" })) {
    const parsed = parseKeyId(row.subject);
    if (!parsed) continue;
    retire(parsed.apiKey, row.ts, "revoked and proven dead", () => ({
      ...parsed,
      keyId: row.subject,
      label: labels.get(row.subject) ?? "",
      permissions: [],
      risks: [],
      state: "retired",
      source: "audit",
    }));
  }

  // The vault: keys whose credentials it holds, and their secrets.
  const held: { apiKey: string; credentials: Credentials; ref: string }[] = [];
  if (vault) {
    for (const ref of vault.refs()) {
      const credentials = vault.get(ref);
      if (credentials) held.push({ apiKey: credentials.apiKey, credentials, ref });
    }
    for (const { apiKey, ref } of held) {
      if (byApiKey.has(apiKey)) continue;
      const key = keyFromRef(home, ref, apiKey);
      if (key) offer(key);
    }
  }

  const keys = [...byApiKey.values()];
  const index = new Map(keys.map((k, i) => [k.apiKey, i]));
  const secrets: HeldSecret[] = [];
  const canaries: Secret[] = [];
  let tooShort = 0;
  const seen = new Set<string>();
  for (const { apiKey, credentials } of held) {
    const fields: [HeldSecret["field"], Secret | undefined][] = [
      ["secret", credentials.secret],
      ["passphrase", credentials.passphrase],
      ["totpSeed", credentials.totpSeed],
    ];
    canaries.push(...secretsOf(credentials));
    const key = index.get(apiKey);
    if (key === undefined || input.secrets === false) continue;
    for (const [field, value] of fields) {
      if (!value) continue;
      const text = value.reveal();
      if (seen.has(text)) continue;
      seen.add(text);
      if (text.length < MIN_SECRET_LENGTH) tooShort++;
      else secrets.push({ key, field, value });
    }
  }
  if (vault && input.secrets === false)
    warnings.push("--no-secrets: the vault's secrets were not searched for");
  if (tooShort > 0) {
    warnings.push(
      `${tooShort} secret(s) the vault holds are shorter than ${MIN_SECRET_LENGTH} characters and were not searched for (ordinary text matches them)`,
    );
  }

  const needles: ScanNeedle[] = [
    ...keys.map((k, ref) => ({ text: k.apiKey, ref })),
    ...secrets.map((s, i) => ({ text: s.value.reveal(), ref: keys.length + i })),
  ];
  return { keys, secrets, needles, warnings, vaultOpen: vault !== undefined, canaries };
}

/** A key only the vault knows, from its reference (home.ts: account:, tracked:, key:). */
function keyFromRef(home: KeywardHome, ref: string, apiKey: string): KnownKey | undefined {
  const [kind, ...rest] = ref.split(":");
  const facts = { permissions: [], risks: [], state: "unknown" as const, source: "vault" as const };
  if (kind === "account" || kind === "tracked") {
    // An account's own key (its credentials reference) or a key it tracks (`tracked:<account>:…`).
    const account = home.config.accounts.find((a) =>
      kind === "account" ? a.credentialsRef === ref : a.name === rest[0],
    );
    if (!account) return undefined;
    return {
      ...facts,
      keyId: makeKeyId(account.exchange, account.name, null, apiKey),
      exchange: account.exchange,
      account: account.name,
      subAccount: null,
      apiKey,
      // A label given at `account add --label` names the account's own key only.
      label: kind === "account" && account.keyLabel?.apiKey === apiKey ? account.keyLabel.text : "",
    };
  }
  if (kind === "key") {
    const parsed = parseKeyId(rest.join(":"));
    if (!parsed || parsed.apiKey !== apiKey) return undefined;
    return { ...facts, ...parsed, keyId: rest.join(":"), label: "" };
  }
  return undefined;
}
