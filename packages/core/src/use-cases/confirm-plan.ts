/**
 * The type-to-confirm rule of a destructive plan: the person types the number of keys it acts on
 * (surrounding spaces ignored), so a reflexive "y" or Enter confirms nothing.
 */
export function confirmsPlan(typed: string, keys: number): boolean {
  return typed.trim() === String(keys);
}
