/**
 * The demo desk as a user would set it up in Keyward: which key of the demo scenario becomes each
 * account's key, and which keys are tracked. One description, used by the CLI demo (which runs the
 * real commands) and the web demo (which sets up the home through core), so the two cannot drift.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseScenario, type Scenario } from "./scenario.js";

export const DEMO_SCENARIO_PATH = fileURLToPath(new URL("../scenarios/demo.json", import.meta.url));

export interface DemoCredentials {
  apiKey: string;
  secret: string;
  passphrase?: string;
}

export interface DemoDesk {
  accounts: { name: string; exchange: "okx" | "bitfinex"; endpoint: string; credentials: DemoCredentials }[];
  tracked: { account: string; label: string; credentials: DemoCredentials }[];
}

export function loadDemoScenario(): Scenario {
  return parseScenario(JSON.parse(readFileSync(DEMO_SCENARIO_PATH, "utf8")));
}

/** Each OKX desk's admin (first master) key; per Bitfinex user a read-only key for the account, the rest tracked. */
export function demoDesk(scenario: Scenario, urls: { okx: string; bitfinex: string }): DemoDesk {
  const desk: DemoDesk = { accounts: [], tracked: [] };
  for (const account of scenario.okx?.accounts ?? []) {
    const admin = account.keys[0];
    if (!admin) continue;
    desk.accounts.push({
      name: account.name,
      exchange: "okx",
      endpoint: urls.okx,
      credentials: { apiKey: admin.apiKey, secret: admin.secretKey, passphrase: admin.passphrase },
    });
  }
  for (const [i, user] of (scenario.bitfinex?.users ?? []).entries()) {
    const name = `${user.email.split("@")[1]?.split(".")[0] ?? `user${i}`}-bfx`;
    const readOnly = (label: string) => Number(/read|report/.test(label));
    const [accountKey, ...others] = [...user.keys].sort((a, b) => readOnly(b.label) - readOnly(a.label));
    if (!accountKey) continue;
    desk.accounts.push({
      name,
      exchange: "bitfinex",
      endpoint: urls.bitfinex,
      credentials: { apiKey: accountKey.apiKey, secret: accountKey.apiSecret },
    });
    for (const key of others) {
      desk.tracked.push({
        account: name,
        label: key.label,
        credentials: { apiKey: key.apiKey, secret: key.apiSecret },
      });
    }
  }
  return desk;
}
