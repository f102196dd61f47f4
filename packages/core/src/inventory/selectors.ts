/**
 * Which keys a command acts on: ids, exchange, account, a label glob and "risky", combined with AND;
 * `all` must be said explicitly, so an empty selection never means "everything".
 */
import { z } from "zod";
import { ExchangeIdSchema, type KeyRecord, KeyRecordSchema } from "../domain/schemas.js";
import { KeywardError } from "../errors.js";
import { compileLabelGlob, LABEL_GLOB_HINT, labelGlobProblem, MAX_LABEL_GLOB_LENGTH } from "./label-glob.js";
import { type RiskOptions, risksOf } from "./risk.js";

export const SelectorSchema = z.strictObject({
  /** Key ids as listed by `keyward keys`, or bare API keys. */
  ids: z.array(z.string().min(1)).default([]),
  exchange: ExchangeIdSchema.optional(),
  account: z.string().min(1).optional(),
  /** A glob over labels, e.g. `bot-*` or `mm-[12]?`: only `*`, `?` and `[..]` (see label-glob.ts). */
  label: z
    .string()
    .min(1)
    .max(MAX_LABEL_GLOB_LENGTH, `a label glob is at most ${MAX_LABEL_GLOB_LENGTH} characters`)
    .superRefine((glob, ctx) => {
      const problem = labelGlobProblem(glob);
      if (problem) ctx.addIssue({ code: "custom", message: `${problem}. ${LABEL_GLOB_HINT}` });
    })
    .optional(),
  risky: z.boolean().default(false),
  /**
   * Only keys in this state as the exchange lists them, e.g. "disabled": keys switched off but not
   * removed (an interrupted disable-first revoke), so `keyward revoke --state disabled` finishes them.
   */
  state: KeyRecordSchema.shape.state.optional(),
  all: z.boolean().default(false),
});
export type SelectorInput = z.input<typeof SelectorSchema>;
export type Selector = z.output<typeof SelectorSchema>;

export const isEmptySelector = (s: Selector): boolean =>
  s.ids.length === 0 && !s.exchange && !s.account && !s.label && !s.risky && !s.state && !s.all;

/** Filters keys by a selector. Ids that match no key are an error: a typo must not revoke less than asked. */
export function selectKeys(keys: readonly KeyRecord[], selector: Selector, risk: RiskOptions): KeyRecord[] {
  const matchLabel = selector.label ? compileLabelGlob(selector.label) : undefined;
  for (const id of selector.ids) {
    if (!keys.some((k) => k.id === id || k.apiKey === id)) {
      throw new KeywardError("KEY_NOT_FOUND", `no key with id or API key "${id}"`, {
        hint: "Run `keyward keys` to see the ids; the key may already be gone.",
      });
    }
  }
  return keys.filter(
    (k) =>
      (selector.ids.length === 0 || selector.ids.some((id) => k.id === id || k.apiKey === id)) &&
      (!selector.exchange || k.exchange === selector.exchange) &&
      (!selector.account || k.account.toLowerCase() === selector.account.toLowerCase()) &&
      (!matchLabel || matchLabel(k.label)) &&
      (!selector.state || k.state === selector.state) &&
      (!selector.risky || risksOf(k, risk).length > 0),
  );
}
