/** The selected keys' inventory rows, in selection order (keys not in the loaded inventory are left out). */
import { useMemo } from "react";
import type { InventoryRowView } from "../api.js";
import type { InventoryState } from "../app.js";

export function useSelectedRows(
  inventory: InventoryState,
  selected: ReadonlySet<string>,
): InventoryRowView[] {
  return useMemo(() => {
    const byId = new Map((inventory.data?.keys ?? []).map((k) => [k.id, k]));
    return [...selected].flatMap((id) => byId.get(id) ?? []);
  }, [inventory.data, selected]);
}
