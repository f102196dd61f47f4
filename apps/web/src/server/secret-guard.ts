/**
 * Defence in depth for "no secret ever reaches the browser". Responses are built from inventory rows,
 * account health, revoke results and rotation journals, which never hold credentials; on top of that
 * every JSON body and every streamed event is checked, as text, against every secret in the vault as it
 * is at that moment (a rotation adds new keys' secrets while it runs) before it is sent. A hit is a
 * bug: the response is withheld (500) and the server's terminal says so (without the secret).
 *
 * A hit withholds a whole answer, so a needle must never match ordinary text. Only distinctive values
 * are looked for: at least MIN_LENGTH characters with at least MIN_BITS_PER_CHAR of Shannon entropy
 * each. Exchange API secrets (32 hex, 43 characters) and TOTP seeds pass easily; a word such as a weak
 * passphrase ("keyward-demo", which is also part of the demo's home path) does not, since it can
 * appear in a path, an account name or a label and would make every page an error. Extra values (the
 * vault passphrase, which `keyward web` passes) are also matched only as a whole token, never inside a
 * longer word or path.
 */
import { type KeywardHome, Secret, secretsOf } from "@keyward/core";

/** Shorter values collide with ordinary text (labels, names, paths). */
export const MIN_LENGTH = 16;
/** "aaaaaaaaaaaaaaaa" or "abababab…" are not secrets worth a withheld page. */
export const MIN_BITS_PER_CHAR = 3;

/** Shannon entropy of the value's characters, in bits per character. */
export function bitsPerChar(value: string): number {
  const counts = new Map<string, number>();
  const chars = [...value];
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / chars.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Whether a value is distinctive enough to look for in answers without matching ordinary text. */
export const isDistinctive = (value: string): boolean =>
  value.length >= MIN_LENGTH && bitsPerChar(value) >= MIN_BITS_PER_CHAR;

/** A value and its JSON-escaped spelling, when that differs. */
const spellings = (values: Iterable<string>): string[] =>
  [...new Set(values)].filter(isDistinctive).flatMap((v) => {
    const escaped = JSON.stringify(v).slice(1, -1);
    return escaped === v ? [v] : [v, escaped];
  });

/** Characters that continue a word or a path: a token match must not be next to one. */
const WORD = /[\p{L}\p{N}_.~/\\+-]/u;

function containsToken(text: string, token: string): boolean {
  for (let i = text.indexOf(token); i >= 0; i = text.indexOf(token, i + 1)) {
    const before = text[i - 1];
    const after = text[i + token.length];
    if ((before === undefined || !WORD.test(before)) && (after === undefined || !WORD.test(after)))
      return true;
  }
  return false;
}

export class SecretGuard {
  readonly #extra: string[];

  constructor(
    private readonly home: KeywardHome,
    /** Matched as whole tokens only (e.g. the vault passphrase), if distinctive. */
    extra: readonly (Secret | string)[] = [],
  ) {
    this.#extra = spellings(extra.map((s) => (s instanceof Secret ? s.reveal() : s)));
  }

  /** Every distinctive vault secret to look for, as is and JSON-escaped. */
  async needles(): Promise<string[]> {
    const vault = await this.home.vault();
    const values = vault.refs().flatMap((ref) => {
      const c = vault.get(ref);
      return c ? secretsOf(c).map((s) => s.reveal()) : [];
    });
    // The audit log's HMAC key is a vault secret too.
    const auditKey = vault.auditKey()?.key.reveal();
    if (auditKey !== undefined) values.push(auditKey);
    return spellings(values);
  }

  /** True when the text carries a secret. */
  async leaks(text: string): Promise<boolean> {
    const needles = await this.needles();
    return needles.some((n) => text.includes(n)) || this.#extra.some((t) => containsToken(text, t));
  }
}
