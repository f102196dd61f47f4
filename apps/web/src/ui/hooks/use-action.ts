/**
 * A button's request, the way every page runs one: while it runs the page says so (`busy`: the button
 * shows "Starting…" and is disabled), the page's earlier error is cleared as it starts, and what the
 * server refused becomes the page's error (its ErrorBox) instead of an unhandled rejection. One place
 * for the try/catch/busy each page used to repeat around `call(...)`.
 */
import { useCallback, useState } from "react";
import type { ApiError } from "../api.js";

/**
 * `setError`: the page's error setter (one error box per page, whichever action failed). Returns
 * whether the action runs now, and `run(action)`, stable across renders (safe in effects' deps).
 */
export function useAction(
  setError: (error: ApiError | undefined) => void,
): readonly [busy: boolean, run: (action: () => Promise<void>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const run = useCallback(
    async (action: () => Promise<void>) => {
      setBusy(true);
      setError(undefined);
      try {
        await action();
      } catch (e) {
        // `call` throws ApiError for every answer that is not a 2xx, and for a network failure.
        setError(e as ApiError);
      } finally {
        setBusy(false);
      }
    },
    [setError],
  );
  return [busy, run] as const;
}
