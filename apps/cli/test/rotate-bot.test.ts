/**
 * Issue 5, acceptance 2: a bot never loses its working key. A bot stand-in (fixtures/bot.mjs, a separate
 * process) re-reads its dotenv file before every request and authenticates with the key it finds, every
 * 20-50 ms, while `keyward rotate apply --grace 1s` replaces that key: not one request may fail.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { removeTempDirs, show } from "./helpers.js";
import { planBots, rotationDesk, statusOf, targetsFor } from "./rotate-helpers.js";

// The homes and targets these tests make live under one temporary folder per file.
afterAll(() => removeTempDirs());

const BOT = fileURLToPath(new URL("./fixtures/bot.mjs", import.meta.url));

describe("rotate: a bot keeps authenticating", () => {
  it("zero failed requests from a bot that reloads its dotenv, through a rotation with a grace period", {
    timeout: 60_000,
  }, async (context) => {
    // Simulator windows 50x shorter: the bot's ~30 requests/s stay far within account/config's 5 per window.
    const { sim, keys, home, dir } = await rotationDesk(context, 2, 0.02);
    await targetsFor(dir, keys); // writes bots.env with the old keys, as the bot's deployment would
    const envFile = join(dir, "bots.env");
    const planFile = await planBots(home, dir);

    const resultFile = join(dir, "bot-result.json");
    const bot = spawn(process.execPath, [BOT, sim.okx, envFile, "RBOT_1", resultFile], { stdio: "inherit" });
    const exited = new Promise<number | null>((resolve) => bot.once("exit", resolve));
    try {
      await new Promise((r) => setTimeout(r, 500));
      const apply = await home.run(["rotate", "apply", planFile, "--grace", "1s"], { timeoutMs: 40_000 });
      expect(apply.code, show(apply)).toBe(0);
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      bot.kill("SIGTERM");
      await exited;
    }
    const result = JSON.parse(readFileSync(resultFile, "utf8")) as {
      ok: number;
      failed: number;
      failures: unknown[];
      keys: string[];
    };
    const [run] = await statusOf(home);
    const slot = run?.slots.find((s) => s.oldLabel === "rbot-1");
    // The bot used the old key, then the new one, and nothing failed in between.
    expect(result.keys).toEqual([keys[0]?.apiKey, slot?.newApiKey]);
    expect(result.failures).toEqual([]);
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(30);
    const state = await sim.state();
    const sub = state.okx.accounts[0]?.subAccounts.find((s) => s.name === "rotbots01");
    expect(sub?.keys.find((k) => k.apiKey === keys[0]?.apiKey)?.status).toBe("revoked");
  });
});
