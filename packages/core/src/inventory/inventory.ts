/**
 * The inventory: every key of every account, fetched in parallel (each adapter paces itself at its
 * exchange's limits). One account failing does not hide the others: its error is part of the result.
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import type { KeyRecord } from "../domain/schemas.js";
import { isKeywardError } from "../errors.js";

export interface AccountInventory {
  account: string;
  exchange: string;
  keys: KeyRecord[];
  error?: { code: string; message: string; hint?: string };
  ms: number;
}

export interface InventoryDeps {
  adapterFor(account: string): ExchangeAdapter;
  onAccountDone?(result: AccountInventory): void;
}

export async function fetchInventory(
  accounts: readonly { name: string; exchange: string }[],
  deps: InventoryDeps,
): Promise<AccountInventory[]> {
  return Promise.all(
    accounts.map(async ({ name, exchange }) => {
      const started = performance.now();
      let result: AccountInventory;
      try {
        const keys = await deps.adapterFor(name).listKeys();
        result = { account: name, exchange, keys, ms: performance.now() - started };
      } catch (error) {
        result = {
          account: name,
          exchange,
          keys: [],
          error: isKeywardError(error)
            ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
            : { code: "INTERNAL", message: error instanceof Error ? error.message : String(error) },
          ms: performance.now() - started,
        };
      }
      deps.onAccountDone?.(result);
      return result;
    }),
  );
}
