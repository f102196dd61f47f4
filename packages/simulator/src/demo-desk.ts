/**
 * The demo desk as a user would set it up in Keyward: which key of the demo scenario becomes each
 * account's key, and which keys are tracked (each exchange module decides for its own section). One
 * description, used by the CLI demo (which runs the real commands) and the web demo (which sets up the
 * home through core), so the two cannot drift.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { DeskCredentials } from "./exchange-module.js";
import type { ExchangeId } from "./exchanges.js";
import { parseScenario, type Scenario } from "./scenario.js";
import { MODULES } from "./world.js";

export const DEMO_SCENARIO_PATH = fileURLToPath(new URL("../scenarios/demo.json", import.meta.url));

export type DemoCredentials = DeskCredentials;

export interface DemoDesk {
  accounts: {
    name: string;
    exchange: ExchangeId;
    endpoint: string;
    credentials: DemoCredentials;
    /** The account key's label where the exchange's API lists none (given at `account add --label`). */
    label?: string;
  }[];
  tracked: { account: string; label: string; credentials: DemoCredentials }[];
}

export function loadDemoScenario(): Scenario {
  return parseScenario(JSON.parse(readFileSync(DEMO_SCENARIO_PATH, "utf8")));
}

/** Each exchange's accounts and tracked keys, in registry order; `urls` are the simulator's listeners. */
export function demoDesk(scenario: Scenario, urls: Record<ExchangeId, string>): DemoDesk {
  const desk: DemoDesk = { accounts: [], tracked: [] };
  for (const module of MODULES) {
    const id = module.id as ExchangeId;
    const section = scenario[id];
    if (!section) continue;
    const part = module.demoDesk(section, urls[id]);
    desk.accounts.push(
      ...part.accounts.map((a) => ({
        name: a.name,
        exchange: id,
        endpoint: a.endpoint,
        credentials: a.credentials,
        ...(a.label === undefined ? {} : { label: a.label }),
      })),
    );
    desk.tracked.push(...part.tracked);
  }
  return desk;
}
