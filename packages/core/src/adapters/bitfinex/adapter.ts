/**
 * The Bitfinex adapter (docs/exchanges/bitfinex.md).
 *
 * No Bitfinex API lists, creates or revokes keys (docs/exchanges/bitfinex.md#what-has-no-api-manual-steps),
 * so this adapter:
 * - lists the account's own key plus the keys the user told Keyward about (`context.tracked`), each probed
 *   through `auth/r/permissions`, after one `auth/r/info/user` with the account key for the user id and e-mail;
 * - answers every revoke with the steps a person takes on Bitfinex's API Keys page; the engines prove a
 *   revocation by probing the key until it is dead (docs/exchanges/bitfinex.md#rotation-flow: probe the old
 *   key until 10100 apikey: invalid);
 * - probes a key with its own credentials, without ever calling it dead on an answer that could also mean
 *   "not whitelisted for this IP" unless the key was seen alive from here
 *   (docs/exchanges/bitfinex.md#ip-whitelisting, docs/exchanges/bitfinex.md#probes).
 *
 * Transport, nonces and rate limits: client.ts, nonce.ts, limits.ts. Raw codes → outcomes: errors.ts only.
 */

import type { Credentials } from "../../domain/credentials.js";
import {
  type KeyRecord,
  keyId,
  type ManualSteps,
  type ProbeResult,
  type RawPermissions,
} from "../../domain/schemas.js";
import { KeywardError } from "../../errors.js";
import type {
  AdapterContext,
  AdapterFactory,
  AdapterOptions,
  ExchangeAdapter,
  ProbeOptions,
  TrackedKey,
} from "../interface.js";
import { ALIVE_FROM_HERE_META } from "../interface.js";
import { actionsOf } from "../profile.js";
import { BitfinexClient } from "./client.js";
import { accountError, probeVerdict } from "./errors.js";
import { BITFINEX_API } from "./limits.js";
import { NONCE_META, nonceBook, schemeFromMeta } from "./nonce.js";
import { normalisePermissions, SCOPE_UI_NAMES } from "./permissions.js";
import { bitfinexProfile } from "./profile.js";
import { PermissionsAnswerSchema, UserInfoAnswerSchema } from "./schemas.js";

/**
 * Bitfinex's "API Keys" page on the real site. With `account.endpoint` set (a proxy or the simulator), the
 * page is `<endpoint>/api`: the simulator serves its stand-in for this page there.
 */
const BITFINEX_API_KEYS_PAGE = "https://setting.bitfinex.com/api";

/**
 * Keys that authenticated from this process, by host. "From here" matters because Bitfinex answers a request
 * from a non-whitelisted IP exactly like one for an unknown key; a key seen alive from this machine that now
 * gets `apikey: invalid` is dead. Engines can pass what they remember across runs as
 * `ProbeOptions.knownAliveFromHere`; an explicit `false` wins over this memory.
 */
const aliveFromHere = new Set<string>();

type ProbeAnswer = ProbeResult & { meta?: Record<string, string> };

interface BitfinexUser {
  id: string;
  email: string | null;
}

interface Entry {
  apiKey: string;
  label: string;
  credentials?: Credentials;
  meta?: Record<string, string>;
}

/** "account" read is what `auth/r/info/user` needs; the UI calls the group "Account Info". */
const ACCOUNT_READ = { scope: "account", ui: '"Account Info" read' };

class BitfinexAdapter implements ExchangeAdapter {
  readonly exchange = "bitfinex" as const;
  readonly unlisted: string;
  readonly #context: AdapterContext;
  readonly #base: string;
  readonly #client: BitfinexClient;
  #user: BitfinexUser | undefined;

  constructor(context: AdapterContext, options: AdapterOptions) {
    if (context.account.exchange !== "bitfinex") {
      throw new KeywardError(
        "CONFIG_INVALID",
        `account "${context.account.name}" is a ${context.account.exchange} account, not a Bitfinex one`,
        { hint: "Use the adapter of the account's exchange." },
      );
    }
    this.#context = context;
    this.unlisted = `Bitfinex has no API that lists keys: only Keyward's own key and the keys tracked for this account are shown; track every other key with \`keyward key track ${context.account.name} --label LABEL\``;
    this.#base = (context.account.endpoint ?? BITFINEX_API).replace(/\/+$/, "");
    this.#client = new BitfinexClient(this.#base, context.account.name, options);
  }

