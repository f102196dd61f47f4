/**
 * ccxt, only the modules the adapters use: the OKX, Bitfinex, Bybit and Deribit classes, ccxt's error classes
 * and the SHA-256 ccxt signs Deribit's requests with.
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
/** A hash as ccxt's `hmac(request, secret, hash)` takes it (a @noble/hashes hash). */
export type CcxtHash = (message: Uint8Array) => Uint8Array;
// The SHA-256 ccxt's deribit.js signs with (`import { sha256 } from '@noble/hashes/sha2.js'`), resolved
// from ccxt's own files so it is the very module ccxt loads, at the version ccxt pins.
const sha2 = pathToFileURL(createRequire(join(sources, "deribit.js")).resolve("@noble/hashes/sha2.js")).href;
const [okx, bitfinex, bybit, deribit, errors, hashes] = await Promise.all([
  load<{ default: typeof ccxtTypes.okx }>("okx.js"),
  load<{ default: typeof ccxtTypes.bitfinex }>("bitfinex.js"),
  load<{ default: typeof ccxtTypes.bybit }>("bybit.js"),
  load<{ default: typeof ccxtTypes.deribit }>("deribit.js"),
  load<Errors>("base/errors.js"),
  import(sha2) as Promise<{ sha256: CcxtHash }>,
]);

const ccxt = {
  okx: okx.default,
  bitfinex: bitfinex.default,
  bybit: bybit.default,
  deribit: deribit.default,
  BaseError: errors.BaseError,
  NetworkError: errors.NetworkError,
  RequestTimeout: errors.RequestTimeout,
  /** For an adapter's signature ccxt has no method for, made with ccxt's own `hmac` (deribit/client.ts). */
  sha256: hashes.sha256,
};
export default ccxt;
