/**
 * Every simulated exchange, in order: the world, scenario parsing, persistence, the control API, the UI
 * pages, the listeners and the ready line iterate over this list (order = the order of the scenario's
 * and the state file's sections, of `GET /state`, of the listeners and of the ready line's URLs).
 * Adding an exchange: its folder (`<id>/index.ts` exporting an ExchangeModule) and one line here.
 */
import { bitfinex } from "./bitfinex/index.js";
import { bybit } from "./bybit/index.js";
import { deribit } from "./deribit/index.js";
import { okx } from "./okx/index.js";

export const EXCHANGES = [okx, bitfinex, bybit, deribit] as const;

export type Exchanges = (typeof EXCHANGES)[number];
export type ExchangeId = Exchanges["id"];
/** The module whose id is `Id`. */
export type ModuleOf<Id extends ExchangeId> = Extract<Exchanges, { id: Id }>;

export const EXCHANGE_IDS = EXCHANGES.map((m) => m.id) as [ExchangeId, ...ExchangeId[]];

/** Where each exchange's "API management" stand-in page is, on that exchange's own listener. */
export const UI_PATHS = Object.fromEntries(EXCHANGES.map((m) => [m.id, m.ui.path])) as Record<
  ExchangeId,
  string
>;
