/**
 * "List the inventory live": every key of the accounts a selector can concern, fetched in parallel
 * within the exchanges' rate limits. A successful listing is cached in state.db; an account that
 * cannot be listed shows its keys from their own probes and that cache (marked stale).
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import type { KeyRecord } from "../domain/schemas.js";
import type { KeywardHome } from "../home/home.js";
import { type AccountInventory, fetchInventory } from "../inventory/inventory.js";
import type { Selector } from "../inventory/selectors.js";

export interface LiveInventory {
  fetchedAt: string;
  /** How long the listing took. */
  ms: number;
  keys: KeyRecord[];
  accounts: AccountInventory[];
  /** The adapter of each account listed (engines acting on the keys use the same ones). */
  adapters: Map<string, ExchangeAdapter>;
}

export type InventoryEvent =
  /** Before any exchange is asked: the accounts about to be listed. */
  | { type: "listing"; accounts: string[] }
  | { type: "account-done"; result: AccountInventory }
  /** Every account answered (or failed); nothing is selected yet. */
  | { type: "listed"; inventory: LiveInventory };

export interface ListInventoryInput {
  /** Only the accounts its `exchange` and `account` concern (an unknown account: ACCOUNT_NOT_FOUND). */
  selector?: Pick<Selector, "exchange" | "account">;
  /** The adapters of these accounts; the default builds them with `home.adapters(names)`. */
  adapters?: (names: readonly string[]) => Promise<Map<string, ExchangeAdapter>>;
  onEvent?(event: InventoryEvent): void;
}

export async function listInventory(
  home: KeywardHome,
  input: ListInventoryInput = {},
): Promise<LiveInventory> {
  const { selector } = input;
  const accounts = home.config.accounts.filter(
    (a) =>
      (!selector?.exchange || a.exchange === selector.exchange) &&
      (!selector?.account || a.name.toLowerCase() === selector.account.toLowerCase()),
  );
  if (selector?.account) home.account(selector.account); // an unknown account is an error, not "no keys"
  const names = accounts.map((a) => a.name);
  const started = performance.now();
  const adapters = await (input.adapters ?? ((n: readonly string[]) => home.adapters(n)))(names);
  input.onEvent?.({ type: "listing", accounts: names });
  const results = await fetchInventory(
    accounts.map((a) => ({ name: a.name, exchange: a.exchange })),
    {
      adapterFor: (name) => adapters.get(name) as ExchangeAdapter,
      onAccountDone: (result) => input.onEvent?.({ type: "account-done", result }),
      // A successful listing is kept; an account that fails is shown from it (marked stale).
      cache: home.inventoryCache(),
    },
  );
  const inventory: LiveInventory = {
    fetchedAt: new Date().toISOString(),
    ms: Math.round(performance.now() - started),
    keys: results.flatMap((r) => r.keys),
    accounts: results,
    adapters,
  };
  input.onEvent?.({ type: "listed", inventory });
  return inventory;
}
