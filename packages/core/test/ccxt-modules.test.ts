/**
 * The adapters load only the ccxt modules they use (the OKX, Bitfinex, Bybit and Deribit classes, the error classes),
 * not ccxt's entry point with its ~110 exchanges: that import was the largest fixed cost of every command
 * that talks to an exchange. The classes are ccxt's own (the same modules), so `instanceof` still holds.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import full from "ccxt";
import { describe, expect, it } from "vitest";
import lite from "../src/adapters/ccxt-modules.js";

const REGISTRY = fileURLToPath(new URL("../dist/adapters/registry.js", import.meta.url));

describe("ccxt modules", () => {
  it("are ccxt's own classes", () => {
    expect(lite.okx).toBe(full.okx);
    expect(lite.bitfinex).toBe(full.bitfinex);
    expect(lite.bybit).toBe(full.bybit);
    expect(lite.deribit).toBe(full.deribit);
    expect(lite.BaseError).toBe(full.BaseError);
    expect(lite.NetworkError).toBe(full.NetworkError);
    expect(lite.RequestTimeout).toBe(full.RequestTimeout);
    expect(new full.RequestTimeout("x")).toBeInstanceOf(lite.NetworkError);
  });

  it("loading the adapters never loads ccxt's entry point or another exchange", () => {
    // NODE_DEBUG=esm makes Node log every module it loads (the built adapters; the test task builds first).
    const script = `const r = await import(${JSON.stringify(REGISTRY)}); await r.loadAdapterFactory("okx"); await r.loadAdapterFactory("bitfinex"); await r.loadAdapterFactory("bybit"); await r.loadAdapterFactory("deribit");`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, NODE_DEBUG: "esm" },
      timeout: 60_000,
      // Node's module log for three adapters passes spawnSync's default 1 MiB buffer.
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const loaded = [...r.stderr.matchAll(/file:\/\/\S*\/node_modules\/ccxt\/\S+\.js/g)].map((m) => m[0]);
    // The log names the modules it should (so a change in Node's log format cannot pass this vacuously).
    expect(loaded.some((url) => url.endsWith("/ccxt/js/src/okx.js"))).toBe(true);
    expect(loaded.some((url) => url.endsWith("/ccxt/js/src/bitfinex.js"))).toBe(true);
    expect(loaded.some((url) => url.endsWith("/ccxt/js/src/bybit.js"))).toBe(true);
    expect(loaded.some((url) => url.endsWith("/ccxt/js/src/deribit.js"))).toBe(true);
    expect(loaded.filter((url) => url.endsWith("/ccxt/js/ccxt.js"))).toEqual([]);
    expect(loaded.filter((url) => /\/ccxt\/js\/src\/(binance|kraken|gate)\.js$/.test(url))).toEqual([]);
  });
});
