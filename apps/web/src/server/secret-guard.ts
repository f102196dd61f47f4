/**
 * Defence in depth for "no secret ever reaches the browser". Responses are built from inventory rows,
 * account health, revoke results and rotation journals, which never hold credentials; on top of that
 * every JSON body and every streamed event is checked, as text, against every secret in the vault as it
 * is at that moment (a rotation adds new keys' secrets while it runs) before it is sent. A hit is a
 * bug: the response is withheld (500) and the server's terminal says so (without the secret).
 */
import { type KeywardHome, Secret, secretsOf } from "@keyward/core";

export class SecretGuard {
  readonly #extra: string[];

  constructor(
    private readonly home: KeywardHome,
    extra: readonly (Secret | string)[] = [],
  ) {
    this.#extra = extra.map((s) => (s instanceof Secret ? s.reveal() : s));
  }

  /** Every secret value to look for, as is and JSON-escaped (values under 4 characters match by chance). */
  async needles(): Promise<string[]> {
    const vault = await this.home.vault();
    const values = vault.refs().flatMap((ref) => {
      const c = vault.get(ref);
      return c ? secretsOf(c).map((s) => s.reveal()) : [];
    });
    // The audit log's HMAC key is a vault secret too.
    const auditKey = vault.auditKey()?.key.reveal();
    if (auditKey !== undefined) values.push(auditKey);
    return [...new Set([...values, ...this.#extra])]
      .filter((v) => v.length >= 4)
      .flatMap((v) => {
        const escaped = JSON.stringify(v).slice(1, -1);
        return escaped === v ? [v] : [v, escaped];
      });
  }

  /** True when the text carries a secret. */
  async leaks(text: string): Promise<boolean> {
    const needles = await this.needles();
    return needles.some((n) => text.includes(n));
  }
}
