/**
 * "Select live keys": list the keys live, then select by the selector (ids, exchange, account, label
 * glob, risky), so a plan never acts on an inventory older than the command. Ids that match no key
 * are an error (KEY_NOT_FOUND): a typo must not act on less than asked. Accounts that could not be
 * listed are reported beside the keys (their keys come from the last listing, marked stale).
 */
import type { KeyRecord } from "../domain/schemas.js";
import type { KeywardHome } from "../home/home.js";
import { type Selector, selectKeys } from "../inventory/selectors.js";
import { type ListInventoryInput, type LiveInventory, listInventory } from "./list-inventory.js";

export interface AccountError {
  account: string;
  message: string;
  hint?: string;
}

export interface LiveSelection {
  keys: KeyRecord[];
  inventory: LiveInventory;
  /** Accounts that could not be listed now. */
  accountErrors: AccountError[];
}

export interface SelectLiveKeysInput extends Omit<ListInventoryInput, "selector"> {
  selector: Selector;
  /** How to list live; the default is `listInventory` over the accounts the selector concerns. */
  list?: () => Promise<LiveInventory>;
}

export async function selectLiveKeys(home: KeywardHome, input: SelectLiveKeysInput): Promise<LiveSelection> {
  const { selector, list, ...listing } = input;
  const inventory = list ? await list() : await listInventory(home, { ...listing, selector });
  const keys = selectKeys(inventory.keys, selector, { maxKeyAgeDays: home.config.settings.maxKeyAgeDays });
  const accountErrors = inventory.accounts.flatMap((a) =>
    a.error
      ? [{ account: a.account, message: a.error.message, ...(a.error.hint ? { hint: a.error.hint } : {}) }]
      : [],
  );
  return { keys, inventory, accountErrors };
}
