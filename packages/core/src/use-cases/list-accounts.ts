/**
 * "List accounts": each account as configured, with the keys tracked for it. From config.json and
 * state.db only: no exchange is asked, so it answers at once.
 */
import type { KeywardHome } from "../home/home.js";

export interface AccountSummary {
  name: string;
  exchange: string;
  endpoint: string | null;
  region: string | null;
  /** `provable`: Keyward holds the key's secret, so a probe can prove it revoked. */
  tracked: { label: string; apiKey: string; provable: boolean }[];
}

export async function listAccounts(home: KeywardHome): Promise<AccountSummary[]> {
  const tracked = await home.tracked().list();
  return home.config.accounts.map((a) => ({
    name: a.name,
    exchange: a.exchange,
    endpoint: a.endpoint ?? null,
    region: a.region ?? null,
    tracked: tracked
      .filter((t) => t.account === a.name)
      .map((t) => ({ label: t.label, apiKey: t.apiKey, provable: t.credentialsRef !== null })),
  }));
}
