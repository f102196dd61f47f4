/**
 * The demo's home: the demo desk (packages/simulator/src/demo-desk.ts, the same description the CLI
 * demo runs its commands from), set up through core. Also used by the e2e suite's screenshot.
 */
import { type DemoDesk, demoDesk, type ExchangeId, type Scenario } from "@keyward/simulator";
import type { HomeSeed } from "./home-setup.js";

/**
 * The demo vault's passphrase. Not a secret (the demo prints it), and no word of it appears in the
 * demo's paths (/tmp/keyward-demo-…), account names or labels.
 */
export const DEMO_PASSPHRASE = "open-sesame-vault";

export function demoSeed(scenario: Scenario, urls: Record<ExchangeId, string>): HomeSeed {
  const desk: DemoDesk = demoDesk(scenario, urls);
  return { passphrase: DEMO_PASSPHRASE, accounts: desk.accounts, tracked: desk.tracked, actor: "demo:setup" };
}
