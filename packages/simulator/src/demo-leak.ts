/**
 * The demo's leaked server (`npm run demo`, `npm run demo:cli`): a small folder that looks like a bot
 * server's working copy, planted next to the demo home (apart from Keyward's own files, as a real one
 * would be), so the Scan page and `keyward scan` have something to find:
 *   - `.env` holding one live key of the demo desk whole, as a leaked bot server's would: its id, secret
 *     and passphrase (OKX desk-alpha / alphaMM01 "mm-bot-1", a sub-account key Keyward revokes by API),
 *     so the scan reports it with its secret and offers it ticked for revoking; and a made-up Bybit key
 *     and secret that no account of the desk has (an unknown key: found by its pattern, next to the
 *     exchange's name);
 *   - `config/bot.json`, minified, naming the same live key's id again (one finding, two places);
 *   - ordinary files around them (a README, a script) that hold nothing.
 * The secret is the simulator's, of a throwaway demo key: reports show only the key's short id.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Scenario } from "./scenario.js";

/** The made-up unknown pair: shaped like Bybit's (18-character key, 36-character secret), in no scenario. */
export const DEMO_UNKNOWN_LEAK = {
  exchange: "bybit",
  apiKey: "Kq8VtR2mXz5LwN7pYc",
  secret: "h3Jk9PqR2sT5vW8xZa1Bc4De7Fg0Hi3Jk6Lm",
} as const;

export interface DemoLeak {
  /** The folder planted (absolute). */
  folder: string;
  /** The live demo key whose id it holds. */
  known: {
    exchange: "okx";
    account: string;
    subAccount: string;
    label: string;
    apiKey: string;
    secretKey: string;
    passphrase: string;
  };
  unknown: typeof DEMO_UNKNOWN_LEAK;
}

const LEAKED_LABEL = "mm-bot-1";

/** The live key the folder leaks: the demo scenario's OKX sub-account key labelled mm-bot-1. */
function leakedKey(scenario: Scenario): DemoLeak["known"] {
  for (const account of scenario.okx?.accounts ?? []) {
    for (const sub of account.subAccounts) {
      const key = sub.keys.find((k) => k.label === LEAKED_LABEL);
      if (key) {
        return {
          exchange: "okx",
          account: account.name,
          subAccount: sub.name,
          label: key.label,
          apiKey: key.apiKey,
          secretKey: key.secretKey,
          passphrase: key.passphrase,
        };
      }
    }
  }
  throw new Error(`the demo scenario has no OKX sub-account key labelled ${LEAKED_LABEL}`);
}

/** Writes `<dir>/leaky-server/` (mode 0700: it holds a key) and says what it planted. */
export function plantDemoLeak(dir: string, scenario: Scenario): DemoLeak {
  const known = leakedKey(scenario);
  const folder = join(dir, "leaky-server");
  mkdirSync(join(folder, "config"), { recursive: true, mode: 0o700 });
  const write = (path: string, text: string) => writeFileSync(join(folder, path), text, { mode: 0o600 });
  write(
    "README.md",
    "# mm-bot\n\nMarket-making bot for the alpha desk. Copy `.env.example` to `.env` and fill it in.\n",
  );
  write(
    "bot.js",
    [
      'import "dotenv/config";',
      "",
      "const spreadBps = Number(process.env.SPREAD_BPS ?? 8);",
      "export function quote(mid) {",
      "  return { bid: mid * (1 - spreadBps / 10_000), ask: mid * (1 + spreadBps / 10_000) };",
      "}",
      "",
    ].join("\n"),
  );
  write(
    ".env",
    [
      "# mm-bot on alpha-srv-3 (copied from the old box; TODO move to the vault)",
      "SPREAD_BPS=8",
      `OKX_API_KEY=${known.apiKey}`,
      `OKX_API_SECRET=${known.secretKey}`,
      `OKX_PASSPHRASE=${known.passphrase}`,
      "",
      "# hedging on the gamma desk",
      `BYBIT_API_KEY=${DEMO_UNKNOWN_LEAK.apiKey}`,
      `BYBIT_API_SECRET=${DEMO_UNKNOWN_LEAK.secret}`,
      "",
    ].join("\n"),
  );
  write(
    "config/bot.json",
    JSON.stringify({
      name: "mm-bot",
      venue: "okx",
      subAccount: known.subAccount,
      apiKey: known.apiKey,
      symbols: ["BTC-USDT", "ETH-USDT"],
      risk: { maxPosition: 2.5, killSwitch: true },
    }),
  );
  return { folder, known, unknown: DEMO_UNKNOWN_LEAK };
}
