/** An API key shortened for people: `40c4…fc04` (a key of 10 characters or fewer whole). */
export const shortKey = (apiKey: string): string =>
  apiKey.length <= 10 ? apiKey : `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`;
