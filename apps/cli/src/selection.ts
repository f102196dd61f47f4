/**
 * Shared by `keys`, `revoke` and `rotate plan`: parse the selector flags, show progress while core
 * lists the accounts concerned live, and describe accounts that could not be listed.
 */
import {
  type AccountInventory,
  type InventoryEvent,
  type KeyRecord,
  KeyRecordSchema,
  type KeywardHome,
  type LiveInventory,
  listInventory,
  type Selector,
  SelectorSchema,
  selectKeys,
} from "@keyward/core";
import { EXCHANGE_IDS } from "@keyward/core/exchanges";
import { usageError } from "./exit.js";
import { orList, Progress } from "./output.js";

export interface SelectorFlags {
  exchange?: string;
  account?: string;
  label?: string;
  risky?: boolean;
  state?: string;
  all?: boolean;
}

/** The key states `--state` takes (core's KeyRecord states). */
const KEY_STATES = KeyRecordSchema.shape.state.options;

export function parseSelector(ids: string[], flags: SelectorFlags): Selector {
  const parsed = SelectorSchema.safeParse({
    ids,
    ...(flags.exchange === undefined ? {} : { exchange: flags.exchange }),
    ...(flags.account === undefined ? {} : { account: flags.account }),
    ...(flags.label === undefined ? {} : { label: flags.label }),
    risky: Boolean(flags.risky),
    ...(flags.state === undefined ? {} : { state: flags.state }),
    all: Boolean(flags.all),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "selector");
    throw usageError(
      `--${field}: ${issue?.message ?? "invalid"}`,
      field === "exchange"
        ? `Use ${orList(EXCHANGE_IDS)}.`
        : field === "state"
          ? `Use ${orList(KEY_STATES)}.`
          : undefined,
    );
  }
  return parsed.data;
}

/** A live inventory (core's `listInventory`): keys, per-account results, the adapters that listed them. */
export type Inventory = LiveInventory;

/**
 * Drives a progress bar on stderr while accounts are listed (when `show`); `listed` runs once every
 * account answered, before any key is selected (e.g. to report the accounts that failed).
 */
export function listingProgress(
  show: boolean,
  listed?: (inventory: LiveInventory) => void,
): (event: InventoryEvent) => void {
  let bar: Progress | undefined;
  return (event) => {
    if (event.type === "listing")
      bar = show ? new Progress(event.accounts.length, "listing accounts") : undefined;
    else if (event.type === "account-done") bar?.tick(event.result.account);
    else {
      bar?.finish();
      listed?.(event.inventory);
    }
  };
}

/** Fetches every key of the accounts the selector can concern. */
export function loadInventory(home: KeywardHome, selector: Selector, progress: boolean): Promise<Inventory> {
  return listInventory(home, { selector, onEvent: listingProgress(progress) });
}

/** "4 min", "2 h", "3 d": how old a stale inventory is. */
export function age(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

/** What a person must know about an account that could not be listed, after its error. */
export function staleNote(a: AccountInventory): string {
  const shown = a.keys.filter((k) => k.stale).length;
  const probed = a.keys.length - shown;
  const parts: string[] = [];
  if (probed > 0) parts.push(`${probed} key(s) probed with their own secrets`);
  if (a.stale) {
    parts.push(
      `${shown} key(s) from the inventory of ${a.stale.fetchedAt} (${age(a.stale.ageMs)} old), marked stale`,
    );
  } else parts.push("no earlier inventory to show the other keys from");
  return `  showing ${parts.join(" and ")}; only a person can revoke this account's keys until it can be listed again`;
}

export const select = (inventory: Inventory, selector: Selector, maxKeyAgeDays: number): KeyRecord[] =>
  selectKeys(inventory.keys, selector, { maxKeyAgeDays });
