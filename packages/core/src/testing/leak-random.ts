/**
 * Seeded randomness for the leak corpus (task: patterns): the same seed makes the same tree.
 */

/** A seeded PRNG (mulberry32): the same seed makes the same tree. */
export interface Rng {
  /** In [0, 1). */
  next(): number;
  int(below: number): number;
  pick<T>(items: readonly T[]): T;
}

export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number): number => Math.floor(next() * below);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      const item = items[int(items.length)];
      if (item === undefined) throw new Error("pick from an empty list");
      return item;
    },
  };
}

export const HEX = "0123456789abcdef";
export const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const B64 = `${ALNUM}+/`;
export const B64URL = `${ALNUM}-_`;
export const str = (rng: Rng, alphabet: string, n: number): string => {
  let out = "";
  for (let i = 0; i < n; i++) out += alphabet[rng.int(alphabet.length)];
  return out;
};
export const uuid = (rng: Rng): string =>
  `${str(rng, HEX, 8)}-${str(rng, HEX, 4)}-4${str(rng, HEX, 3)}-${rng.pick(["8", "9", "a", "b"])}${str(rng, HEX, 3)}-${str(rng, HEX, 12)}`;
