/**
 * Selecting keys for a revoke or rotation plan: core's `selectLiveKeys` over the server's inventory,
 * refreshed first (like the CLI, a plan never acts on a stale inventory); accounts that could not be
 * listed are reported beside the plan. Here only the answer to an unknown key becomes a 404.
 */
import {
  isKeywardError,
  type KeywardHome,
  type LiveSelection,
  type SelectLiveKeysInput,
  type Selector,
  selectLiveKeys,
} from "@keyward/core";
import { HttpError } from "./http-errors.js";
import type { InventoryService } from "./inventory-service.js";

export type { LiveSelection } from "@keyward/core";

/** Core's live selection input for this server: its inventory, listed again. */
export const liveListing = (inventory: InventoryService, selector: Selector): SelectLiveKeysInput => ({
  selector,
  list: () => inventory.refresh(),
});

/** Runs a use case that selects live keys; `notFoundHint` says what to do when a selected key is gone. */
export async function notFoundAs404<T>(run: () => Promise<T>, notFoundHint: string): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isKeywardError(error, "KEY_NOT_FOUND")) {
      throw new HttpError(404, "KEY_NOT_FOUND", error.message, notFoundHint);
    }
    throw error;
  }
}

/** Lists the keys live, then selects; `notFoundHint` says what to do when a selected key is gone. */
export function selectLive(
  inventory: InventoryService,
  home: KeywardHome,
  selector: Selector,
  notFoundHint: string,
): Promise<LiveSelection> {
  return notFoundAs404(() => selectLiveKeys(home, liveListing(inventory, selector)), notFoundHint);
}
