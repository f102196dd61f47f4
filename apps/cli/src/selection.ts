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
import { usageError } from "./exit.js";
import { Progress } from "./output.js";

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
      field === "exchange" ? "Use okx or bitfinex." : undefined,
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
    },
  );
  bar?.finish();
  return { keys: results.flatMap((r) => r.keys), accounts: results, adapters };
}

export const select = (inventory: Inventory, selector: Selector, maxKeyAgeDays: number): KeyRecord[] =>
  selectKeys(inventory.keys, selector, { maxKeyAgeDays });
