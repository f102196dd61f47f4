/**
 * ccxt, only the modules the adapters use: the OKX, Bitfinex, Bybit and Deribit classes and ccxt's error classes.
 * Why: `import ccxt from "ccxt"` loads all ~110 exchanges, ~0.55 s of CPU in every command that talks
 * to an exchange (the largest fixed cost of `keyward keys`); these modules alone cost ~0.2 s. ccxt's
 * package exports only its entry point, so they are imported from their files beside it: the very
 * files that entry point imports, so the classes are the same (`instanceof` holds whichever way
 * another module loaded ccxt), and the version is the one package.json pins.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type ccxtTypes from "ccxt";

// The "require" condition resolves to <ccxt>/dist/ccxt.cjs; the ES modules live in <ccxt>/js/src.
const sources = join(dirname(createRequire(import.meta.url).resolve("ccxt")), "..", "js", "src");
const load = <T>(file: string): Promise<T> => import(pathToFileURL(join(sources, file)).href) as Promise<T>;

type Errors = Pick<typeof ccxtTypes, "BaseError" | "NetworkError" | "RequestTimeout">;
const [okx, bitfinex, bybit, deribit, errors] = await Promise.all([
  load<{ default: typeof ccxtTypes.okx }>("okx.js"),
  load<{ default: typeof ccxtTypes.bitfinex }>("bitfinex.js"),
  load<{ default: typeof ccxtTypes.bybit }>("bybit.js"),
  load<{ default: typeof ccxtTypes.deribit }>("deribit.js"),
  load<Errors>("base/errors.js"),
]);

const ccxt = {
  okx: okx.default,
  bitfinex: bitfinex.default,
  bybit: bybit.default,
  deribit: deribit.default,
  BaseError: errors.BaseError,
  NetworkError: errors.NetworkError,
  RequestTimeout: errors.RequestTimeout,
};
export default ccxt;
