/**
 * "List accounts": each account as configured, with the keys tracked for it. From config.json and
 * state.db only: no exchange is asked, so it answers at once.
 */
import { exchangeProfile } from "../adapters/registry.js";
import { takesTotpSeed } from "../domain/totp-seed.js";
import type { KeywardHome } from "../home/home.js";

export interface AccountSummary {
  name: string;
  exchange: string;
  endpoint: string | null;
  region: string | null;
  /** The label given for the account's own key (`account add --label`, `account set-label`), or null. */
  keyLabel: string | null;
  /** `provable`: Keyward holds the key's secret, so a probe can prove it revoked. */
  tracked: { label: string; apiKey: string; provable: boolean }[];
  /**
   * With `secondFactor: true`, how the exchange's second-factor challenges are answered: "seed" (the
   * vault holds the account's TOTP seed: Keyward answers itself), "prompt" (a person types each code),
   * null (the exchange asks for none). Never the seed itself.
   */
  secondFactor?: "seed" | "prompt" | null;
}

export interface ListAccountsOptions {
  /** Also say how second-factor challenges are answered; opens the vault (only if an exchange asks for codes). */
  secondFactor?: boolean;
}

export async function listAccounts(
  home: KeywardHome,
  options: ListAccountsOptions = {},
): Promise<AccountSummary[]> {
  const tracked = await home.tracked().list();
  const asks = (exchange: string) => takesTotpSeed(exchangeProfile(exchange));
  const vault =
    options.secondFactor && home.config.accounts.some((a) => asks(a.exchange))
      ? await home.vault()
      : undefined;
  return home.config.accounts.map((a) => ({
    name: a.name,
    exchange: a.exchange,
    endpoint: a.endpoint ?? null,
    region: a.region ?? null,
    keyLabel: a.keyLabel?.text ?? null,
    tracked: tracked
      .filter((t) => t.account === a.name)
      .map((t) => ({ label: t.label, apiKey: t.apiKey, provable: t.credentialsRef !== null })),
    ...(options.secondFactor
      ? {
          secondFactor: !asks(a.exchange)
            ? null
            : vault?.get(a.credentialsRef)?.totpSeed
              ? ("seed" as const)
              : ("prompt" as const),
        }
      : {}),
  }));
}
