/**
 * The exchange registry: one explicit map from exchange id to its profile (facts, as data) and its
 * adapter. The `ExchangeId` type is derived from it, so adding an exchange is adding one line here (and
 * its folder). Profiles load at once and import no ccxt; adapters load lazily: ccxt is large, and
 * `keyward --help` must not pay for it.
 */
import { bitfinexProfile } from "./bitfinex/profile.js";
import { bybitProfile } from "./bybit/profile.js";
import { deribitProfile } from "./deribit/profile.js";
import type { AdapterFactory } from "./interface.js";
import { okxProfile } from "./okx/profile.js";
import { type ExchangeProfile, needsPassphrase } from "./profile.js";

interface RegistryEntry {
  profile: ExchangeProfile;
  load(): Promise<AdapterFactory>;
}

export const ADAPTERS = {
  okx: { profile: okxProfile, load: async () => (await import("./okx/adapter.js")).okxAdapter },
  bitfinex: {
    profile: bitfinexProfile,
    load: async () => (await import("./bitfinex/adapter.js")).bitfinexAdapter,
  },
  bybit: { profile: bybitProfile, load: async () => (await import("./bybit/adapter.js")).bybitAdapter },
  deribit: {
    profile: deribitProfile,
    load: async () => (await import("./deribit/adapter.js")).deribitAdapter,
  },
} as const satisfies Record<string, RegistryEntry>;

export type ExchangeId = keyof typeof ADAPTERS;

export const EXCHANGE_IDS = Object.keys(ADAPTERS) as [ExchangeId, ...ExchangeId[]];

/**
 * The profile of an exchange: an id from a config, a key record or a request, already validated (an
 * unknown one is a bug, not an input error).
 */
export const exchangeProfile = (id: ExchangeId | (string & {})): ExchangeProfile => {
  const entry: RegistryEntry | undefined = Object.hasOwn(ADAPTERS, id)
    ? ADAPTERS[id as ExchangeId]
    : undefined;
  if (!entry) throw new TypeError(`unknown exchange "${id}"`);
  return entry.profile;
};

/** Every registered profile, in registry order (help texts, choices, the shared risk list). */
export const EXCHANGE_PROFILES: readonly ExchangeProfile[] = EXCHANGE_IDS.map(exchangeProfile);

/** "(OKX keys)": which keys have a passphrase, for help texts that name the passphrase field. */
export const withPassphraseNote = (): string => {
  const names = EXCHANGE_PROFILES.filter(needsPassphrase).map((p) => p.name);
  return names.length > 0 ? `(${names.join(", ")} keys)` : "(keys with a passphrase)";
};

/** The risk flags exchanges add, by name: the union of every profile's `risks`. */
export type ExchangeRisk = {
  [K in ExchangeId]: (typeof ADAPTERS)[K]["profile"] extends ExchangeProfile<infer R> ? R : never;
}[ExchangeId];

/**
 * Probe options carrying only the meta that locates a key (its profile's `accountMeta`, e.g. the account
 * whose rate bucket a probe counts against), or none.
 */
export function accountProbeOptions(key: { exchange: ExchangeId; meta: Readonly<Record<string, string>> }): {
  meta?: Record<string, string>;
} {
  const picked = Object.fromEntries(
    exchangeProfile(key.exchange)
      .accountMeta.filter((name) => key.meta[name] !== undefined && key.meta[name] !== "")
      .map((name) => [name, key.meta[name] as string]),
  );
  return Object.keys(picked).length > 0 ? { meta: picked } : {};
}

export const loadAdapterFactory = (id: ExchangeId): Promise<AdapterFactory> => ADAPTERS[id].load();

export { credentialsExample, type ExchangeProfile, needsPassphrase } from "./profile.js";