  get #accountName(): string {
    return this.#context.account.name;
  }

  async listKeys(): Promise<KeyRecord[]> {
    const user = await this.#accountUser();
    return this.#probeEntries(user);
  }

  /** The same keys without `auth/r/info/user`: for when the account's own key no longer answers. */
  listTrackedKeys(): Promise<KeyRecord[]> {
    return this.#probeEntries(this.#user);
  }

  #probeEntries(user: BitfinexUser | undefined): Promise<KeyRecord[]> {
    return Promise.all(
      this.#entries().map(async (entry) => {
        const probe = entry.credentials
          ? await this.probe(entry.credentials, entry.meta ? { meta: entry.meta } : {})
          : undefined;
        return this.#record(entry, user, probe);
      }),
    );
  }

  async revokeKey(key: KeyRecord): Promise<{ outcome: "manual"; steps: ManualSteps }> {
    this.#checkKey(key);
    return { outcome: "manual", steps: this.manualSteps(key, "revoke") };
  }

  manualSteps(key: KeyRecord, action: "revoke" | "create"): ManualSteps {
    this.#checkKey(key);
    const url = this.#context.account.endpoint ? `${this.#base}/api` : BITFINEX_API_KEYS_PAGE;
    const email = this.#user?.email ?? key.meta.email;
    const start = key.apiKey.slice(0, 4);
    const end = key.apiKey.slice(-4);
    const login = email
      ? `Log in to Bitfinex as ${email} (Keyward account "${this.#accountName}").`
      : `Log in to Bitfinex with the login of Keyward account "${this.#accountName}".`;
    const open = `Open ${url} (account menu → API Keys).`;
    const which = `${key.label ? `labelled "${key.label}", ` : ""}whose API key starts with "${start}" and ends with "${end}"`;
    const steps =
      action === "revoke"
        ? [
            login,
            open,
            `Find the key ${which}.`,
            'Click "Revoke" on that key\'s row.',
            "Confirm with your 2FA code, and with the confirmation e-mail if Bitfinex sends one.",
            "Come back to Keyward: it probes the key until Bitfinex rejects it, which proves the revocation.",
          ]
        : [
            login,
            open,
            `Click "Create New Key" and give it a label you will recognise (it replaces the key ${which}).`,
            `Tick exactly these permissions: ${describeScopes(key.rawPermissions)}.`,
            "Restrict the key to the IP addresses of the machines that will use it.",
            "Confirm with your 2FA code, then open the confirmation link Bitfinex e-mails you, in the same browser.",
            "Copy the new API key and secret into Keyward at once: Bitfinex shows the secret only this one time.",
            "Keyward then probes the new key to check it has exactly these permissions.",
          ];
    return {
      exchange: "bitfinex",
      action,
      url,
      steps,
      recognise: {
        label: key.label,
        apiKeyStart: start,
        apiKeyEnd: end,
        where: `${url}, in the list of API keys`,
      },
    };
  }

  async probe(credentials: Credentials, options: ProbeOptions = {}): Promise<ProbeAnswer> {
    const apiKey = credentials.apiKey;
    nonceBook.remember(apiKey, schemeFromMeta(options.meta));
    const here = `${this.#base}|${apiKey}`;
    const knownAlive =
      options.knownAliveFromHere ?? (aliveFromHere.has(here) || options.meta?.[ALIVE_FROM_HERE_META] === "1");
    const result = await this.#client.call(credentials, "auth/r/permissions");
    const scheme = nonceBook.known(apiKey);
    const meta = scheme ? { meta: { [NONCE_META]: scheme } } : {};
    if (!result.ok) return { ...probeVerdict(result.failure, knownAlive), ...meta };
    const parsed = PermissionsAnswerSchema.safeParse(result.data);
    if (!parsed.success) {
      return {
        status: "inconclusive",
        reason: "exchange-error",
        evidence:
          "Bitfinex answered auth/r/permissions with something that is not a list of [scope, read, write].",
        ...meta,
      };
    }
    aliveFromHere.add(here);
    const accountId = apiKey === this.#context.credentials.apiKey ? this.#user?.id : undefined;
    return {
      status: "alive",
      permissions: normalisePermissions(parsed.data),
      rawPermissions: parsed.data,
      // Bitfinex does not report a key's IP whitelist.
      ip: null,
      ...(accountId === undefined ? {} : { accountId }),
      evidence: `auth/r/permissions answered with ${parsed.data.length} scopes (${scheme ?? "ms"} nonces).`,
      ...meta,
    };
  }

  /** `auth/r/info/user` with the account key: the user id and e-mail (needs "account" read). */
  async #accountUser(): Promise<BitfinexUser> {
    const { credentials } = this.#context;
    const result = await this.#client.call(credentials, "auth/r/info/user");
    if (!result.ok) {
      throw (
        ("error" in result ? result.error : undefined) ??
        accountError(result.failure, {
          account: this.#accountName,
          what: "auth/r/info/user",
          needs: ACCOUNT_READ,
        })
      );
    }
    const parsed = UserInfoAnswerSchema.safeParse(result.data);
    if (!parsed.success) {
      throw new KeywardError(
        "EXCHANGE_REJECTED",
        `Bitfinex answered auth/r/info/user for account "${this.#accountName}" in an unexpected shape`,
        {
          hint: "Bitfinex did not answer as documented; run again with debug logs and report it if it persists.",
        },
      );
    }
    aliveFromHere.add(`${this.#base}|${credentials.apiKey}`);
    this.#user = { id: String(parsed.data[0]), email: parsed.data[1] ?? null };
    return this.#user;
  }

  /** The account's key first, then the tracked keys, once each (a tracked entry of the account key lends its label). */
  #entries(): Entry[] {
    const { credentials, tracked = [] } = this.#context;
    const own: Entry = { apiKey: credentials.apiKey, label: "", credentials };
    const entries = new Map<string, Entry>([[own.apiKey, own]]);
    for (const key of tracked as readonly TrackedKey[]) {
      const existing = entries.get(key.apiKey);
      if (existing) {
        if (!existing.label) existing.label = key.label;
        existing.credentials ??= key.credentials;
        existing.meta ??= key.meta;
        continue;
      }
      entries.set(key.apiKey, {
        apiKey: key.apiKey,
        label: key.label,
        ...(key.credentials ? { credentials: key.credentials } : {}),
        ...(key.meta ? { meta: key.meta } : {}),
      });
    }
    return [...entries.values()];
  }

  #record(entry: Entry, user: BitfinexUser | undefined, probe: ProbeAnswer | undefined): KeyRecord {
    const alive = probe?.status === "alive" ? probe : undefined;
    const scheme = nonceBook.known(entry.apiKey) ?? schemeFromMeta(entry.meta);
    return {
      id: keyId("bitfinex", this.#accountName, null, entry.apiKey),
      exchange: "bitfinex",
      account: this.#accountName,
      subAccount: null,
      apiKey: entry.apiKey,
      label: entry.label,
      permissions: alive?.permissions ?? [],
      rawPermissions: alive?.rawPermissions ?? [],
      // Bitfinex does not report IP whitelists: [] here means "not known", not "no binding".
      ip: [],
      createdAt: null,
      // Bitfinex reports no expiry for a key.
      expiresAt: null,
      location: "tracked",
      actions: actionsOf(bitfinexProfile, "tracked"),
      probeable: entry.credentials !== undefined,
      state: alive ? "active" : probe?.status === "dead" ? "dead" : "unknown",
      meta: {
        ...entry.meta,
        ...(user ? { accountId: user.id } : {}),
        ...(user?.email ? { email: user.email } : {}),
        ...(scheme ? { [NONCE_META]: scheme } : {}),
      },
    };
  }

  #checkKey(key: KeyRecord): void {
    if (key.exchange !== "bitfinex") {
      throw new KeywardError("CONFIG_INVALID", `key ${key.id} is not a Bitfinex key`, {
        hint: "Use the adapter of the key's exchange.",
      });
    }
  }
}

/** `Orders ("orders"): read+write, Account Info ("account"): read` from the raw triples, for the create steps. */
function describeScopes(raw: RawPermissions): string {
  if (!Array.isArray(raw)) return "the same as the key it replaces";
  const granted = raw
    .filter(([, read, write]) => read === 1 || write === 1)
    .map(([scope, read, write]) => {
      const mode = read === 1 && write === 1 ? "read+write" : write === 1 ? "write" : "read";
      const ui = SCOPE_UI_NAMES[scope];
      return `${ui ? `${ui} ("${scope}")` : `"${scope}"`}: ${mode}`;
    });
  return granted.length > 0 ? granted.join(", ") : "none (the key it replaces had no permission)";
}

export const bitfinexAdapter: AdapterFactory = (context, options = {}) =>
  new BitfinexAdapter(context, options);
