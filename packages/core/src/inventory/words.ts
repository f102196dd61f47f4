/**
 * The one pair of words for how a key is revoked (or created): by API, or by a person on the exchange's
 * site. Defined once here so `keyward keys`, the revoke and rotation tables and the web pages say the
 * same thing. JSON keeps the machine values (`"api"`, `"manual"`): only what people read uses these.
 */
export const HOW_HEADER = "HOW";

export const HOW_WORDS = { api: "by API", manual: "by a person" } as const satisfies Record<
  "api" | "manual",
  string
>;

/** "by API" or "by a person", for a key's `management` / a plan item's `method`. */
export const howWord = (mode: keyof typeof HOW_WORDS): string => HOW_WORDS[mode];
