/**
 * The simulated exchanges' state: one section per exchange module (its accounts, keys, users, tokens),
 * made by the module from its scenario section or state-file fields. Every listener and the control API
 * act on one World; POST /scenario replaces it whole.
 */
import type { AnyExchangeModule, UiRevokeResult } from "./exchange-module.js";
import { EXCHANGES, type ExchangeId, type ModuleOf } from "./exchanges.js";
import type { Scenario } from "./scenario.js";

/** The registry as the shared code walks it: each module with its own state, seen through `unknown`. */
export const MODULES: readonly AnyExchangeModule[] = EXCHANGES;

/** A module's state type (its section of the world). */
export type StateOf<Id extends ExchangeId> = ReturnType<ModuleOf<Id>["seed"]>;

export type WorldView = { [Id in ExchangeId]: ReturnType<ModuleOf<Id>["view"]> };

export class World {
  readonly #sections: ReadonlyMap<string, unknown>;

  private constructor(sections: ReadonlyMap<string, unknown>) {
    this.#sections = sections;
  }

  /** `now` stands in for the last use of keys whose seed gives none (so they do not expire at once). */
  static fromScenario(scenario: Scenario, now: number): World {
    return new World(new Map(MODULES.map((m) => [m.id, m.seed(scenario[m.id as ExchangeId], now)])));
  }

  /** From each module's state (persistence.ts restores them from the state file). */
  static fromSections(sections: ReadonlyMap<string, unknown>): World {
    return new World(sections);
  }

  section<Id extends ExchangeId>(id: Id): StateOf<Id> {
    return this.#sections.get(id) as StateOf<Id>;
  }

  /** Revokes a key as a person would on the exchange's web page. */
  uiRevoke(exchange: ExchangeId, apiKey: string): UiRevokeResult {
    const module = MODULES.find((m) => m.id === exchange);
    if (!module) return { found: false, alreadyRevoked: false };
    return module.uiRevoke(this.section(exchange), apiKey);
  }

  /** The control API's `GET /state`: every account and key, secrets left out. */
  view(now: number): WorldView {
    return Object.fromEntries(
      MODULES.map((m) => [m.id, m.view(this.section(m.id as ExchangeId), now)]),
    ) as WorldView;
  }
}
