/**
 * Selecting keys for a revoke or rotation plan. Like the CLI, the keys are listed live first, so a plan
 * never acts on a stale inventory; accounts that could not be listed are reported beside the plan.
 */
import { isKeywardError, type KeywardHome, type Selector, selectKeys } from "@keyward/core";
import { HttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";

export interface LiveSelection {
  keys: ReturnType<typeof selectKeys>;
  accountErrors: { account: string; message: string; hint?: string }[];
}

/** Lists the keys live, then selects; `notFoundHint` says what to do when a selected key is gone. */
export async function selectLive(
  inventory: InventoryService,
  home: KeywardHome,
  selector: Selector,
  notFoundHint: string,
): Promise<LiveSelection> {
  const snapshot = await inventory.refresh();
  let keys: ReturnType<typeof selectKeys>;
  try {
    keys = selectKeys(snapshot.keys, selector, { maxKeyAgeDays: home.config.settings.maxKeyAgeDays });
  } catch (error) {
    if (isKeywardError(error, "KEY_NOT_FOUND")) {
      throw new HttpError(404, "KEY_NOT_FOUND", error.message, notFoundHint);
    }
    throw error;
  }
  const accountErrors = snapshot.accounts.flatMap((a) =>
    a.error
      ? [{ account: a.account, message: a.error.message, ...(a.error.hint ? { hint: a.error.hint } : {}) }]
      : [],
  );
  return { keys, accountErrors };
}
