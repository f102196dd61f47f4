/**
 * The adapter registry: one explicit map from exchange id to its adapter. The `ExchangeId` type is
 * derived from it, so adding an exchange is adding one entry here (and its folder). Adapters load
 * lazily: ccxt is large, and `keyward --help` must not pay for it.
 */
import type { AdapterFactory } from "./interface.js";

export interface ExchangeInfo {
  /** Human name for messages. */
  name: string;
  /** What the exchange's API can do with keys at all (the adapter's capabilities say what it does). */
  api: { list: boolean; create: boolean; revoke: boolean };
  /** Regional hosts, when the exchange has them. */
  regions?: readonly string[];
}

interface RegistryEntry {
  info: ExchangeInfo;
  load(): Promise<AdapterFactory>;
}

export const ADAPTERS = {
  okx: {
    info: { name: "OKX", api: { list: true, create: true, revoke: true }, regions: ["www", "eea", "us"] },
    load: async () => (await import("./okx/adapter.js")).okxAdapter,
  },
  bitfinex: {
    info: { name: "Bitfinex", api: { list: false, create: false, revoke: false } },
    load: async () => (await import("./bitfinex/adapter.js")).bitfinexAdapter,
  },
} as const satisfies Record<string, RegistryEntry>;

export type ExchangeId = keyof typeof ADAPTERS;

export const EXCHANGE_IDS = Object.keys(ADAPTERS) as [ExchangeId, ...ExchangeId[]];

export const exchangeInfo = (id: ExchangeId): ExchangeInfo => ADAPTERS[id].info;

export const loadAdapterFactory = (id: ExchangeId): Promise<AdapterFactory> => ADAPTERS[id].load();
