/**
 * The demo's home: the same accounts and tracked keys as the CLI demo (apps/cli/src/demo.ts) builds
 * through the real commands, here set up through core. Also used by the e2e suite's screenshot.
 */
import { z } from "zod";
import type { HomeSeed } from "./home-setup.js";

export const DEMO_PASSPHRASE = "keyward-demo";

// Only the fields the demo needs; the simulator validates the whole file.
export const DemoScenario = z.object({
  okx: z.object({
    accounts: z.array(
      z.object({
        name: z.string(),
        keys: z.array(z.object({ apiKey: z.string(), secretKey: z.string(), passphrase: z.string() })),
      }),
    ),
  }),
  bitfinex: z.object({
    users: z.array(
      z.object({
        email: z.string(),
        keys: z.array(z.object({ apiKey: z.string(), apiSecret: z.string(), label: z.string() })),
      }),
    ),
  }),
});

/** The CLI demo's choices: each OKX desk's admin key; per Bitfinex user a read-only key, the rest tracked. */
export function demoSeed(scenario: z.infer<typeof DemoScenario>, okx: string, bitfinex: string): HomeSeed {
  const seed: HomeSeed = { passphrase: DEMO_PASSPHRASE, accounts: [], tracked: [], actor: "demo:setup" };
  for (const account of scenario.okx.accounts) {
    const admin = account.keys[0];
    if (!admin) continue;
    seed.accounts.push({
      name: account.name,
      exchange: "okx",
      endpoint: okx,
      credentials: { apiKey: admin.apiKey, secret: admin.secretKey, passphrase: admin.passphrase },
    });
  }
  for (const [i, user] of scenario.bitfinex.users.entries()) {
    const name = `${user.email.split("@")[1]?.split(".")[0] ?? `user${i}`}-bfx`;
    const readOnly = (label: string) => Number(/read|report/.test(label));
    const [accountKey, ...others] = [...user.keys].sort((a, b) => readOnly(b.label) - readOnly(a.label));
    if (!accountKey) continue;
    seed.accounts.push({
      name,
      exchange: "bitfinex",
      endpoint: bitfinex,
      credentials: { apiKey: accountKey.apiKey, secret: accountKey.apiSecret },
    });
    for (const key of others) {
      seed.tracked?.push({
        account: name,
        label: key.label,
        credentials: { apiKey: key.apiKey, secret: key.apiSecret },
      });
    }
  }
  return seed;
}
