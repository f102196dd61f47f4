/**
 * A plan's estimate of its API part, for people: "under a second" below one second (the estimate counts
 * only the exchanges' write pacing, so "about 0 ms" or "about 50 ms" promised a precision it does not
 * have), else seconds to one decimal.
 */
export const apiDuration = (ms: number): string =>
  ms < 1000 ? "under a second" : `about ${Math.round(ms / 100) / 10} s`;
