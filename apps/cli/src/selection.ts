/**
 * Shared by `keys` and `revoke`: parse the selector flags, fetch the live inventory of the accounts
 * concerned (in parallel, within rate limits), and select keys.
 */
import {
  type AccountInventory,
  type ExchangeAdapter,
  fetchInventory,
  type KeyRecord,
  type KeywardHome,
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
  all?: boolean;
}

export function parseSelector(ids: string[], flags: SelectorFlags): Selector {
  const parsed = SelectorSchema.safeParse({
    ids,
    ...(flags.exchange === undefined ? {} : { exchange: flags.exchange }),
    ...(flags.account === undefined ? {} : { account: flags.account }),
    ...(flags.label === undefined ? {} : { label: flags.label }),
    risky: Boolean(flags.risky),
    all: Boolean(flags.all),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue?.path[0] ?? "selector");
    throw usageError(
      `--${field}: ${issue?.message ?? "invalid"}`,
      field === "exchange" ? `Use ${orList(EXCHANGE_IDS)}.` : undefined,
    );
  }
  return parsed.data;
}

export interface Inventory {
  keys: KeyRecord[];
  accounts: AccountInventory[];
  adapters: Map<string, ExchangeAdapter>;
}

/** Fetches every key of the accounts the selector can concern. */
export async function loadInventory(
  home: KeywardHome,
  selector: Selector,
  progress: boolean,
): Promise<Inventory> {
  const accounts = home.config.accounts.filter(
    (a) =>
      (!selector.exchange || a.exchange === selector.exchange) &&
      (!selector.account || a.name.toLowerCase() === selector.account.toLowerCase()),
  );
  if (selector.account) home.account(selector.account); // unknown account: a clear error, exit 2
  const adapters = await home.adapters(accounts.map((a) => a.name));
  const bar = progress ? new Progress(accounts.length, "listing accounts") : undefined;
  const results = await fetchInventory(
    accounts.map((a) => ({ name: a.name, exchange: a.exchange })),
    {
      adapterFor: (name) => adapters.get(name) as ExchangeAdapter,
      onAccountDone: (r) => bar?.tick(r.account),
      // A successful listing is kept; an account that fails is shown from it (marked stale).
      cache: home.inventoryCache(),
    },
  );
  bar?.finish();
  return { keys: results.flatMap((r) => r.keys), accounts: results, adapters };
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
