/**
 * A key create (`keyward key create`) runs as a one-slot rotation whose "old key" is a stand-in: no key
 * exists yet, so its API key is `new:<label>` (its id `exchange:account:sub:new:<label>`). A real API
 * key never holds a ":" (key ids are split on it), so the prefix cannot be a real key's. People must
 * never read the stand-in as a key: every view names such a slot `(new) <label>` instead.
 */
import { shortKey } from "../domain/short-key.js";

export const CREATE_STAND_IN_PREFIX = "new:";

/** The stand-in API key for a key create's slot. */
export const createStandIn = (label: string): string => `${CREATE_STAND_IN_PREFIX}${label}`;

/** Whether `apiKey` is a key create's stand-in rather than a real key. */
export const isCreateStandIn = (apiKey: string): boolean => apiKey.startsWith(CREATE_STAND_IN_PREFIX);

/** How a creation is named for people: `(new) mm-bot-3`. */
export const createdKeyText = (label: string): string => `(new) ${label}`;

/**
 * A slot's key for people: `mm-bot-1 (40c4…fc04)`, or `(new) mm-bot-3` for a key create's slot (its
 * label; the stand-in's own label when the slot has none).
 */
export function slotKeyText(label: string, apiKey: string): string {
  if (isCreateStandIn(apiKey)) return createdKeyText(label || apiKey.slice(CREATE_STAND_IN_PREFIX.length));
  return `${label || "-"} (${shortKey(apiKey)})`;
}
