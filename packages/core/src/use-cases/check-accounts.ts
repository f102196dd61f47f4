/**
 * "Check accounts": probe each account's own key and say what it means (health, permissions,
 * warnings). One account's failure is reported in its result; the others still answer.
 */
import type { ExchangeAdapter } from "../adapters/interface.js";
import type { KeywardHome } from "../home/home.js";
import { type AccountHealth, accountHealth } from "../inventory/account-health.js";

/** Builds (or hands out) the adapter of an account; the default is `home.adapterFor(account)`. */
export type AdapterSource = (account: string) => Promise<ExchangeAdapter>;

export type AccountCheckProblem =
  /** The vault holds no credentials for the account (a damaged home): nothing could be probed. */
  | { kind: "no-credentials" }
  /** Building the adapter or probing threw (a probe never throws for an exchange's answer). */
  | { kind: "failed"; error: unknown };

export type AccountCheck = { account: string; exchange: string } & (
  | { health: AccountHealth; problem: null }
  | { health: null; problem: AccountCheckProblem }
);

export interface CheckAccountsInput {
  /** One account (ACCOUNT_NOT_FOUND when unknown); every account without it. */
  account?: string;
  adapterFor?: AdapterSource;
}

export async function checkAccounts(
  home: KeywardHome,
  input: CheckAccountsInput = {},
): Promise<AccountCheck[]> {
  const accounts = input.account ? [home.account(input.account)] : home.config.accounts;
  const vault = await home.vault();
  const adapterFor = input.adapterFor ?? ((name: string) => home.adapterFor(name));
  return Promise.all(
    accounts.map(async (a): Promise<AccountCheck> => {
      const base = { account: a.name, exchange: a.exchange };
      const credentials = vault.get(a.credentialsRef);
      if (!credentials) return { ...base, health: null, problem: { kind: "no-credentials" } };
      try {
        const adapter = await adapterFor(a.name);
        return {
          ...base,
          health: accountHealth(a.exchange, await adapter.probe(credentials)),
          problem: null,
        };
      } catch (error) {
        return { ...base, health: null, problem: { kind: "failed", error } };
      }
    }),
  );
}
